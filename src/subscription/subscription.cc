#include "subscription/subscription.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <random>

#include "context/entity.h"
#include "core/clock.h"
#include "ngsild/geo.h"

namespace ioc::subscription {

using json = ioc::Json;

namespace {

constexpr size_t kMaxNameBytes = 1024;
constexpr size_t kMaxDescriptionBytes = 4096;
constexpr size_t kMaxSelectors = 100;
constexpr size_t kMaxAttributeNames = 100;
constexpr size_t kMaxKeyValues = 32;
constexpr size_t kMaxHeaderValueBytes = 4096;

core::Error bad(std::string detail) {
  return core::makeError(core::Errc::kInvalidArgument, "BadRequestData: " + std::move(detail));
}

//! Members the spec defines but this broker does not implement: refused, never silently ignored
//! (a client relying on them would get notifications it did not ask for).
bool unsupportedMember(std::string_view k) {
  for (const char* n : {"csf", "temporalQ", "scopeQ", "lang", "datasetId", "expandValues",
                        "localOnly", "join", "joinLevel", "contextSourceInfo", "nullify"}) {
    if (k == n) return true;
  }
  return false;
}

core::Result<std::string> nonEmptyString(const json& v, std::string_view name, size_t max) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    return bad(std::string(name) + " must be a non-empty string");
  }
  if (v.get_ref<const std::string&>().size() > max) {
    return bad(std::string(name) + " is longer than " + std::to_string(max) + " bytes");
  }
  return v.get<std::string>();
}

core::Result<json> asJson(core::Result<std::string> s) {
  if (!s.ok()) return s.error();
  return json(std::move(*s));
}

core::Result<json> expandedNames(const json& v, std::string_view name,
                                 const context::TermMap& terms) {
  if (!v.is_array() || v.empty()) return bad(std::string(name) + " must be a non-empty array");
  if (v.size() > kMaxAttributeNames) {
    return bad(std::string(name) + " lists more than " + std::to_string(kMaxAttributeNames));
  }
  json out = json::array();
  for (const auto& a : v) {
    auto s = nonEmptyString(a, std::string(name) + " items", kMaxNameBytes);
    if (!s.ok()) return s.error();
    std::string iri = terms.expand(*s);
    if (std::find(out.begin(), out.end(), iri) == out.end()) out.push_back(iri);
  }
  return out;
}

core::Status positiveNumber(const json& v, std::string_view name, bool zero_ok = false) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
      (!zero_ok && v.get<double>() == 0)) {
    return bad(std::string(name) + (zero_ok ? " must be a number >= 0" : " must be a number > 0"));
  }
  return core::Status::success();
}

core::Result<json> canonicalSelector(const json& e, const context::TermMap& terms) {
  if (!e.is_object()) return bad("entities items must be objects");
  json out = json::object();
  for (const auto& [k, v] : e.items()) {
    if (k == "type") {
      auto t = nonEmptyString(v, "entities[].type", kMaxNameBytes);
      if (!t.ok()) return t.error();
      out["type"] = terms.expand(*t);
    } else if (k == "id") {
      if (!v.is_string() || !context::isValidEntityId(v.get<std::string>())) {
        return bad("entities[].id must be a URI");
      }
      out["id"] = v;
    } else if (k == "idPattern") {
      auto p = nonEmptyString(v, "entities[].idPattern", ngsild::kMaxRegexChars);
      if (!p.ok()) return p.error();
      out["idPattern"] = *p;
    } else {
      return bad("unknown member entities[]." + k);
    }
  }
  if (!out.contains("type")) return bad("entities[].type is mandatory");
  return out;
}

core::Result<json> keyValueArray(const json& v, std::string_view name) {
  if (!v.is_array()) return bad(std::string(name) + " must be an array of {key, value}");
  if (v.size() > kMaxKeyValues) {
    return bad(std::string(name) + " has more than " + std::to_string(kMaxKeyValues) + " items");
  }
  for (const auto& kv : v) {
    if (!kv.is_object() || kv.size() != 2 || !kv.contains("key") || !kv.contains("value") ||
        !kv["key"].is_string() || !kv["value"].is_string() ||
        kv["key"].get_ref<const std::string&>().empty()) {
      return bad(std::string(name) + " items must be {\"key\": string, \"value\": string}");
    }
  }
  return v;
}

