#include "mqtt/device_registry.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "context/entity.h"
#include "context/ld_context.h"
#include "core/log.h"

namespace ioc::mqtt {

using core::Errc;
using core::makeError;
using json = ioc::Json;

namespace {

constexpr size_t kMaxTermLength = 256;
constexpr size_t kMaxUnitCodeLength = 32;

core::Error invalid(std::string message) {
  return makeError(Errc::kInvalidArgument, std::move(message));
}

//! A term or IRI as a client writes it: no spaces, controls or characters IRIs forbid.
bool isValidTerm(std::string_view t) {
  if (t.empty() || t.size() > kMaxTermLength || t.front() == '@') return false;
  return std::none_of(t.begin(), t.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == '\\' ||
           c == '{' || c == '}' || c == '|' || c == '^' || c == '`' || c == 0x7f;
  });
}

//! Attribute names a device may not write: entity members and NGSI-LD system or geo properties
//! (a device's values are always plain Properties).
bool isReservedName(const std::string& expanded) {
  static const std::set<std::string> kReserved = [] {
    std::set<std::string> out = {"id", "type", "@context", "@id", "@type"};
    for (const char* n :
         {"id", "type", "scope", "createdAt", "modifiedAt", "observedAt", "unitCode", "datasetId",
          "location", "observationSpace", "operationSpace"}) {
      out.insert(std::string(context::kNgsiLdNs) + n);
    }
    return out;
  }();
  return kReserved.count(expanded) > 0;
}

core::Result<std::string> requiredString(const json& obj, const char* field, size_t max_len) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return invalid(std::string(field) + " is required");
  if (!it->is_string()) return invalid(std::string(field) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return invalid(std::string(field) + " must not be empty");
  if (s.size() > max_len) {
    return invalid(std::string(field) + " is longer than " + std::to_string(max_len) +
                   " characters");
  }
  return s;
}

core::Status onlyMembers(const json& obj, std::initializer_list<std::string_view> allowed,
                         const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string message = where;
      message.append("unknown field ").append(k);
      return invalid(std::move(message));
    }
  }
  return core::Status::success();
}

core::Result<json> parseAttributesSpec(const json& body, const context::TermMap& terms) {
  auto it = body.find("attributes");
  if (it == body.end() || !it->is_array()) return invalid("attributes must be an array");
  if (it->empty()) return invalid("attributes must list at least one attribute");
  if (it->size() > kMaxAttributes) {
    return invalid("attributes may list at most " + std::to_string(kMaxAttributes) + " entries");
  }
  json mapping = json::object();
  std::set<std::string> names;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& a = (*it)[i];
    const std::string where = "attributes[" + std::to_string(i) + "].";
    if (!a.is_object()) return invalid(where.substr(0, where.size() - 1) + " must be an object");
    if (auto s = onlyMembers(a, {"object_id", "name", "type", "unitCode"}, where); !s.ok()) {
      return s.error();
    }
    auto object_id = requiredString(a, "object_id", kMaxIdLength);
    if (!object_id.ok()) return invalid(where + object_id.error().message);
    if (!isValidDeviceId(*object_id)) {
      return invalid(where + "object_id may contain only letters, digits and _.:-");
    }
    if (*object_id == "TimeInstant") {
      return invalid(where + "object_id TimeInstant is reserved for the observation time");
    }
    if (mapping.contains(*object_id)) return invalid(where + "object_id repeats " + *object_id);
    auto name = requiredString(a, "name", kMaxTermLength);
    if (!name.ok()) return invalid(where + name.error().message);
    if (!isValidTerm(*name)) return invalid(where + "name is not a valid attribute name");
    std::string expanded = terms.expand(*name);
    if (isReservedName(*name) || isReservedName(expanded)) {
      return invalid(where + "name " + *name + " is reserved");
    }
    if (!names.insert(expanded).second) return invalid(where + "name repeats " + *name);
    std::string type = "Property";
    if (auto t = a.find("type"); t != a.end()) {
      if (!t->is_string() ||
          (*t != "Property" && *t != std::string(context::kNgsiLdNs) + "Property")) {
        return invalid(where + "type must be Property");
      }
    }
    json m = {{"name", expanded}, {"type", type}};
    if (auto u = a.find("unitCode"); u != a.end()) {
      if (!u->is_string() || u->get_ref<const std::string&>().empty() ||
          u->get_ref<const std::string&>().size() > kMaxUnitCodeLength ||
          !std::all_of(u->get_ref<const std::string&>().begin(),
                       u->get_ref<const std::string&>().end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
        return invalid(where + "unitCode must be a UN/CEFACT code (letters and digits)");
      }
      m["unitCode"] = *u;
    }
    mapping[*object_id] = std::move(m);
  }
  return mapping;
}

}  // namespace

