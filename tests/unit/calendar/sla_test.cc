#include "calendar/sla.h"

#include <gtest/gtest.h>

#include "test_data.h"

namespace ioc::calendar {
namespace {

using testing::at;
using testing::kHourMs;
using testing::loadCases;
using testing::shippedCalendar;

const std::vector<SlaPolicy>& policies() {
  static const std::vector<SlaPolicy> p = [] {
    std::ifstream in(testing::sourcePath("tests/data/calendar/sla_policies.json"));
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = parseSlaPolicies(text.str());
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
    return parsed.ok() ? *parsed : std::vector<SlaPolicy>{};
  }();
  return p;
}

TEST(Sla, PoliciesParseAndMatch) {
  ASSERT_EQ(policies().size(), 5u);
  const SlaPolicy* pothole = findSlaPolicy(policies(), "pothole", "normal");
  ASSERT_NE(pothole, nullptr);
  EXPECT_EQ(pothole->unit, SlaUnit::kWorkingDays);
  EXPECT_EQ(pothole->amount, 3);
  EXPECT_EQ(pothole->reminders, (std::vector<double>{0.5, 0.75, 0.9}));
  EXPECT_EQ(pothole->escalate_after_hours, 4.0);
  EXPECT_EQ(findSlaPolicy(policies(), "citizen_report", "low")->due_rule, DueRule::kEndOfDay);
  EXPECT_EQ(findSlaPolicy(policies(), "streetlight", "urgent")->amount, 8);
  EXPECT_EQ(findSlaPolicy(policies(), "streetlight", "low")->amount, 10);
  EXPECT_TRUE(findSlaPolicy(policies(), "streetlight", "low")->reminders.empty());
  EXPECT_EQ(findSlaPolicy({}, "a", "b"), nullptr);
}

TEST(Sla, Scenarios) {
  const auto cases = loadCases("sla_cases.json");
  for (const auto& sc : cases["scenarios"]) {
    SCOPED_TRACE(sc["name"].get<std::string>());
    const SlaPolicy* policy = findSlaPolicy(policies(), sc["policy"][0].get<std::string>(),
                                            sc["policy"][1].get<std::string>());
    ASSERT_NE(policy, nullptr);
    auto clock = SlaClock::open(shippedCalendar(), *policy, at(sc["opened"]));
    ASSERT_TRUE(clock.ok()) << clock.error().message;
    EXPECT_EQ(formatLocal(*clock->deadline(at(sc["opened"]))), formatLocal(at(sc["deadline"])));
    EXPECT_EQ(clock->budgetMs(), std::llround(sc["budget_hours"].get<double>() * kHourMs));
    for (const auto& e : sc["events"]) {
      const auto s = e[0] == "pause" ? clock->pause(at(e[1])) : clock->resume(at(e[1]));
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
    for (const auto& c : sc["checks"]) {
      SCOPED_TRACE("now " + c["now"].get<std::string>() + " " + c.value("note", ""));
      const int64_t now = at(c["now"]);
      const SlaState st = clock->state(now);
      EXPECT_STREQ(slaStatusName(st.status), c["status"].get<std::string>().c_str());
      if (c.contains("fraction")) {
        EXPECT_NEAR(st.fraction_used, c["fraction"].get<double>(), 1e-4);
      }
      if (c.contains("reminders_passed")) {
        EXPECT_EQ(st.reminders_passed, c["reminders_passed"].get<int>());
      }
      if (c.contains("next_reminder")) {
        ASSERT_TRUE(st.next_reminder_ms.has_value());
        EXPECT_EQ(formatLocal(*st.next_reminder_ms), formatLocal(at(c["next_reminder"])));
      }
      if (c.contains("escalated")) {
        EXPECT_EQ(st.escalated, c["escalated"].get<bool>());
      }
      if (c.contains("escalation")) {
        ASSERT_TRUE(st.escalation_ms.has_value());
        EXPECT_EQ(formatLocal(*st.escalation_ms), formatLocal(at(c["escalation"])));
      }
      if (c.contains("paused")) {
        EXPECT_EQ(st.paused, c["paused"].get<bool>());
      }
      if (c.contains("paused_hours")) {
        EXPECT_EQ(st.paused_ms, std::llround(c["paused_hours"].get<double>() * kHourMs));
      }
      if (c.contains("current_deadline")) {
        EXPECT_EQ(formatLocal(st.deadline_ms), formatLocal(at(c["current_deadline"])));
        EXPECT_EQ(clock->currentDeadline(now), st.deadline_ms);
      }
      EXPECT_EQ(st.remaining_ms, st.budget_ms - st.used_ms);
      const auto j = toJson(st);
      EXPECT_EQ(j["status"], c["status"]);
      EXPECT_EQ(j["deadline_ms"], st.deadline_ms);
    }
  }
}

TEST(Sla, PauseAndResumeAreChecked) {
  const SlaPolicy* policy = findSlaPolicy(policies(), "flooding", "urgent");
  ASSERT_NE(policy, nullptr);
  auto clock = SlaClock::open(shippedCalendar(), *policy, at("2025-03-03T08:00"));
  ASSERT_TRUE(clock.ok());
  EXPECT_EQ(clock->resume(at("2025-03-03T09:00")).error().code, core::Errc::kConflict);
  EXPECT_EQ(clock->pause(at("2025-03-03T07:00")).error().code, core::Errc::kInvalidArgument);
  ASSERT_TRUE(clock->pause(at("2025-03-03T09:00")).ok());
  EXPECT_TRUE(clock->paused());
  EXPECT_EQ(clock->pause(at("2025-03-03T09:30")).error().code, core::Errc::kConflict);
  EXPECT_EQ(clock->resume(at("2025-03-03T08:30")).error().code, core::Errc::kInvalidArgument);
  ASSERT_TRUE(clock->resume(at("2025-03-03T10:00")).ok());
  // Several pauses accumulate: 1 h, then 30 min.
  ASSERT_TRUE(clock->pause(at("2025-03-03T10:30")).ok());
  ASSERT_TRUE(clock->resume(at("2025-03-03T11:00")).ok());
  EXPECT_EQ(clock->pauses().size(), 2u);
  const SlaState st = clock->state(at("2025-03-03T11:30"));
  EXPECT_EQ(st.paused_ms, 90 * 60'000);
  EXPECT_EQ(st.used_ms, 2 * kHourMs);  // 08:00-09:00, 10:00-10:30, 11:00-11:30
  // Unpaused due 13:30 (3.5 h + 0.5 h); 1.5 working hours paused move it to 15:00.
  EXPECT_EQ(formatLocal(st.deadline_ms), formatLocal(at("2025-03-03T15:00")));
  // A query from before the last event reads as that event.
  EXPECT_EQ(clock->state(at("2025-03-03T08:00")).used_ms, 1 * kHourMs + 30 * 60'000);
}

TEST(Sla, InvalidPolicies) {
  const char* bad[] = {
      R"({"category": "a", "priority": "b"})",
      R"({"category": "a", "priority": "b", "duration": {}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 0}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 1.5}})",
      R"({"category": "a", "priority": "b", "duration": {"working_hours": -1}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 1, "working_hours": 2}})",
      R"({"category": "a", "priority": "b", "duration": {"working_hours": 2, "due": "end_of_day"}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2, "due": "noon"}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "reminders_pct": [75, 50]})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "reminders_pct": [100]})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "due_soon_pct": 0})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "escalate_after": 4})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "escalate_after": {"working_hours": -1}})",
      R"({"category": "", "priority": "b", "duration": {"working_days": 2}})",
      R"({"category": "a", "priority": "b", "duration": {"working_days": 2}, "sla": 1})",
      R"([])",
  };
  for (const char* text : bad) {
    auto p = parseSlaPolicy(ioc::Json::parse(text));
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.error().code, core::Errc::kInvalidArgument) << text;
  }
  EXPECT_EQ(parseSlaPolicies("{").error().code, core::Errc::kMalformedInput);
  EXPECT_FALSE(parseSlaPolicies(R"({"rules": []})").ok());
  EXPECT_FALSE(
      parseSlaPolicies(R"([{"category": "a", "priority": "b", "duration": {"working_days": 1}},
                                    {"category": "a", "priority": "b", "duration": {"working_days": 2}}])")
          .ok());
  EXPECT_TRUE(parseSlaPolicies("[]").ok());
  EXPECT_FALSE(SlaClock::open(nullptr, policies().front(), 0).ok());
  SlaPolicy zero = policies().front();
  zero.amount = 0;
  EXPECT_FALSE(SlaClock::open(shippedCalendar(), zero, 0).ok());
}

}  // namespace
}  // namespace ioc::calendar
