// NGSI-LD type and attribute discovery (ETSI GS CIM 009 §5.7.5–5.7.10, §6.25–6.28): the entity
// types and attribute names in the caller's scope, as plain lists or with details (EntityType,
// EntityTypeInfo, Attribute), names compacted with the request's @context.
#include "api/api.h"
#include "api/ngsild_common.h"
#include "context/broker.h"

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

bool details(const Request& req) {
  return req.queryParam("details").value_or("") == "true";
}

json compactAll(const std::set<std::string>& names, const TermMap& terms) {
  json out = json::array();
  for (const auto& n : names) out.push_back(terms.compact(n));
  return out;
}

Response typeList(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const TermMap& t = **terms;
  if (!details(req)) {
    json list = json::array();
    for (const auto& type : s.broker->types(visibility(who))) list.push_back(t.compact(type));
    return ldResponse({{"id", "urn:ngsi-ld:EntityTypeList:" + req.request_id},
                       {"type", "EntityTypeList"},
                       {"typeList", list}},
                      t, req);
  }
  // details=true: one EntityType per type (§5.2.25).
  json out = json::array();
  for (const auto& stats : s.broker->typeStats(visibility(who))) {
    json names = json::array();
    for (const auto& [name, _] : stats.attributes) names.push_back(t.compact(name));
    out.push_back({{"id", stats.type},
                   {"type", "EntityType"},
                   {"typeName", t.compact(stats.type)},
                   {"attributeNames", names}});
  }
  return ldResponse(std::move(out), t, req);
}

Response typeInfo(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const TermMap& t = **terms;
  const std::string type = t.expand(req.param("type"));
  auto stats = s.broker->typeInfo(type, visibility(who));
  if (!stats) {
    return ldError(status::not_found, "ResourceNotFound",
                   "no entity of type " + std::string(req.param("type")), req);
  }
  // EntityTypeInfo (§5.2.26) with one Attribute (§5.2.27) per attribute name.
  json attrs = json::array();
  for (const auto& [name, kinds] : stats->attributes) {
    attrs.push_back({{"id", name},
                     {"type", "Attribute"},
                     {"attributeName", t.compact(name)},
                     {"attributeTypes", compactAll(kinds, t)}});
  }
  return ldResponse({{"id", stats->type},
                     {"type", "EntityTypeInfo"},
                     {"typeName", t.compact(stats->type)},
                     {"entityCount", stats->entity_count},
                     {"attributeDetails", attrs}},
                    t, req);
}

Response attributeList(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const TermMap& t = **terms;
  if (!details(req)) {
    json list = json::array();
    for (const auto& a : s.broker->attributes(visibility(who))) list.push_back(t.compact(a));
    return ldResponse({{"id", "urn:ngsi-ld:AttributeList:" + req.request_id},
                       {"type", "AttributeList"},
                       {"attributeList", list}},
                      t, req);
  }
  // details=true: one Attribute per name with the types of the entities that have it.
  json out = json::array();
  for (const auto& a : s.broker->attributeStats(visibility(who))) {
    out.push_back({{"id", a.name},
                   {"type", "Attribute"},
                   {"attributeName", t.compact(a.name)},
                   {"typeNames", compactAll(a.entity_types, t)}});
  }
  return ldResponse(std::move(out), t, req);
}

Response attributeInfo(const ApiServices& s, const Request& req, const Principal& who) {
  if (!acceptable(req)) return notAcceptable(req);
  auto terms = requestTerms(s, req, nullptr);
  if (!terms.ok()) return ldError(terms.error(), req);
  const TermMap& t = **terms;
  const std::string name = t.expand(req.param("attrId"));
  auto a = s.broker->attributeInfo(name, visibility(who));
  if (!a) {
    return ldError(status::not_found, "ResourceNotFound",
                   "no entity has the attribute " + std::string(req.param("attrId")), req);
  }
  return ldResponse({{"id", a->name},
                     {"type", "Attribute"},
                     {"attributeName", t.compact(a->name)},
                     {"attributeCount", a->instance_count},
                     {"attributeTypes", compactAll(a->attribute_types, t)},
                     {"typeNames", compactAll(a->entity_types, t)}},
                    t, req);
}

}  // namespace

void addNgsiLdTypeRoutes(Api& api) {
  const ApiServices* s = &api.services();
  const std::string base = "/ngsi-ld/v1";
  api.add({verb::get, base + "/types", Permission::kContextRead, Exec::kWorker, 0,
           "NGSI-LD: entity types (details=true: EntityType objects)"},
          [s](const Request& r, const Principal* w) { return typeList(*s, r, *w); });
  api.add({verb::get, base + "/types/{type}", Permission::kContextRead, Exec::kWorker, 0,
           "NGSI-LD: one entity type (EntityTypeInfo: entityCount, attributeDetails)"},
          [s](const Request& r, const Principal* w) { return typeInfo(*s, r, *w); });
  api.add({verb::get, base + "/attributes", Permission::kContextRead, Exec::kWorker, 0,
           "NGSI-LD: attribute names (details=true: Attribute objects with typeNames)"},
          [s](const Request& r, const Principal* w) { return attributeList(*s, r, *w); });
  api.add({verb::get, base + "/attributes/{attrId}", Permission::kContextRead, Exec::kWorker, 0,
           "NGSI-LD: one attribute (attributeCount, attributeTypes, typeNames)"},
          [s](const Request& r, const Principal* w) { return attributeInfo(*s, r, *w); });
}

}  // namespace ioc::api
