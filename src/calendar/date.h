#pragma once
// Civil dates and Vietnam local time. Vietnam has used UTC+7 without daylight saving since 1975,
// so local time is a fixed offset and needs no time-zone database.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ioc::calendar {

//! Offset of Vietnam local time (ICT) from UTC.
inline constexpr int64_t kVietnamOffsetMs = 7LL * 3600 * 1000;
inline constexpr int64_t kMsPerDay = 86'400'000;

//! A proleptic Gregorian calendar date. Compare with <, ==; valid only if isValidDate() says so.
struct Date {
  int year = 1970;
  int month = 1;  //!< 1..12
  int day = 1;    //!< 1..31

  auto operator<=>(const Date&) const = default;
};

//! ISO weekday: 0 = Monday ... 6 = Sunday (index into weekend and schedule arrays).
enum class Weekday { kMonday, kTuesday, kWednesday, kThursday, kFriday, kSaturday, kSunday };

bool isLeapYear(int year);
int daysInMonth(int year, int month);
bool isValidDate(const Date& d);

//! Days since 1970-01-01 (negative before). Defined for any valid date.
int64_t toDayNumber(const Date& d);
Date fromDayNumber(int64_t day_number);
//! Julian Day Number at noon of `d` (2440588 for 1970-01-01), used by the lunar algorithm.
inline int64_t toJulianDay(const Date& d) {
  return toDayNumber(d) + 2'440'588;
}
inline Date fromJulianDay(int64_t jd) {
  return fromDayNumber(jd - 2'440'588);
}

Weekday weekday(const Date& d);
Date addDays(const Date& d, int64_t days);

//! Strict "YYYY-MM-DD"; kMalformedInput for syntax, kInvalidArgument for 2025-02-30 and the like.
core::Result<Date> parseDate(std::string_view text);
//! "YYYY-MM-DD" (years 0..9999).
std::string formatDate(const Date& d);

//! Local (UTC+7) day number containing the instant `unix_ms`.
int64_t localDayNumber(int64_t unix_ms);
//! Local (UTC+7) calendar date containing the instant `unix_ms`.
Date localDate(int64_t unix_ms);
//! Unix ms of local midnight starting `d`.
int64_t localMidnightMs(const Date& d);
//! Unix ms of `d` at local hh:mm.
int64_t localTimeMs(const Date& d, int hour, int minute);
//! "YYYY-MM-DDTHH:MM:SS.mmm+07:00", for logs, messages and test diagnostics.
std::string formatLocal(int64_t unix_ms);
//! Parses "YYYY-MM-DDTHH:MM[:SS[.mmm]]" as Vietnam local time, or with an explicit "Z" or
//! "+hh:mm"/"-hh:mm" offset; returns unix ms.
core::Result<int64_t> parseLocalDateTime(std::string_view text);

}  // namespace ioc::calendar
