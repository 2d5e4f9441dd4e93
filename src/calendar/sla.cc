#include "calendar/sla.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ioc::calendar {
namespace {

using core::Errc;
using json = ioc::Json;

constexpr double kMsPerHour = 3'600'000;

core::Error invalid(const std::string& message) {
  return core::makeError(Errc::kInvalidArgument, "sla: " + message);
}

bool isNumber(const json& v) {
  return v.is_number() && std::isfinite(v.get<double>());
}

core::Status readDuration(const json& d, SlaPolicy& p) {
  if (!d.is_object()) return invalid("duration must be an object");
  bool have = false;
  for (const auto& [key, value] : d.items()) {
    if (key == "working_days") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > WorkingCalendar::kMaxWorkingDays) {
        return invalid("duration.working_days must be a whole number 1.." +
                       std::to_string(WorkingCalendar::kMaxWorkingDays));
      }
      p.unit = SlaUnit::kWorkingDays;
      p.amount = static_cast<double>(value.get<int64_t>());
    } else if (key == "working_hours") {
      if (!isNumber(value) || value.get<double>() * kMsPerHour < 1 ||
          value.get<double>() * kMsPerHour >
              static_cast<double>(WorkingCalendar::kMaxWorkingMillis)) {
        return invalid("duration.working_hours must be a positive number");
      }
      p.unit = SlaUnit::kWorkingHours;
      p.amount = value.get<double>();
    } else if (key != "due") {
      return invalid("unknown field duration." + key);
    } else {
      continue;
    }
    if (have) return invalid("duration needs exactly one of working_days, working_hours");
    have = true;
  }
  if (!have) return invalid("duration needs exactly one of working_days, working_hours");
  if (const auto due = d.find("due"); due != d.end()) {
    if (p.unit != SlaUnit::kWorkingDays) return invalid("duration.due applies to working_days");
    if (*due == "same_time") {
      p.due_rule = DueRule::kSameLocalTime;
    } else if (*due == "end_of_day") {
      p.due_rule = DueRule::kEndOfDay;
    } else {
      return invalid("duration.due must be \"same_time\" or \"end_of_day\"");
    }
  }
  return {};
}

core::Status validate(const SlaPolicy& p) {
  if (p.category.empty() || p.priority.empty())
    return invalid("category and priority are required");
  if (p.unit == SlaUnit::kWorkingDays &&
      (p.amount < 1 || p.amount > WorkingCalendar::kMaxWorkingDays ||
       p.amount != std::floor(p.amount))) {
    return invalid("working days must be a whole number >= 1");
  }
  if (p.unit == SlaUnit::kWorkingHours &&
      (!std::isfinite(p.amount) || p.amount * kMsPerHour < 1 ||
       p.amount * kMsPerHour > static_cast<double>(WorkingCalendar::kMaxWorkingMillis))) {
    return invalid("working hours must be positive");
  }
  for (size_t i = 0; i < p.reminders.size(); ++i) {
    if (!(p.reminders[i] > 0 && p.reminders[i] < 1) ||
        (i > 0 && p.reminders[i] <= p.reminders[i - 1])) {
      return invalid("reminders must ascend strictly within (0 %, 100 %)");
    }
  }
  if (!(p.due_soon_at > 0 && p.due_soon_at <= 1))
    return invalid("due_soon must be within (0 %, 100 %]");
  if (p.escalate_after_hours && !(*p.escalate_after_hours >= 0 &&
                                  *p.escalate_after_hours * kMsPerHour <=
                                      static_cast<double>(WorkingCalendar::kMaxWorkingMillis))) {
    return invalid("escalate_after must be a non-negative number of working hours");
  }
  return {};
}

}  // namespace

