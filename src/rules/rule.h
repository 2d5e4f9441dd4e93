#pragma once
// Rules are data: operators create them through the API or load them from a versioned file, so
// this header is the model plus a strict JSON codec whose errors name the offending field.
// Nothing here evaluates a rule; see engine.h.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "ngsild/geo.h"

namespace ioc::rules {

namespace geo = ngsild::geo;

enum class RuleKind { kThreshold, kRateOfChange, kStale, kGeofence, kCountInWindow, kKpi };
enum class CompareOp { kGt, kGe, kLt, kLe, kOutside };
enum class Direction { kRising, kFalling, kBoth };
enum class GeofenceTrigger { kEnter, kLeave, kInside };

//! CAP 1.2 <category>.
enum class Category {
  kGeo,
  kMet,
  kSafety,
  kSecurity,
  kRescue,
  kFire,
  kHealth,
  kEnv,
  kTransport,
  kInfra,
  kCbrne,
  kOther,
};
//! CAP 1.2 <severity>, <urgency>, <certainty>.
enum class Severity { kExtreme, kSevere, kModerate, kMinor, kUnknown };
enum class Urgency { kImmediate, kExpected, kFuture, kPast, kUnknown };
enum class Certainty { kObserved, kLikely, kPossible, kUnlikely, kUnknown };

//! The JSON spellings ("threshold", ">=", "rising", "enter", "Env", "Severe", ...).
std::string_view toString(RuleKind v);
std::string_view toString(CompareOp v);
std::string_view toString(Direction v);
std::string_view toString(GeofenceTrigger v);
std::string_view toString(Category v);
std::string_view toString(Severity v);
std::string_view toString(Urgency v);
std::string_view toString(Certainty v);
std::optional<Category> parseCategory(std::string_view s);
std::optional<Severity> parseSeverity(std::string_view s);
std::optional<Urgency> parseUrgency(std::string_view s);
std::optional<Certainty> parseCertainty(std::string_view s);

//! What a rule looks at. Empty strings mean "any". `area`, when set, scopes the rule to entities
//! located inside it (for geofence rules it is the fence itself).
struct Target {
  std::string entity_type;
  std::string attribute;
  std::string entity_id;
  std::string area_id;  //!< the ward id `area` was resolved from, if it was given that way
  std::optional<geo::Geometry> area;
};

//! threshold and kpi rules. The condition is `value <op> threshold` (or, for kOutside, value
//! outside [low, high]). Once firing, the alert clears only when the value is back past the
//! threshold by `hysteresis`, so a value wobbling around the threshold does not flap.
struct ThresholdParams {
  CompareOp op = CompareOp::kGt;
  double value = 0;
  double low = 0;
  double high = 0;
  double hysteresis = 0;
  int64_t for_ms = 0;  //!< the condition must hold continuously this long before firing
};

//! rate_of_change: at least one of max_delta / max_rate_per_minute is set.
struct RateParams {
  int64_t window_ms = 0;
  std::optional<double> max_delta;
  std::optional<double> max_rate_per_minute;
  Direction direction = Direction::kBoth;
};

struct StaleParams {
  int64_t after_ms = 0;
};

struct GeofenceParams {
  GeofenceTrigger trigger = GeofenceTrigger::kEnter;
};

//! count_in_window: `count` events of `category` within `radius_m` of a cluster's centre and
//! within `window_ms` of one another.
struct CountParams {
  std::string category;
  int count = 2;
  double radius_m = 0;
  int64_t window_ms = 0;
};

//! The CAP-style fields every alert of the rule carries. `headline` is a template:
//! {entityId} {value} {attribute} {subject} {count} {rule} are replaced when a signal is made.
struct AlertTemplate {
  Category category = Category::kOther;
  Severity severity = Severity::kUnknown;
  Urgency urgency = Urgency::kUnknown;
  Certainty certainty = Certainty::kUnknown;
  std::string headline;
  std::string description;
  std::optional<int64_t> expires_after_ms;  //!< alert.expires = onset + this
};

//! Signals whose time falls in [from, to) are dropped by the AlertBook (a planned maintenance,
//! a known festival crowd).
struct SuppressWindow {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  bool contains(int64_t t) const { return t >= from_ms && t < to_ms; }
};

//! One rule. Only the parameter block matching `kind` is used (`threshold` also for kKpi).
struct Rule {
  std::string id;
  std::string name;
  int64_t version = 1;
  bool enabled = true;
  RuleKind kind = RuleKind::kThreshold;
  Target target;
  ThresholdParams threshold;
  RateParams rate;
  StaleParams stale;
  GeofenceParams geofence;
  CountParams count;
  std::string kpi;  //!< the KPI name for kKpi
  AlertTemplate alert;
  std::vector<SuppressWindow> suppress;
};

//! Resolves a ward (or any named area) id to its geometry; nullopt when unknown.
using AreaResolver = std::function<std::optional<geo::Geometry>(const std::string& area_id)>;

//! Parses and validates a rule. Unknown fields are rejected (a typo such as "forSecond" must not
//! silently become "fire immediately"). Errors are Errc::kInvalidArgument with the field path
//! first, e.g. "alert.severity: must be one of Extreme, Severe, Moderate, Minor, Unknown (got
//! \"High\")". `target.areaId` needs a resolver that knows the id.
core::Result<Rule> ruleFromJson(const ioc::Json& j, const AreaResolver& resolver = {});

//! The JSON ruleFromJson reads (areaId when the area came from one, else the area GeoJSON).
ioc::Json ruleToJson(const Rule& rule);

//! The semantic checks ruleFromJson applies, for rules built in code.
core::Status validateRule(const Rule& rule);

//! RFC 3339 date-time ("2026-11-22T08:00:00Z", "...T15:00:00.250+07:00") to Unix ms.
core::Result<int64_t> parseRfc3339(std::string_view s);

//! Shortest text that reads back as the same double ("35.5", "1e+21").
std::string formatValue(double v);

//! Fills a headline template; unknown placeholders are left as written.
std::string renderTemplate(std::string_view tmpl, std::string_view subject, double value,
                           std::string_view attribute, std::string_view rule_id, int64_t count);

}  // namespace ioc::rules
