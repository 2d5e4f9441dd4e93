// Citizen field reports (phản ánh hiện trường), the native API: citizens submit (JSON or
// multipart with photos), track by code, rate and follow; staff triage, assign, resolve and
// moderate; leaders read the indicators. Open311 (open311_routes.cc) sits on the same service.
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>

#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/ngsild_common.h"
#include "api/stream_routes.h"
#include "auth/rate_limiter.h"
#include "context/entity.h"
#include "incidents/media.h"
#include "incidents/service.h"
#include "net/form.h"
#include "reports/service.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kSubmitBody = 32 * 1024 * 1024;  // five 5 MB photos, base64 or multipart
constexpr size_t kSmallBody = 64 * 1024;
constexpr size_t kImportBody = 16 * 1024 * 1024;
constexpr size_t kMaxLimit = 500;
const std::string kBase = "/api/v1/reports";

using Svc = reports::ReportService;

reports::Caller callerOf(const Principal& who, const Request& req) {
  reports::Caller c;
  c.unit_code = who.unit_code;
  c.role = who.roleLabel();
  c.sees_reporter = who.has(Permission::kReportsIdentity);
  c.actor = actorOf(who, req);
  return c;
}

Response off(const Request& req) {
  return problem(status::service_unavailable, "citizen reports are off", req);
}

Response answer(const core::Result<json>& r, const Request& req, status ok = status::ok) {
  if (!r.ok()) return errorResponse(r.error(), req);
  return jsonResponse(*r, ok);
}

std::optional<double> number(const std::string& s) {
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return d;
}

std::optional<size_t> count(const Request& req, const char* name) {
  auto v = req.queryParam(name);
  if (!v) return std::nullopt;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) return SIZE_MAX;
  return n;
}

bool truthy(const std::string& v) {
  return v == "true" || v == "1" || v == "on" || v == "yes";
}

// Per client address and per citizen account: submissions in a fixed window. Built on first use:
// the limit is configured after the routes are registered.
struct Limits {
  std::once_flag once;
  std::optional<auth::FailureLimiter> per_ip, per_account;
};

core::Status checkLimits(const ApiServices* s, Limits& l, const Request& req, int64_t user_id,
                         int64_t now) {
  std::call_once(l.once, [&] {
    l.per_ip.emplace(s->reports_per_minute, 60000);
    l.per_account.emplace(s->reports_per_minute, 60000);
  });
  const std::string ip = req.client_ip;
  const std::string account = user_id ? std::to_string(user_id) : std::string();
  int64_t wait = l.per_ip->retryAfterMs(ip, now);
  if (!account.empty()) wait = std::max(wait, l.per_account->retryAfterMs(account, now));
  if (wait > 0) {
    return core::makeError(core::Errc::kTooManyRequests, "too many reports from this client",
                           static_cast<int>((wait + 999) / 1000));
  }
  l.per_ip->recordFailure(ip, now);
  if (!account.empty()) l.per_account->recordFailure(account, now);
  return core::Status::success();
}

// The signed-in citizen, if the request carries a valid credential; anonymous otherwise.
std::optional<Principal> optionalCaller(const ApiServices* s, const Request& req) {
  std::string_view h = req.header(net::http::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.substr(0, kBearer.size()) != kBearer || !s->auth)
    return std::nullopt;
  auto p = s->auth->authenticate(h.substr(kBearer.size()));
  if (!p.ok()) return std::nullopt;
  return *p;
}

