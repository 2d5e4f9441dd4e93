#include "calendar/holidays.h"

#include <gtest/gtest.h>

#include "calendar/working_calendar.h"
#include "test_data.h"

namespace ioc::calendar {
namespace {

using testing::date;
using testing::defaultCalendar;
using testing::loadCases;
using testing::shippedCalendar;

const char* kindName(DayKind k) {
  switch (k) {
    case DayKind::kWorking:
      return "working";
    case DayKind::kWeekend:
      return "weekend";
    case DayKind::kHoliday:
      return "holiday";
    case DayKind::kMakeUpWorkingDay:
      return "make_up";
  }
  return "?";
}

void checkTable(const WorkingCalendar& cal, const ioc::Json& table) {
  ASSERT_FALSE(table.empty());
  for (const auto& c : table) {
    const Date d = date(c["date"]);
    SCOPED_TRACE(c["date"].get<std::string>() + " " + c.value("note", ""));
    const std::string kind = c["kind"];
    EXPECT_EQ(kindName(cal.dayKind(d)), kind);
    EXPECT_EQ(cal.isWorkingDay(d), kind == "working" || kind == "make_up");
    const auto h = cal.holidays().find(d);
    if (c["holiday"].is_null()) {
      EXPECT_FALSE(h.has_value()) << holidayKindName(h->kind);
    } else {
      ASSERT_TRUE(h.has_value());
      EXPECT_EQ(holidayKindName(h->kind), c["holiday"].get<std::string>());
    }
  }
}

TEST(Holidays, ComputedRules) {
  checkTable(*defaultCalendar(), loadCases("holiday_cases.json")["computed"]);
}

TEST(Holidays, ShippedSchedule) {
  checkTable(*shippedCalendar(), loadCases("holiday_cases.json")["shipped"]);
}

TEST(Holidays, YearListIsOrderedAndComplete) {
  const auto list = defaultCalendar()->holidays().holidaysOf(2026);
  // 1/1, 5 Tết, Giỗ Tổ + nghỉ bù, 30/4, 1/5, 1/9, 2/9. No Tết day of 2026 is on a weekend.
  ASSERT_EQ(list.size(), 12u);
  for (size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1].date, list[i].date);
  EXPECT_EQ(list.front().date, (Date{2026, 1, 1}));
  EXPECT_EQ(list.back().date, (Date{2026, 9, 2}));
  EXPECT_STREQ(holidayDisplayName(list[1].kind), "Tết Nguyên Đán");
}

TEST(Holidays, NationalDayExtraAfter) {
  auto config = parseCalendarConfig(R"({"national_day_extra": "after"})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_TRUE(cal->isWorkingDay(Date{2025, 9, 1}));
  EXPECT_FALSE(cal->isWorkingDay(Date{2025, 9, 3}));
}

TEST(Holidays, MakeUpSaturdayAndBridgingDay) {
  // The 2024 schedule: Mon 29/4 off (bridging to 30/4-1/5), Sat 4/5 worked instead.
  auto config = parseCalendarConfig(R"({"years": {"2024": {
      "days_off": ["2024-04-29"], "working_days": ["2024-05-04"]}}})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(cal->dayKind(Date{2024, 4, 29}), DayKind::kHoliday);
  EXPECT_EQ(cal->holidays().find(Date{2024, 4, 29})->kind, HolidayKind::kExtraDayOff);
  EXPECT_EQ(cal->dayKind(Date{2024, 5, 4}), DayKind::kMakeUpWorkingDay);
  EXPECT_TRUE(cal->isWorkingDay(Date{2024, 5, 4}));
  EXPECT_TRUE(cal->holidays().isScheduledWorkingDay(Date{2024, 5, 4}));
  EXPECT_FALSE(cal->isWorkingDay(Date{2024, 5, 5}));
  // Without the schedule both days are ordinary.
  EXPECT_TRUE(defaultCalendar()->isWorkingDay(Date{2024, 4, 29}));
  EXPECT_FALSE(defaultCalendar()->isWorkingDay(Date{2024, 5, 4}));
}