core::Result<SlaPolicy> parseSlaPolicy(const json& obj) {
  if (!obj.is_object()) return invalid("a policy must be an object");
  SlaPolicy p;
  bool have_duration = false;
  for (const auto& [key, value] : obj.items()) {
    if (key == "category" || key == "priority") {
      if (!value.is_string()) return invalid(key + " must be a string");
      (key == "category" ? p.category : p.priority) = value.get<std::string>();
    } else if (key == "duration") {
      if (auto s = readDuration(value, p); !s) return s.error();
      have_duration = true;
    } else if (key == "reminders_pct") {
      if (!value.is_array()) return invalid("reminders_pct must be an array of percentages");
      p.reminders.clear();
      for (const json& r : value) {
        if (!isNumber(r)) return invalid("reminders_pct must be an array of percentages");
        p.reminders.push_back(r.get<double>() / 100);
      }
    } else if (key == "due_soon_pct") {
      if (!isNumber(value)) return invalid("due_soon_pct must be a number");
      p.due_soon_at = value.get<double>() / 100;
    } else if (key == "escalate_after") {
      const auto h =
          value.is_object() && value.size() == 1 ? value.find("working_hours") : value.end();
      if (h == value.end() || !isNumber(*h)) {
        return invalid("escalate_after must be {\"working_hours\": number}");
      }
      p.escalate_after_hours = h->get<double>();
    } else if (key != "note") {
      return invalid("unknown field '" + key + "'");
    }
  }
  if (!have_duration) return invalid("duration is required");
  if (auto s = validate(p); !s) return s.error();
  return p;
}

core::Result<std::vector<SlaPolicy>> parseSlaPolicies(std::string_view json_text) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return core::makeError(Errc::kMalformedInput, "sla: not valid JSON");
  const json* list = &root;
  if (root.is_object()) {
    const auto it = root.find("policies");
    if (it == root.end()) return invalid("expected {\"policies\": [...]}");
    list = &*it;
  }
  if (!list->is_array()) return invalid("policies must be an array");
  std::vector<SlaPolicy> out;
  for (size_t i = 0; i < list->size(); ++i) {
    auto p = parseSlaPolicy((*list)[i]);
    if (!p) return invalid("policy #" + std::to_string(i) + ": " + p.error().message);
    for (const SlaPolicy& q : out) {
      if (q.category == p->category && q.priority == p->priority) {
        return invalid("policy #" + std::to_string(i) + " repeats " + q.category + "/" +
                       q.priority);
      }
    }
    out.push_back(std::move(*p));
  }
  return out;
}

const SlaPolicy* findSlaPolicy(const std::vector<SlaPolicy>& policies, std::string_view category,
                               std::string_view priority) {
  const std::pair<std::string_view, std::string_view> order[] = {
      {category, priority}, {category, "*"}, {"*", priority}, {"*", "*"}};
  for (const auto& [c, p] : order) {
    for (const SlaPolicy& policy : policies) {
      if (policy.category == c && policy.priority == p) return &policy;
    }
  }
  return nullptr;
}

const char* slaStatusName(SlaStatus status) {
  switch (status) {
    case SlaStatus::kOnTime:
      return "on_time";
    case SlaStatus::kDueSoon:
      return "due_soon";
    case SlaStatus::kOverdue:
      return "overdue";
  }
  return "unknown";
}

json toJson(const SlaState& s) {
  json j = {{"status", slaStatusName(s.status)},
            {"fraction_used", s.fraction_used},
            {"budget_ms", s.budget_ms},
            {"used_ms", s.used_ms},
            {"remaining_ms", s.remaining_ms},
            {"deadline_ms", s.deadline_ms},
            {"paused", s.paused},
            {"paused_ms", s.paused_ms},
            {"reminders_passed", s.reminders_passed},
            {"escalated", s.escalated}};
  if (s.next_reminder_ms) j["next_reminder_ms"] = *s.next_reminder_ms;
  if (s.escalation_ms) j["escalation_ms"] = *s.escalation_ms;
  return j;
}

core::Result<SlaClock> SlaClock::open(std::shared_ptr<const WorkingCalendar> calendar,
                                      SlaPolicy policy, int64_t opened_ms) {
  if (!calendar) return invalid("no working calendar");
  if (auto s = validate(policy); !s) return s.error();
  SlaClock clock(std::move(calendar), std::move(policy), opened_ms);
  auto due = clock.deadline(opened_ms);
  if (!due) return due.error();
  // The budget is fixed at opening, so that pauses move the deadline by exactly the working
  // time they took, whichever unit the policy uses.
  clock.budget_ms_ = clock.calendar_->workingMillisBetween(opened_ms, *due);
  if (clock.budget_ms_ <= 0) return invalid("the policy leaves no working time");
  if (clock.policy_.escalate_after_hours) {
    clock.escalation_ms_ = std::llround(*clock.policy_.escalate_after_hours * kMsPerHour);
  }
  return clock;
}

