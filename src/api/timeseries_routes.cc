// Time-series retention: how long raw points are kept, by default and per attribute.
// Attribute names are NGSI-LD terms of the core context or full IRIs.
#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr int64_t kMaxDays = 36500;

Response showRetention(const ApiServices& s) {
  const auto policy = s.retention->policy();
  const auto& terms = *context::TermMap::core();
  json attributes = json::object();
  for (const auto& [attr, days] : policy.raw_days_by_attribute) {
    attributes[terms.compact(attr)] = days;
  }
  return jsonResponse({{"rawDays", policy.raw_days},
                       {"minuteRollupDays", policy.minute_rollup_days},
                       {"attributes", attributes}});
}

Response setRetention(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  if (!body->is_object() || body->size() != 1 || !body->contains("rawDays") ||
      !(*body)["rawDays"].is_number_integer()) {
    return problem(status::bad_request, "body must be {\"rawDays\": N} (0 = keep for ever)", req);
  }
  const auto days = (*body)["rawDays"].get<int64_t>();
  if (days < 0 || days > kMaxDays) {
    return problem(status::bad_request, "rawDays must be between 0 and 36500", req);
  }
  const std::string attr = context::TermMap::core()->expand(req.param("attr"));
  auto st =
      s.retention->setAttributeDays(attr, days, auth::actorFor(who, req.client_ip, req.request_id));
  if (!st.ok()) return errorResponse(st.error(), req);
  return showRetention(s);
}

Response clearRetention(const ApiServices& s, const Request& req, const Principal& who) {
  const std::string attr = context::TermMap::core()->expand(req.param("attr"));
  auto st = s.retention->clearAttribute(attr, auth::actorFor(who, req.client_ip, req.request_id));
  if (!st.ok()) return errorResponse(st.error(), req);
  Response r;
  r.status = status::no_content;
  return r;
}

}  // namespace

void addTimeseriesRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::get, "/api/v1/timeseries/retention", Permission::kContextRead, Exec::kInline, 0,
           "Time-series retention: defaults and per-attribute overrides"},
          [s](const Request&, const Principal*) { return showRetention(*s); });
  api.add({verb::put, "/api/v1/timeseries/retention/{attr}", Permission::kSettingsManage,
           Exec::kWorker, 1024, "Keep raw points of one attribute N days (0 = for ever)"},
          [s](const Request& r, const Principal* w) { return setRetention(*s, r, *w); });
  api.add({verb::delete_, "/api/v1/timeseries/retention/{attr}", Permission::kSettingsManage,
           Exec::kWorker, 0, "Back to the default retention for one attribute"},
          [s](const Request& r, const Principal* w) { return clearRetention(*s, r, *w); });
}

}  // namespace ioc::api
