#pragma once
// The rule engine: readings, events and KPI values in, signals out. Pure and in memory: no
// storage, no I/O, no threads. Time comes from the data (reading/event time) and from tick();
// the injected clock only dates rule registration (when a stale rule starts watching).
//
// Threading: an Engine is NOT thread-safe. One thread drives it (or the caller holds a mutex
// around every call); signals are returned by value so they can be handed to other threads.
//
// Cost per input: a reading looks up five hash buckets (its entity id, and its
// (entityType, attribute) with either side wildcarded) and, in each, the rules whose area
// bounding box covers the entity's cell of a coarse grid. Rules on other types, attributes,
// entities or places are never touched: evaluations() counts the rules actually examined.
//
// Memory: state is kept per (rule, subject) only where needed. A threshold rule holds nothing
// for an entity that is not violating; a rate_of_change rule keeps the samples of its window (at
// most kMaxRateSamples); a stale rule one timestamp per watched entity; a count_in_window rule
// the events of its window (at most kMaxEventsPerRule). The engine also remembers every entity it
// has seen (id, type, last location), which stale and geofence rules need.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "rules/rule.h"
#include "rules/signal.h"

namespace ioc::rules {

inline constexpr size_t kMaxRateSamples = 1024;
inline constexpr size_t kMaxEventsPerRule = 10'000;

class Engine {
 public:
  explicit Engine(const core::Clock& clock = core::SystemClock::instance());
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  //! Validates and adds the rule; a rule with the same id is replaced, and the replaced
  //! version's open conditions come back as kClear signals (reason "rule replaced") so their
  //! alerts resolve; the new version starts from scratch. A disabled rule is kept but never
  //! evaluated.
  core::Result<std::vector<Signal>> addRule(Rule rule);
  //! Removes the rule; its open conditions come back as kClear signals. Empty if unknown.
  std::vector<Signal> removeRule(const std::string& id);
  //! The rules, ordered by id.
  std::vector<Rule> rules() const;
  const Rule* findRule(const std::string& id) const;

  //! Readings with an empty entity id are ignored; a non-finite value still counts as "seen"
  //! (stale) and moves the entity (geofence) but is not compared with thresholds. Readings older
  //! than the last one a (rule, entity) has seen are ignored by threshold and rate rules.
  std::vector<Signal> onReading(const Reading& reading);
  //! Events without id or category, or with an invalid location, are ignored; so are events
  //! older than a rule's window and repeats of an id the rule already holds.
  std::vector<Signal> onEvent(const Event& event);
  std::vector<Signal> onKpi(const std::string& name, double value, int64_t time_ms);
  //! Fires what is due at `now_ms`: stale entities, threshold durations (forSeconds) reached
  //! without a new reading, and count_in_window clusters that fell below their count.
  std::vector<Signal> tick(int64_t now_ms);

  //! Makes an entity known before its first reading, so stale rules watch it from `time_ms`.
  //! `location` places it for area-scoped rules.
  void watchEntity(const std::string& entity_id, const std::string& entity_type, int64_t time_ms,
                   std::optional<geo::Position> location = std::nullopt);

  //! Debug counter: rules examined for an input (after index lookup), since construction.
  uint64_t evaluations() const;
  //! Number of entities the engine knows (for memory accounting).
  size_t entityCount() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ioc::rules
