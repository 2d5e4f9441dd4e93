#include "calendar/working_calendar.h"

#include <gtest/gtest.h>

#include <random>

#include "test_data.h"

namespace ioc::calendar {
namespace {

using testing::at;
using testing::defaultCalendar;
using testing::kHourMs;
using testing::loadCases;
using testing::shippedCalendar;

TEST(WorkingCalendar, NextWorkingInstant) {
  const auto& cal = *shippedCalendar();
  const auto cases = loadCases("working_time_cases.json");
  for (const auto& c : cases["next_working"]) {
    SCOPED_TRACE(c["at"].get<std::string>() + " " + c.value("note", ""));
    EXPECT_EQ(formatLocal(cal.nextWorkingInstant(at(c["at"]))), formatLocal(at(c["expect"])));
  }
}

TEST(WorkingCalendar, AddWorkingHours) {
  const auto& cal = *shippedCalendar();
  const auto cases = loadCases("working_time_cases.json");
  for (const auto& c : cases["add_hours"]) {
    SCOPED_TRACE(c["start"].get<std::string>() + " + " + c["hours"].dump() + "h " +
                 c.value("note", ""));
    auto due = cal.addWorkingHours(at(c["start"]), c["hours"].get<double>());
    ASSERT_TRUE(due.ok()) << due.error().message;
    EXPECT_EQ(formatLocal(*due), formatLocal(at(c["expect"])));
    // The inverse: exactly that much working time lies between start and due.
    EXPECT_EQ(cal.workingMillisBetween(at(c["start"]), *due),
              std::llround(c["hours"].get<double>() * kHourMs));
  }
}

TEST(WorkingCalendar, WorkingMillisBetween) {
  const auto& cal = *shippedCalendar();
  const auto cases = loadCases("working_time_cases.json");
  for (const auto& c : cases["between"]) {
    SCOPED_TRACE(c["from"].get<std::string>() + " .. " + c["to"].get<std::string>() + " " +
                 c.value("note", ""));
    EXPECT_EQ(cal.workingMillisBetween(at(c["from"]), at(c["to"])),
              std::llround(c["hours"].get<double>() * kHourMs));
  }
}

TEST(WorkingCalendar, AddWorkingDays) {
  const auto& cal = *shippedCalendar();
  const auto cases = loadCases("working_time_cases.json");
  for (const auto& c : cases["add_days"]) {
    SCOPED_TRACE(c["start"].get<std::string>() + " + " + c["days"].dump() + "d " +
                 c["due"].get<std::string>() + " " + c.value("note", ""));
    const DueRule rule = c["due"] == "end_of_day" ? DueRule::kEndOfDay : DueRule::kSameLocalTime;
    auto due = cal.addWorkingDays(at(c["start"]), c["days"].get<int>(), rule);
    ASSERT_TRUE(due.ok()) << due.error().message;
    EXPECT_EQ(formatLocal(*due), formatLocal(at(c["expect"])));
  }
}

TEST(WorkingCalendar, BadArgumentsAreErrors) {
  const auto& cal = *defaultCalendar();
  const int64_t t = at("2025-03-03T09:00");
  EXPECT_EQ(cal.addWorkingDays(t, -1).error().code, core::Errc::kInvalidArgument);
  EXPECT_FALSE(cal.addWorkingDays(t, WorkingCalendar::kMaxWorkingDays + 1).ok());
  EXPECT_FALSE(cal.addWorkingHours(t, -0.5).ok());
  EXPECT_FALSE(cal.addWorkingHours(t, std::nan("")).ok());
  EXPECT_FALSE(cal.addWorkingHours(t, 1e300).ok());
  EXPECT_FALSE(cal.addWorkingMillis(t, -1).ok());
  EXPECT_FALSE(cal.isWorkingDay(Date{2025, 2, 30}));
  // Extreme instants are clamped instead of overflowing.
  EXPECT_GE(cal.nextWorkingInstant(INT64_MAX), WorkingCalendar::kMaxInstantMs);
  EXPECT_GE(cal.nextWorkingInstant(INT64_MIN), WorkingCalendar::kMinInstantMs);
  EXPECT_GE(cal.workingMillisBetween(INT64_MIN, INT64_MAX), 0);
  EXPECT_TRUE(cal.addWorkingDays(INT64_MAX, 5).ok());
}

TEST(WorkingCalendar, NDaysEqualNTimesTheDailyHours) {
  // The reason kSameLocalTime is the default: a day-based and an hour-based SLA agree.
  const auto& cal = *shippedCalendar();
  EXPECT_EQ(cal.workingMillisPerDay(), 8 * kHourMs);
  std::mt19937_64 rng(20260213);
  const int64_t from = at("2024-12-01T00:00");
  for (int i = 0; i < 300; ++i) {
    const int64_t start = from + static_cast<int64_t>(rng() % (730ULL * 24 * kHourMs));
    const int n = static_cast<int>(rng() % 15);
    auto by_days = cal.addWorkingDays(start, n);
    ASSERT_TRUE(by_days.ok());
    EXPECT_EQ(cal.workingMillisBetween(start, *by_days), n * cal.workingMillisPerDay())
        << formatLocal(start) << " + " << n;
    if (n > 0) {
      auto by_hours = cal.addWorkingMillis(start, n * cal.workingMillisPerDay());
      ASSERT_TRUE(by_hours.ok());
      // Equal, except that the hour count stops at 17:00 where the day count says 07:30.
      EXPECT_EQ(cal.workingMillisBetween(*by_hours, *by_days), 0) << formatLocal(start);
    }
  }
}

TEST(WorkingCalendar, AroundTheClockOperations) {
  // A 24/7 operations centre: every day works all day, only holidays are off.
  auto config = parseCalendarConfig(R"({"weekend": [], "working_hours": [["00:00", "24:00"]]})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok()) << cal.error().message;
  EXPECT_EQ(cal->workingMillisPerDay(), 24 * kHourMs);
  EXPECT_TRUE(cal->isWorkingDay(Date{2025, 3, 8}));
  EXPECT_EQ(*cal->addWorkingHours(at("2025-03-07T20:00"), 10), at("2025-03-08T06:00"));
  EXPECT_EQ(cal->workingMillisBetween(at("2025-03-03T00:00"), at("2025-03-10T00:00")),
            7 * 24 * kHourMs);
  // Holidays still stop the clock: 30/4 and 1/5/2025.
  EXPECT_EQ(*cal->addWorkingHours(at("2025-04-29T23:00"), 2), at("2025-05-02T01:00"));
}

TEST(WorkingCalendar, CustomHours) {
  auto config = parseCalendarConfig(
      R"({"working_hours": [["08:00", "12:00"], ["13:30", "17:30"]], "weekend": ["sun"]})");
  ASSERT_TRUE(config.ok());
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(cal->nextWorkingInstant(at("2025-03-08T12:00")), at("2025-03-08T13:30"));
  EXPECT_EQ(*cal->addWorkingHours(at("2025-03-08T17:00"), 1), at("2025-03-10T08:30"));
  EXPECT_EQ(cal->weekend()[static_cast<size_t>(Weekday::kSaturday)], false);
}

}  // namespace
}  // namespace ioc::calendar