core::Result<json> canonicalEndpoint(const json& e) {
  if (!e.is_object()) return bad("notification.endpoint must be an object");
  json out = json::object();
  for (const auto& [k, v] : e.items()) {
    if (k == "uri") {
      if (!v.is_string()) return bad("notification.endpoint.uri must be a string");
      out[k] = v;
    } else if (k == "accept") {
      if (!v.is_string() || (v != "application/json" && v != "application/ld+json")) {
        return bad("notification.endpoint.accept must be application/json or application/ld+json");
      }
      out[k] = v;
    } else if (k == "receiverInfo" || k == "notifierInfo") {
      auto kv = keyValueArray(v, "notification.endpoint." + k);
      if (!kv.ok()) return kv.error();
      out[k] = *kv;
    } else if (k == "timeout" || k == "cooldown") {
      if (auto s = positiveNumber(v, "notification.endpoint." + k, k == "cooldown"); !s.ok()) {
        return s.error();
      }
      out[k] = v;
    } else {
      return bad("unknown member notification.endpoint." + k);
    }
  }
  return out;
}

bool readOnlyNotificationMember(std::string_view k) {
  for (const char* n :
       {"status", "timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure"}) {
    if (k == n) return true;
  }
  return false;
}

core::Result<json> canonicalNotification(const json& n, const context::TermMap& terms) {
  if (!n.is_object()) return bad("notification must be an object");
  json out = json::object();
  for (const auto& [k, v] : n.items()) {
    if (readOnlyNotificationMember(k)) continue;  // echoed back by clients that GET then POST
    if (k == "attributes") {
      auto names = expandedNames(v, "notification.attributes", terms);
      if (!names.ok()) return names.error();
      out[k] = *names;
    } else if (k == "format") {
      if (!v.is_string() || (v != "normalized" && v != "keyValues" && v != "concise")) {
        return bad("notification.format must be normalized, keyValues or concise");
      }
      out[k] = v;
    } else if (k == "sysAttrs") {
      if (!v.is_boolean()) return bad("notification.sysAttrs must be true or false");
      out[k] = v;
    } else if (k == "endpoint") {
      auto e = canonicalEndpoint(v);
      if (!e.ok()) return e.error();
      out[k] = *e;
    } else if (k == "showChanges") {
      return bad("notification.showChanges is not supported by this broker");
    } else {
      return bad("unknown member notification." + k);
    }
  }
  return out;
}

core::Result<json> canonicalGeoQ(const json& g, const context::TermMap& terms) {
  if (!g.is_object()) return bad("geoQ must be an object");
  json out = json::object();
  for (const auto& [k, v] : g.items()) {
    if (k == "geometry" || k == "georel") {
      auto s = nonEmptyString(v, "geoQ." + k, 256);
      if (!s.ok()) return s.error();
      out[k] = *s;
    } else if (k == "coordinates") {
      if (!v.is_array() && !v.is_string()) return bad("geoQ.coordinates must be an array");
      out[k] = v;
    } else if (k == "geoproperty") {
      auto s = nonEmptyString(v, "geoQ.geoproperty", kMaxNameBytes);
      if (!s.ok()) return s.error();
      out[k] = terms.expand(*s);
    } else {
      return bad("unknown member geoQ." + k);
    }
  }
  for (const char* need : {"geometry", "coordinates", "georel"}) {
    if (!out.contains(need)) return bad(std::string("geoQ.") + need + " is mandatory");
  }
  return out;
}

core::Result<json> canonicalTriggers(const json& v) {
  if (!v.is_array() || v.empty()) return bad("notificationTrigger must be a non-empty array");
  for (const auto& t : v) {
    bool known = false;
    for (const char* n : {"entityCreated", "entityUpdated", "entityDeleted", "attributeCreated",
                          "attributeUpdated", "attributeDeleted"}) {
      known = known || (t.is_string() && t == n);
    }
    if (!known) return bad("unknown notificationTrigger " + t.dump());
  }
  return v;
}