core::Status fromMultipart(const Request& req, reports::Submission& sub) {
  auto parts = net::parseMultipart(req.header(net::http::field::content_type), req.raw.body(), 64);
  if (!parts.ok()) return parts.error();
  json attributes = json::object();
  for (auto& p : *parts) {
    if (!p.filename.empty() || p.name == "photo" || p.name == "photos" || p.name == "media") {
      sub.photos.push_back(reports::Upload{std::move(p.data), p.filename});
    } else if (p.name == "service_code") {
      sub.service_code = p.data;
    } else if (p.name == "description") {
      sub.description = p.data;
    } else if (p.name == "address" || p.name == "address_string") {
      sub.address = p.data;
    } else if (p.name == "lat" || p.name == "long") {
      auto d = number(p.data);
      if (!d) return core::makeError(core::Errc::kInvalidArgument, p.name + " must be a number");
      (p.name == "lat" ? sub.lat : sub.lon) = *d;
    } else if (p.name == "emergency") {
      sub.emergency = truthy(p.data);
    } else if (p.name == "keep_location") {
      sub.keep_location = truthy(p.data);
    } else if (p.name == "name" || p.name == "phone" || p.name == "email") {
      (p.name == "name"    ? sub.reporter.name
       : p.name == "phone" ? sub.reporter.phone
                           : sub.reporter.email) = p.data;
    } else if (p.name.rfind("attribute[", 0) == 0 && p.name.back() == ']') {
      attributes[p.name.substr(10, p.name.size() - 11)] = p.data;
    }
  }
  sub.attributes = std::move(attributes);
  return core::Status::success();
}

core::Status fromJson(const Request& req, reports::Submission& sub) {
  auto body = readJsonBody(req);
  if (!body.ok()) return body.error();
  const json& b = *body;
  try {
    sub.service_code = b.value("service_code", "");
    sub.description = b.value("description", "");
    sub.address = b.value("address", "");
    if (auto loc = b.find("location"); loc != b.end() && loc->is_object()) {
      sub.lat = loc->at("lat").get<double>();
      sub.lon = loc->at("long").get<double>();
    }
    sub.attributes = b.value("attributes", json::object());
    sub.emergency = b.value("emergency", false);
    sub.keep_location = b.value("keep_location", false);
    if (auto r = b.find("reporter"); r != b.end() && r->is_object()) {
      sub.reporter.name = r->value("name", "");
      sub.reporter.phone = r->value("phone", "");
      sub.reporter.email = r->value("email", "");
    }
    for (const auto& p : b.value("photos", json::array())) {
      auto bytes = incidents::decodeBase64(p.get<std::string>());
      if (!bytes)
        return core::makeError(core::Errc::kInvalidArgument, "photos must be base64 images");
      sub.photos.push_back(reports::Upload{std::move(*bytes), ""});
    }
  } catch (const json::exception&) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "bad field types: location {lat, long} numbers, photos base64 strings");
  }
  return core::Status::success();
}

void submit(const ApiServices* s, Limits* limits, net::RequestPtr req, net::Responder r) {
  if (!s->reports) return r.send(off(*req));
  reports::Submission sub;
  auto citizen = optionalCaller(s, *req);
  if (citizen && citizen->kind == Principal::Kind::kUser) sub.reporter.user_id = citizen->id;
  sub.reporter.ip = req->client_ip;
  sub.channel = "web";
  if (auto st = checkLimits(s, *limits, *req, sub.reporter.user_id, s->clock->nowUnixMs());
      !st.ok()) {
    return r.send(errorResponse(st.error(), *req));
  }
  const std::string type = lowerMediaType(req->header(net::http::field::content_type));
  core::Status parsed =
      type == "multipart/form-data" ? fromMultipart(*req, sub) : fromJson(*req, sub);
  if (!parsed.ok()) return r.send(errorResponse(parsed.error(), *req));
  auto responder = std::make_shared<net::Responder>(std::move(r));
  s->reports->submit(std::move(sub), [req, responder](core::Result<Svc::Receipt> receipt) {
    if (!receipt.ok()) return responder->send(errorResponse(receipt.error(), *req));
    json body = receipt->report;
    body["tracking_code"] = receipt->code;
    Response out = jsonResponse(body, status::created);
    out.headers.emplace_back("Location", kBase + "/track/" + receipt->code);
    responder->send(std::move(out));
  });
}

