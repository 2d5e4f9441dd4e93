#pragma once
// Alerts and their lifecycle: the AlertBook turns the engine's signals into de-duplicated alerts
// (one open alert per rule and subject) and applies operators' transitions. Pure and in memory;
// every call returns the AlertChanges it made so the caller can persist and stream them.
//
// Lifecycle:
//   new ──acknowledge──▶ acknowledged ──resolve──▶ resolved ──close──▶ closed (final)
//    └──────────────resolve──────────────────────▲    │
//   system: a kClear signal resolves a new or acknowledged alert (resolvedBy "system").
//   reopen: resolved ──▶ acknowledged, only while no other alert is open for the same rule and
//           subject (the operator who reopens it has seen it). A closed alert cannot be reopened.
// An alert is "open" while new or acknowledged. A kFire or kUpdate for a (rule, subject) with an
// open alert increments its count instead of opening another; with none, it opens a new alert
// (so a condition still firing after an operator resolved it comes back as a new alert).
//
// Threading: not thread-safe; one thread (or a caller-held mutex) drives an AlertBook.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "rules/rule.h"
#include "rules/signal.h"

namespace ioc::rules {

enum class AlertStatus { kNew, kAcknowledged, kResolved, kClosed };
std::string_view toString(AlertStatus s);  //!< "new", "acknowledged", "resolved", "closed"
std::optional<AlertStatus> parseAlertStatus(std::string_view s);

//! One step of an alert's history. `by` is a user id, or "system" for automatic steps.
struct Transition {
  std::optional<AlertStatus> from;  //!< nullopt for the opening
  AlertStatus to = AlertStatus::kNew;
  std::string by;
  int64_t at_ms = 0;
  std::string note;
};

//! Most evidence items an alert keeps: the first few (what opened it) and the latest.
inline constexpr size_t kMaxAlertEvidence = 20;
inline constexpr size_t kKeptFirstEvidence = 5;

struct Alert {
  std::string id;
  std::string rule_id;
  int64_t rule_version = 1;
  std::string subject;
  AlertStatus status = AlertStatus::kNew;
  // CAP-style fields.
  Category category = Category::kOther;
  Severity severity = Severity::kUnknown;
  Urgency urgency = Urgency::kUnknown;
  Certainty certainty = Certainty::kUnknown;
  std::string headline;  //!< rendered from the latest signal
  std::string description;
  std::optional<geo::Geometry> area;  //!< latest entity point, cluster centroid or rule area
  int64_t onset_ms = 0;               //!< the first fire
  std::optional<int64_t> expires_ms;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  int64_t count = 1;  //!< fire/update signals folded into this alert
  double value = 0;   //!< latest value
  std::vector<Evidence> evidence;
  std::string resolved_by;  //!< "system" for auto-resolve
  std::string resolution;   //!< the reason given when resolved
  std::vector<Transition> history;

  bool open() const { return status == AlertStatus::kNew || status == AlertStatus::kAcknowledged; }
};

enum class ChangeType { kOpened, kUpdated, kAcknowledged, kResolved, kClosed, kReopened };
std::string_view toString(ChangeType t);  //!< "opened", "updated", ...

//! What one call changed: the alert as it is after the change (persist it whole).
struct AlertChange {
  ChangeType type = ChangeType::kOpened;
  Alert alert;
};

//! Makes alert ids (e.g. a ULID or "ALR-2026-000123"); must not repeat.
using IdGenerator = std::function<std::string()>;

class AlertBook {
 public:
  //! `clock` dates operator transitions; automatic ones take the signal's time.
  AlertBook(const core::Clock& clock, IdGenerator next_id);

  //! Folds one signal in. kFire/kUpdate inside one of the rule's suppression windows are
  //! dropped and counted (suppressedCount); kClear always passes, so an alert opened before a
  //! window still resolves during it. A kClear with no open alert changes nothing.
  std::vector<AlertChange> apply(const Signal& signal);
  std::vector<AlertChange> apply(const std::vector<Signal>& signals);

  //! Operator transitions. kNotFound for an unknown id; kConflict (naming the current status)
  //! when the alert is not in a state the transition starts from; kInvalidArgument for an
  //! empty `by`.
  core::Result<AlertChange> acknowledge(const std::string& id, const std::string& by,
                                        const std::string& note = "");
  core::Result<AlertChange> resolve(const std::string& id, const std::string& by,
                                    const std::string& reason = "");
  core::Result<AlertChange> close(const std::string& id, const std::string& by,
                                  const std::string& note = "");
  core::Result<AlertChange> reopen(const std::string& id, const std::string& by,
                                   const std::string& reason = "");

  const Alert* find(const std::string& id) const;
  //! The open alert for a rule and subject, if any.
  const Alert* openFor(const std::string& rule_id, const std::string& subject) const;
  //! Every alert held, ordered by id.
  std::vector<const Alert*> all() const;

  //! Loads a persisted alert (at startup). kAlreadyExists for a known id; kConflict when it is
  //! open and another open alert holds its rule and subject.
  core::Status restore(Alert alert);
  //! Drops a closed alert from memory (once persisted). False if unknown or not closed.
  bool forget(const std::string& id);

  uint64_t suppressedCount() const { return suppressed_; }
  size_t size() const { return alerts_.size(); }

 private:
  static std::string openKey(const std::string& rule_id, const std::string& subject);
  core::Result<Alert*> transitionTarget(const std::string& id, const std::string& by,
                                        std::initializer_list<AlertStatus> from,
                                        std::string_view action);

  const core::Clock* clock_;
  IdGenerator next_id_;
  std::map<std::string, Alert> alerts_;
  std::unordered_map<std::string, std::string> open_;  //!< openKey -> alert id
  uint64_t suppressed_ = 0;
};

ioc::Json evidenceToJson(const Evidence& e);
core::Result<Evidence> evidenceFromJson(const ioc::Json& j);
//! Times are RFC 3339 strings; area is GeoJSON. alertFromJson(alertToJson(a)) == a.
ioc::Json alertToJson(const Alert& a);
core::Result<Alert> alertFromJson(const ioc::Json& j);

}  // namespace ioc::rules
