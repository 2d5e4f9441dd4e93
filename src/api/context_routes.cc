// NGSI-LD @context management (ETSI GS CIM 009 §5.13, §6.30–6.31): hosting user @contexts,
// listing what the broker stores (Hosted, Cached, ImplicitlyCreated), serving, deleting and
// reloading them. Also the guard that keeps @context downloads off the I/O threads.
#include <boost/asio/post.hpp>

#include "api/api.h"
#include "api/errors.h"
#include "api/ngsild_common.h"
#include "core/clock.h"
#include "core/log.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using context::ContextKind;
using context::ContextRegistry;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kContextBody = 1024 * 1024;

//! The metadata of one stored @context (§5.13.3.5).
json metadata(const ContextRegistry::Hosted& h) {
  json m = {{"URL", h.url},
            {"localId", h.id},
            {"kind", context::contextKindName(h.kind)},
            {"timestamp", core::formatRfc3339(h.created_at_ms)}};
  if (h.kind == ContextKind::kCached) {
    if (h.last_usage_ms > 0) m["lastUsage"] = core::formatRfc3339(h.last_usage_ms);
    m["numberOfHits"] = h.hits;
    m["extraInfo"] = {{"origin", h.origin}};
  }
  return m;
}

std::optional<bool> flag(const Request& req, std::string_view name) {
  auto v = req.queryParam(name);
  if (!v) return false;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return std::nullopt;
}

Response listContexts(const ApiServices& s, const Request& req) {
  auto details = flag(req, "details");
  if (!details) {
    return ldError(status::bad_request, "BadRequestData", "details must be true or false", req);
  }
  std::optional<ContextKind> kind;
  if (auto k = req.queryParam("kind")) {
    kind = context::parseContextKind(*k);
    if (!kind) {
      return ldError(status::bad_request, "BadRequestData",
                     "kind must be Hosted, Cached or ImplicitlyCreated", req);
    }
  }
  json out = json::array();
  for (const auto& h : s.contexts->list()) {
    if (kind && h.kind != *kind) continue;
    out.push_back(*details ? metadata(h) : json(h.url));
  }
  return jsonResponse(out);
}

Response serveContext(const ApiServices& s, const Request& req) {
  auto details = flag(req, "details");
  if (!details) {
    return ldError(status::bad_request, "BadRequestData", "details must be true or false", req);
  }
  auto h = s.contexts->get(std::string(req.param("contextId")));
  if (!h) return ldError(status::not_found, "ResourceNotFound", "no such @context", req);
  if (*details) return jsonResponse(metadata(*h));
  if (h->kind == ContextKind::kCached) {
    // §5.13.4: only Hosted and ImplicitlyCreated @contexts are served; a Cached one is at its URL.
    return ldError(status::unprocessable_entity, "OperationNotSupported",
                   "a Cached @context is served by its origin, " + h->url, req);
  }
  Response out = jsonResponse(h->document);
  out.content_type = "application/ld+json";
  return out;
}

Response deleteContext(const ApiServices& s, const Request& req) {
  auto reload = flag(req, "reload");
  if (!reload) {
    return ldError(status::bad_request, "BadRequestData", "reload must be true or false", req);
  }
  const std::string id(req.param("contextId"));
  if (*reload) {
    auto h = s.contexts->reload(id);
    return h.ok() ? noContent() : ldError(h.error(), req);
  }
  return s.contexts->remove(id)
             ? noContent()
             : ldError(status::not_found, "ResourceNotFound", "no such @context", req);
}

}  // namespace

AsyncApiFn inlineUnlessFetching(const ApiServices* s, ApiFn fn) {
  return [s, fn = std::move(fn)](net::RequestPtr req, const Principal* who,
                                 net::Responder responder) {
    if (!s->contexts->linkNeedsFetch(req->header(net::http::field::link))) {
      return responder.send(fn(*req, who));
    }
    // A download may take seconds: never on an I/O thread. The Principal is only valid during
    // this call, so the worker gets a copy.
    std::optional<Principal> copy;
    if (who) copy = *who;
    boost::asio::post(
        *s->workers, [fn, req, copy = std::move(copy), responder = std::move(responder)]() mutable {
          try {
            responder.send(fn(*req, copy ? &*copy : nullptr));
          } catch (const std::exception& e) {
            core::logError("handler failed", {{"rid", req->request_id}, {"error", e.what()}});
            responder.send(problem(status::internal_server_error, "", *req));
          }
        });
  };
}

void addJsonLdContextRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const std::string base = "/ngsi-ld/v1";
  api.add({verb::post, base + "/jsonldContexts", Permission::kIngest, Exec::kWorker, kContextBody,
           "NGSI-LD: host an @context document"},
          [s](const Request& r, const Principal*) {
            auto body = ldBody(r, false);
            if (!body.ok()) return ldError(body.error(), r);
            std::string host(r.header(net::http::field::host));
            auto h = s->contexts->host(*body, "http://" + (host.empty() ? "localhost" : host),
                                       s->clock->nowUnixMs());
            if (!h.ok()) return ldError(h.error(), r);
            Response out;
            out.status = status::created;
            out.headers.emplace_back("Location", "/ngsi-ld/v1/jsonldContexts/" + h->id);
            return out;
          });
  api.add({verb::get, base + "/jsonldContexts", Permission::kPublic, Exec::kInline, 0,
           "NGSI-LD: stored @contexts: URLs, or metadata with details=true; kind=Hosted|Cached|"
           "ImplicitlyCreated"},
          [s](const Request& r, const Principal*) { return listContexts(*s, r); });
  api.add({verb::get, base + "/jsonldContexts/{contextId}", Permission::kPublic, Exec::kInline, 0,
           "NGSI-LD: one hosted @context (by local id; Cached also by URL), details=true: "
           "metadata"},
          [s](const Request& r, const Principal*) { return serveContext(*s, r); });
  api.add({verb::delete_, base + "/jsonldContexts/{contextId}", Permission::kIngest, Exec::kWorker,
           0, "NGSI-LD: remove a stored @context; reload=true downloads a Cached one again"},
          [s](const Request& r, const Principal*) { return deleteContext(*s, r); });
}

}  // namespace ioc::api
