// NGSI-LD context API (ETSI GS CIM 009) under /ngsi-ld/v1/: entities, attributes, batch
// operations, queries with q and geo-queries, types, attributes, hosted @contexts.
#include <charconv>
#include <cstring>
#include <regex>

#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/ngsild_common.h"
#include "context/broker.h"
#include "core/log.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using context::TermMap;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kEntityBody = 1024 * 1024;
constexpr size_t kBatchBody = 32 * 1024 * 1024;
constexpr size_t kMaxLimit = 1000;

//! The ProblemDetails of one failed item inside a 207 batch answer.
json ldErrorJson(const core::Error& e) {
  Request dummy;
  json j = json::parse(ldError(e, dummy).body);
  j.erase("instance");
  j.erase("request_id");
  return j;
}

bool hasOption(const Request& req, std::string_view option) {
  for (const char* name : {"options", "format"}) {
    auto v = req.queryParam(name);
    if (!v) continue;
    std::string_view s = *v;
    while (!s.empty()) {
      size_t c = s.find(',');
      if (s.substr(0, c) == option) return true;
      s = c == std::string_view::npos ? std::string_view() : s.substr(c + 1);
    }
  }
  return false;
}

context::RenderOptions renderOptions(const Request& req, const TermMap& terms,
                                     std::unordered_set<std::string>& attrs_storage) {
  context::RenderOptions o;
  o.key_values = hasOption(req, "keyValues") || hasOption(req, "simplified");
  o.sys_attrs = hasOption(req, "sysAttrs");
  if (auto attrs = req.queryParam("attrs")) {
    for (const auto& a : splitList(*attrs)) attrs_storage.insert(terms.expand(a));
    o.attrs = &attrs_storage;
  }
  return o;
}

//! Entity ids in paths must be URIs: anything else is BadRequestData, not ResourceNotFound.
std::optional<Response> badEntityId(const Request& req) {
  if (context::isValidEntityId(req.param("entityId"))) return std::nullopt;
  return ldError(status::bad_request, "BadRequestData", "entity id must be a URI", req);
}

//! 207 body for attribute operations: {"updated": [...], "notUpdated": [{attributeName, reason}]}.
Response mergeOutcome(const context::MergeResult& m, const TermMap& terms) {
  if (m.not_updated.empty()) return noContent();
  json updated = json::array(), not_updated = json::array();
  for (const auto& u : m.updated) updated.push_back(terms.compact(u));
  for (const auto& n : m.not_updated) {
    not_updated.push_back({{"attributeName", terms.compact(n.attribute)}, {"reason", n.reason}});
  }
  return jsonResponse({{"updated", updated}, {"notUpdated", not_updated}}, status::multi_status);
}

//! A Responder that std::function can hold (completion callbacks must be copyable).
using SharedResponder = std::shared_ptr<net::Responder>;
SharedResponder share(net::Responder r) {
  return std::make_shared<net::Responder>(std::move(r));
}

void createEntity(const ApiServices& s, net::RequestPtr rp, const Principal& who,
                  net::Responder responder) {
  const Request& req = *rp;
  auto body = ldBody(req, false);
  if (!body.ok()) return responder.send(ldError(body.error(), req));
  auto terms = requestTerms(s, req, &*body);
  if (!terms.ok()) return responder.send(ldError(terms.error(), req));
  auto entity = context::parseEntity(*body, **terms, s.clock->nowUnixMs());
  if (!entity.ok()) return responder.send(ldError(entity.error(), req));
  const std::string id = entity->id;
  s.broker->createAsync(std::move(*entity), visibility(who), actorOf(who, req),
                        [rp, id, out = share(std::move(responder))](core::Status st) {
                          if (!st.ok()) return out->send(ldError(st.error(), *rp));
                          Response r;
                          r.status = status::created;
                          r.headers.emplace_back("Location",
                                                 "/ngsi-ld/v1/entities/" + encodeSegment(id));
                          out->send(std::move(r));
                        });
}

Response getEntity(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const std::string id(req.param("entityId"));
  if (!context::isValidEntityId(id))
    return ldError(status::bad_request, "BadRequestData", "entity id must be a URI", req);
  auto e = s.broker->get(id, visibility(who));
  if (!e) return ldError(status::not_found, "ResourceNotFound", "no entity " + id, req);
  std::unordered_set<std::string> attrs;
  auto opts = renderOptions(req, **terms, attrs);
  return ldResponse(context::renderEntity(*e, **terms, opts), **terms, req);
}

}  // namespace

