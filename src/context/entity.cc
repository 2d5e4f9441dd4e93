#include "context/entity.h"

#include <algorithm>
#include <ctime>

#include "context/json_text.h"
#include "core/clock.h"
#include "ngsild/geo.h"

namespace ioc::context {

using core::Errc;
using core::makeError;
using json = ioc::Json;

namespace {

constexpr int kMaxSubAttributeDepth = 4;
constexpr const char* kGeoTypes[] = {"Point",           "MultiPoint", "LineString",
                                     "MultiLineString", "Polygon",    "MultiPolygon"};

//! Members of an attribute instance that are not sub-attributes.
bool isReservedMember(const std::string& key) {
  static const std::unordered_set<std::string> kReserved = {
      "type",      "value",     "object",     "languageMap", "observedAt", "unitCode",
      "datasetId", "createdAt", "modifiedAt", "instanceId",  "@context",   "lang"};
  return kReserved.count(key) > 0;
}

bool isGeoJsonGeometry(const json& v) {
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string() ||
      !v.contains("coordinates") || !v["coordinates"].is_array()) {
    return false;
  }
  const auto& t = v["type"].get_ref<const std::string&>();
  return std::any_of(std::begin(kGeoTypes), std::end(kGeoTypes),
                     [&](const char* g) { return t == g; });
}

core::Error bad(const std::string& message) {
  return makeError(Errc::kInvalidArgument, "BadRequestData: " + message);
}

//! The attribute type written without or with the NGSI-LD namespace.
std::string attributeType(const json& instance) {
  // A bare GeoJSON geometry also has a "type" ("Point", …): recognise it first.
  if (isGeoJsonGeometry(instance)) return "GeoProperty(bare)";
  if (instance.is_object() && instance.contains("type") && instance["type"].is_string()) {
    std::string t = instance["type"].get<std::string>();
    if (t.rfind(kNgsiLdNs, 0) == 0) t = t.substr(kNgsiLdNs.size());
    return t;
  }
  // Concise representation: infer the type from the members.
  if (instance.is_object()) {
    if (instance.contains("object")) return "Relationship";
    if (instance.contains("languageMap")) return "LanguageProperty";
    if (instance.contains("value")) {
      return isGeoJsonGeometry(instance["value"]) ? "GeoProperty" : "Property";
    }
    return "Property(bare)";
  }
  return "Property(bare)";
}

core::Result<json> normalizeInstance(const json& input, const std::string& name,
                                     const TermMap& terms, int64_t now, int depth);

core::Status addSubAttributes(json& out, const json& input, const TermMap& terms, int64_t now,
                              int depth) {
  for (const auto& [key, value] : input.items()) {
    if (isReservedMember(key)) continue;
    if (depth >= kMaxSubAttributeDepth) return bad("sub-attributes nested too deeply");
    const std::string expanded = terms.expand(key);
    auto sub = normalizeInstance(value, key, terms, now, depth + 1);
    if (!sub.ok()) return sub.error();
    out[expanded] = std::move(*sub);
  }
  return core::Status::success();
}

core::Status copyMetadata(json& out, const json& input, const std::string& name) {
  if (input.contains("observedAt")) {
    const json& at = input["observedAt"];
    if (!at.is_string() || !parseDateTime(at.get<std::string>()).ok()) {
      return bad(name + ".observedAt must be an ISO 8601 date-time");
    }
    out["observedAt"] = at;
  }
  if (input.contains("unitCode")) {
    if (!input["unitCode"].is_string()) return bad(name + ".unitCode must be a string");
    out["unitCode"] = input["unitCode"];
  }
  if (input.contains("datasetId")) {
    const json& ds = input["datasetId"];
    if (!ds.is_string() || !isValidEntityId(ds.get<std::string>())) {
      return bad(name + ".datasetId must be a URI");
    }
    out["datasetId"] = ds;
  }
  return core::Status::success();
}

core::Result<json> normalizeInstance(const json& input, const std::string& name,
                                     const TermMap& terms, int64_t now, int depth) {
  const std::string kind = attributeType(input);
  json out = json::object();
  if (kind == "Property(bare)" || kind == "GeoProperty(bare)") {
    if (input.is_null()) return bad(name + " has a null value");
    if (kind == "GeoProperty(bare)") {
      auto geometry = ngsild::geo::parseGeoJson(input);
      if (!geometry.ok()) return bad(name + ": " + geometry.error().message);
    }
    out["type"] = kind == "GeoProperty(bare)" ? "GeoProperty" : "Property";
    out["value"] = input;
  } else if (kind == "Property" || kind == "GeoProperty") {
    if (!input.contains("value") || input["value"].is_null()) {
      return bad(name + " is a " + kind + " without a value");
    }
    if (kind == "GeoProperty") {
      auto geometry = ngsild::geo::parseGeoJson(input["value"]);
      if (!geometry.ok()) return bad(name + ": " + geometry.error().message);
    }
    out["type"] = kind;
    out["value"] = input["value"];
  } else if (kind == "Relationship") {
    const json& obj = input.contains("object") ? input["object"] : json();
    bool ok = obj.is_string() && isValidEntityId(obj.get<std::string>());
    if (obj.is_array()) {
      ok = !obj.empty() && std::all_of(obj.begin(), obj.end(), [](const json& o) {
        return o.is_string() && isValidEntityId(o.get<std::string>());
      });
    }
    if (!ok) return bad(name + " is a Relationship whose object is not a URI");
    out["type"] = "Relationship";
    out["object"] = obj;
  } else if (kind == "LanguageProperty") {
    const json& map = input.contains("languageMap") ? input["languageMap"] : json();
    if (!map.is_object() || map.empty()) return bad(name + " needs a languageMap object");
    out["type"] = "LanguageProperty";
    out["languageMap"] = map;
  } else {
    return bad(name + " has an unknown attribute type " + kind);
  }
  if (input.is_object() && kind.find("(bare)") == std::string::npos) {
    if (auto s = copyMetadata(out, input, name); !s.ok()) return s.error();
    if (auto s = addSubAttributes(out, input, terms, now, depth); !s.ok()) return s.error();
  }
  out["createdAt"] = now;
  out["modifiedAt"] = now;
  return out;
}

std::string datasetOf(const json& instance) {
  return instance.is_object() && instance.contains("datasetId") && instance["datasetId"].is_string()
             ? instance["datasetId"].get<std::string>()
             : std::string();
}

//! All instances of an attribute value (an object, or an array of them).
std::vector<json*> instancesOf(json& attr) {
  std::vector<json*> out;
  if (attr.is_array()) {
    for (auto& i : attr) out.push_back(&i);
  } else {
    out.push_back(&attr);
  }
  return out;
}

core::Result<json> normalizeAttribute(const json& value, const std::string& name,
                                      const TermMap& terms, int64_t now) {
  if (!value.is_array() || value.empty() || !value[0].is_object() ||
      !(value[0].contains("type") || value[0].contains("value") || value[0].contains("object"))) {
    return normalizeInstance(value, name, terms, now, 0);
  }
  // An array of instances: one per datasetId.
  json out = json::array();
  std::unordered_set<std::string> seen;
  for (const auto& inst : value) {
    auto n = normalizeInstance(inst, name, terms, now, 0);
    if (!n.ok()) return n.error();
    if (!seen.insert(datasetOf(*n)).second) {
      return bad(name + " has two instances with the same datasetId");
    }
    out.push_back(std::move(*n));
  }
  return out.size() == 1 ? out[0] : out;
}

//! An instance's createdAt or modifiedAt as clients see it. Documents hold Unix milliseconds (a
//! number, not a 24-character string in every attribute and sub-attribute: 25 MB at 100,000
//! entities); those written before kept the text.
json systemTimeText(const json& t) {
  return t.is_number_integer() ? json(core::formatRfc3339(t.get<int64_t>())) : t;
}

json compactInstance(const json& instance, const TermMap& terms, bool sys_attrs, bool key_values) {
  const std::string type = instance.value("type", "Property");
  if (key_values) {
    if (type == "Relationship") return instance["object"];
    if (type == "LanguageProperty") return instance["languageMap"];
    return instance.contains("value") ? instance["value"] : json();
  }
  json out = json::object();
  for (const auto& [k, v] : instance.items()) {
    if (k == "createdAt" || k == "modifiedAt") {
      if (sys_attrs) out[k] = systemTimeText(v);
    } else if (isReservedMember(k)) {
      out[k] = v;
    } else {
      out[terms.compact(k)] = v.is_object() ? compactInstance(v, terms, sys_attrs, false) : v;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> Entity::types() const {
  std::vector<std::string> out;
  const json& t = doc["type"];
  if (t.is_string()) out.push_back(t.get<std::string>());
  if (t.is_array()) {
    for (const auto& x : t) out.push_back(x.get<std::string>());
  }
  return out;
}

bool Entity::hasType(const std::string& expanded) const {
  const json& t = doc["type"];
  if (t.is_string()) return t.get_ref<const std::string&>() == expanded;
  return std::any_of(t.begin(), t.end(), [&](const json& x) { return x == expanded; });
}

bool isValidEntityId(std::string_view id) {
  if (id.size() < 3 || id.size() > 512) return false;
  size_t colon = id.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = id[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) ||
              (i > 0 &&
               (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return std::none_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == '\\' ||
           c == '{' || c == '}' || c == '|' || c == '^' || c == '`';
  });
}

core::Result<int64_t> parseDateTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(0, 4, y) || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' ||
      !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, sec) || mo < 1 || mo > 12 || d < 1 ||
      d > 31 || h > 23 || mi > 59 || sec > 60) {
    return makeError(Errc::kInvalidArgument, "not an ISO 8601 date-time: " + std::string(s));
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) {
    return makeError(Errc::kInvalidArgument, "no such day: " + std::string(s));
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start)
      return makeError(Errc::kInvalidArgument, "empty fraction in " + std::string(s));
    for (size_t n = pos - start; n < 3; ++n) millis *= 10;
  }
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om)) {
      return makeError(Errc::kInvalidArgument, "bad time zone offset in " + std::string(s));
    }
    offset_min = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return makeError(Errc::kInvalidArgument, "date-time needs Z or an offset: " + std::string(s));
  }
  if (pos != s.size())
    return makeError(Errc::kInvalidArgument, "trailing characters in " + std::string(s));
  const int64_t secs =
      core::daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
      h * 3600 + mi * 60 + sec - int64_t{offset_min} * 60;
  return secs * 1000 + millis;
}

