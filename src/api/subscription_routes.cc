// NGSI-LD subscriptions (ETSI GS CIM 009 clause 5.8) under /ngsi-ld/v1/subscriptions: create,
// query, retrieve, update, delete. Matching and delivery live in src/subscription/.
#include <charconv>

#include "api/api.h"
#include "api/ngsild_common.h"
#include "subscription/service.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kSubscriptionBody = 256 * 1024;
constexpr size_t kMaxLimit = 1000;
const std::string kBase = "/ngsi-ld/v1/subscriptions";

subscription::Caller callerOf(const Principal& who, const Request& req) {
  return {who.unit_code, actorOf(who, req)};
}

std::optional<Response> badSubscriptionId(const Request& req) {
  if (context::isValidEntityId(req.param("subscriptionId"))) return std::nullopt;
  return ldError(status::bad_request, "BadRequestData", "subscription id must be a URI", req);
}

//! limit (≤ 1000, default 20) and offset; an error response when malformed.
std::optional<Response> paging(const Request& req, size_t& limit, size_t& offset) {
  for (auto [name, target] : {std::pair{"limit", &limit}, std::pair{"offset", &offset}}) {
    auto v = req.queryParam(name);
    if (!v) continue;
    size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
      return ldError(status::bad_request, "BadRequestData",
                     std::string(name) + " must be a whole number", req);
    }
    *target = n;
  }
  if (limit > kMaxLimit) {
    return ldError(status::forbidden, "TooManyResults",
                   "limit may be at most " + std::to_string(kMaxLimit), req);
  }
  return std::nullopt;
}

Response create(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = ldBody(req, false);
  if (!body.ok()) return ldError(body.error(), req);
  auto terms = requestTerms(s, req, &*body);
  if (!terms.ok()) return ldError(terms.error(), req);
  auto id = s.subscriptions->create(*body, *terms, callerOf(who, req));
  if (!id.ok()) return ldError(id.error(), req);
  Response r;
  r.status = status::created;
  r.headers.emplace_back("Location", kBase + "/" + encodeSegment(*id));
  return r;
}

Response query(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  size_t limit = 20, offset = 0;
  if (auto error = paging(req, limit, offset)) return std::move(*error);
  auto page = s.subscriptions->list(**terms, callerOf(who, req), limit, offset);
  Response r = ldResponse(json(std::move(page.items)), **terms, req);
  if (req.queryParam("count").value_or("") == "true") {
    r.headers.emplace_back("NGSILD-Results-Count", std::to_string(page.total));
  }
  return r;
}

Response retrieve(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  if (auto bad = badSubscriptionId(req)) return std::move(*bad);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  auto sub =
      s.subscriptions->get(std::string(req.param("subscriptionId")), **terms, callerOf(who, req));
  if (!sub.ok()) return ldError(sub.error(), req);
  return ldResponse(std::move(*sub), **terms, req);
}

Response update(const ApiServices& s, const Request& req, const Principal& who) {
  if (auto bad = badSubscriptionId(req)) return std::move(*bad);
  auto body = ldBody(req, false);
  if (!body.ok()) return ldError(body.error(), req);
  auto terms = requestTerms(s, req, &*body);
  if (!terms.ok()) return ldError(terms.error(), req);
  auto st = s.subscriptions->update(std::string(req.param("subscriptionId")), *body, *terms,
                                    callerOf(who, req));
  return st.ok() ? noContent() : ldError(st.error(), req);
}

Response remove(const ApiServices& s, const Request& req, const Principal& who) {
  if (auto bad = badSubscriptionId(req)) return std::move(*bad);
  auto st = s.subscriptions->remove(std::string(req.param("subscriptionId")), callerOf(who, req));
  return st.ok() ? noContent() : ldError(st.error(), req);
}

//! Wraps a handler: the service exists in a serving process, not in the bare route table.
template <class Fn>
ApiFn guarded(const ApiServices* s, Fn fn) {
  return [s, fn](const Request& r, const Principal* w) {
    if (!s->subscriptions) {
      return ldError(status::service_unavailable, "InternalError", "subscriptions are off", r);
    }
    return fn(*s, r, *w);
  };
}

}  // namespace

void addSubscriptionRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const std::string id = kBase + "/{subscriptionId}";
  const Permission p = Permission::kSubscriptionsManage;
  api.add({verb::post, kBase, p, Exec::kWorker, kSubscriptionBody,
           "NGSI-LD: create a subscription (201 + Location; 409 AlreadyExists)"},
          guarded(s, create));
  api.add({verb::get, kBase, p, Exec::kWorker, 0,
           "NGSI-LD: subscriptions in the caller's unit (limit, offset, count)"},
          guarded(s, query));
  api.add({verb::get, id, p, Exec::kWorker, 0, "NGSI-LD: retrieve a subscription"},
          guarded(s, retrieve));
  api.add({verb::patch, id, p, Exec::kWorker, kSubscriptionBody,
           "NGSI-LD: update the members of a subscription given (204)"},
          guarded(s, update));
  api.add({verb::delete_, id, p, Exec::kWorker, 0, "NGSI-LD: delete a subscription (204)"},
          guarded(s, remove));
}

}  // namespace ioc::api