bool isValidDeviceId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
           c == '-';
  });
}

core::Result<model::Device> parseDeviceSpec(const json& body, const std::string& unit_code,
                                            int64_t now_ms) {
  if (!body.is_object()) return invalid("expected a JSON object");
  if (auto s =
          onlyMembers(body, {"device_id", "apikey", "entity_id", "entity_type", "attributes"}, "");
      !s.ok()) {
    return s.error();
  }
  model::Device d;
  for (auto [field, target] :
       {std::pair{"device_id", &d.device_id}, std::pair{"apikey", &d.apikey}}) {
    auto v = requiredString(body, field, kMaxIdLength);
    if (!v.ok()) return v.error();
    if (!isValidDeviceId(*v)) {
      return invalid(std::string(field) + " may contain only letters, digits and _.:-");
    }
    *target = std::move(*v);
  }
  auto entity_id = requiredString(body, "entity_id", kMaxTermLength);
  if (!entity_id.ok()) return entity_id.error();
  if (!context::isValidEntityId(*entity_id)) return invalid("entity_id must be a URI");
  d.entity_id = std::move(*entity_id);
  auto entity_type = requiredString(body, "entity_type", kMaxTermLength);
  if (!entity_type.ok()) return entity_type.error();
  if (!isValidTerm(*entity_type)) return invalid("entity_type is not a valid type name");
  const auto terms = context::TermMap::core();
  d.entity_type = terms->expand(*entity_type);
  auto mapping = parseAttributesSpec(body, *terms);
  if (!mapping.ok()) return mapping.error();
  d.mapping = mapping->dump();
  d.unit_code = unit_code;
  d.created_at_ms = now_ms;
  return d;
}

void AttributeMappings::set(std::string object_id, AttributeMapping mapping) {
  auto at = std::lower_bound(ids_.begin(), ids_.end(), object_id);
  const auto i = at - ids_.begin();
  if (at != ids_.end() && *at == object_id) {
    mappings_[i] = std::move(mapping);
    return;
  }
  ids_.insert(at, std::move(object_id));
  mappings_.insert(mappings_.begin() + i, std::move(mapping));
}

const AttributeMapping* AttributeMappings::find(std::string_view object_id) const {
  auto at = std::lower_bound(ids_.begin(), ids_.end(), object_id,
                             [](const std::string& id, std::string_view key) { return id < key; });
  return at != ids_.end() && *at == object_id ? &mappings_[at - ids_.begin()] : nullptr;
}

core::Result<DevicePtr> makeEntry(model::Device device) {
  json mapping = json::parse(device.mapping, nullptr, false);
  if (!mapping.is_object()) return invalid("device mapping is not a JSON object");
  auto entry = std::make_shared<DeviceEntry>();
  for (const auto& [object_id, m] : mapping.items()) {
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) {
      return invalid("device mapping of " + object_id + " has no name");
    }
    AttributeMapping a;
    a.name = m["name"].get<std::string>();
    a.type = m.value("type", "Property");
    if (auto u = m.find("unitCode"); u != m.end() && u->is_string()) a.unit_code = *u;
    if (a.type != "Property")
      return invalid("device mapping of " + object_id + " is not a Property");
    entry->attributes.set(object_id, std::move(a));
  }
  entry->device = std::move(device);
  return DevicePtr(std::move(entry));
}

json deviceJson(const model::Device& d) {
  const auto terms = context::TermMap::core();
  json attrs = json::array();
  json mapping = json::parse(d.mapping, nullptr, false);
  if (mapping.is_object()) {
    for (const auto& [object_id, m] : mapping.items()) {
      json a = {{"object_id", object_id},
                {"name", terms->compact(m.value("name", ""))},
                {"type", m.value("type", "Property")}};
      if (m.contains("unitCode")) a["unitCode"] = m["unitCode"];
      attrs.push_back(std::move(a));
    }
  }
  return {{"device_id", d.device_id},
          {"apikey", d.apikey},
          {"entity_id", d.entity_id},
          {"entity_type", terms->compact(d.entity_type)},
          {"attributes", std::move(attrs)},
          {"unit_code", d.unit_code.empty() ? json(nullptr) : json(d.unit_code)},
          {"created_at", core::formatRfc3339(d.created_at_ms)}};
}

