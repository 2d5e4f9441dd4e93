#include "mqtt/message.h"

#include <algorithm>

#include "context/entity.h"
#include "core/clock.h"

namespace ioc::mqtt {

using nlohmann::json;

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

Mapped mapPayload(const DeviceEntry& device, std::string_view payload, int64_t now_ms) {
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
  const std::string now = core::formatRfc3339(now_ms);
  for (auto& [key, value] : body.items()) {
    if (key == "TimeInstant") continue;
    auto mapping = device.attributes.find(key);
    if (mapping == device.attributes.end()) {
      addPartial(m, DropReason::kUnknownAttribute, "no mapping for key " + key.substr(0, 128));
      continue;
    }
    // A Property holds any JSON value (objects and arrays are structured values) except null.
    if (value.is_null()) {
      addPartial(m, DropReason::kBadValue, "null value for key " + key);
      continue;
    }
    json inst = {{"type", mapping->second.type}, {"value", std::move(value)}};
    if (observed_at) inst["observedAt"] = *observed_at;
    if (!mapping->second.unit_code.empty()) inst["unitCode"] = mapping->second.unit_code;
    inst["createdAt"] = now;
    inst["modifiedAt"] = now;
    m.observation.attrs[mapping->second.name] = std::move(inst);
  }
  return m;
}

}  // namespace ioc::mqtt
