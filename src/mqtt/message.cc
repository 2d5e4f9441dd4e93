#include "mqtt/message.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "context/entity.h"
#include "core/clock.h"

namespace ioc::mqtt {

using json = ioc::Json;

namespace {

constexpr std::string_view kAttrsLevel = "/attrs";
constexpr size_t kMaxPrefixLength = 128;

//! Nesting depth of JSON text outside strings, stopping once past `limit` (so that a hostile
//! payload of 60 000 '[' never reaches the parser).
int jsonDepth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

void addPartial(Mapped& m, DropReason r, std::string detail) {
  if (std::find(m.partial.begin(), m.partial.end(), r) == m.partial.end()) m.partial.push_back(r);
  if (m.detail.empty()) m.detail = std::move(detail);
}

Mapped reject(DropReason r, std::string detail) {
  Mapped m;
  m.rejected = r;
  m.detail = std::move(detail);
  return m;
}

}  // namespace

const char* dropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kBadTopic:
      return "bad_topic";
    case DropReason::kUnknownDevice:
      return "unknown_device";
    case DropReason::kTooLarge:
      return "too_large";
    case DropReason::kBadJson:
      return "bad_json";
    case DropReason::kUnknownAttribute:
      return "unknown_attribute";
    case DropReason::kBadValue:
      return "bad_value";
    case DropReason::kIngestFailed:
      return "ingest_failed";
  }
  return "unknown";
}

std::string subscriptionFor(std::string_view prefix) {
  return std::string(prefix) + "/+/+/attrs";
}

bool isValidTopicPrefix(std::string_view prefix) {
  if (prefix.size() > kMaxPrefixLength) return false;
  if (!prefix.empty() && prefix.back() == '/') return false;
  return std::none_of(prefix.begin(), prefix.end(),
                      [](char c) { return c == '+' || c == '#' || c == '\0'; });
}