TEST(Holidays, WorkingDayOverridesAHoliday) {
  auto config = parseCalendarConfig(R"({"years": {"2022": {"working_days": ["2022-05-03"]}}})");
  ASSERT_TRUE(config.ok());
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(cal->dayKind(Date{2022, 5, 3}), DayKind::kMakeUpWorkingDay);
  EXPECT_FALSE(cal->holidays().isDayOff(Date{2022, 5, 3}));
  EXPECT_FALSE(cal->isWorkingDay(Date{2022, 5, 2}));
}

TEST(Holidays, CompensationCanBeTurnedOff) {
  auto config = parseCalendarConfig(R"({"years": {"2022": {"compensate": false}}})");
  ASSERT_TRUE(config.ok());
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_TRUE(cal->isWorkingDay(Date{2022, 5, 2}));
  EXPECT_TRUE(cal->isWorkingDay(Date{2022, 1, 3}));
  EXPECT_FALSE(cal->isWorkingDay(Date{2023, 9, 4}));  // other years keep it
}

TEST(Holidays, CompensationFollowsTheConfiguredWeekend) {
  // A six-day week (only Sunday off): Saturday 30/4/2022 is a working weekday lost to the
  // holiday, so only Sunday 1/5 is compensated, on Monday.
  auto config = parseCalendarConfig(R"({"weekend": ["sun"]})");
  ASSERT_TRUE(config.ok());
  auto cal = WorkingCalendar::create(*config);
  ASSERT_TRUE(cal.ok());
  EXPECT_FALSE(cal->isWorkingDay(Date{2022, 4, 30}));
  EXPECT_FALSE(cal->isWorkingDay(Date{2022, 5, 2}));
  EXPECT_TRUE(cal->isWorkingDay(Date{2022, 5, 3}));
  EXPECT_TRUE(cal->isWorkingDay(Date{2022, 5, 7}));
}

TEST(Holidays, InvalidSchedulesAreRejected) {
  const char* bad[] = {
      R"({"years": {"2025": {"tet": ["2025-01-28"]}}})",  // not 5 days
      R"({"years": {"2025": {"tet": ["2025-01-28","2025-01-29","2025-01-30","2025-01-31","2026-02-01"]}}})",
      R"({"years": {"2025": {"national_day": ["2025-09-01","2025-09-03"]}}})",  // no 2/9
      R"({"years": {"2025": {"days_off": ["2025-05-02"], "working_days": ["2025-05-02"]}}})",
      R"({"years": {"2025": {"days_off": ["2025-05-02", "2025-05-02"]}}})",
      R"({"years": {"2025": {"days_of": ["2025-05-02"]}}})",  // typo
      R"({"years": {"2025": {"days_off": ["2025-02-30"]}}})",
      R"({"years": {"2025": {"compensate": "no"}}})",
      R"({"years": {"25": {}}})",
      R"({"years": {"2300": {}}})",
      R"({"years": []})",
      R"({"weekend": ["saturday"]})",
      R"({"working_hours": [["07:30", "11:30"], ["11:00", "17:00"]]})",  // overlap
      R"({"working_hours": [["17:00", "07:30"]]})",
      R"({"working_hours": [["07:30", "24:30"]]})",
      R"({"working_hours": []})",
      R"({"national_day_extra": "both"})",
      R"({"timezone": "+08:00"})",
      R"([])",
  };
  for (const char* text : bad) {
    auto config = parseCalendarConfig(text);
    const bool rejected = !config.ok() || !WorkingCalendar::create(*config).ok();
    EXPECT_TRUE(rejected) << text;
    if (!config.ok()) {
      EXPECT_EQ(config.error().code, core::Errc::kInvalidArgument) << text;
    }
  }
  EXPECT_EQ(parseCalendarConfig("{").error().code, core::Errc::kMalformedInput);
  auto all_weekend =
      parseCalendarConfig(R"({"weekend": ["mon","tue","wed","thu","fri","sat","sun"]})");
  ASSERT_TRUE(all_weekend.ok());
  EXPECT_FALSE(WorkingCalendar::create(*all_weekend).ok());
  EXPECT_EQ(WorkingCalendar::loadFile("/nonexistent/calendar.json").error().code,
            core::Errc::kNotFound);
}

}  // namespace
}  // namespace ioc::calendar