//! One top-level member into `out`; false when `k` is not a member this function knows.
core::Result<bool> canonicalMember(const std::string& k, const json& v,
                                   const context::TermMap& terms, json& out) {
  core::Result<json> value = v;
  if (k == "id") {
    if (!v.is_string() || !context::isValidEntityId(v.get<std::string>())) {
      return bad("id must be a URI");
    }
  } else if (k == "type") {
    if (v != "Subscription") return bad("type must be \"Subscription\"");
  } else if (k == "subscriptionName" || k == "description") {
    value = asJson(nonEmptyString(v, k, k == "description" ? kMaxDescriptionBytes : kMaxNameBytes));
  } else if (k == "entities") {
    if (!v.is_array() || v.empty() || v.size() > kMaxSelectors) {
      return bad("entities must be an array of 1 to " + std::to_string(kMaxSelectors) +
                 " entity selectors");
    }
    json list = json::array();
    for (const auto& e : v) {
      auto s = canonicalSelector(e, terms);
      if (!s.ok()) return s.error();
      list.push_back(*s);
    }
    value = list;
  } else if (k == "watchedAttributes") {
    value = expandedNames(v, k, terms);
  } else if (k == "notificationTrigger") {
    value = canonicalTriggers(v);
  } else if (k == "timeInterval" || k == "throttling") {
    if (auto s = positiveNumber(v, k); !s.ok()) return s.error();
  } else if (k == "q") {
    value = asJson(nonEmptyString(v, "q", ngsild::kMaxQueryBytes));
  } else if (k == "geoQ") {
    value = canonicalGeoQ(v, terms);
  } else if (k == "isActive") {
    if (!v.is_boolean()) return bad("isActive must be true or false");
  } else if (k == "notification") {
    value = canonicalNotification(v, terms);
  } else if (k == "expiresAt") {
    if (!v.is_string() || !context::parseDateTime(v.get<std::string>()).ok()) {
      return bad("expiresAt must be a DateTime such as 2030-01-01T00:00:00Z");
    }
  } else if (k == "jsonldContext") {
    if (!v.is_string() || !context::isValidEntityId(v.get<std::string>())) {
      return bad("jsonldContext must be a URI");
    }
  } else {
    return false;
  }
  if (!value.ok()) return value.error();
  out[k] = std::move(*value);
  return true;
}

core::Result<std::shared_ptr<const std::regex>> compilePattern(const std::string& p) {
  auto re = ngsild::compileSafePattern(p);
  if (!re.ok()) return bad("entities[].idPattern: " + re.error().message);
  return std::make_shared<const std::regex>(std::move(*re));
}

core::Status buildSelectors(const json& spec, Subscription& s) {
  for (const auto& e : spec.value("entities", json::array())) {
    EntitySelector sel;
    sel.type = e.at("type").get<std::string>();
    sel.id = e.value("id", "");
    sel.id_pattern = e.value("idPattern", "");
    if (sel.id.empty() && !sel.id_pattern.empty()) {  // an id makes idPattern moot (5.2.33)
      auto re = compilePattern(sel.id_pattern);
      if (!re.ok()) return re.error();
      sel.pattern = *re;
    }
    s.entities.push_back(std::move(sel));
  }
  for (const auto& w : spec.value("watchedAttributes", json::array())) {
    s.watched.push_back(w.get<std::string>());
  }
  if (s.entities.empty() && s.watched.empty()) {
    return bad("a subscription needs entities, watchedAttributes or both");
  }
  return core::Status::success();
}

unsigned triggerBits(const json& spec) {
  if (!spec.contains("notificationTrigger")) return kDefaultTriggers;
  unsigned bits = 0;
  const std::pair<const char*, unsigned> names[] = {
      {"entityCreated", kEntityCreated},       {"entityUpdated", kEntityUpdated},
      {"entityDeleted", kEntityDeleted},       {"attributeCreated", kAttributeCreated},
      {"attributeUpdated", kAttributeUpdated}, {"attributeDeleted", kAttributeDeleted}};
  for (const auto& t : spec["notificationTrigger"]) {
    for (const auto& [n, b] : names) {
      if (t == n) bits |= b;
    }
  }
  return bits;
}

core::Status buildTiming(const json& spec, const Limits& limits, Subscription& s) {
  if (spec.contains("timeInterval")) {
    s.time_interval_s = spec["timeInterval"].get<double>();
    for (const char* other : {"watchedAttributes", "throttling", "notificationTrigger"}) {
      if (spec.contains(other)) {
        return bad(std::string("timeInterval and ") + other + " are mutually exclusive");
      }
    }
    if (*s.time_interval_s < limits.min_time_interval_s) {
      return bad("timeInterval must be at least " +
                 std::to_string(static_cast<int>(limits.min_time_interval_s)) + " s");
    }
  }
  s.throttling_s = spec.value("throttling", 0.0);
  s.active = spec.value("isActive", true);
  s.triggers = triggerBits(spec);
  return core::Status::success();
}

