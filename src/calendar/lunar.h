#pragma once
// Vietnamese lunisolar calendar (âm lịch). Tết Nguyên Đán and Giỗ Tổ Hùng Vương are lunar dates,
// so public holidays cannot be computed without it. Vietnam reckons new moons and solar terms at
// UTC+7, which is why its calendar occasionally differs from China's (UTC+8): Tết 1985 and 2007.
//
// Algorithm: Hồ Ngọc Đức, "Thuật toán tính âm lịch" (new moon and sun longitude series after
// Meeus, "Astronomical Algorithms"); month 11 always contains the winter solstice, and in a year
// with 13 new moons between two months 11 the first month without a major solar term is leap.
#include <cstdint>

#include "calendar/date.h"
#include "core/result.h"

namespace ioc::calendar {

//! Vietnam's time zone for lunar reckoning (hours east of UTC).
inline constexpr double kVietnamTimeZone = 7.0;
//! Solar years for which conversions are offered; the series are accurate well beyond this.
inline constexpr int kLunarFirstYear = 1800;
inline constexpr int kLunarLastYear = 2199;

struct LunarDate {
  int day = 1;        //!< 1..30
  int month = 1;      //!< 1..12
  int year = 0;       //!< the lunar year, named after the solar year in which its month 1 begins
  bool leap = false;  //!< true for the intercalary copy of `month` (tháng nhuận)

  bool operator==(const LunarDate&) const = default;
};

//! Lunar date of solar date `d`; kInvalidArgument outside [kLunarFirstYear, kLunarLastYear].
core::Result<LunarDate> solarToLunar(const Date& d, double time_zone = kVietnamTimeZone);

//! Solar date of a lunar date; kInvalidArgument if that date does not exist (leap flag on a
//! month that is not leap that year, day 30 of a 29-day month, out-of-range fields).
core::Result<Date> lunarToSolar(const LunarDate& l, double time_zone = kVietnamTimeZone);

//! The leap month of lunar year `lunar_year` (1..12), or 0 if it has none.
int leapMonthOf(int lunar_year, double time_zone = kVietnamTimeZone);

//! Number of days (29 or 30) of a lunar month; 0 if that month does not exist.
int lunarMonthLength(int lunar_year, int month, bool leap, double time_zone = kVietnamTimeZone);

//! Tết Nguyên Đán (1/1 lunar) of `lunar_year`, a solar date in the same year.
Date tetDate(int lunar_year);

//! Julian day number of the new moon's day with index `k` since 1900-01-01 at `time_zone`.
int64_t newMoonDay(int64_t k, double time_zone = kVietnamTimeZone);

}  // namespace ioc::calendar