core::Result<json> parseAttributes(const json& body, const TermMap& terms, int64_t now_ms) {
  if (!body.is_object()) return bad("expected a JSON object of attributes");
  const int64_t now = now_ms;
  json out = json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "id" || key == "type" || key == "@context" || key == "createdAt" ||
        key == "modifiedAt" || key == "scope") {
      continue;
    }
    if (key.empty()) return bad("empty attribute name");
    if (key.size() > 256) return bad("attribute name longer than 256 characters");
    const std::string expanded = terms.expand(key);
    auto attr = normalizeAttribute(value, key, terms, now);
    if (!attr.ok()) return attr.error();
    // "location", however it is spelled, must really be geometry.
    if (expanded == std::string(kNgsiLdNs) + "location") {
      auto instances = attr->is_array() ? *attr : json::array({*attr});
      for (const auto& inst : instances) {
        if (inst.value("type", "") != "GeoProperty") return bad("location must be a GeoProperty");
      }
    }
    out[expanded] = std::move(*attr);
  }
  return out;
}

core::Result<Entity> parseEntity(const json& body, const TermMap& terms, int64_t now_ms) {
  if (!body.is_object()) return bad("an entity must be a JSON object");
  if (!body.contains("id") || !body["id"].is_string()) return bad("entity id is missing");
  const std::string id = body["id"].get<std::string>();
  if (!isValidEntityId(id)) return bad("entity id must be a URI: " + id);
  if (!body.contains("type")) return bad("entity type is missing");
  json types = json::array();
  const json& t = body["type"];
  if (t.is_string()) {
    types.push_back(terms.expand(t.get<std::string>()));
  } else if (t.is_array() && !t.empty()) {
    for (const auto& x : t) {
      if (!x.is_string() || x.get_ref<const std::string&>().empty())
        return bad("entity type must be a string");
      types.push_back(terms.expand(x.get<std::string>()));
    }
  } else {
    return bad("entity type must be a string or a list of strings");
  }
  if (t.is_string() && t.get_ref<const std::string&>().empty()) return bad("entity type is empty");
  auto attrs = parseAttributes(body, terms, now_ms);
  if (!attrs.ok()) return attrs.error();
  Entity e;
  e.id = id;
  e.created_at_ms = e.modified_at_ms = now_ms;
  e.doc = std::move(*attrs);
  e.doc["id"] = id;
  e.doc["type"] = types.size() == 1 ? types[0] : types;
  return e;
}

