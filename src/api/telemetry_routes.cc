// Plain-device telemetry: POST /api/v1/telemetry with NDJSON lines
// {"entity": "<id>", "attr": "<name>", "value": <number|string|bool|object>, "observedAt": "…"}.
// Good lines are stored in one durable write; bad lines are reported by line number.
#include <future>

#include "api/api.h"
#include "api/errors.h"
#include "context/broker.h"
#include "core/text.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kTelemetryBody = 16 * 1024 * 1024;
constexpr size_t kMaxLines = 100000;

std::optional<std::string> readLine(const json& line, const context::TermMap& terms,
                                    std::string& entity, std::string& attr, json& instance) {
  if (!line.is_object()) return "expected a JSON object";
  for (const auto& [k, _] : line.items()) {
    if (k != "entity" && k != "attr" && k != "value" && k != "observedAt" && k != "unitCode") {
      return "unknown field " + k;
    }
  }
  if (!line.contains("entity") || !line["entity"].is_string()) return "entity (string) is required";
  if (!line.contains("attr") || !line["attr"].is_string()) return "attr (string) is required";
  if (!line.contains("value") || line["value"].is_null()) return "value is required";
  entity = line["entity"].get<std::string>();
  if (!context::isValidEntityId(entity)) return "entity must be a URI";
  const std::string& name = line["attr"].get_ref<const std::string&>();
  if (name.empty() || name.size() > 256 || name == "id" || name == "type") return "bad attr name";
  if (terms.expand(name) == std::string(context::kNgsiLdNs) + "location") {
    return "location is a GeoProperty: update it through NGSI-LD";
  }
  attr = terms.expand(name);
  instance = {{"type", "Property"}, {"value", line["value"]}};
  if (line.contains("observedAt")) {
    if (!line["observedAt"].is_string() ||
        !context::parseDateTime(line["observedAt"].get<std::string>()).ok()) {
      return "observedAt must be an ISO 8601 date-time";
    }
    instance["observedAt"] = line["observedAt"];
  }
  if (line.contains("unitCode")) {
    if (!line["unitCode"].is_string()) return "unitCode must be a string";
    instance["unitCode"] = line["unitCode"];
  }
  return std::nullopt;
}

Response telemetry(const ApiServices& s, const Request& req, const Principal& who) {
  std::string type(req.header(net::http::field::content_type));
  type = type.substr(0, type.find(';'));
  if (type != "application/x-ndjson" && type != "application/json" && type != "text/plain") {
    return problem(status::unsupported_media_type, "send NDJSON (application/x-ndjson)", req);
  }
  const std::string& body = req.raw.body();
  if (!core::isValidUtf8(body)) return problem(status::bad_request, "body is not valid UTF-8", req);
  const auto& terms = *context::TermMap::core();
  const context::Visibility who_sees{who.unit_code};
  const int64_t now = s.clock->nowUnixMs();
  std::vector<context::Observation> observations;
  json rejected = json::array();
  size_t line_no = 0, accepted = 0, start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    std::string_view text(body.data() + start, end - start);
    start = end + 1;
    ++line_no;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    if (text.empty()) continue;
    if (line_no > kMaxLines) return problem(status::payload_too_large, "at most 100000 lines", req);
    json line = json::parse(text, nullptr, false);
    std::string entity, attr;
    json instance;
    std::optional<std::string> error = line.is_discarded()
                                           ? std::optional<std::string>("malformed JSON")
                                           : readLine(line, terms, entity, attr, instance);
    if (!error && !s.broker->get(entity, who_sees)) {
      error = "no entity " + entity + " (create it through NGSI-LD or provision a device)";
    }
    if (error) {
      rejected.push_back({{"line", line_no}, {"error", *error}});
      continue;
    }
    instance["createdAt"] = instance["modifiedAt"] = now;  // Unix ms, as the broker keeps them
    // One observation per line, in order: every reading becomes a time-series point and the
    // last one is the attribute's current value.
    context::Observation obs;
    obs.entity_id = entity;
    obs.attrs[attr] = std::move(instance);
    observations.push_back(std::move(obs));
    ++accepted;
  }
  if (accepted > 0) {
    std::promise<core::Status> done;
    auto result = done.get_future();
    s.broker->ingest(std::move(observations), who_sees,
                     [&done](core::Status st) { done.set_value(std::move(st)); });
    auto stored = result.get();
    if (!stored.ok()) return errorResponse(stored.error(), req);
  }
  json out = {{"accepted", accepted}, {"rejected", rejected}};
  return jsonResponse(out, rejected.empty() ? status::ok : status::multi_status);
}

}  // namespace

void addTelemetryRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::post, "/api/v1/telemetry", Permission::kIngest, Exec::kWorker, kTelemetryBody,
           "Telemetry as NDJSON lines {entity, attr, value, observedAt}"},
          [s](const Request& r, const Principal* w) { return telemetry(*s, r, *w); });
}

}  // namespace ioc::api