Response listReports(Svc& svc, const Request& req, const reports::Caller& who) {
  Svc::ListQuery q;
  if (auto v = req.queryParam("status")) {
    q.status = reports::parseStatus(*v);
    if (!q.status) return problem(status::unprocessable_entity, "unknown status " + *v, req);
  }
  q.service_code = req.queryParam("service_code").value_or("");
  q.agency = req.queryParam("agency").value_or("");
  q.unit = req.queryParam("unit").value_or("");
  if (auto v = req.queryParam("overdue")) q.overdue = *v == "true";
  q.triage = req.queryParam("sort").value_or("") == "triage";
  auto limit = count(req, "limit");
  auto offset = count(req, "offset");
  if ((limit && (*limit == 0 || *limit > kMaxLimit)) || (offset && *offset == SIZE_MAX)) {
    return problem(status::unprocessable_entity, "limit must be 1..500, offset a whole number",
                   req);
  }
  q.limit = limit.value_or(50);
  q.offset = offset.value_or(0);
  auto page = svc.list(q, who);
  Response out = jsonResponse(json{{"total", page.total}, {"items", page.items}});
  out.headers.emplace_back("X-Total-Count", std::to_string(page.total));
  return out;
}

Response kpis(Svc& svc, const Request& req, const reports::Caller& who) {
  Svc::KpiQuery q;
  for (const char* name : {"from", "to"}) {
    if (auto v = req.queryParam(name)) {
      auto t = context::parseDateTime(*v);
      if (!t.ok())
        return problem(status::unprocessable_entity, std::string(name) + " must be RFC 3339", req);
      (std::string_view(name) == "from" ? q.from_ms : q.to_ms) = *t;
    }
  }
  q.group_by = req.queryParam("group_by").value_or("agency");
  if (q.group_by != "agency" && q.group_by != "ward" && q.group_by != "service" &&
      q.group_by != "none") {
    return problem(status::unprocessable_entity, "group_by must be agency, ward, service or none",
                   req);
  }
  q.unit = req.queryParam("unit").value_or("");
  return jsonResponse(svc.kpis(q, who));
}

json catalogJson(const reports::Catalog& c) {
  json out = json::array();
  for (const auto& s : c.services()) {
    json questions = json::array();
    for (const auto& q : s.questions) {
      json values = json::array();
      for (const auto& [k, n] : q.values) values.push_back({{"key", k}, {"name", n}});
      questions.push_back({{"code", q.code},
                           {"datatype", q.datatype},
                           {"required", q.required},
                           {"description", q.description},
                           {"description_en", q.description_en},
                           {"order", q.order},
                           {"values", values}});
    }
    out.push_back({{"code", s.code},
                   {"name", s.name},
                   {"name_en", s.name_en},
                   {"description", s.description},
                   {"description_en", s.description_en},
                   {"group", s.group},
                   {"keywords", s.keywords},
                   {"handled", s.handled},
                   {"redirect", s.redirect},
                   {"redirect_en", s.redirect_en},
                   {"hotline", s.hotline},
                   {"sla_working_days", c.workingDays(s.sla_tier)},
                   {"questions", questions}});
  }
  return {{"services", out}};
}

// Every record is submitted at once (they share group commits); the answer waits for the last.
void importAll(const ApiServices* s, json records, reports::Caller who, net::RequestPtr req,
               net::Responder r) {
  struct State {
    std::mutex mu;
    size_t pending = 0, imported = 0;
    json errors = json::array();
    std::optional<net::Responder> responder;
  };
  auto state = std::make_shared<State>();
  state->pending = records.size();
  state->responder.emplace(std::move(r));
  if (records.empty()) {
    return state->responder->send(jsonResponse(json{{"imported", 0}, {"errors", json::array()}}));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    s->reports->importRecord(records[i], who, [state, i, req](core::Result<Svc::Receipt> done) {
      std::lock_guard lock(state->mu);
      if (done.ok()) {
        ++state->imported;
      } else {
        state->errors.push_back({{"index", i}, {"detail", done.error().message}});
      }
      if (--state->pending > 0) return;
      const bool all = state->errors.empty();
      state->responder->send(
          jsonResponse(json{{"imported", state->imported}, {"errors", state->errors}},
                       all ? status::created : status::multi_status));
    });
  }
}