MergeResult mergeAttributes(Entity& target, const json& attrs, MergeMode mode, int64_t now_ms) {
  MergeResult result;
  for (const auto& [name, incoming] : attrs.items()) {
    json& doc = target.doc;
    std::vector<json> new_instances;
    if (incoming.is_array()) {
      new_instances.assign(incoming.begin(), incoming.end());
    } else {
      new_instances.push_back(incoming);
    }
    bool any = false;
    for (json& inst : new_instances) {
      const std::string ds = datasetOf(inst);
      json* current = nullptr;
      const bool exists = doc.contains(name);  // an earlier instance of this request may add it
      if (exists) {
        for (json* i : instancesOf(doc[name])) {
          if (datasetOf(*i) == ds) current = i;
        }
      }
      if (current && mode == MergeMode::kAppendNoOverwrite) {
        result.not_updated.push_back({name, "attribute already exists and noOverwrite was given"});
        continue;
      }
      if (!current && mode == MergeMode::kUpdateExisting) {
        result.not_updated.push_back({name, "attribute does not exist"});
        continue;
      }
      if (current) {
        if (current->contains("createdAt")) inst["createdAt"] = (*current)["createdAt"];
        *current = std::move(inst);
      } else if (!exists) {
        doc[name] = std::move(inst);
      } else {
        if (!doc[name].is_array()) doc[name] = json::array({doc[name]});
        doc[name].push_back(std::move(inst));
      }
      any = true;
    }
    if (any) result.updated.push_back(name);
  }
  if (!result.updated.empty()) target.modified_at_ms = now_ms;
  return result;
}

