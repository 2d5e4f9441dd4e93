// Monitoring: detection rules (/api/v1/rules), alerts and their lifecycle (/api/v1/alerts), CAP
// 1.2 exports and the public warning feed (/api/v1/public/alerts), KPI values fed to KPI rules.
#include <charconv>

#include "alerts/alert_service.h"
#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/ngsild_common.h"
#include "incidents/service.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kRuleBody = 256 * 1024;
constexpr size_t kRulesFileBody = 4 * 1024 * 1024;
constexpr size_t kMaxLimit = 1000;
constexpr std::string_view kCapSuffix = ".cap";

alerts::Caller callerOf(const Principal& who, const Request& req) {
  return {who.unit_code, actorOf(who, req)};
}

json alertJson(const alerts::AlertView& v) {
  json j = rules::alertToJson(v.alert);
  j["unitCode"] = v.unit_code;
  j["public"] = v.is_public;
  j["cap"] = "/api/v1/alerts/" + v.alert.id + ".cap";
  return j;
}

// What citizens see: the warning, never the readings, entity ids or who handled it.
json publicJson(const alerts::AlertView& v) {
  const rules::Alert& a = v.alert;
  json j = {{"id", a.id},
            {"headline", a.headline},
            {"description", a.description},
            {"category", toString(a.category)},
            {"severity", toString(a.severity)},
            {"urgency", toString(a.urgency)},
            {"certainty", toString(a.certainty)},
            {"status", toString(a.status)},
            {"onset", core::formatRfc3339(a.onset_ms)},
            {"cap", "/api/v1/public/alerts/" + a.id + ".cap"}};
  if (a.expires_ms) j["expires"] = core::formatRfc3339(*a.expires_ms);
  if (a.area) j["area"] = ngsild::geo::toGeoJson(*a.area);
  return j;
}

Response capResponse(std::string xml) {
  Response r;
  r.content_type = "application/cap+xml; charset=utf-8";
  r.body = std::move(xml);
  return r;
}

std::optional<size_t> number(const Request& req, const char* name) {
  auto v = req.queryParam(name);
  if (!v) return std::nullopt;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) return SIZE_MAX;
  return n;
}

Response listAlerts(const ApiServices& s, const Request& req, const Principal& who) {
  alerts::AlertFilter f;
  if (auto v = req.queryParam("status")) {
    if (*v == "open") {
      f.open_only = true;
    } else if (auto st = rules::parseAlertStatus(*v)) {
      f.status = st;
    } else {
      return problem(status::bad_request,
                     "status: one of new, acknowledged, resolved, closed, open", req);
    }
  }
  if (auto v = req.queryParam("severity")) {
    f.severity = rules::parseSeverity(*v);
    if (!f.severity)
      return problem(status::bad_request, "severity: Extreme, Severe, Moderate, Minor or Unknown",
                     req);
  }
  if (auto v = req.queryParam("rule")) f.rule_id = std::string(*v);
  if (auto v = req.queryParam("since")) {
    auto t = rules::parseRfc3339(*v);
    if (!t.ok()) return problem(status::bad_request, "since: an RFC 3339 time", req);
    f.since_ms = *t;
  }
  auto limit = number(req, "limit"), offset = number(req, "offset");
  if (limit == SIZE_MAX || offset == SIZE_MAX || (limit && *limit > kMaxLimit)) {
    return problem(status::bad_request, "limit (at most 1000) and offset are whole numbers", req);
  }
  f.limit = limit.value_or(100);
  f.offset = offset.value_or(0);
  size_t total = 0;
  json out = json::array();
  for (const auto& v : s.alerts->alerts(f, who.unit_code, &total)) out.push_back(alertJson(v));
  Response r = jsonResponse(out);
  r.headers.emplace_back("X-Total-Count", std::to_string(total));
  return r;
}

Response getAlert(const ApiServices& s, const Request& req, const Principal& who) {
  std::string id(req.param("id"));
  const bool cap = id.size() > kCapSuffix.size() && id.ends_with(kCapSuffix);
  if (cap) id.resize(id.size() - kCapSuffix.size());
  auto v = s.alerts->alert(id, who.unit_code);
  if (!v) return errorResponse(core::makeError(core::Errc::kNotFound, "no alert " + id), req);
  return cap ? capResponse(s.alerts->capXml(*v)) : jsonResponse(alertJson(*v));
}

Response transition(const ApiServices& s, const Request& req, const Principal& who) {
  const std::string action(req.param("action"));
  if (action != "acknowledge" && action != "resolve" && action != "close" && action != "reopen") {
    return errorResponse(core::makeError(core::Errc::kNotFound, "no such action: " + action), req);
  }
  std::string note;
  if (!req.raw.body().empty()) {
    auto body = readJsonBody(req);
    if (!body.ok()) return errorResponse(body.error(), req);
    if (auto only = onlyFields(*body, {"note"}); !only.ok())
      return errorResponse(only.error(), req);
    auto n = stringField(*body, "note", 4000);
    if (!n.ok()) return errorResponse(n.error(), req);
    note = n->value_or("");
  }
  auto v = s.alerts->transition(std::string(req.param("id")), action, note, callerOf(who, req));
  if (!v.ok()) return errorResponse(v.error(), req);
  return jsonResponse(alertJson(*v));
}