template <class Fn>
ApiFn staff(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& req, const Principal* who) {
    if (!s->reports) return off(req);
    return fn(*s->reports, req, callerOf(*who, req));
  };
}

template <class Fn>
ApiFn staffWithBody(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& req, const Principal* who) {
    if (!s->reports) return off(req);
    auto body = req.raw.body().empty() ? core::Result<json>(json::object()) : readJsonBody(req);
    if (!body.ok()) return errorResponse(body.error(), req);
    return fn(*s->reports, req, *body, callerOf(*who, req));
  };
}

// "escalate": the report becomes an incident on the operations console, and they are linked.
Response escalate(const ApiServices* s, Svc& svc, const Request& req, const reports::Caller& who,
                  const Principal& principal) {
  if (!s->incidents) return problem(status::service_unavailable, "incidents are off", req);
  auto report = svc.get(std::string(req.param("id")), who);
  if (!report.ok()) return errorResponse(report.error(), req);
  if (!(*report)["incident_id"].get<std::string>().empty()) {
    return problem(status::conflict,
                   "already linked to " + (*report)["incident_id"].get<std::string>(), req);
  }
  const reports::Service* service =
      svc.catalog().find((*report)["service_code"].get<std::string>());
  incidents::CitizenReport cr;
  cr.report_id = (*report)["id"];
  cr.category = service ? service->incident_category : "other";
  cr.title = (service ? service->name : std::string("Phản ánh")) + " — " + cr.report_id;
  cr.description = (*report)["description"];
  if ((*report)["location"].is_object()) {
    cr.location = incidents::Location{(*report)["location"]["long"], (*report)["location"]["lat"]};
  }
  cr.address = (*report)["address"];
  cr.unit_code = (*report)["unit_code"];
  incidents::Caller ic;
  ic.unit_code = principal.unit_code;
  ic.role = principal.roleLabel();
  ic.actor = who.actor;
  auto incident = s->incidents->openFromCitizenReport(cr, ic);
  if (!incident.ok()) return errorResponse(incident.error(), req);
  auto linked = svc.act(cr.report_id, "link-incident", {{"incident_id", (*incident)["id"]}}, who);
  if (!linked.ok()) return errorResponse(linked.error(), req);
  return jsonResponse(json{{"report", *linked}, {"incident", *incident}}, status::created);
}