std::optional<Response> parseEntityQuery(const Request& req, const TermMap& t,
                                         context::EntityQuery& q) {
  if (auto v = req.queryParam("type")) {
    for (const auto& type : splitList(*v)) q.types.push_back(t.expand(type));
  }
  if (auto v = req.queryParam("id")) q.ids = splitList(*v);
  q.count = req.queryParam("count").value_or("") == "true";
  if (auto v = req.queryParam("idPattern")) {
    auto compiled = ngsild::compileSafePattern(*v);
    if (!compiled.ok()) {
      return ldError(status::bad_request, "BadRequestData",
                     "idPattern: " + compiled.error().message, req);
    }
    q.id_pattern = *v;
  }
  if (auto v = req.queryParam("q")) {
    auto parsed = ngsild::parseQuery(*v, [&t](std::string_view term) { return t.expand(term); });
    if (!parsed.ok())
      return ldError(status::bad_request, "BadRequestData", parsed.error().message, req);
    q.q = *parsed;
  }
  if (auto v = req.queryParam("attrs")) {
    for (const auto& a : splitList(*v)) q.attrs.insert(t.expand(a));
  }
  auto georel = req.queryParam("georel");
  auto geometry = req.queryParam("geometry");
  auto coordinates = req.queryParam("coordinates");
  if (georel || geometry || coordinates) {
    if (!georel || !geometry || !coordinates) {
      return ldError(status::bad_request, "BadRequestData",
                     "geo-queries need georel, geometry and coordinates together", req);
    }
    auto rel = ngsild::geo::parseGeoRel(*georel);
    if (!rel.ok()) return ldError(status::bad_request, "BadRequestData", rel.error().message, req);
    auto geom = ngsild::geo::parseQueryGeometry(*geometry, *coordinates);
    if (!geom.ok())
      return ldError(status::bad_request, "BadRequestData", geom.error().message, req);
    context::GeoFilter f{*rel, std::move(*geom),
                         t.expand(req.queryParam("geoproperty").value_or("location"))};
    q.geo = std::move(f);
  }
  if (q.types.empty() && q.ids.empty() && !q.id_pattern && !q.q && q.attrs.empty() && !q.geo) {
    return ldError(status::bad_request, "BadRequestData",
                   "give at least one of type, id, idPattern, q, attrs or a geo-query", req);
  }
  for (auto [name, target, max] : {std::tuple{"limit", &q.limit, kMaxLimit},
                                   std::tuple{"offset", &q.offset, size_t{1} << 40}}) {
    auto v = req.queryParam(name);
    if (!v) continue;
    size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
      return ldError(status::bad_request, "BadRequestData",
                     std::string(name) + " must be a whole number", req);
    }
    if (n > max) {
      return ldError(status::forbidden, "TooManyResults",
                     "limit may be at most " + std::to_string(kMaxLimit), req);
    }
    *target = n;
  }
  return std::nullopt;
}