DeviceRegistry::DeviceRegistry(storage::Store& store, const core::Clock& clock)
    : store_(store), clock_(clock) {}

std::string DeviceRegistry::key(std::string_view apikey, std::string_view device_id) {
  std::string k;
  k.reserve(apikey.size() + 1 + device_id.size());
  k.append(apikey).append("/").append(device_id);  // '/' never occurs in either id
  return k;
}

core::Status DeviceRegistry::load() {
  auto devices = store_.listDevices();
  if (!devices.ok()) return devices.error();
  DeviceMap loaded;
  int64_t bad = 0;
  for (auto& d : *devices) {
    const std::string k = key(d.apikey, d.device_id);
    auto entry = makeEntry(std::move(d));
    if (!entry.ok()) {
      ++bad;
      core::logWarn("device unreadable", {{"device", k}, {"error", entry.error().message}});
      continue;
    }
    loaded.emplace(k, std::move(*entry));
  }
  std::unique_lock lock(mu_);
  devices_ = std::move(loaded);
  core::logInfo("devices loaded",
                {{"count", static_cast<int64_t>(devices_.size())}, {"unreadable", bad}});
  return core::Status::success();
}

core::Status DeviceRegistry::provision(model::Device device, const model::Actor& actor) {
  auto entry = makeEntry(device);
  if (!entry.ok()) return entry.error();
  const std::string k = key(device.apikey, device.device_id);
  // The key is reserved while its write is in flight, so that concurrent provisionings of other
  // devices share group commits (the write lock is not held across the durable write).
  {
    std::unique_lock lock(mu_);
    if (devices_.count(k) || provisioning_.count(k)) {
      return makeError(Errc::kAlreadyExists,
                       "device " + device.device_id + " is already provisioned under this apikey");
    }
    provisioning_.insert(k);
  }
  json detail = {{"entity_id", device.entity_id},
                 {"entity_type", device.entity_type},
                 {"attributes", (*entry)->attributes.size()}};
  auto audit = model::makeAuditEntry(actor, "device.provision", "device:" + k, detail.dump(),
                                     clock_.nowUnixMs());
  auto s = store_.writeSync([&device, &audit](storage::WriteTx& tx) -> core::Status {
    if (auto u = tx.upsertDevice(device); !u.ok()) return u;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  std::unique_lock lock(mu_);
  provisioning_.erase(k);
  if (!s.ok()) return s;
  devices_[k] = std::move(*entry);
  return core::Status::success();
}

core::Status DeviceRegistry::remove(const std::string& apikey, const std::string& device_id,
                                    const model::Actor& actor,
                                    const std::function<bool(const model::Device&)>& may_remove) {
  const std::string k = key(apikey, device_id);
  std::lock_guard write(write_mu_);
  DevicePtr current = find(apikey, device_id);
  if (!current || (may_remove && !may_remove(current->device))) {
    return makeError(Errc::kNotFound, "no device " + device_id + " under this apikey");
  }
  json detail = {{"entity_id", current->device.entity_id}};
  auto audit = model::makeAuditEntry(actor, "device.remove", "device:" + k, detail.dump(),
                                     clock_.nowUnixMs());
  auto s = store_.writeSync([&](storage::WriteTx& tx) -> core::Status {
    if (auto d = tx.deleteDevice(apikey, device_id); !d.ok()) return d;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s;
  std::unique_lock lock(mu_);
  devices_.erase(k);
  return core::Status::success();
}

DevicePtr DeviceRegistry::find(std::string_view apikey, std::string_view device_id) const {
  // The per-message lookup: the key is built in a reused per-thread buffer.
  thread_local std::string k;
  k.assign(apikey).append("/").append(device_id);
  std::shared_lock lock(mu_);
  auto it = devices_.find(k);
  return it == devices_.end() ? nullptr : it->second;
}

std::vector<DevicePtr> DeviceRegistry::list() const {
  std::shared_lock lock(mu_);
  std::vector<DevicePtr> out;
  out.reserve(devices_.size());
  for (const auto& [k, d] : devices_) out.push_back(d);
  lock.unlock();
  std::sort(out.begin(), out.end(), [](const DevicePtr& a, const DevicePtr& b) {
    return std::tie(a->device.apikey, a->device.device_id) <
           std::tie(b->device.apikey, b->device.device_id);
  });
  return out;
}

size_t DeviceRegistry::size() const {
  std::shared_lock lock(mu_);
  return devices_.size();
}

}  // namespace ioc::mqtt