core::Result<int64_t> SlaClock::deadline(int64_t opened_ms) const {
  if (policy_.unit == SlaUnit::kWorkingDays) {
    return calendar_->addWorkingDays(opened_ms, static_cast<int>(policy_.amount), policy_.due_rule);
  }
  return calendar_->addWorkingHours(opened_ms, policy_.amount);
}

int64_t SlaClock::lastEventMs() const {
  if (pauses_.empty()) return opened_ms_;
  return pauses_.back().to_ms.value_or(pauses_.back().from_ms);
}

core::Status SlaClock::pause(int64_t at_ms) {
  if (paused()) return core::makeError(Errc::kConflict, "sla: already paused");
  if (at_ms < lastEventMs()) return invalid("pause precedes the last event");
  pauses_.push_back(Pause{at_ms, std::nullopt});
  return {};
}

core::Status SlaClock::resume(int64_t at_ms) {
  if (!paused()) return core::makeError(Errc::kConflict, "sla: not paused");
  if (at_ms < pauses_.back().from_ms) return invalid("resume precedes the pause");
  pauses_.back().to_ms = at_ms;
  return {};
}

int64_t SlaClock::usedMs(int64_t now_ms) const {
  int64_t used = 0;
  int64_t start = opened_ms_;
  for (const Pause& p : pauses_) {
    used += calendar_->workingMillisBetween(start, p.from_ms);
    if (!p.to_ms) return used;
    start = *p.to_ms;
  }
  return used + calendar_->workingMillisBetween(start, std::max(start, now_ms));
}

int64_t SlaClock::instantWhenUsed(int64_t target, int64_t now_ms) const {
  int64_t used = 0;
  int64_t start = opened_ms_;
  const auto add = [&](int64_t from, int64_t ms) {
    auto r = calendar_->addWorkingMillis(from, ms);
    return r ? *r : WorkingCalendar::kMaxInstantMs;  // only beyond ~100 years of working time
  };
  for (const Pause& p : pauses_) {
    const int64_t w = calendar_->workingMillisBetween(start, p.from_ms);
    if (used + w >= target) return add(start, target - used);
    used += w;
    // While paused, project as if the clock resumed now.
    start = p.to_ms ? *p.to_ms : std::max(now_ms, p.from_ms);
  }
  return add(start, target - used);
}

int64_t SlaClock::currentDeadline(int64_t now_ms) const {
  return instantWhenUsed(budget_ms_, std::max(now_ms, lastEventMs()));
}

SlaState SlaClock::state(int64_t now_ms) const {
  const int64_t now = std::max(now_ms, lastEventMs());
  SlaState s;
  s.budget_ms = budget_ms_;
  s.used_ms = usedMs(now);
  s.remaining_ms = budget_ms_ - s.used_ms;
  s.fraction_used = static_cast<double>(s.used_ms) / static_cast<double>(budget_ms_);
  s.deadline_ms = instantWhenUsed(budget_ms_, now);
  s.paused = paused();
  for (const Pause& p : pauses_) s.paused_ms += p.to_ms.value_or(now) - p.from_ms;
  for (double r : policy_.reminders) {
    const int64_t target = std::llround(r * static_cast<double>(budget_ms_));
    if (s.used_ms >= target) {
      ++s.reminders_passed;
    } else if (!s.next_reminder_ms) {
      s.next_reminder_ms = instantWhenUsed(target, now);
    }
  }
  // Overdue by the wall clock: a case due at 17:00 is late at 17:01, although no working time
  // passes until the next morning.
  if (now > s.deadline_ms) {
    s.status = SlaStatus::kOverdue;
  } else if (s.fraction_used >= policy_.due_soon_at) {
    s.status = SlaStatus::kDueSoon;
  }
  if (policy_.escalate_after_hours) {
    s.escalation_ms = instantWhenUsed(budget_ms_ + escalation_ms_, now);
    s.escalated = now > *s.escalation_ms;
  }
  return s;
}

}  // namespace ioc::calendar
