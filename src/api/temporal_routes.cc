// NGSI-LD temporal API (ETSI GS CIM 009 §6.18–6.19): the history of numeric attributes, raw or
// aggregated per period, answered from the time-series points the broker records on every
// update.
#include <charconv>
#include <cmath>
#include <map>

#include "api/api.h"
#include "api/errors.h"
#include "api/ngsild_common.h"
#include "context/broker.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kMaxPoints = 100000;

Response temporalError(std::string type, status st, const std::string& detail, const Request& req) {
  Response r = jsonResponse({{"type", "https://uri.etsi.org/ngsi-ld/errors/" + type},
                             {"title", type},
                             {"status", static_cast<int>(st)},
                             {"detail", detail},
                             {"instance", req.path},
                             {"request_id", req.request_id}},
                            st);
  return r;
}

//! ISO 8601 duration (PnW, PnDTnHnMnS; no months or years, whose length varies) → ms; 0 = none.
std::optional<int64_t> parseDuration(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return std::nullopt;
  int64_t total = 0;
  bool in_time = false, any = false;
  size_t i = 1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      in_time = true;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start || i >= s.size()) return std::nullopt;
    int64_t n = 0;
    std::from_chars(s.data() + start, s.data() + i, n);
    if (n > 100000) return std::nullopt;
    const char unit = s[i++];
    int64_t ms = 0;
    if (!in_time && unit == 'W')
      ms = 7 * 86400000LL;
    else if (!in_time && unit == 'D')
      ms = 86400000LL;
    else if (in_time && unit == 'H')
      ms = 3600000LL;
    else if (in_time && unit == 'M')
      ms = 60000LL;
    else if (in_time && unit == 'S')
      ms = 1000LL;
    else
      return std::nullopt;
    total += n * ms;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

struct TemporalQuery {
  int64_t from = INT64_MIN;
  int64_t to = INT64_MAX;
  size_t last_n = 0;
  std::vector<std::string> aggr;  //!< totalCount, sum, avg, min, max
  int64_t period_ms = 0;
  bool temporal_values = false;
};