namespace {

//! What merging needs of an attribute instance: its createdAt and whether it has a datasetId.
struct InstanceHead {
  bool single = false;  //!< an object without datasetId
  const json* created_at = nullptr;
};

//! The instance being replaced is usually out of the cache. Both names sort before the other
//! members ("modifiedAt", "observedAt", "type", "value", IRIs), so a walk from the first member
//! mostly reads two.
InstanceHead headOf(const json& instance) {
  InstanceHead head;
  if (!instance.is_object()) return head;
  constexpr std::string_view kCreatedAt = "createdAt", kDatasetId = "datasetId";
  for (const auto& [name, value] : instance.get_ref<const json::object_t&>()) {
    if (name > kDatasetId) break;
    if (name == kDatasetId) return head;
    if (name == kCreatedAt) head.created_at = &value;
  }
  head.single = true;
  return head;
}

//! Both documents' attributes are single instances without datasetId, so each incoming one
//! simply replaces or adds. One walk over both sorted objects, not a search per name; counts
//! the names `attrs` would add.
bool simpleMerge(const json& doc, const json& attrs, size_t& new_names) {
  if (!doc.is_object() || !attrs.is_object()) return false;
  const auto& current = doc.get_ref<const json::object_t&>();
  auto it = current.begin();
  new_names = 0;
  for (const auto& [name, incoming] : attrs.get_ref<const json::object_t&>()) {
    if (!headOf(incoming).single) return false;
    while (it != current.end() && it->first < name) ++it;
    const bool known = it != current.end() && it->first == name;
    if (known && !headOf(it->second).single) return false;
    if (!known) ++new_names;
  }
  return true;
}

//! mergedCopy; `result` may be null (nothing reported, the updated names not copied).
Entity mergeCopying(const Entity& before, json attrs, MergeMode mode, int64_t now_ms,
                    MergeResult* result) {
  size_t new_names = 0;
  if (!simpleMerge(before.doc, attrs, new_names)) {
    Entity next = before;
    MergeResult merged = mergeAttributes(next, attrs, mode, now_ms);
    if (result) *result = std::move(merged);
    return next;
  }
  Entity next;
  next.id = before.id;
  next.unit_code = before.unit_code;
  next.created_at_ms = before.created_at_ms;
  next.modified_at_ms = before.modified_at_ms;
  const auto& current = before.doc.get_ref<const json::object_t&>();
  auto& incoming = attrs.get_ref<json::object_t&>();
  json::object_t doc;
  // Exactly the members it will hold: the document is kept as long as the version lives.
  doc.reserve(current.size() + (mode == MergeMode::kUpdateExisting ? 0 : new_names));
  auto in = incoming.begin();
  size_t updated = 0;
  // An incoming member moves over whole: its (long) name is not copied.
  auto take = [&]() -> json::object_t::value_type& {
    ++updated;
    if (result) result->updated.push_back(in->first);
    return doc.emplace_back(std::move(*in++));
  };
  auto addNew = [&]() {
    if (mode == MergeMode::kUpdateExisting) {
      if (result) result->not_updated.push_back({in->first, "attribute does not exist"});
      ++in;
      return;
    }
    take();
  };
  // Both objects are sorted by name: one walk over the two, each member appended at the end.
  for (const auto& [name, attr] : current) {
    while (in != incoming.end() && in->first < name) addNew();
    if (in == incoming.end() || in->first != name) {
      doc.emplace_back(name, attr);
      continue;
    }
    if (mode == MergeMode::kAppendNoOverwrite) {
      if (result) {
        result->not_updated.push_back({name, "attribute already exists and noOverwrite was given"});
      }
      doc.emplace_back(name, attr);
      ++in;
      continue;
    }
    const json* created = headOf(attr).created_at;
    auto& added = take();
    if (created) added.second["createdAt"] = *created;
  }
  while (in != incoming.end()) addNew();
  next.doc.get_ref<json::object_t&>() = std::move(doc);
  if (updated > 0) next.modified_at_ms = now_ms;
  return next;
}

}  // namespace

