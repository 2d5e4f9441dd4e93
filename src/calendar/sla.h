#pragma once
// Service-level agreements for incidents and citizen reports: a budget of working time per
// category and priority, reminders before the deadline, escalation after it, and a clock that
// stops while the city waits on the citizen.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calendar/working_calendar.h"
#include "core/json.h"
#include "core/result.h"

namespace ioc::calendar {

enum class SlaUnit { kWorkingDays, kWorkingHours };

struct SlaPolicy {
  std::string category;  //!< e.g. "pothole"; "*" matches any category
  std::string priority;  //!< e.g. "high"; "*" matches any priority
  SlaUnit unit = SlaUnit::kWorkingDays;
  double amount = 1;  //!< working days (a whole number >= 1) or working hours (> 0)
  DueRule due_rule = DueRule::kSameLocalTime;     //!< for working days only
  std::vector<double> reminders{0.5, 0.75, 0.9};  //!< fractions of the budget, ascending, (0, 1)
  double due_soon_at = 0.75;                      //!< fraction from which the state is due soon
  std::optional<double> escalate_after_hours;     //!< working hours past the deadline; none = never
};

//! {"category","priority","duration":{"working_days":3[,"due":"same_time"|"end_of_day"]} or
//! {"working_hours":4.5},"reminders_pct":[50,75,90],"due_soon_pct":75,
//! "escalate_after":{"working_hours":4},"note"}. Unknown keys are errors.
core::Result<SlaPolicy> parseSlaPolicy(const ioc::Json& obj);
//! {"policies":[...]} or a bare array of policies.
core::Result<std::vector<SlaPolicy>> parseSlaPolicies(std::string_view json_text);
//! Best match: exact, then (category, "*"), then ("*", priority), then ("*", "*"); or nullptr.
const SlaPolicy* findSlaPolicy(const std::vector<SlaPolicy>& policies, std::string_view category,
                               std::string_view priority);

enum class SlaStatus { kOnTime, kDueSoon, kOverdue };
//! "on_time", "due_soon", "overdue".
const char* slaStatusName(SlaStatus status);

struct SlaState {
  SlaStatus status = SlaStatus::kOnTime;
  double fraction_used = 0;  //!< working time used / budget; above 1 once overdue
  int64_t budget_ms = 0;     //!< working time allowed
  int64_t used_ms = 0;       //!< working time used while not paused
  int64_t remaining_ms = 0;  //!< budget - used; negative when overdue
  int64_t deadline_ms = 0;   //!< due instant given the pauses; while paused, as if resumed now
  bool paused = false;
  int64_t paused_ms = 0;                    //!< wall-clock time spent paused so far
  int reminders_passed = 0;                 //!< reminder points reached (send each once)
  std::optional<int64_t> next_reminder_ms;  //!< when the next reminder point is reached
  bool escalated = false;
  std::optional<int64_t> escalation_ms;  //!< when (or since when) the case escalates
};

//! {"status","fraction_used","budget_ms","used_ms","remaining_ms","deadline_ms","paused",
//!  "paused_ms","reminders_passed","next_reminder_ms"?,"escalated","escalation_ms"?}.
ioc::Json toJson(const SlaState& s);

//! The SLA clock of one case. Working time counts from opening except between pause() and
//! resume(); the deadline moves by the working time spent paused. Not thread-safe (one case is
//! updated by one request at a time); to restore a stored case, replay open/pause/resume.
class SlaClock {
 public:
  struct Pause {
    int64_t from_ms = 0;
    std::optional<int64_t> to_ms;  //!< none while still paused
  };

  //! kInvalidArgument for an invalid policy or a null calendar.
  static core::Result<SlaClock> open(std::shared_ptr<const WorkingCalendar> calendar,
                                     SlaPolicy policy, int64_t opened_ms);

  //! Due instant for a case opened at `opened_ms` under this policy, never paused.
  core::Result<int64_t> deadline(int64_t opened_ms) const;
  //! Due instant of this case given its pauses; while paused, as if resumed at `now_ms`.
  int64_t currentDeadline(int64_t now_ms) const;

  //! kConflict if already paused; kInvalidArgument if `at_ms` precedes the last event.
  core::Status pause(int64_t at_ms);
  //! kConflict if not paused; kInvalidArgument if `at_ms` precedes the pause.
  core::Status resume(int64_t at_ms);
  bool paused() const { return !pauses_.empty() && !pauses_.back().to_ms; }

  //! State at `now_ms`; instants before the last pause/resume are read as that instant.
  SlaState state(int64_t now_ms) const;

  int64_t openedMs() const { return opened_ms_; }
  int64_t budgetMs() const { return budget_ms_; }
  const SlaPolicy& policy() const { return policy_; }
  const std::vector<Pause>& pauses() const { return pauses_; }

 private:
  SlaClock(std::shared_ptr<const WorkingCalendar> calendar, SlaPolicy policy, int64_t opened_ms)
      : calendar_(std::move(calendar)), policy_(std::move(policy)), opened_ms_(opened_ms) {}

  int64_t lastEventMs() const;
  int64_t usedMs(int64_t now_ms) const;
  //! The instant at which `target` ms of working time are used up.
  int64_t instantWhenUsed(int64_t target, int64_t now_ms) const;

  std::shared_ptr<const WorkingCalendar> calendar_;
  SlaPolicy policy_;
  int64_t opened_ms_ = 0;
  int64_t budget_ms_ = 0;
  int64_t escalation_ms_ = 0;  // working time after the deadline, if policy_ escalates
  std::vector<Pause> pauses_;
};

}  // namespace ioc::calendar
