#include "calendar/lunar.h"

#include <gtest/gtest.h>

#include "test_data.h"

namespace ioc::calendar {
namespace {

using testing::date;
using testing::loadCases;

std::string show(const LunarDate& l) {
  return std::to_string(l.day) + "/" + std::to_string(l.month) + (l.leap ? " (leap)/" : "/") +
         std::to_string(l.year);
}

TEST(Lunar, KnownDates) {
  const auto cases = loadCases("lunar_dates.json");
  ASSERT_GE(cases["cases"].size(), 20u);
  for (const auto& c : cases["cases"]) {
    const std::string solar = c["solar"];
    const LunarDate want{c["lunar"][0].get<int>(), c["lunar"][1].get<int>(),
                         c["lunar"][2].get<int>(), c["lunar"][3].get<bool>()};
    SCOPED_TRACE(solar + " " + c.value("note", ""));
    auto got = solarToLunar(date(solar));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(show(*got), show(want));
    auto back = lunarToSolar(want);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(formatDate(*back), solar);
  }
}

TEST(Lunar, TetAndLeapMonths) {
  const auto cases = loadCases("lunar_dates.json");
  for (const auto& [year, leap] : cases["leap_months"].items()) {
    EXPECT_EQ(leapMonthOf(std::stoi(year)), leap.get<int>()) << year;
  }
  EXPECT_EQ(formatDate(tetDate(2026)), "2026-02-17");
  // A leap month 11 belongs to the lunar year whose month 11 it follows.
  EXPECT_EQ(leapMonthOf(2033), 11);
  EXPECT_EQ(leapMonthOf(2034), 0);
}

TEST(Lunar, LateNewMoonEdgeCase) {
  // The published algorithm estimates the month from the mean new moon and returns day 0 here;
  // the true new moon of that month falls on 2054-05-08.
  EXPECT_EQ(show(*solarToLunar(Date{2054, 5, 7})), "30/3/2054");
  EXPECT_EQ(show(*solarToLunar(Date{2054, 5, 8})), "1/4/2054");
}

TEST(Lunar, NonexistentDatesAreErrors) {
  // 2024 has no leap month; 2023 has leap 2 but not leap 3.
  EXPECT_EQ(lunarToSolar(LunarDate{1, 4, 2024, true}).error().code, core::Errc::kInvalidArgument);
  EXPECT_FALSE(lunarToSolar(LunarDate{1, 3, 2023, true}).ok());
  // Tháng Chạp of Giáp Thìn (lunar 2024) had 29 days.
  EXPECT_EQ(lunarMonthLength(2024, 12, false), 29);
  EXPECT_FALSE(lunarToSolar(LunarDate{30, 12, 2024, false}).ok());
  EXPECT_EQ(lunarMonthLength(2023, 12, false), 30);
  EXPECT_EQ(lunarMonthLength(2024, 4, true), 0);
  EXPECT_FALSE(lunarToSolar(LunarDate{0, 1, 2025, false}).ok());
  EXPECT_FALSE(lunarToSolar(LunarDate{1, 13, 2025, false}).ok());
  EXPECT_FALSE(lunarToSolar(LunarDate{1, 1, 2300, false}).ok());
  EXPECT_FALSE(solarToLunar(Date{1700, 1, 1}).ok());
  EXPECT_FALSE(solarToLunar(Date{2025, 2, 29}).ok());
}

// Every day advances the lunar date by one day or starts a new month; months have 29 or 30
// days; a year has 12 or 13 months and at most one leap month. Checked over the whole range.
TEST(Lunar, ConsecutiveDaysAreConsistent) {
  auto prev = solarToLunar(Date{kLunarFirstYear, 1, 1});
  ASSERT_TRUE(prev.ok());
  int months_in_year = 0;
  const int64_t last = toDayNumber(Date{kLunarLastYear, 12, 31});
  for (int64_t n = toDayNumber(Date{kLunarFirstYear, 1, 2}); n <= last; ++n) {
    const Date d = fromDayNumber(n);
    auto cur = solarToLunar(d);
    ASSERT_TRUE(cur.ok()) << formatDate(d);
    if (cur->day != 1) {
      ASSERT_EQ(cur->day, prev->day + 1) << formatDate(d);
      ASSERT_EQ(cur->month, prev->month) << formatDate(d);
      ASSERT_EQ(cur->leap, prev->leap) << formatDate(d);
    } else {
      ASSERT_TRUE(prev->day == 29 || prev->day == 30) << formatDate(d);
      if (cur->leap) {
        ASSERT_EQ(cur->month, prev->month) << formatDate(d);
        ASSERT_EQ(leapMonthOf(cur->year), cur->month) << formatDate(d);
      } else {
        ASSERT_EQ(cur->month, prev->month % 12 + 1) << formatDate(d);
      }
      if (cur->month == 1 && !cur->leap) {
        ASSERT_EQ(cur->year, prev->year + 1) << formatDate(d);
        ASSERT_EQ(months_in_year == 0 || months_in_year == 12 || months_in_year == 13, true)
            << "lunar year " << prev->year << " has " << months_in_year << " months";
        months_in_year = 1;
        // Tết always falls between 21 January and 20 February.
        ASSERT_TRUE(d >= (Date{d.year, 1, 21}) && d <= (Date{d.year, 2, 20})) << formatDate(d);
        ASSERT_EQ(tetDate(cur->year), d);
      } else {
        months_in_year += months_in_year > 0 ? 1 : 0;
      }
    }
    prev = cur;
  }
}

TEST(Lunar, RoundTrip) {
  for (int64_t n = toDayNumber(Date{2000, 1, 1}); n <= toDayNumber(Date{2040, 12, 31}); ++n) {
    const Date d = fromDayNumber(n);
    auto l = solarToLunar(d);
    ASSERT_TRUE(l.ok());
    auto back = lunarToSolar(*l);
    ASSERT_TRUE(back.ok()) << formatDate(d) << ": " << back.error().message;
    ASSERT_EQ(*back, d);
  }
}

}  // namespace
}  // namespace ioc::calendar