Entity mergedCopy(const Entity& before, json attrs, MergeMode mode, int64_t now_ms,
                  MergeResult& result) {
  return mergeCopying(before, std::move(attrs), mode, now_ms, &result);
}

Entity mergedCopy(const Entity& before, json attrs, MergeMode mode, int64_t now_ms) {
  return mergeCopying(before, std::move(attrs), mode, now_ms, nullptr);
}

core::Status patchAttribute(Entity& target, const std::string& name, const json& fragment,
                            const TermMap& terms, int64_t now_ms) {
  if (!fragment.is_object()) return bad("expected a JSON object");
  if (!target.doc.contains(name))
    return makeError(Errc::kNotFound, "ResourceNotFound: no attribute " + terms.compact(name));
  const std::string ds = datasetOf(fragment);
  json* current = nullptr;
  for (json* i : instancesOf(target.doc[name])) {
    if (datasetOf(*i) == ds) current = i;
  }
  if (!current)
    return makeError(Errc::kNotFound, "ResourceNotFound: no instance with that datasetId");
  // Build the merged instance from the fragment's members over the current ones, then validate
  // it like any new attribute so a patch cannot produce an invalid attribute.
  json merged = *current;
  for (const auto& [k, v] : fragment.items()) {
    if (k == "createdAt" || k == "modifiedAt" || k == "@context") continue;
    merged[isReservedMember(k) ? k : terms.expand(k)] = v;
  }
  json created = current->contains("createdAt") ? (*current)["createdAt"] : json(now_ms);
  // Sub-attribute names are already expanded: validate with a map that leaves IRIs alone.
  auto normalized = normalizeInstance(merged, terms.compact(name), *TermMap::core(), now_ms, 0);
  if (!normalized.ok()) return normalized.error();
  (*normalized)["createdAt"] = created;
  *current = std::move(*normalized);
  target.modified_at_ms = now_ms;
  return core::Status::success();
}