// CAP categories → incident categories (operators may name another).
std::string incidentCategory(rules::Category c) {
  switch (c) {
    case rules::Category::kFire:
      return "fire";
    case rules::Category::kMet:
    case rules::Category::kGeo:
      return "flooding";
    case rules::Category::kEnv:
      return "environment";
    case rules::Category::kHealth:
    case rules::Category::kRescue:
      return "medical";
    case rules::Category::kSecurity:
    case rules::Category::kSafety:
      return "public_order";
    case rules::Category::kInfra:
    case rules::Category::kTransport:
      return "infrastructure";
    default:
      return "other";
  }
}

//! Escalation (điều hành): the alert becomes an incident with its SOP, routed like any other;
//! a new alert is acknowledged on the way, naming the incident.
Response escalate(const ApiServices& s, const Request& req, const Principal& who) {
  if (!s.incidents) return problem(status::service_unavailable, "incidents are off", req);
  const std::string id(req.param("id"));
  auto v = s.alerts->alert(id, who.unit_code);
  if (!v) return errorResponse(core::makeError(core::Errc::kNotFound, "no alert " + id), req);
  incidents::AlertEscalation e;
  e.alert_id = id;
  e.category = incidentCategory(v->alert.category);
  if (!req.raw.body().empty()) {
    auto body = readJsonBody(req);
    if (!body.ok()) return errorResponse(body.error(), req);
    if (auto only = onlyFields(*body, {"category", "note"}); !only.ok()) {
      return errorResponse(only.error(), req);
    }
    auto category = stringField(*body, "category", 64);
    if (!category.ok()) return errorResponse(category.error(), req);
    if (*category) e.category = **category;
  }
  e.severity = std::string(toString(v->alert.severity));
  e.headline = v->alert.headline;
  e.description = v->alert.description;
  e.unit_code = v->unit_code;
  if (v->alert.area && !v->alert.area->points.empty()) {
    e.location = incidents::Location{v->alert.area->points[0].lon, v->alert.area->points[0].lat};
  }
  incidents::Caller c;
  c.unit_code = who.unit_code;
  c.role = who.role ? model::roleName(*who.role) : who.roleLabel();
  c.actor = actorOf(who, req);
  auto incident = s.incidents->openFromAlert(e, c);
  if (!incident.ok()) return errorResponse(incident.error(), req);
  const std::string incident_id = (*incident).value("id", "");
  if (v->alert.status == rules::AlertStatus::kNew) {
    (void)s.alerts->transition(id, "acknowledge", "escalated to incident " + incident_id,
                               callerOf(who, req));
  }
  Response r = jsonResponse(*incident, status::created);
  r.headers.emplace_back("Location", "/api/v1/incidents/" + incident_id);
  return r;
}

Response listRules(const ApiServices& s, const Request&, const Principal&) {
  return jsonResponse(json(s.alerts->rules()));
}

Response getRule(const ApiServices& s, const Request& req, const Principal&) {
  auto r = s.alerts->rule(std::string(req.param("id")));
  if (!r) return errorResponse(core::makeError(core::Errc::kNotFound, "no such rule"), req);
  return jsonResponse(*r);
}

Response putRule(const ApiServices& s, const Request& req, const Principal& who, bool create) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  std::optional<std::string> id;
  if (!create) id = std::string(req.param("id"));
  if (create && body->contains("id") && (*body)["id"].is_string() &&
      s.alerts->rule((*body)["id"].get<std::string>())) {
    return errorResponse(
        core::makeError(core::Errc::kAlreadyExists, "rule exists; PUT replaces it"), req);
  }
  auto r = s.alerts->putRule(std::move(*body), callerOf(who, req), id);
  if (!r.ok()) return errorResponse(r.error(), req);
  Response out = jsonResponse(*r, create ? status::created : status::ok);
  if (create)
    out.headers.emplace_back("Location", "/api/v1/rules/" + (*r)["id"].get<std::string>());
  return out;
}

Response deleteRule(const ApiServices& s, const Request& req, const Principal& who) {
  auto st = s.alerts->deleteRule(std::string(req.param("id")), callerOf(who, req));
  return st.ok() ? noContent() : errorResponse(st.error(), req);
}

Response importRules(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  auto n = s.alerts->importRules(*body, callerOf(who, req));
  if (!n.ok()) return errorResponse(n.error(), req);
  return jsonResponse({{"updated", *n}});
}

Response publicFeed(const ApiServices& s, const Request&, const Principal*) {
  json out = json::array();
  for (const auto& v : s.alerts->publicAlerts()) out.push_back(publicJson(v));
  Response r = jsonResponse(out);
  r.headers.emplace_back("Cache-Control", "public, max-age=30");
  return r;
}