core::Status buildFilters(const json& spec, const context::TermMap& q_terms, Subscription& s) {
  if (spec.contains("q")) {
    auto q = ngsild::parseQuery(spec["q"].get<std::string>(),
                                [&q_terms](std::string_view t) { return q_terms.expand(t); });
    if (!q.ok()) return bad("q: " + q.error().message);
    s.q = *q;
  }
  if (spec.contains("geoQ")) {
    const json& g = spec["geoQ"];
    auto rel = ngsild::geo::parseGeoRel(g["georel"].get<std::string>());
    if (!rel.ok()) return bad("geoQ.georel: " + rel.error().message);
    const json& c = g["coordinates"];
    auto geom = ngsild::geo::parseQueryGeometry(g["geometry"].get<std::string>(),
                                                c.is_string() ? c.get<std::string>() : c.dump());
    if (!geom.ok()) return bad("geoQ: " + geom.error().message);
    s.geo = context::GeoFilter{*rel, std::move(*geom),
                               g.value("geoproperty", "https://uri.etsi.org/ngsi-ld/location")};
  }
  return core::Status::success();
}

bool headerToken(std::string_view k) {
  if (k.empty() || k.size() > 256) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

//! receiverInfo become HTTP headers: only well-formed ones that cannot hijack the framing.
core::Status checkReceiverInfo(const KeyValues& kvs) {
  for (const auto& [k, v] : kvs) {
    if (!headerToken(k)) return bad("receiverInfo key \"" + k + "\" is not a valid header name");
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* reserved : {"content-length", "content-type", "transfer-encoding", "host",
                                 "connection", "link", "upgrade", "te", "trailer"}) {
      if (lower == reserved) return bad("receiverInfo may not set " + k);
    }
    if (v.size() > kMaxHeaderValueBytes ||
        v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return bad("receiverInfo value of " + k + " is too long or has line breaks");
    }
  }
  return core::Status::success();
}

core::Status applyNotifierInfo(const json& list, Endpoint& e) {
  for (const auto& kv : list) {
    const std::string k = kv["key"], v = kv["value"];
    if (k == "MQTT-QoS") {
      if (v != "0" && v != "1" && v != "2") return bad("notifierInfo MQTT-QoS must be 0, 1 or 2");
      e.qos = v[0] - '0';
    } else if (k == "MQTT-Version") {
      if (v != "mqtt3.1.1") return bad("notifierInfo MQTT-Version: only mqtt3.1.1 is supported");
    } else {
      return bad("unknown notifierInfo key " + k);
    }
  }
  if (!list.empty() && e.scheme != Endpoint::Scheme::kMqtt) {
    return bad("notifierInfo applies to mqtt:// endpoints only");
  }
  return core::Status::success();
}

core::Status buildNotification(const json& spec, const Limits& limits, Subscription& s) {
  if (!spec.contains("notification")) return bad("notification is mandatory");
  const json& n = spec["notification"];
  for (const auto& a : n.value("attributes", json::array())) s.attrs.insert(a.get<std::string>());
  const std::string format = n.value("format", "normalized");
  s.format = format == "keyValues" ? Format::kKeyValues
             : format == "concise" ? Format::kConcise
                                   : Format::kNormalized;
  s.sys_attrs = n.value("sysAttrs", false);
  if (!n.contains("endpoint") || !n["endpoint"].contains("uri")) {
    return bad("notification.endpoint.uri is mandatory");
  }
  const json& e = n["endpoint"];
  const std::string uri = e["uri"];
  if (uri.size() > limits.max_uri_bytes) {
    return bad("notification.endpoint.uri is longer than " + std::to_string(limits.max_uri_bytes) +
               " bytes");
  }
  if (auto st = parseEndpointUri(uri, s.endpoint); !st.ok()) return st;
  s.endpoint.accept = e.value("accept", "application/json");
  for (const auto& kv : e.value("receiverInfo", json::array())) {
    s.endpoint.receiver_info.emplace_back(kv["key"], kv["value"]);
  }
  if (auto st = checkReceiverInfo(s.endpoint.receiver_info); !st.ok()) return st;
  if (auto st = applyNotifierInfo(e.value("notifierInfo", json::array()), s.endpoint); !st.ok()) {
    return st;
  }
  s.endpoint.timeout_ms = static_cast<int64_t>(e.value("timeout", 0.0));
  s.endpoint.cooldown_ms = static_cast<int64_t>(e.value("cooldown", 0.0));
  return core::Status::success();
}

