#include "subscription/matcher.h"

#include <algorithm>

#include "ngsild/geo.h"

namespace ioc::subscription {

using json = ioc::Json;

namespace {

bool isAttributeKey(const std::string& k) {
  return k != "id" && k != "type" && k != "@context" && k != "scope" && k != "createdAt" &&
         k != "modifiedAt" && k != "deletedAt";
}

std::optional<ngsild::geo::Geometry> geometryOf(const context::Entity& e, const std::string& attr) {
  auto it = e.doc.find(attr);
  if (it == e.doc.end()) return std::nullopt;
  const json& inst = it->is_array() ? (it->empty() ? *it : (*it)[0]) : *it;
  if (!inst.is_object() || inst.value("type", "") != "GeoProperty" || !inst.contains("value")) {
    return std::nullopt;
  }
  auto g = ngsild::geo::parseGeoJson(inst["value"]);
  if (!g.ok()) return std::nullopt;
  return std::move(*g);
}

bool watchedAmong(const Subscription& sub, const std::vector<std::string>& names) {
  if (names.empty()) return false;
  if (sub.watched.empty()) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return std::find(sub.watched.begin(), sub.watched.end(), n) != sub.watched.end();
  });
}

}  // namespace

AttributeDiff diffAttributes(const context::Entity* before, const context::Entity* after) {
  AttributeDiff d;
  static const json kEmpty = json::object();
  const json& old_doc = before ? before->doc : kEmpty;
  const json& new_doc = after ? after->doc : kEmpty;
  for (const auto& [k, v] : new_doc.items()) {
    if (!isAttributeKey(k)) continue;
    auto it = old_doc.find(k);
    if (it == old_doc.end()) {
      d.created.push_back(k);
    } else if (*it != v) {  // any rewrite sets the instance's modifiedAt: an update counts
      d.updated.push_back(k);
    }
  }
  for (const auto& [k, v] : old_doc.items()) {
    if (isAttributeKey(k) && !new_doc.contains(k)) d.deleted.push_back(k);
  }
  return d;
}

bool selects(const Subscription& sub, const context::Entity& e) {
  if (sub.entities.empty()) return true;  // watchedAttributes alone select any entity
  return std::any_of(sub.entities.begin(), sub.entities.end(), [&](const EntitySelector& s) {
    if (!e.hasType(s.type)) return false;
    if (!s.id.empty()) return s.id == e.id;
    return !s.pattern || ngsild::safePatternMatches(*s.pattern, e.id);
  });
}

bool passesFilters(const Subscription& sub, const context::Entity& e) {
  if (sub.q && !ngsild::matches(*sub.q, e.doc)) return false;
  if (sub.geo) {
    auto g = geometryOf(e, sub.geo->geoproperty);
    if (!g || !ngsild::geo::evaluate(sub.geo->rel, *g, sub.geo->geometry)) return false;
  }
  return true;
}

bool visibleTo(const units::UnitCatalog& units, const context::Entity& e,
               const std::string& unit_code) {
  if (unit_code.empty()) return true;
  return !e.unit_code.empty() && units.isWithin(e.unit_code, unit_code);
}

unsigned firedTriggers(const Subscription& sub, const context::EntityChange& change,
                       const AttributeDiff& diff) {
  unsigned fired = 0;
  if (!change.before) {
    // A new entity: every attribute is created. Watched attributes must be among them.
    if (!watchedAmong(sub, diff.created) && !(sub.watched.empty() && diff.created.empty())) {
      return 0;
    }
    fired = kEntityCreated | kAttributeCreated;
  } else if (!change.after) {
    fired = kEntityDeleted;
  } else {
    if (watchedAmong(sub, diff.created)) fired |= kAttributeCreated | kEntityUpdated;
    if (watchedAmong(sub, diff.updated)) fired |= kAttributeUpdated | kEntityUpdated;
    if (watchedAmong(sub, diff.deleted)) fired |= kAttributeDeleted | kEntityUpdated;
  }
  return fired & sub.triggers;
}

bool matchesChange(const Subscription& sub, const context::EntityChange& change,
                   const AttributeDiff& diff, const units::UnitCatalog& units, int64_t now_ms) {
  if (!sub.active || sub.expired(now_ms) || sub.time_interval_s) return false;
  const context::EntityPtr& e = change.after ? change.after : change.before;
  if (!e || !visibleTo(units, *e, sub.unit_code) || !selects(sub, *e)) return false;
  if (firedTriggers(sub, change, diff) == 0) return false;
  return passesFilters(sub, *e);
}

SubscriptionIndex::SubscriptionIndex(const std::vector<SubscriptionPtr>& subs) {
  for (const auto& s : subs) {
    if (s->time_interval_s) {
      periodic_.push_back(s);
    } else if (s->entities.empty()) {
      any_type_.push_back(s);
    } else {
      std::vector<std::string> seen;
      for (const auto& sel : s->entities) {
        if (std::find(seen.begin(), seen.end(), sel.type) != seen.end()) continue;
        seen.push_back(sel.type);
        by_type_[sel.type].push_back(s);
      }
    }
  }
}

std::vector<SubscriptionPtr> SubscriptionIndex::candidates(
    const std::vector<std::string>& types) const {
  if (types.size() == 1 && any_type_.empty()) {  // the common case: no duplicates possible
    auto it = by_type_.find(types[0]);
    return it == by_type_.end() ? std::vector<SubscriptionPtr>{} : it->second;
  }
  std::vector<SubscriptionPtr> out = any_type_;
  for (const auto& t : types) {
    auto it = by_type_.find(t);
    if (it == by_type_.end()) continue;
    for (const auto& s : it->second) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  }
  return out;
}

}  // namespace ioc::subscription