void addCitizenRoutes(Api& api, const ApiServices* s, std::shared_ptr<Limits> limits) {
  api.addAsync({verb::post, kBase, Permission::kPublic, Exec::kWorker, kSubmitBody,
                "Submit a citizen report (JSON or multipart with up to 5 photos); anonymous or "
                "signed in; answers the tracking code"},
               [s, limits](net::RequestPtr req, const Principal*, net::Responder r) {
                 submit(s, limits.get(), std::move(req), std::move(r));
               });
  api.add({verb::get, "/api/v1/report-services", Permission::kPublic, Exec::kInline, 0,
           "The report categories: names, questions, SLA, where to go for matters the city "
           "does not handle, hotlines"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            return jsonResponse(catalogJson(s->reports->catalog()));
          });
  api.add({verb::get, kBase + "/track/{code}", Permission::kPublic, Exec::kInline, 0,
           "Public status page of a report by tracking code: timeline, answer, evidence"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            return answer(s->reports->track(std::string(req.param("code"))), req);
          });
  api.add({verb::get, kBase + "/track/{code}/stream", Permission::kPublic, Exec::kInline, 0,
           "Live updates of a report for the holder of its tracking code (Server-Sent Events, "
           "event \"tracking\": the status page's content after each change)"},
          [s](const Request& req, const Principal*) {
            if (!s->reports || !s->hub) return off(req);
            std::string code(req.param("code"));
            if (!s->reports->knowsCode(code)) {
              return answer(s->reports->track(code), req);  // the same 404 as the status page
            }
            return openTrackingStream(*s->hub, code);
          });
  api.add({verb::post, kBase + "/track/{code}/rate", Permission::kPublic, Exec::kWorker, kSmallBody,
           "Rate a resolved report 1–5 and say whether it was fixed (not fixed reopens it)"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            auto body = readJsonBody(req);
            if (!body.ok()) return errorResponse(body.error(), req);
            model::Actor actor{"citizen", "citizen", "", req.client_ip, req.request_id};
            return answer(s->reports->rate(std::string(req.param("code")), *body, actor), req);
          });
  api.add({verb::post, kBase + "/{id}/follow", Permission::kAuthenticated, Exec::kWorker,
           kSmallBody, "Follow a report (signed-in citizens): notified of its changes"},
          [s](const Request& req, const Principal* who) {
            if (!s->reports) return off(req);
            if (who->kind != Principal::Kind::kUser) {
              return problem(status::unprocessable_entity, "following needs a user account", req);
            }
            return answer(
                s->reports->follow(std::string(req.param("id")), who->id, actorOf(*who, req)), req);
          });
  api.add({verb::get, kBase + "/duplicates", Permission::kPublic, Exec::kInline, 0,
           "Open reports of a category near a point (?service_code&lat&long[&radius]): shown "
           "while submitting"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            auto lat = number(req.queryParam("lat").value_or(""));
            auto lon = number(req.queryParam("long").value_or(""));
            auto radius = number(req.queryParam("radius").value_or("200"));
            if (!lat || !lon || !radius || *radius <= 0 || *radius > 5000) {
              return problem(status::unprocessable_entity,
                             "lat, long and radius (≤ 5000 m) are needed", req);
            }
            return jsonResponse(
                json{{"items", s->reports->duplicates(req.queryParam("service_code").value_or(""),
                                                      *lat, *lon, *radius)}});
          });
  api.add({verb::get, kBase + "/{id}/photos/{n}", Permission::kPublic, Exec::kWorker, 0,
           "A report's photo (EXIF location removed; redacted photos are gone)"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            auto n = number(std::string(req.param("n")));
            if (!n || *n < 1) return problem(status::not_found, "no such photo", req);
            auto photo = s->reports->photo(std::string(req.param("id")), static_cast<size_t>(*n));
            if (!photo.ok()) return errorResponse(photo.error(), req);
            Response out;
            out.content_type = photo->second;
            out.body = std::move(photo->first);
            out.headers.emplace_back("Cache-Control", "public, max-age=300");
            out.headers.emplace_back("X-Content-Type-Options", "nosniff");
            return out;
          });
  api.add({verb::get, "/api/v1/public/reports.geojson", Permission::kPublic, Exec::kWorker, 0,
           "Public GeoJSON feed of non-hidden reports (?service_code&status=open|closed&limit)"},
          [s](const Request& req, const Principal*) {
            if (!s->reports) return off(req);
            Svc::PublicQuery q;
            if (auto v = req.queryParam("service_code")) q.service_codes = splitList(*v);
            if (auto v = req.queryParam("status")) q.statuses = splitList(*v);
            auto limit = count(req, "limit");
            q.limit = limit && *limit > 0 && *limit <= 10000 ? *limit : 1000;
            Response out = jsonResponse(s->reports->geojson(q));
            out.content_type = "application/geo+json";
            return out;
          });
}

