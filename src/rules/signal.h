#pragma once
// What flows into the engine (readings, events, KPI values) and what comes out (signals).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ngsild/geo.h"
#include "rules/rule.h"

namespace ioc::rules {

//! One numeric observation of one attribute of one entity.
struct Reading {
  std::string entity_id;
  std::string entity_type;
  std::string attribute;
  double value = 0;
  int64_t time_ms = 0;                    //!< observedAt, Unix ms
  std::optional<geo::Position> location;  //!< the entity's location, when the reading carries it
};

//! A discrete occurrence (camera AI detection, hotline call, citizen report).
struct Event {
  std::string id;
  std::string category;     //!< e.g. "illegal_parking", "flooding", "hotline_114"
  std::string entity_type;  //!< the source kind, e.g. "Camera"; may be empty
  geo::Position location;
  int64_t time_ms = 0;
};

//! What made a signal: a reading, an event or a KPI value.
struct Evidence {
  std::string kind;       //!< "reading", "event" or "kpi"
  std::string ref;        //!< entity id, event id or KPI name
  std::string attribute;  //!< attribute for readings, category for events
  double value = 0;
  int64_t time_ms = 0;
};

enum class SignalKind { kFire, kUpdate, kClear };
std::string_view toString(SignalKind k);

//! The engine's output for one (rule, subject): the condition started (kFire), still holds
//! (kUpdate) or ended (kClear). The AlertBook turns these into alerts.
struct Signal {
  SignalKind kind = SignalKind::kFire;
  std::string rule_id;
  int64_t rule_version = 1;
  //! Entity id; for count_in_window the cluster key ("cluster:<first event id>"); for kpi the
  //! KPI name. Together with rule_id it identifies the alert.
  std::string subject;
  Category category = Category::kOther;
  Severity severity = Severity::kUnknown;
  Urgency urgency = Urgency::kUnknown;
  Certainty certainty = Certainty::kUnknown;
  std::string headline;  //!< rendered
  std::string description;
  double value = 0;  //!< the reading, delta/rate, seconds silent, cluster size or KPI value
  int64_t time_ms = 0;
  std::optional<geo::Geometry> geometry;  //!< entity point, cluster centroid, or the rule's area
  std::vector<Evidence> evidence;
  std::string reason;  //!< why a kClear happened ("value back below 30", "reading received")
  //! The rule version that produced the signal: suppression windows and expiry come from it.
  std::shared_ptr<const Rule> rule;
};

}  // namespace ioc::rules
