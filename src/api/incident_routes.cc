// Incidents (sự vụ) and dispatch: intake (manual, hotline calls, camera AI events), the
// incident lifecycle, SOP steps, and the operations configuration behind them (routing tables,
// SLA policies, SOP templates). The logic lives in src/incidents/.
#include <charconv>

#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/ngsild_common.h"
#include "context/entity.h"
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

constexpr size_t kSmallBody = 64 * 1024;
constexpr size_t kConfigBody = 1024 * 1024;
constexpr size_t kCameraBody = 4 * 1024 * 1024;  // a 2 MB snapshot in base64, and the rest
constexpr size_t kMaxLimit = 500;
const std::string kBase = "/api/v1/incidents";

incidents::Caller callerOf(const Principal& who, const Request& req) {
  incidents::Caller c;
  c.unit_code = who.unit_code;
  c.role = who.role ? model::roleName(*who.role) : who.roleLabel();
  c.can_override = who.role == model::Role::kAdmin || who.role == model::Role::kSupervisor;
  // Caller numbers are for those who call back or dispatch: not for leaders' dashboards,
  // agency staff or machine keys (integrations that need them already have them).
  c.sees_caller_numbers = who.role == model::Role::kAdmin || who.role == model::Role::kSupervisor ||
                          who.role == model::Role::kOperator;
  c.actor = actorOf(who, req);
  return c;
}

//! Service errors as problems; "sop-steps-open: …" keeps its own problem type.
Response incidentError(const core::Error& e, const Request& req) {
  constexpr std::string_view kStepsOpen = "sop-steps-open: ";
  if (e.code == core::Errc::kConflict && e.message.rfind(kStepsOpen, 0) == 0) {
    return net::problemResponse(status::conflict, "sop-steps-open", "Mandatory SOP steps are open",
                                std::string_view(e.message).substr(kStepsOpen.size()), req.path,
                                req.request_id);
  }
  return errorResponse(e, req);
}

Response answer(const core::Result<json>& r, const Request& req, status ok = status::ok) {
  if (!r.ok()) return incidentError(r.error(), req);
  return jsonResponse(*r, ok);
}

Response created(const core::Result<json>& r, const Request& req) {
  if (!r.ok()) return incidentError(r.error(), req);
  Response out = jsonResponse(*r, status::created);
  out.headers.emplace_back("Location", kBase + "/" + r->value("id", ""));
  return out;
}

std::optional<size_t> number(const Request& req, const char* name) {
  auto v = req.queryParam(name);
  if (!v) return std::nullopt;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) return SIZE_MAX;
  return n;
}

//! A handler with the parsed JSON body.
template <class Fn>
ApiFn withBody(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& req, const Principal* who) {
    if (!s->incidents) return problem(status::service_unavailable, "incidents are off", req);
    auto body = req.raw.body().empty() ? core::Result<json>(json::object()) : readJsonBody(req);
    if (!body.ok()) return errorResponse(body.error(), req);
    return fn(*s->incidents, req, *body, callerOf(*who, req));
  };
}

template <class Fn>
ApiFn noBody(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& req, const Principal* who) {
    if (!s->incidents) return problem(status::service_unavailable, "incidents are off", req);
    return fn(*s->incidents, req, callerOf(*who, req));
  };
}

using Svc = incidents::IncidentService;
using Caller = incidents::Caller;