void addStaffRoutes(Api& api, const ApiServices* s) {
  api.add({verb::get, kBase, Permission::kReportsRead, Exec::kInline, 0,
           "Reports in the caller's unit (?status&service_code&agency&unit&overdue&sort=triage"
           "&limit&offset); the reporter's identity is never included"},
          staff(s, listReports));
  api.add({verb::get, kBase + "/kpis", Permission::kReportsRead, Exec::kInline, 0,
           "Indicators per agency, ward or category (?from&to&group_by&unit): received, "
           "resolved, on-time %, median time to resolve, satisfaction %, reopen rate"},
          staff(s, kpis));
  api.add({verb::get, kBase + "/{id}", Permission::kReportsRead, Exec::kInline, 0,
           "One report for staff: attributes, internal timeline, photos"},
          staff(s, [](Svc& svc, const Request& req, const reports::Caller& who) {
            return answer(svc.get(std::string(req.param("id")), who), req);
          }));
  api.add({verb::get, kBase + "/{id}/reporter", Permission::kReportsIdentity, Exec::kWorker, 0,
           "The reporter's identity (IOC staff with reports:identity; every view is audited)"},
          staff(s, [](Svc& svc, const Request& req, const reports::Caller& who) {
            return answer(svc.reporter(std::string(req.param("id")), who), req);
          }));
  api.add({verb::post, kBase + "/{id}/escalate", Permission::kReportsManage, Exec::kWorker,
           kSmallBody, "Open an incident on the operations console from the report and link them"},
          [s](const Request& req, const Principal* who) {
            if (!s->reports) return off(req);
            return escalate(s, *s->reports, req, callerOf(*who, req), *who);
          });
  api.add(
      {verb::post, kBase + "/{id}/evidence", Permission::kReportsManage, Exec::kWorker, kSubmitBody,
       "Attach an evidence photo (the image as the body, or multipart)"},
      staff(s, [](Svc& svc, const Request& req, const reports::Caller& who) {
        reports::Upload up;
        if (lowerMediaType(req.header(net::http::field::content_type)) == "multipart/form-data") {
          auto parts =
              net::parseMultipart(req.header(net::http::field::content_type), req.raw.body(), 4);
          if (!parts.ok()) return errorResponse(parts.error(), req);
          for (auto& p : *parts) {
            if (!p.filename.empty() || p.name == "photo") up.bytes = std::move(p.data);
          }
        } else {
          up.bytes = req.raw.body();
        }
        if (up.bytes.empty())
          return problem(status::unprocessable_entity, "no photo in the request", req);
        return answer(svc.addEvidence(std::string(req.param("id")), std::move(up), who), req,
                      status::created);
      }));
  api.add(
      {verb::post, kBase + "/{id}/moderation/{action}", Permission::kReportsModerate, Exec::kWorker,
       kSmallBody, "Moderation: hide, unhide, edit, redact-photo (with a reason; audited)"},
      staffWithBody(s,
                    [](Svc& svc, const Request& req, const json& body, const reports::Caller& who) {
                      return answer(svc.moderate(std::string(req.param("id")),
                                                 std::string(req.param("action")), body, who),
                                    req);
                    }));
  api.add(
      {verb::post, kBase + "/{id}/{action}", Permission::kReportsManage, Exec::kWorker, kSmallBody,
       "Workflow: triage, assign, reassign, start, resolve, close, reopen, comment, merge"},
      staffWithBody(s,
                    [](Svc& svc, const Request& req, const json& body, const reports::Caller& who) {
                      const std::string action = std::string(req.param("action"));
                      if (action == "link-incident")
                        return problem(status::not_found, "use escalate", req);
                      return answer(svc.act(std::string(req.param("id")), action, body, who), req);
                    }));
  api.addAsync(
      {verb::post, kBase + "/import", Permission::kOperationsConfigure, Exec::kWorker, kImportBody,
       "Import historical reports (a JSON array of records with their own times and "
       "final state): migrations from earlier systems and replays"},
      [s](net::RequestPtr req, const Principal* who, net::Responder r) {
        if (!s->reports) return r.send(off(*req));
        // Depth first: a deeply nested body must not reach the recursive parser.
        const bool shallow = jsonDepth(req->raw.body(), 8) <= 8;
        auto body = shallow ? json::parse(req->raw.body(), nullptr, false) : json();
        if (!shallow || body.is_discarded() || !body.is_array() || body.size() > 10000) {
          return r.send(
              problem(status::unprocessable_entity, "a JSON array of up to 10,000 records", *req));
        }
        importAll(s, std::move(body), callerOf(*who, *req), req, std::move(r));
      });
}