core::Status removeAttribute(Entity& target, const std::string& name, const std::string& ds,
                             bool all) {
  if (!target.doc.contains(name) || name == "id" || name == "type") {
    return makeError(Errc::kNotFound, "ResourceNotFound: no such attribute");
  }
  json& attr = target.doc[name];
  if (all) {
    target.doc.erase(name);
    return core::Status::success();
  }
  if (!attr.is_array()) {
    if (datasetOf(attr) != ds)
      return makeError(Errc::kNotFound, "ResourceNotFound: no such instance");
    target.doc.erase(name);
    return core::Status::success();
  }
  auto it =
      std::find_if(attr.begin(), attr.end(), [&](const json& i) { return datasetOf(i) == ds; });
  if (it == attr.end()) return makeError(Errc::kNotFound, "ResourceNotFound: no such instance");
  attr.erase(it);
  if (attr.size() == 1) attr = json(attr[0]);
  if (attr.empty()) target.doc.erase(name);
  return core::Status::success();
}

json renderEntity(const Entity& e, const TermMap& terms, const RenderOptions& opts) {
  json out = json::object();
  out["id"] = e.id;
  std::vector<std::string> types = e.types();
  if (types.size() == 1) {
    out["type"] = terms.compact(types[0]);
  } else {
    json arr = json::array();
    for (const auto& t : types) arr.push_back(terms.compact(t));
    out["type"] = arr;
  }
  for (const auto& [name, attr] : e.doc.items()) {
    if (name == "id" || name == "type") continue;
    if (opts.attrs && !opts.attrs->count(name)) continue;
    const std::string compacted = terms.compact(name);
    if (attr.is_array()) {
      json arr = json::array();
      for (const auto& i : attr)
        arr.push_back(compactInstance(i, terms, opts.sys_attrs, opts.key_values));
      if (opts.key_values) {
        // keyValues shows the default instance (no datasetId), else the first one.
        size_t pick = 0;
        for (size_t k = attr.size(); k-- > 0;) {
          if (!attr[k].contains("datasetId")) pick = k;
        }
        out[compacted] = arr[pick];
      } else {
        out[compacted] = arr;
      }
    } else {
      out[compacted] = compactInstance(attr, terms, opts.sys_attrs, opts.key_values);
    }
  }
  if (opts.sys_attrs && !opts.key_values) {
    out["createdAt"] = core::formatRfc3339(e.created_at_ms);
    out["modifiedAt"] = core::formatRfc3339(e.modified_at_ms);
  }
  return out;
}

void collectPoints(const std::string& entity_id, const json& attrs,
                   const std::vector<std::string>* names, int64_t now_ms,
                   std::vector<model::Point>& out) {
  auto add = [&](const std::string& name, const json& inst) {
    // One lookup per member: this runs for every reading.
    if (!inst.is_object()) return;
    auto value = inst.find("value");
    if (value == inst.end() || !value->is_number()) return;
    auto type = inst.find("type");
    if (type == inst.end() || !type->is_string() ||
        type->get_ref<const std::string&>() != "Property") {
      return;
    }
    int64_t at = now_ms;
    if (auto it = inst.find("observedAt"); it != inst.end() && it->is_string()) {
      auto parsed = parseDateTime(it->get_ref<const std::string&>());
      if (parsed.ok()) at = *parsed;
    }
    out.push_back(model::Point{entity_id, name, at, value->get<double>()});
  };
  auto each = [&](const std::string& name) {
    auto it = attrs.find(name);
    if (it == attrs.end()) return;
    if (it->is_array()) {
      for (const auto& inst : *it) add(name, inst);
    } else {
      add(name, *it);
    }
  };
  if (names) {
    for (const auto& n : *names) each(n);
  } else {
    for (const auto& [name, _] : attrs.items()) {
      if (name != "id" && name != "type") each(name);
    }
  }
}

model::EntityRecord toRecord(const Entity& e) {
  std::vector<std::string> types = e.types();
  return model::EntityRecord{e.id,
                             types.empty() ? "" : types[0],
                             e.unit_code,
                             dumpJson(e.doc),
                             e.created_at_ms,
                             e.modified_at_ms};
}

core::Result<Entity> fromRecord(const model::EntityRecord& r) {
  Entity e;
  e.id = r.id;
  e.unit_code = r.unit_code;
  e.created_at_ms = r.created_at_ms;
  e.modified_at_ms = r.modified_at_ms;
  e.doc = json::parse(r.doc, nullptr, false);
  if (e.doc.is_discarded() || !e.doc.is_object()) {
    return makeError(Errc::kInternal, "stored entity " + r.id + " is not valid JSON");
  }
  return e;
}

}  // namespace ioc::context