Response listIncidents(Svc& svc, const Request& req, const Caller& who) {
  Svc::ListQuery q;
  if (auto v = req.queryParam("status")) {
    q.status = incidents::parseStatus(*v);
    if (!q.status) return problem(status::unprocessable_entity, "unknown status " + *v, req);
  }
  if (auto v = req.queryParam("category")) {
    if (!incidents::isKnownCategory(*v)) {
      return problem(status::unprocessable_entity, "unknown category " + *v, req);
    }
    q.category = *v;
  }
  if (auto v = req.queryParam("priority")) {
    q.priority = incidents::parsePriority(*v);
    if (!q.priority) return problem(status::unprocessable_entity, "unknown priority " + *v, req);
  }
  if (auto v = req.queryParam("overdue")) {
    if (*v != "true" && *v != "false") {
      return problem(status::unprocessable_entity, "overdue must be true or false", req);
    }
    q.overdue = *v == "true";
  }
  q.agency = req.queryParam("agency").value_or("");
  q.unit = req.queryParam("unit").value_or("");
  if (auto v = req.queryParam("since")) {
    auto t = context::parseDateTime(*v);
    if (!t.ok()) return problem(status::unprocessable_entity, "since must be RFC 3339", req);
    q.since_ms = *t;
  }
  if (auto v = req.queryParam("sort")) {
    if (*v != "newest" && *v != "triage") {
      return problem(status::unprocessable_entity, "sort must be newest or triage", req);
    }
    q.triage = *v == "triage";
  }
  auto limit = number(req, "limit");
  auto offset = number(req, "offset");
  if ((limit && (*limit == 0 || *limit > kMaxLimit)) || (offset && *offset == SIZE_MAX)) {
    return problem(status::unprocessable_entity,
                   "limit must be 1.." + std::to_string(kMaxLimit) + ", offset a whole number",
                   req);
  }
  q.limit = limit.value_or(50);
  q.offset = offset.value_or(0);
  auto page = svc.list(q, who);
  return jsonResponse({{"items", std::move(page.items)},
                       {"total", page.total},
                       {"limit", q.limit},
                       {"offset", q.offset}});
}

Response cameraEvent(Svc& svc, const Request& req, const json& body, const Caller& who) {
  auto r = svc.openFromCamera(body, who);
  if (!r.ok()) return incidentError(r.error(), req);
  json out = {{"deduplicated", r->deduplicated},
              {"incident_id", r->incident.value("id", "")},
              {"incident", r->incident}};
  Response resp = jsonResponse(out, r->deduplicated ? status::ok : status::created);
  resp.headers.emplace_back("Location", kBase + "/" + r->incident.value("id", ""));
  return resp;
}

Response attachmentFile(Svc& svc, const Request& req, const Caller& who) {
  size_t n = 0;
  const std::string_view raw = req.param("n");
  auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), n);
  if (ec != std::errc() || p != raw.data() + raw.size()) {
    return problem(status::not_found, "no such attachment", req);
  }
  auto file = svc.attachment(std::string(req.param("id")), n, who);
  if (!file.ok()) return incidentError(file.error(), req);
  Response r;
  r.content_type = file->second;
  r.body = std::move(file->first);
  r.headers.emplace_back("Cache-Control", "private, max-age=300");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

Response completeStep(Svc& svc, const Request& req, const json& body, const Caller& who) {
  size_t n = 0;
  const std::string_view raw = req.param("n");
  auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), n);
  if (ec != std::errc() || p != raw.data() + raw.size()) {
    return problem(status::not_found, "steps are numbered 1, 2, 3 …", req);
  }
  return answer(svc.completeStep(std::string(req.param("id")), n, body, who), req);
}

}  // namespace

void addIncidentRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const Permission read = Permission::kIncidentsRead;
  const Permission manage = Permission::kIncidentsManage;
  const Permission configure = Permission::kOperationsConfigure;
  const std::string one = kBase + "/{id}";

  api.add({verb::post, kBase, manage, Exec::kWorker, kSmallBody,
           "Open an incident by hand (201; routed, SOP launched, SLA started)"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            return created(svc.openManual(b, who), req);
          }));
  api.add({verb::post, "/api/v1/hotline-calls", manage, Exec::kWorker, kSmallBody,
           "Record a hotline call (113, 114, 115, 1022) as an incident (201)"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            return created(svc.openFromHotline(b, who), req);
          }));
  api.add({verb::post, "/api/v1/camera-events", Permission::kIngest, Exec::kWorker, kCameraBody,
           "Camera AI event with an optional JPEG/PNG snapshot: 201 new incident, 200 when it "
           "joins the open incident of the same camera and type"},
          withBody(s, cameraEvent));
  api.add({verb::get, kBase, read, Exec::kInline, 0,
           "Incidents in the caller's unit (status, category, priority, overdue, agency, unit, "
           "since, sort=newest|triage, limit, offset)"},
          noBody(s, listIncidents));
  api.add({verb::get, one, read, Exec::kInline, 0, "One incident with its timeline and SOP"},
          noBody(s, [](Svc& svc, const Request& req, const Caller& who) {
            return answer(svc.get(std::string(req.param("id")), who), req);
          }));
  api.add({verb::get, one + "/attachments/{n}", read, Exec::kWorker, 0,
           "An attachment of an incident (camera snapshot)"},
          noBody(s, attachmentFile));

  using Action = core::Result<json> (Svc::*)(const std::string&, const json&, const Caller&);
  const std::pair<const char*, std::pair<Action, const char*>> actions[] = {
      {"assign", {&Svc::assign, "Assign a new incident (assignee, agency?)"}},
      {"reassign", {&Svc::reassign, "Reassign (assignee and/or agency, reason required)"}},
      {"refer", {&Svc::refer, "Refer to another agency (agency, reason required)"}},
      {"escalate", {&Svc::escalate, "Escalate one unit up (reason required)"}},
      {"comments", {&Svc::comment, "Add a comment to the timeline"}},
      {"resolve",
       {&Svc::resolve, "Resolve (resolution); 409 sop-steps-open while mandatory steps are open"}},
      {"close", {&Svc::close, "Close a resolved incident"}},
      {"cancel", {&Svc::cancel, "Cancel an open incident (reason required)"}},
  };
  for (const auto& [name, spec] : actions) {
    const Action action = spec.first;
    api.add({verb::post, one + "/" + name, manage, Exec::kWorker, kSmallBody, spec.second},
            withBody(s, [action](Svc& svc, const Request& req, const json& b, const Caller& who) {
              return answer((svc.*action)(std::string(req.param("id")), b, who), req);
            }));
  }
  api.add({verb::post, one + "/steps/{n}/complete", manage, Exec::kWorker, kSmallBody,
           "Complete SOP step n (by its role; admin/supervisor may override) with form or "
           "checklist data"},
          withBody(s, completeStep));

  // Configuration.
  api.add({verb::get, "/api/v1/routing-tables/{unit}", read, Exec::kInline, 0,
           "The routing table of a unit (category × ward → agency)"},
          noBody(s, [](Svc& svc, const Request& req, const Caller& who) {
            return answer(svc.routingTable(std::string(req.param("unit")), who), req);
          }));
  api.add({verb::put, "/api/v1/routing-tables/{unit}", configure, Exec::kWorker, kConfigBody,
           "Replace the routing table of a unit"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            return answer(svc.putRoutingTable(std::string(req.param("unit")), b, who), req);
          }));
  api.add({verb::get, "/api/v1/sla-policies", read, Exec::kInline, 0,
           "SLA policies per category × priority (working-day calendar)"},
          noBody(s, [](Svc& svc, const Request&, const Caller&) {
            return jsonResponse(svc.slaPolicies());
          }));
  api.add({verb::put, "/api/v1/sla-policies", configure, Exec::kWorker, kConfigBody,
           "Replace the SLA policies; running incidents keep theirs"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            return answer(svc.putSlaPolicies(b, who), req);
          }));
  api.add({verb::get, "/api/v1/sop-templates", read, Exec::kInline, 0,
           "SOP templates (latest versions)"},
          noBody(s, [](Svc& svc, const Request&, const Caller&) {
            return jsonResponse({{"items", svc.listTemplates()}});
          }));
  api.add({verb::post, "/api/v1/sop-templates", configure, Exec::kWorker, kConfigBody,
           "Create an SOP template (version 1)"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            auto r = svc.createTemplate(b, who);
            if (!r.ok()) return incidentError(r.error(), req);
            Response out = jsonResponse(*r, status::created);
            out.headers.emplace_back("Location", "/api/v1/sop-templates/" + r->value("id", ""));
            return out;
          }));
  api.add({verb::get, "/api/v1/sop-templates/{id}", read, Exec::kInline, 0,
           "An SOP template (latest, or ?version=N)"},
          noBody(s, [](Svc& svc, const Request& req, const Caller&) {
            auto v = number(req, "version");
            if (v && (*v == 0 || *v > 100000)) {
              return problem(status::unprocessable_entity, "version must be 1, 2, 3 …", req);
            }
            return answer(
                svc.getTemplate(std::string(req.param("id")), static_cast<int>(v.value_or(0))),
                req);
          }));
  api.add({verb::put, "/api/v1/sop-templates/{id}", configure, Exec::kWorker, kConfigBody,
           "New version of an SOP template (running incidents keep theirs)"},
          withBody(s, [](Svc& svc, const Request& req, const json& b, const Caller& who) {
            return answer(svc.updateTemplate(std::string(req.param("id")), b, who), req);
          }));
}

}  // namespace ioc::api
