#pragma once
// Which subscriptions a committed entity change fires (ETSI GS CIM 009 clause 5.8.6 / 5.11):
// pure functions over immutable data, so the matcher thread and the unit tests call them alike.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "context/broker.h"
#include "subscription/subscription.h"
#include "units/catalog.h"

namespace ioc::subscription {

//! Attribute names (expanded) that a change created, updated or deleted. A creation creates every
//! attribute; a deletion deletes every one.
struct AttributeDiff {
  std::vector<std::string> created;
  std::vector<std::string> updated;
  std::vector<std::string> deleted;
};
AttributeDiff diffAttributes(const context::Entity* before, const context::Entity* after);

//! The entity selectors (id or idPattern, and type) accept the entity.
bool selects(const Subscription& sub, const context::Entity& e);
//! q and geoQ hold for the entity.
bool passesFilters(const Subscription& sub, const context::Entity& e);
//! The entity lies within `unit_code` ("" = the whole country), as Broker::visible decides.
bool visibleTo(const units::UnitCatalog& units, const context::Entity& e,
               const std::string& unit_code);
//! The notificationTrigger bits the change fires for this subscription (0 = none), considering
//! watchedAttributes: a change fires only when a watched attribute was created, updated or
//! deleted (any attribute when the subscription watches none).
unsigned firedTriggers(const Subscription& sub, const context::EntityChange& change,
                       const AttributeDiff& diff);

//! Everything but scheduling: active, not expired, not periodic, visible, selected, triggered,
//! and q/geoQ on the new version (on the old one for a deletion).
bool matchesChange(const Subscription& sub, const context::EntityChange& change,
                   const AttributeDiff& diff, const units::UnitCatalog& units, int64_t now_ms);

//! Subscriptions by expanded entity type, so that a change costs only the subscriptions of its
//! types (plus those that select by watchedAttributes alone). Immutable once built.
class SubscriptionIndex {
 public:
  explicit SubscriptionIndex(const std::vector<SubscriptionPtr>& subs);
  //! Change-driven subscriptions that may care about an entity with these types; each once.
  std::vector<SubscriptionPtr> candidates(const std::vector<std::string>& types) const;
  const std::vector<SubscriptionPtr>& periodic() const { return periodic_; }

 private:
  std::unordered_map<std::string, std::vector<SubscriptionPtr>> by_type_;
  std::vector<SubscriptionPtr> any_type_;
  std::vector<SubscriptionPtr> periodic_;
};

}  // namespace ioc::subscription