std::optional<uint16_t> parsePort(std::string_view p) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

core::Status parseAuthority(std::string_view auth, bool mqtt, Endpoint& out) {
  if (size_t at = auth.rfind('@'); at != std::string_view::npos) {
    if (!mqtt) return bad("endpoint.uri: put credentials in receiverInfo, not in an http URI");
    std::string_view userinfo = auth.substr(0, at);
    size_t colon = userinfo.find(':');
    out.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) out.password = std::string(userinfo.substr(colon + 1));
    auth.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!auth.empty() && auth.front() == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return bad("endpoint.uri: unclosed [IPv6] host");
    out.host = std::string(auth.substr(1, close - 1));
    auth.remove_prefix(close + 1);
    if (!auth.empty() && auth.front() != ':') return bad("endpoint.uri: bad host");
    if (!auth.empty()) port = auth.substr(1);
  } else {
    size_t colon = auth.find(':');
    out.host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) port = auth.substr(colon + 1);
  }
  if (out.host.empty()) return bad("endpoint.uri has no host");
  out.port = mqtt ? 1883 : out.tls ? 443 : 80;
  if (!port.empty()) {
    auto p = parsePort(port);
    if (!p) return bad("endpoint.uri: port must be 1..65535");
    out.port = *p;
  }
  return core::Status::success();
}

}  // namespace

const char* Subscription::status(int64_t now_ms) const {
  if (expired(now_ms)) return "expired";
  return active ? "active" : "paused";
}

core::Status parseEndpointUri(const std::string& uri, Endpoint& out) {
  for (unsigned char c : uri) {
    if (c <= 0x20 || c == 0x7f) return bad("endpoint.uri must not contain spaces or controls");
  }
  size_t sep = uri.find("://");
  std::string scheme = sep == std::string::npos ? "" : uri.substr(0, sep);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "mqtts") {
    return bad(
        "endpoint.uri: mqtts is not supported; use mqtt:// to a local broker that bridges "
        "over TLS, or an https:// endpoint");
  }
  if (scheme != "http" && scheme != "https" && scheme != "mqtt") {
    return bad("endpoint.uri must be an http://, https:// or mqtt:// URI");
  }
  const bool mqtt = scheme == "mqtt";
  out.scheme = mqtt ? Endpoint::Scheme::kMqtt : Endpoint::Scheme::kHttp;
  out.tls = scheme == "https";
  out.uri = uri;
  std::string_view rest = std::string_view(uri).substr(sep + 3);
  size_t path_at = rest.find_first_of(mqtt ? "/" : "/?#");
  if (auto st = parseAuthority(rest.substr(0, path_at), mqtt, out); !st.ok()) return st;
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (path.find('#') != std::string_view::npos && !mqtt) path = path.substr(0, path.find('#'));
  if (mqtt) {
    out.target = std::string(path.empty() ? "" : path.substr(1));
    if (out.target.empty()) return bad("endpoint.uri: mqtt URIs need a topic (mqtt://host/topic)");
    if (out.target.find_first_of("+#") != std::string::npos) {
      return bad("endpoint.uri: the MQTT topic may not contain wildcards");
    }
  } else {
    out.target = path.empty() ? "/" : std::string(path);
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  return core::Status::success();
}

core::Result<json> canonicalize(const json& body, const context::TermMap& terms, bool fragment) {
  if (!body.is_object()) return bad("a subscription is a JSON object");
  json out = json::object();
  for (const auto& [k, v] : body.items()) {
    if (k == "@context" || k == "status" || k == "createdAt" || k == "modifiedAt") continue;
    if (unsupportedMember(k)) return bad(k + " is not supported by this broker");
    auto known = canonicalMember(k, v, terms, out);
    if (!known.ok()) return known.error();
    if (!*known) return bad("unknown member " + k);
  }
  if (!fragment) {
    if (!out.contains("type")) return bad("type \"Subscription\" is mandatory");
    if (!out.contains("notification")) return bad("notification is mandatory");
  }
  if (fragment && out.empty()) return bad("the fragment changes nothing");
  return out;
}