std::optional<std::string> readTemporal(const Request& req, TemporalQuery& t) {
  auto timerel = req.queryParam("timerel");
  auto time_at = req.queryParam("timeAt");
  auto end_at = req.queryParam("endTimeAt");
  if (timerel) {
    if (!time_at) return "timerel needs timeAt";
    auto at = context::parseDateTime(*time_at);
    if (!at.ok()) return "timeAt: " + at.error().message;
    if (*timerel == "before") {
      t.to = *at;
    } else if (*timerel == "after") {
      t.from = *at;
    } else if (*timerel == "between") {
      if (!end_at) return "timerel=between needs endTimeAt";
      auto end = context::parseDateTime(*end_at);
      if (!end.ok()) return "endTimeAt: " + end.error().message;
      if (*end <= *at) return "endTimeAt must be after timeAt";
      t.from = *at;
      t.to = *end;
    } else {
      return "timerel must be before, after or between";
    }
  } else if (time_at || end_at) {
    return "timeAt and endTimeAt need timerel";
  }
  if (auto n = req.queryParam("lastN")) {
    size_t v = 0;
    auto [p, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (ec != std::errc() || p != n->data() + n->size() || v == 0 || v > kMaxPoints) {
      return "lastN must be a whole number from 1 to 100000";
    }
    t.last_n = v;
  }
  auto options =
      req.queryParam("options").value_or("") + "," + req.queryParam("format").value_or("");
  t.temporal_values = options.find("temporalValues") != std::string::npos;
  if (auto methods = req.queryParam("aggrMethods")) {
    std::string_view m = *methods;
    while (!m.empty()) {
      size_t c = m.find(',');
      std::string one(m.substr(0, c));
      m = c == std::string_view::npos ? std::string_view() : m.substr(c + 1);
      if (one != "totalCount" && one != "sum" && one != "avg" && one != "min" && one != "max") {
        return "aggrMethods supports totalCount, sum, avg, min and max (got " + one + ")";
      }
      t.aggr.push_back(one);
    }
    if (t.aggr.empty()) return "aggrMethods is empty";
    if (auto d = req.queryParam("aggrPeriodDuration")) {
      auto ms = parseDuration(*d);
      if (!ms) return "aggrPeriodDuration must be an ISO 8601 duration such as PT1H or P1D";
      t.period_ms = *ms;
    }
  } else if (options.find("aggregatedValues") != std::string::npos) {
    return "options=aggregatedValues needs aggrMethods";
  }
  return std::nullopt;
}

//! [[value, start, end], …] per method. Buckets are aligned to the epoch (UTC); without a period
//! there is one bucket spanning the query's interval (or the data's, where the query is open).
json renderAggregates(const std::vector<storage::AggregateBucket>& buckets, const TemporalQuery& t,
                      int64_t last) {
  json out = {{"type", "Property"}};
  for (const auto& m : t.aggr) out[m] = json::array();
  for (const auto& b : buckets) {
    const int64_t start =
        t.period_ms > 0 ? b.start_ms : (t.from != INT64_MIN ? t.from : b.start_ms);
    const int64_t end =
        t.period_ms > 0 ? b.start_ms + t.period_ms : (t.to != INT64_MAX ? t.to : last + 1);
    const std::string s = core::formatRfc3339(start), e = core::formatRfc3339(end);
    for (const auto& m : t.aggr) {
      json v;
      if (m == "totalCount") v = b.count;
      if (m == "sum") v = b.sum;
      if (m == "avg") v = b.sum / static_cast<double>(b.count);
      if (m == "min") v = b.min;
      if (m == "max") v = b.max;
      out[m].push_back(json::array({v, s, e}));
    }
  }
  return out;
}

//! Aggregates over points already in hand (the lastN form).
json aggregate(const std::vector<model::Point>& points, const TemporalQuery& t) {
  std::map<int64_t, storage::AggregateBucket> buckets;
  for (const auto& p : points) {
    int64_t key = 0;
    if (t.period_ms > 0) {
      key = p.at_ms / t.period_ms - (p.at_ms % t.period_ms < 0 ? 1 : 0);
      key *= t.period_ms;
    }
    auto [it, fresh] = buckets.try_emplace(key);
    storage::AggregateBucket& b = it->second;
    if (fresh) b = {t.period_ms > 0 ? key : p.at_ms, 0, 0, p.value, p.value};
    ++b.count;
    b.sum += p.value;
    b.min = std::min(b.min, p.value);
    b.max = std::max(b.max, p.value);
  }
  std::vector<storage::AggregateBucket> ordered;
  for (auto& [_, b] : buckets) ordered.push_back(b);
  return renderAggregates(ordered, t, points.empty() ? 0 : points.back().at_ms);
}

json rawValues(const std::vector<model::Point>& points, bool temporal_values) {
  if (temporal_values) {
    json values = json::array();
    for (const auto& p : points)
      values.push_back(json::array({p.value, core::formatRfc3339(p.at_ms)}));
    return {{"type", "Property"}, {"values", values}};
  }
  json out = json::array();
  for (const auto& p : points) {
    out.push_back(
        {{"type", "Property"}, {"value", p.value}, {"observedAt", core::formatRfc3339(p.at_ms)}});
  }
  return out;
}

//! One entity's temporal representation: per attribute, raw instances, temporalValues, or
//! aggregates. One store query per attribute, so lastN is the newest N however long the history.
core::Result<json> temporalJson(const ApiServices& s, const context::Entity& entity,
                                std::vector<std::string> attrs, const TemporalQuery& t,
                                const context::TermMap& terms) {
  if (attrs.empty()) {
    for (const auto& [name, _] : entity.doc.items()) {
      if (name != "id" && name != "type") attrs.push_back(name);
    }
  }
  json out = {{"id", entity.id}};
  auto types = entity.types();
  out["type"] = types.empty() ? json("") : json(terms.compact(types[0]));
  for (const auto& attr : attrs) {
    if (!t.aggr.empty() && t.last_n == 0) {  // from rollups: months answer in milliseconds
      auto buckets = s.store->aggregatePoints(
          storage::AggregateQuery{entity.id, attr, t.from, t.to, t.period_ms});
      if (!buckets.ok()) return buckets.error();
      if (buckets->empty()) continue;
      int64_t last = buckets->back().start_ms;
      if (t.period_ms == 0 && t.to == INT64_MAX) {
        storage::PointQuery newest{entity.id, attr, t.from, t.to, 1};
        auto p = s.store->queryPoints(newest);
        if (!p.ok()) return p.error();
        if (!p->empty()) last = p->back().at_ms;
      }
      out[terms.compact(attr)] = renderAggregates(*buckets, t, last);
      continue;
    }
    storage::PointQuery pq;
    pq.entity_id = entity.id;
    pq.attribute = attr;
    pq.from_ms = t.from;
    pq.to_ms = t.to;
    pq.last_n = t.last_n;
    pq.limit = kMaxPoints;
    auto points = s.store->queryPoints(pq);
    if (!points.ok()) return points.error();
    if (points->empty()) continue;
    out[terms.compact(attr)] =
        t.aggr.empty() ? rawValues(*points, t.temporal_values) : aggregate(*points, t);
  }
  return out;
}

std::vector<std::string> requestedAttrs(const Request& req, const context::TermMap& terms) {
  std::vector<std::string> attrs;
  if (auto a = req.queryParam("attrs")) {
    std::string_view v = *a;
    while (!v.empty()) {
      size_t c = v.find(',');
      attrs.push_back(terms.expand(v.substr(0, c)));
      v = c == std::string_view::npos ? std::string_view() : v.substr(c + 1);
    }
  }
  return attrs;
}

Response withLink(Response r, const context::TermMap& terms) {
  const std::string url =
      terms.linkUrl().empty() ? std::string(context::kCoreContextUrl) : terms.linkUrl();
  r.headers.emplace_back("Link", "<" + url +
                                     ">; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                                     "type=\"application/ld+json\"");
  return r;
}

Response temporalEntity(const ApiServices& s, const Request& req, const Principal& who) {
  auto terms = s.contexts->resolveLink(req.header(net::http::field::link));
  if (!terms.ok()) {
    return temporalError("LdContextNotAvailable", status::service_unavailable,
                         terms.error().message, req);
  }
  const std::string id(req.param("entityId"));
  auto entity = s.broker->get(id, context::Visibility{who.unit_code});
  if (!entity) return temporalError("ResourceNotFound", status::not_found, "no entity " + id, req);
  TemporalQuery t;
  if (auto err = readTemporal(req, t)) {
    return temporalError("BadRequestData", status::bad_request, *err, req);
  }
  auto out = temporalJson(s, *entity, requestedAttrs(req, **terms), t, **terms);
  if (!out.ok()) return errorResponse(out.error(), req);
  return withLink(jsonResponse(*out), **terms);
}

Response temporalQuery(const ApiServices& s, const Request& req, const Principal& who) {
  auto terms = s.contexts->resolveLink(req.header(net::http::field::link));
  if (!terms.ok()) {
    return temporalError("LdContextNotAvailable", status::service_unavailable,
                         terms.error().message, req);
  }
  context::EntityQuery q;
  if (auto error = parseEntityQuery(req, **terms, q)) return std::move(*error);
  TemporalQuery t;
  if (auto err = readTemporal(req, t)) {
    return temporalError("BadRequestData", status::bad_request, *err, req);
  }
  auto page = s.broker->query(q, context::Visibility{who.unit_code});
  const auto attrs = requestedAttrs(req, **terms);
  json out = json::array();
  for (const auto& e : page.items) {
    auto one = temporalJson(s, *e, attrs, t, **terms);
    if (!one.ok()) return errorResponse(one.error(), req);
    out.push_back(std::move(*one));
  }
  Response r = withLink(jsonResponse(out), **terms);
  if (req.queryParam("count").value_or("") == "true") {
    r.headers.emplace_back("NGSILD-Results-Count", std::to_string(page.total));
  }
  return r;
}

}  // namespace

void addTemporalRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::get, "/ngsi-ld/v1/temporal/entities/{entityId}", Permission::kContextRead,
           Exec::kWorker, 0,
           "NGSI-LD temporal: history of an entity (attrs, timerel, timeAt, endTimeAt, lastN, "
           "aggrMethods, aggrPeriodDuration, options=temporalValues)"},
          [s](const Request& r, const Principal* w) { return temporalEntity(*s, r, *w); });
  api.add({verb::get, "/ngsi-ld/v1/temporal/entities", Permission::kContextRead, Exec::kWorker, 0,
           "NGSI-LD temporal: history of the entities a query selects (type, id, q, geo-query, "
           "attrs, limit, offset, count + the temporal parameters)"},
          [s](const Request& r, const Principal* w) { return temporalQuery(*s, r, *w); });
}

}  // namespace ioc::api
