#include "calendar/date.h"

#include <gtest/gtest.h>

#include "calendar/working_calendar.h"
#include "test_data.h"

namespace ioc::calendar {
namespace {

using testing::at;

TEST(CalendarDate, DayNumbersRoundTrip) {
  EXPECT_EQ(toDayNumber(Date{1970, 1, 1}), 0);
  EXPECT_EQ(toDayNumber(Date{2000, 3, 1}), 11'017);
  EXPECT_EQ(toJulianDay(Date{2000, 1, 1}), 2'451'545);
  for (int64_t n = -200'000; n <= 200'000; n += 7) {
    const Date d = fromDayNumber(n);
    ASSERT_TRUE(isValidDate(d)) << n;
    ASSERT_EQ(toDayNumber(d), n);
  }
}

TEST(CalendarDate, Weekdays) {
  EXPECT_EQ(weekday(Date{1970, 1, 1}), Weekday::kThursday);
  EXPECT_EQ(weekday(Date{2026, 2, 13}), Weekday::kFriday);
  EXPECT_EQ(weekday(Date{2025, 4, 26}), Weekday::kSaturday);
  EXPECT_EQ(weekday(Date{1900, 1, 1}), Weekday::kMonday);
  EXPECT_EQ(weekday(Date{2023, 9, 2}), Weekday::kSaturday);
}

TEST(CalendarDate, ParseAndFormat) {
  EXPECT_EQ(formatDate(*parseDate("2024-02-29")), "2024-02-29");
  EXPECT_EQ(parseDate("2025-02-29").error().code, core::Errc::kInvalidArgument);
  EXPECT_EQ(parseDate("2025-2-28").error().code, core::Errc::kMalformedInput);
  EXPECT_EQ(parseDate("2025-02-2x").error().code, core::Errc::kMalformedInput);
  EXPECT_EQ(parseDate("").error().code, core::Errc::kMalformedInput);
}

TEST(CalendarDate, LocalTimeIsUtcPlus7) {
  // 2026-02-13 00:30 in Hanoi is 2026-02-12 17:30 UTC.
  const int64_t ms = at("2026-02-13T00:30");
  EXPECT_EQ(*parseLocalDateTime("2026-02-12T17:30Z"), ms);
  EXPECT_EQ(*parseLocalDateTime("2026-02-13T00:30:00.000+07:00"), ms);
  EXPECT_EQ(localDate(ms), (Date{2026, 2, 13}));
  EXPECT_EQ(localDate(ms - 31 * 60'000), (Date{2026, 2, 12}));
  EXPECT_EQ(formatLocal(ms + 1), "2026-02-13T00:30:00.001+07:00");
  EXPECT_EQ(localTimeMs(Date{2026, 2, 13}, 0, 30), ms);
  EXPECT_FALSE(parseLocalDateTime("2026-02-13T24:00").ok());
  EXPECT_FALSE(parseLocalDateTime("2026-02-13T10:00+7").ok());
  // Before 1970 too: floor division, not truncation.
  EXPECT_EQ(localDate(localMidnightMs(Date{1950, 6, 1})), (Date{1950, 6, 1}));
  EXPECT_EQ(localDate(localMidnightMs(Date{1950, 6, 1}) - 1), (Date{1950, 5, 31}));
}

TEST(CalendarDate, InstantBoundsAreTheDocumentedMidnights) {
  EXPECT_EQ(WorkingCalendar::kMinInstantMs, localMidnightMs(Date{1900, 1, 1}));
  EXPECT_EQ(WorkingCalendar::kMaxInstantMs, localMidnightMs(Date{2200, 1, 1}));
}

}  // namespace
}  // namespace ioc::calendar