json mergeSpec(json base, const json& fragment) {
  for (const auto& [k, v] : fragment.items()) {
    if (k == "notification" && base.contains(k) && v.is_object()) {
      for (const auto& [nk, nv] : v.items()) base[k][nk] = nv;
    } else {
      base[k] = v;
    }
  }
  return base;
}

core::Result<Subscription> build(json spec, const context::TermMap& q_terms, const Limits& limits,
                                 int64_t now_ms, bool new_expiry) {
  Subscription s;
  s.id = spec.value("id", "");
  if (s.id.empty()) return bad("id is missing");
  for (auto step : {buildSelectors(spec, s), buildTiming(spec, limits, s),
                    buildFilters(spec, q_terms, s), buildNotification(spec, limits, s)}) {
    if (!step.ok()) return step.error();
  }
  if (s.time_interval_s && s.entities.empty()) return bad("timeInterval needs entities");
  if (spec.contains("expiresAt")) {
    s.expires_at_ms = *context::parseDateTime(spec["expiresAt"].get<std::string>());
    if (new_expiry && *s.expires_at_ms <= now_ms) return bad("expiresAt lies in the past");
  }
  s.spec = std::move(spec);
  return s;
}

json statusJson(const DeliveryStatus& s) {
  return {{"timesSent", s.times_sent},
          {"timesFailed", s.times_failed},
          {"lastNotification", s.last_notification_ms},
          {"lastSuccess", s.last_success_ms},
          {"lastFailure", s.last_failure_ms},
          {"failed", s.failed}};
}

DeliveryStatus statusFromJson(const json& j) {
  DeliveryStatus s;
  if (!j.is_object()) return s;
  s.times_sent = j.value("timesSent", uint64_t{0});
  s.times_failed = j.value("timesFailed", uint64_t{0});
  s.last_notification_ms = j.value("lastNotification", int64_t{0});
  s.last_success_ms = j.value("lastSuccess", int64_t{0});
  s.last_failure_ms = j.value("lastFailure", int64_t{0});
  s.failed = j.value("failed", false);
  return s;
}

json render(const Subscription& sub, const DeliveryStatus& st, const context::TermMap& terms,
            int64_t now_ms) {
  json out = sub.spec;
  auto compactAll = [&terms](json& list) {
    for (auto& a : list) a = terms.compact(a.get<std::string>());
  };
  if (out.contains("entities")) {
    for (auto& e : out["entities"]) e["type"] = terms.compact(e["type"].get<std::string>());
  }
  if (out.contains("watchedAttributes")) compactAll(out["watchedAttributes"]);
  if (out.contains("geoQ") && out["geoQ"].contains("geoproperty")) {
    out["geoQ"]["geoproperty"] = terms.compact(out["geoQ"]["geoproperty"].get<std::string>());
  }
  json& n = out["notification"];
  if (n.contains("attributes")) compactAll(n["attributes"]);
  if (!n.contains("format")) n["format"] = "normalized";
  if (!n["endpoint"].contains("accept")) n["endpoint"]["accept"] = "application/json";
  if (st.times_sent > 0) n["status"] = st.failed ? "failed" : "ok";
  n["timesSent"] = st.times_sent;
  n["timesFailed"] = st.times_failed;
  for (auto [name, ms] : {std::pair{"lastNotification", st.last_notification_ms},
                          std::pair{"lastSuccess", st.last_success_ms},
                          std::pair{"lastFailure", st.last_failure_ms}}) {
    if (ms > 0) n[name] = core::formatRfc3339(ms);
  }
  out["isActive"] = sub.active;
  out["status"] = sub.status(now_ms);
  return out;
}

std::string newUrn(std::string_view kind) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = 0, lo = 0;
  {
    std::lock_guard lock(mu);
    hi = rng();
    lo = rng();
  }
  hi = (hi & ~0xF000ull) | 0x4000ull;                // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | (1ull << 63);  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return "urn:ngsi-ld:" + std::string(kind) + ":" + buf;
}

}  // namespace ioc::subscription