namespace {

Response queryEntities(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const TermMap& t = **terms;
  context::EntityQuery q;
  if (auto error = parseEntityQuery(req, t, q)) return std::move(*error);
  auto page = s.broker->query(q, visibility(who));
  std::unordered_set<std::string> attrs;
  auto opts = renderOptions(req, t, attrs);
  json out = json::array();
  for (const auto& e : page.items) out.push_back(context::renderEntity(*e, t, opts));
  Response r = ldResponse(std::move(out), t, req);
  if (req.queryParam("count").value_or("") == "true") {
    r.headers.emplace_back("NGSILD-Results-Count", std::to_string(page.total));
  }
  return r;
}

void mergeAttrs(const ApiServices& s, net::RequestPtr rp, const Principal& who,
                context::MergeMode mode, net::Responder responder) {
  const Request& req = *rp;
  if (auto bad = badEntityId(req)) return responder.send(std::move(*bad));
  auto body = ldBody(req, false);
  if (!body.ok()) return responder.send(ldError(body.error(), req));
  auto terms = requestTerms(s, req, &*body);
  if (!terms.ok()) return responder.send(ldError(terms.error(), req));
  auto attrs = context::parseAttributes(*body, **terms, s.clock->nowUnixMs());
  if (!attrs.ok()) return responder.send(ldError(attrs.error(), req));
  if (attrs->empty()) {
    return responder.send(
        ldError(status::bad_request, "BadRequestData", "no attributes given", req));
  }
  if (mode == context::MergeMode::kAppend && hasOption(req, "noOverwrite")) {
    mode = context::MergeMode::kAppendNoOverwrite;
  }
  s.broker->mergeAttrsAsync(
      std::string(req.param("entityId")), *attrs, mode, visibility(who), actorOf(who, req),
      [rp, terms = *terms,
       out = share(std::move(responder))](core::Result<context::MergeResult> result) {
        if (!result.ok()) return out->send(ldError(result.error(), *rp));
        out->send(mergeOutcome(*result, *terms));
      });
}

void patchAttr(const ApiServices& s, net::RequestPtr rp, const Principal& who,
               net::Responder responder) {
  const Request& req = *rp;
  if (auto bad = badEntityId(req)) return responder.send(std::move(*bad));
  auto body = ldBody(req, false);
  if (!body.ok()) return responder.send(ldError(body.error(), req));
  auto terms = requestTerms(s, req, &*body);
  if (!terms.ok()) return responder.send(ldError(terms.error(), req));
  const std::string attr = (*terms)->expand(req.param("attrId"));
  s.broker->patchAttrAsync(std::string(req.param("entityId")), attr, *body, **terms,
                           visibility(who), actorOf(who, req),
                           [rp, out = share(std::move(responder))](core::Status st) {
                             out->send(st.ok() ? noContent() : ldError(st.error(), *rp));
                           });
}

Response deleteAttr(const ApiServices& s, const Request& req, const Principal& who) {
  if (auto bad = badEntityId(req)) return *bad;
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const std::string attr = (*terms)->expand(req.param("attrId"));
  const bool all = req.queryParam("deleteAll").value_or("") == "true";
  auto st = s.broker->deleteAttr(std::string(req.param("entityId")), attr,
                                 req.queryParam("datasetId").value_or(""), all, visibility(who),
                                 actorOf(who, req));
  return st.ok() ? noContent() : ldError(st.error(), req);
}

//! 201 with the ids when everything was created, 204 when everything was updated, else 207.
//! Batch answers (§5.6.7–5.6.10): any failure → 207 {success, errors}; create → 201 with the
//! ids; upsert → 201 with the ids of the entities it created, or 204 if it created none;
//! update and delete → 204.
Response batchOutcome(const std::vector<context::BatchItem>& items, std::string_view op) {
  json success = json::array(), errors = json::array(), created = json::array();
  for (const auto& i : items) {
    if (i.error) {
      errors.push_back({{"entityId", i.id}, {"error", ldErrorJson(*i.error)}});
    } else {
      success.push_back(i.id);
      if (i.created) created.push_back(i.id);
    }
  }
  if (!errors.empty()) {
    return jsonResponse({{"success", success}, {"errors", errors}}, status::multi_status);
  }
  if (op == "create") return jsonResponse(success, status::created);
  if (op == "upsert" && !created.empty()) return jsonResponse(created, status::created);
  return noContent();
}

void batchOperation(const ApiServices& s, net::RequestPtr rp, const Principal& who,
                    std::string_view op, net::Responder responder) {
  const Request& req = *rp;
  auto body = ldBody(req, true);
  if (!body.ok()) return responder.send(ldError(body.error(), req));
  if (body->empty())
    return responder.send(ldError(status::bad_request, "BadRequestData", "empty batch", req));
  if (body->size() > 10000)
    return responder.send(
        ldError(status::bad_request, "BadRequestData", "at most 10000 entities per batch", req));
  if (op == "delete") {
    std::vector<std::string> ids;
    for (const auto& id : *body) {
      if (!id.is_string())
        return responder.send(
            ldError(status::bad_request, "BadRequestData", "delete takes an array of ids", req));
      ids.push_back(id.get<std::string>());
    }
    return responder.send(
        batchOutcome(s.broker->batchDelete(ids, visibility(who), actorOf(who, req)), "delete"));
  }
  const std::string type = lowerMediaType(req.header(net::http::field::content_type));
  std::shared_ptr<const TermMap> link_terms;
  if (type != "application/ld+json") {
    auto t = s.contexts->resolveLink(req.header(net::http::field::link));
    if (!t.ok()) return responder.send(ldError(t.error(), req));
    link_terms = *t;
  }
  const int64_t now = s.clock->nowUnixMs();
  std::vector<core::Result<context::Entity>> entities;
  entities.reserve(body->size());
  for (const auto& item : *body) {
    std::shared_ptr<const TermMap> terms = link_terms;
    if (!terms) {
      if (!item.is_object() || !item.contains("@context")) {
        entities.emplace_back(
            core::makeError(core::Errc::kInvalidArgument, "BadRequestData: missing @context"));
        continue;
      }
      auto t = s.contexts->resolve(item["@context"]);
      if (!t.ok()) {
        entities.emplace_back(t.error());
        continue;
      }
      terms = *t;
    } else if (item.is_object() && item.contains("@context")) {
      entities.emplace_back(core::makeError(
          core::Errc::kInvalidArgument, "BadRequestData: @context in an application/json body"));
      continue;
    }
    entities.push_back(context::parseEntity(item, *terms, now));
  }
  using Kind = context::Broker::BatchKind;
  Kind kind = Kind::kCreate;
  if (op == "upsert") kind = hasOption(req, "update") ? Kind::kUpsertUpdate : Kind::kUpsertReplace;
  if (op == "update")
    kind = hasOption(req, "noOverwrite") ? Kind::kUpdateNoOverwrite : Kind::kUpdate;
  // A batch error for an unparseable entity has no id: take it from the input when possible.
  std::vector<std::string> input_ids;
  input_ids.reserve(body->size());
  for (const auto& item : *body) {
    input_ids.push_back(item.is_object() && item.contains("id") && item["id"].is_string()
                            ? item["id"].get<std::string>()
                            : std::string());
  }
  s.broker->batchAsync(kind, std::move(entities), visibility(who), actorOf(who, req),
                       [input_ids = std::move(input_ids), op,
                        out = share(std::move(responder))](std::vector<context::BatchItem> items) {
                         for (size_t i = 0; i < items.size(); ++i) {
                           if (items[i].id.empty()) items[i].id = input_ids[i];
                         }
                         out->send(batchOutcome(items, op));
                       });
}

}  // namespace

void addNgsiLdRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const std::string base = "/ngsi-ld/v1";
  api.addAsync({verb::post, base + "/entities", Permission::kIngest, Exec::kWorker, kEntityBody,
                "NGSI-LD: create an entity"},
               [s](net::RequestPtr r, const Principal* w, net::Responder out) {
                 createEntity(*s, std::move(r), *w, std::move(out));
               });
  api.add(
      {verb::get, base + "/entities", Permission::kContextRead, Exec::kWorker, 0,
       "NGSI-LD: query entities (type, id, idPattern, attrs, q, geo-query, limit, offset, count)"},
      [s](const Request& r, const Principal* w) { return queryEntities(*s, r, *w); });
  api.addAsync({verb::get, base + "/entities/{entityId}", Permission::kContextRead, Exec::kInline,
                0, "NGSI-LD: retrieve an entity (options=keyValues,sysAttrs; attrs)"},
               inlineUnlessFetching(
                   s, [s](const Request& r, const Principal* w) { return getEntity(*s, r, *w); }));
  api.add({verb::delete_, base + "/entities/{entityId}", Permission::kIngest, Exec::kWorker, 0,
           "NGSI-LD: delete an entity"},
          [s](const Request& r, const Principal* w) {
            if (auto bad = badEntityId(r)) return *bad;
            auto st =
                s->broker->remove(std::string(r.param("entityId")), visibility(*w), actorOf(*w, r));
            return st.ok() ? noContent() : ldError(st.error(), r);
          });
  api.addAsync({verb::post, base + "/entities/{entityId}/attrs", Permission::kIngest, Exec::kWorker,
                kEntityBody, "NGSI-LD: append attributes (options=noOverwrite)"},
               [s](net::RequestPtr r, const Principal* w, net::Responder out) {
                 mergeAttrs(*s, std::move(r), *w, context::MergeMode::kAppend, std::move(out));
               });
  api.addAsync({verb::patch, base + "/entities/{entityId}/attrs", Permission::kIngest,
                Exec::kWorker, kEntityBody, "NGSI-LD: update existing attributes"},
               [s](net::RequestPtr r, const Principal* w, net::Responder out) {
                 mergeAttrs(*s, std::move(r), *w, context::MergeMode::kUpdateExisting,
                            std::move(out));
               });
  api.addAsync({verb::patch, base + "/entities/{entityId}/attrs/{attrId}", Permission::kIngest,
                Exec::kWorker, kEntityBody, "NGSI-LD: partial attribute update"},
               [s](net::RequestPtr r, const Principal* w, net::Responder out) {
                 patchAttr(*s, std::move(r), *w, std::move(out));
               });
  api.add({verb::delete_, base + "/entities/{entityId}/attrs/{attrId}", Permission::kIngest,
           Exec::kWorker, 0, "NGSI-LD: delete an attribute (datasetId, deleteAll)"},
          [s](const Request& r, const Principal* w) { return deleteAttr(*s, r, *w); });
  for (const char* op : {"create", "upsert", "update", "delete"}) {
    api.addAsync({verb::post, base + "/entityOperations/" + op, Permission::kIngest, Exec::kWorker,
                  kBatchBody, std::string("NGSI-LD: batch ") + op},
                 [s, op](net::RequestPtr r, const Principal* w, net::Responder out) {
                   batchOperation(*s, std::move(r), *w, op, std::move(out));
                 });
  }
  addNgsiLdTypeRoutes(api);
  addJsonLdContextRoutes(api);
}

}  // namespace ioc::api