std::optional<TopicIds> parseTopic(std::string_view prefix, std::string_view topic) {
  if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
      topic[prefix.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = topic.substr(prefix.size() + 1);  // "{apikey}/{device_id}/attrs"
  if (rest.size() <= kAttrsLevel.size() ||
      rest.substr(rest.size() - kAttrsLevel.size()) != kAttrsLevel) {
    return std::nullopt;
  }
  rest.remove_suffix(kAttrsLevel.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view apikey = rest.substr(0, slash), device_id = rest.substr(slash + 1);
  if (!isValidDeviceId(apikey) || !isValidDeviceId(device_id)) return std::nullopt;
  return TopicIds{std::string(apikey), std::string(device_id)};
}

Mapped mapPayloadGeneric(const DeviceEntry& device, std::string_view payload, int64_t now_ms) {
  if (payload.size() > kMaxPayloadBytes) {
    return reject(DropReason::kTooLarge,
                  "payload of " + std::to_string(payload.size()) + " bytes is above 64 KiB");
  }
  if (jsonDepth(payload, kMaxPayloadDepth) > kMaxPayloadDepth) {
    return reject(DropReason::kBadJson, "payload nested too deeply");
  }
  // Invalid UTF-8 inside strings is a parse error too.
  json body = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (body.is_discarded()) return reject(DropReason::kBadJson, "payload is not valid JSON");
  if (!body.is_object()) return reject(DropReason::kBadJson, "payload is not a JSON object");

  std::optional<std::string> observed_at;
  if (auto it = body.find("TimeInstant"); it != body.end()) {
    std::optional<int64_t> at;
    if (it->is_string()) {
      auto parsed = context::parseDateTime(it->get_ref<const std::string&>());
      if (parsed.ok()) at = *parsed;
    }
    if (!at) return reject(DropReason::kBadValue, "TimeInstant is not an ISO 8601 date-time");
    observed_at = core::formatRfc3339(*at);
  }

  Mapped m;
  m.observation.entity_id = device.device.entity_id;
  m.observation.entity_type = device.device.entity_type;
  m.observation.attrs = json::object();
  const int64_t now = now_ms;  // createdAt/modifiedAt are kept as Unix milliseconds
  for (auto& [key, value] : body.items()) {
    if (key == "TimeInstant") continue;
    const AttributeMapping* mapping = device.attributes.find(key);
    if (!mapping) {
      addPartial(m, DropReason::kUnknownAttribute, "no mapping for key " + key.substr(0, 128));
      continue;
    }
    // A Property holds any JSON value (objects and arrays are structured values) except null.
    if (value.is_null()) {
      addPartial(m, DropReason::kBadValue, "null value for key " + key);
      continue;
    }
    json inst = {{"type", mapping->type}, {"value", std::move(value)}};
    if (observed_at) inst["observedAt"] = *observed_at;
    if (!mapping->unit_code.empty()) inst["unitCode"] = mapping->unit_code;
    inst["createdAt"] = now;
    inst["modifiedAt"] = now;
    m.observation.attrs[mapping->name] = std::move(inst);
  }
  return m;
}

namespace {

//! One flat value of a payload, converted as nlohmann's parser would (non-negative integers
//! unsigned); false for anything else (null, objects, arrays, numbers beyond 64 bits).
bool flatValue(simdjson::ondemand::value v, json& out) {
  simdjson::ondemand::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number n;
      if (v.get_number().get(n) != simdjson::SUCCESS) return false;
      switch (n.get_number_type()) {
        case simdjson::ondemand::number_type::signed_integer:
          if (n.get_int64() >= 0) {
            out = static_cast<uint64_t>(n.get_int64());
          } else {
            out = n.get_int64();
          }
          return true;
        case simdjson::ondemand::number_type::unsigned_integer:
          out = n.get_uint64();
          return true;
        case simdjson::ondemand::number_type::floating_point_number:
          out = n.get_double();
          return true;
      }
      return false;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view sv;
      if (v.get_string().get(sv) != simdjson::SUCCESS) return false;
      out = std::string(sv);
      return true;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return false;
      out = b;
      return true;
    }
    default:
      return false;  // null, object, array: the generic path handles (or refuses) them
  }
}

//! The common case, without a DOM: a flat object whose keys are all mapped and whose values are
//! numbers, strings or booleans, with at most a valid TimeInstant. nullopt for anything else —
//! the generic path then decides, with the same result it always gave.
std::optional<Mapped> mapFlatPayload(const DeviceEntry& device, std::string_view payload,
                                     int64_t now_ms) {
  if (payload.size() > kMaxPayloadBytes) return std::nullopt;
  thread_local simdjson::ondemand::parser parser(kMaxPayloadBytes);
  thread_local std::string padded;
  padded.assign(payload.data(), payload.size());
  padded.resize(payload.size() + simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser.iterate(padded.data(), payload.size(), padded.size()).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  struct Slot {
    const AttributeMapping* mapping;
    json value;
  };
  thread_local std::vector<Slot> slots;
  slots.clear();
  std::optional<int64_t> observed;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key == "TimeInstant") {
      std::string_view text;
      if (field.value().get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      auto at = context::parseDateTime(text);
      if (!at.ok()) return std::nullopt;
      observed = *at;
      continue;
    }
    const AttributeMapping* mapping = device.attributes.find(key);
    if (!mapping) return std::nullopt;
    json value;
    if (!flatValue(field.value(), value)) return std::nullopt;
    slots.push_back(Slot{mapping, std::move(value)});
  }

  Mapped m;
  m.observation.entity_id = device.device.entity_id;
  m.observation.entity_type = device.device.entity_type;
  m.observation.attrs = json::object();
  auto& attrs = m.observation.attrs.get_ref<json::object_t&>();
  const int64_t now = now_ms;  // createdAt/modifiedAt are kept as Unix milliseconds
  const std::string observed_at = observed ? core::formatRfc3339(*observed) : std::string();
  // The points the broker would derive from these attributes (numeric Property values, at
  // observedAt else now), made here while the message is still in this core's cache.
  auto& points = m.observation.points.emplace();
  points.reserve(slots.size());
  attrs.reserve(slots.size());
  for (auto& slot : slots) {
    const std::string& name = slot.mapping->name;
    std::optional<double> number;
    if (slot.value.is_number() && slot.mapping->type == "Property")
      number = slot.value.get<double>();
    // Members in key order, each appended at the end: no comparisons of the keys. Exactly as
    // many slots as members: the instance lives on in the entity document.
    json::object_t inst;
    inst.reserve(4 + (observed ? 1 : 0) + (slot.mapping->unit_code.empty() ? 0 : 1));
    inst.emplace_hint(inst.end(), "createdAt", now);
    inst.emplace_hint(inst.end(), "modifiedAt", now);
    if (observed) inst.emplace_hint(inst.end(), "observedAt", observed_at);
    inst.emplace_hint(inst.end(), "type", slot.mapping->type);
    if (!slot.mapping->unit_code.empty()) {
      inst.emplace_hint(inst.end(), "unitCode", slot.mapping->unit_code);
    }
    inst.emplace_hint(inst.end(), "value", std::move(slot.value));
    auto [at, fresh] = attrs.insert_or_assign(name, std::move(inst));  // the last one wins
    if (!fresh) std::erase_if(points, [&](const model::Point& p) { return p.attribute == name; });
    if (number) {
      points.push_back(
          model::Point{device.device.entity_id, name, observed.value_or(now_ms), *number});
    }
  }
  return m;
}

//! True for text that is one object with nothing nested and only whitespace around it (strings
//! aside): the shape the fast path takes. Linear; stops at the first nested bracket.
bool isFlatObjectText(std::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || text[i] != '{') return false;
  bool in_string = false, escaped = false;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[' || c == ']') {
      return false;
    } else if (c == '}') {
      return text.find_first_not_of(" \t\r\n", i + 1) == std::string_view::npos;
    }
  }
  return false;
}

}  // namespace

Mapped mapPayload(const DeviceEntry& device, std::string_view payload, int64_t now_ms) {
  if (payload.size() <= kMaxPayloadBytes && isFlatObjectText(payload)) {
    if (auto m = mapFlatPayload(device, payload, now_ms)) return std::move(*m);
  }
  return mapPayloadGeneric(device, payload, now_ms);
}

}  // namespace ioc::mqtt
