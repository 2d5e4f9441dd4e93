#include "incidents/routing.h"

#include "core/clock.h"

namespace ioc::incidents {

using json = ioc::Json;

namespace {
core::Error bad(std::string detail) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(detail));
}

bool isShortText(const json& v, size_t max) {
  return v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() <= max;
}
}  // namespace

core::Result<RoutingTable> parseRoutingTable(std::string unit, const json& body,
                                             bool (*known_category)(std::string_view)) {
  if (!body.is_object()) return bad("a routing table is a JSON object");
  for (const auto& [k, v] : body.items()) {
    if (k != "rules" && k != "default_agency" && k != "unit") return bad("unknown member " + k);
  }
  RoutingTable t;
  t.unit = std::move(unit);
  if (body.contains("default_agency") && !body["default_agency"].is_null()) {
    if (!body["default_agency"].is_string() ||
        body["default_agency"].get<std::string>().size() > 200) {
      return bad("default_agency must be text up to 200 bytes");
    }
    t.default_agency = body["default_agency"];
  }
  if (!body.contains("rules") || !body["rules"].is_array()) return bad("rules must be an array");
  if (body["rules"].size() > 2000) return bad("at most 2000 rules");
  size_t i = 0;
  for (const auto& r : body["rules"]) {
    const std::string where = "rules[" + std::to_string(i++) + "]";
    if (!r.is_object()) return bad(where + " must be an object");
    for (const auto& [k, v] : r.items()) {
      if (k != "category" && k != "ward" && k != "agency") {
        return bad(where + ": unknown member " + k);
      }
    }
    RoutingRule rule;
    if (r.contains("category")) {
      if (!isShortText(r["category"], 64)) return bad(where + ".category must be text");
      rule.category = r["category"];
      if (rule.category != "*" && !known_category(rule.category)) {
        return bad(where + ": unknown category " + rule.category);
      }
    }
    if (r.contains("ward")) {
      if (!isShortText(r["ward"], 16)) return bad(where + ".ward must be a unit code or *");
      rule.ward = r["ward"];
    }
    if (!r.contains("agency") || !isShortText(r["agency"], 200)) {
      return bad(where + ".agency is required (text up to 200 bytes)");
    }
    rule.agency = r["agency"];
    t.rules.push_back(std::move(rule));
  }
  return t;
}

json toJson(const RoutingTable& t) {
  json rules = json::array();
  for (const auto& r : t.rules) {
    rules.push_back({{"category", r.category}, {"ward", r.ward}, {"agency", r.agency}});
  }
  json j = {{"unit", t.unit},
            {"rules", rules},
            {"default_agency", t.default_agency.empty() ? json(nullptr) : json(t.default_agency)},
            {"updated_at_ms", t.updated_ms},
            {"updated_by", t.updated_by}};
  if (t.updated_ms > 0) j["updated_at"] = core::formatRfc3339(t.updated_ms);
  return j;
}

std::optional<std::string> route(const RoutingTable& t, std::string_view category,
                                 std::string_view ward) {
  const std::pair<std::string_view, std::string_view> order[] = {
      {category, ward}, {category, "*"}, {"*", ward}, {"*", "*"}};
  for (const auto& [c, w] : order) {
    if (w.empty()) continue;
    for (const auto& r : t.rules) {
      if (r.category == c && r.ward == w) return r.agency;
    }
  }
  if (!t.default_agency.empty()) return t.default_agency;
  return std::nullopt;
}

}  // namespace ioc::incidents