Response publicAlert(const ApiServices& s, const Request& req, const Principal*) {
  std::string id(req.param("id"));
  const bool cap = id.size() > kCapSuffix.size() && id.ends_with(kCapSuffix);
  if (cap) id.resize(id.size() - kCapSuffix.size());
  auto v = s.alerts->alert(id, "");
  if (!v || !v->is_public) {
    return errorResponse(core::makeError(core::Errc::kNotFound, "no public warning " + id), req);
  }
  return cap ? capResponse(s.alerts->capXml(*v)) : jsonResponse(publicJson(*v));
}

Response postKpi(const ApiServices& s, const Request& req, const Principal&) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (auto only = onlyFields(*body, {"value", "observedAt"}); !only.ok()) {
    return errorResponse(only.error(), req);
  }
  auto value = body->find("value");
  if (value == body->end() || !value->is_number()) {
    return problem(status::unprocessable_entity, "value: a number is required", req);
  }
  int64_t t = s.clock->nowUnixMs();
  if (auto at = body->find("observedAt"); at != body->end()) {
    auto parsed = at->is_string()
                      ? rules::parseRfc3339(at->get<std::string>())
                      : core::Result<int64_t>(core::makeError(core::Errc::kInvalidArgument, ""));
    if (!parsed.ok())
      return problem(status::unprocessable_entity, "observedAt: an RFC 3339 time", req);
    t = *parsed;
  }
  const std::string name(req.param("name"));
  if (name.empty() || name.size() > 200)
    return problem(status::bad_request, "KPI name: 1–200 characters", req);
  s.alerts->onKpi(name, value->get<double>(), t);
  Response r;
  r.status = status::accepted;
  return r;
}

template <class Fn>
ApiFn guarded(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& r, const Principal* w) {
    if (!s->alerts) return problem(status::service_unavailable, "monitoring is off", r);
    return fn(*s, r, *w);
  };
}

template <class Fn>
ApiFn guardedPublic(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& r, const Principal* w) {
    if (!s->alerts) return problem(status::service_unavailable, "monitoring is off", r);
    return fn(*s, r, w);
  };
}

}  // namespace

void addAlertRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const auto read = Permission::kAlertsRead;
  const auto manage = Permission::kAlertsManage;
  const auto rulesManage = Permission::kRulesManage;
  api.add({verb::get, "/api/v1/alerts", read, Exec::kInline, 0,
           "Alerts visible to the caller's unit, newest first (status=open|new|…, severity, rule, "
           "since, limit, offset; X-Total-Count)"},
          guarded(s, listAlerts));
  api.add({verb::get, "/api/v1/alerts/{id}", read, Exec::kInline, 0,
           "One alert with its history and evidence; /api/v1/alerts/{id}.cap as CAP 1.2 XML"},
          guarded(s, getAlert));
  api.add({verb::post, "/api/v1/alerts/{id}/{action}", manage, Exec::kWorker, 16 * 1024,
           "Alert lifecycle: acknowledge, resolve, close or reopen ({\"note\"} optional; audited)"},
          guarded(s, transition));
  api.add({verb::post, "/api/v1/alerts/{id}/escalate", Permission::kIncidentsManage, Exec::kWorker,
           16 * 1024,
           "Escalate an alert to an incident (its SOP launches, routing applies; 201 + Location)"},
          guarded(s, escalate));
  api.add({verb::get, "/api/v1/rules", read, Exec::kInline, 0, "Detection rules"},
          guarded(s, listRules));
  api.add({verb::get, "/api/v1/rules/{id}", read, Exec::kInline, 0, "One detection rule"},
          guarded(s, getRule));
  api.add({verb::post, "/api/v1/rules", rulesManage, Exec::kWorker, kRuleBody,
           "Create a detection rule (201; 409 if the id exists)"},
          guarded(s, [](const ApiServices& a, const Request& r, const Principal& w) {
            return putRule(a, r, w, true);
          }));
  api.add({verb::put, "/api/v1/rules/{id}", rulesManage, Exec::kWorker, kRuleBody,
           "Create or replace a rule (the version goes up; its open alerts of the old version "
           "resolve)"},
          guarded(s, [](const ApiServices& a, const Request& r, const Principal& w) {
            return putRule(a, r, w, false);
          }));
  api.add({verb::delete_, "/api/v1/rules/{id}", rulesManage, Exec::kWorker, 0,
           "Delete a rule (its open alerts resolve)"},
          guarded(s, deleteRule));
  api.add({verb::post, "/api/v1/rules/import", rulesManage, Exec::kWorker, kRulesFileBody,
           "Load a versioned rules file {version, rules}: newer rule versions replace older"},
          guarded(s, importRules));
  api.add({verb::get, "/api/v1/public/alerts", Permission::kPublic, Exec::kInline, 0,
           "Public warnings in force (rules marked public), for citizens and other systems"},
          guardedPublic(s, publicFeed));
  api.add({verb::get, "/api/v1/public/alerts/{id}", Permission::kPublic, Exec::kInline, 0,
           "One public warning; …/{id}.cap as CAP 1.2 XML"},
          guardedPublic(s, publicAlert));
  api.add({verb::post, "/api/v1/kpis/{name}", Permission::kIngest, Exec::kInline, 4096,
           "A KPI value ({value, observedAt}) for KPI rules (202)"},
          guarded(s, postKpi));
}

}  // namespace ioc::api