// Citizens sign up themselves (role citizen, in the province they name); limited per address.
Response registerCitizen(const ApiServices* s, Limits* limits, const Request& req) {
  if (auto st = checkLimits(s, *limits, req, 0, s->clock->nowUnixMs()); !st.ok()) {
    return errorResponse(st.error(), req);
  }
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (auto st = onlyFields(*body, {"username", "password", "unit_code"}); !st.ok()) {
    return errorResponse(st.error(), req);
  }
  auto username = stringField(*body, "username", 64);
  auto password = stringField(*body, "password", 1024);
  auto unit = stringField(*body, "unit_code", 16);
  for (const auto* r : {&username, &password, &unit}) {
    if (!r->ok()) return errorResponse(r->error(), req);
  }
  if (!*username || !*password || !*unit) {
    return problem(status::unprocessable_entity, "username, password and unit_code are required",
                   req);
  }
  model::Actor actor{"self-registration", "citizen", **unit, req.client_ip, req.request_id};
  auto user =
      s->identity->createUser({**username, **password, model::Role::kCitizen, **unit}, actor);
  if (!user.ok()) return errorResponse(user.error(), req);
  return jsonResponse(json{{"id", user->id},
                           {"username", user->username},
                           {"role", "citizen"},
                           {"unit_code", user->unit_code}},
                      status::created);
}

// Moderators lock abusive citizen accounts (never staff: that is users:manage).
Response lockCitizen(const ApiServices* s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  auto reason = stringField(*body, "reason", 2000);
  if (!reason.ok()) return errorResponse(reason.error(), req);
  if (!*reason || (*reason)->empty())
    return problem(status::unprocessable_entity, "a reason is required", req);
  auto id = number(std::string(req.param("userId")));
  if (!id || *id < 1) return problem(status::not_found, "no such user", req);
  auto user = s->store->findUserById(static_cast<int64_t>(*id));
  if (!user.ok()) return errorResponse(user.error(), req);
  if (!*user) return problem(status::not_found, "no such user", req);
  if ((*user)->role != model::Role::kCitizen) {
    return problem(status::unprocessable_entity, "only citizen accounts are locked here", req);
  }
  auth::UserPatch patch;
  patch.disabled = true;
  auto actor = auth::actorFor(who, req.client_ip, req.request_id);
  auto updated = s->identity->updateUser((*user)->id, patch, actor);
  if (!updated.ok()) return errorResponse(updated.error(), req);
  return jsonResponse(json{{"id", updated->id},
                           {"username", updated->username},
                           {"disabled", true},
                           {"reason", **reason}});
}

}  // namespace

void addReportRoutes(Api& api) {
  const ApiServices* s = &api.services();
  addCitizenRoutes(api, s, std::make_shared<Limits>());
  addStaffRoutes(api, s);
  auto signups = std::make_shared<Limits>();
  api.add({verb::post, "/api/v1/citizens", Permission::kPublic, Exec::kWorker, kSmallBody,
           "Citizen self-registration {username, password, unit_code}: a citizen account to "
           "follow reports and be recognised; limited per client address"},
          [s, signups](const Request& req, const Principal*) {
            return registerCitizen(s, signups.get(), req);
          });
  api.add({verb::get, "/api/v1/citizens/me/reports", Permission::kAuthenticated, Exec::kWorker, 0,
           "A signed-in citizen's reports, filed or followed, most recently updated first "
           "(?limit=, at most 200); live changes come on the stream's notifications topic"},
          [s](const Request& req, const Principal* who) {
            if (!s->reports) return off(req);
            auto limit = count(req, "limit");
            if (limit && (*limit == 0 || *limit > 200)) {
              return problem(status::unprocessable_entity, "limit must be 1..200", req);
            }
            // API keys file no reports of their own: their list is empty.
            json items = who->kind == Principal::Kind::kUser
                             ? json(s->reports->mine(who->id, limit.value_or(50)))
                             : json::array();
            return jsonResponse(json{{"items", std::move(items)}});
          });
  api.add({verb::post, kBase + "/moderation/accounts/{userId}/lock", Permission::kReportsModerate,
           Exec::kWorker, kSmallBody, "Lock an abusive citizen account {reason} (audited)"},
          [s](const Request& req, const Principal* who) { return lockCitizen(s, req, *who); });
}

}  // namespace ioc::api
