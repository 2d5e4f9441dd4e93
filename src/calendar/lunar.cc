#include "calendar/lunar.h"

#include <cmath>
#include <numbers>
#include <string>

namespace ioc::calendar {
namespace {

using core::Errc;

constexpr double kPi = std::numbers::pi;
constexpr double kDr = kPi / 180.0;
// Mean synodic month and the Julian date of the reference new moon (1900-01-01 13:52 UT).
constexpr double kSynodicMonth = 29.530588853;
constexpr double kEpochNewMoon = 2415021.076998695;

int64_t intPart(double x) {
  return static_cast<int64_t>(std::floor(x));
}

// Julian date (UT) of new moon number k after the 1900-01-01 one: Meeus ch. 49, abridged.
double newMoon(int64_t k_int) {
  const double k = static_cast<double>(k_int);
  const double t = k / 1236.85;  // Julian centuries since 1900-01-01
  const double t2 = t * t;
  const double t3 = t2 * t;
  double jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
  jd1 += 0.00033 * std::sin((166.56 + 132.87 * t - 0.009173 * t2) * kDr);
  const double m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;     // sun anomaly
  const double mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3;  // moon's
  const double f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;     // latitude
  double c1 = (0.1734 - 0.000393 * t) * std::sin(m * kDr) + 0.0021 * std::sin(2 * kDr * m);
  c1 = c1 - 0.4068 * std::sin(mpr * kDr) + 0.0161 * std::sin(kDr * 2 * mpr);
  c1 = c1 - 0.0004 * std::sin(kDr * 3 * mpr);
  c1 = c1 + 0.0104 * std::sin(kDr * 2 * f) - 0.0051 * std::sin(kDr * (m + mpr));
  c1 = c1 - 0.0074 * std::sin(kDr * (m - mpr)) + 0.0004 * std::sin(kDr * (2 * f + m));
  c1 = c1 - 0.0004 * std::sin(kDr * (2 * f - m)) - 0.0006 * std::sin(kDr * (2 * f + mpr));
  c1 = c1 + 0.0010 * std::sin(kDr * (2 * f - mpr)) + 0.0005 * std::sin(kDr * (2 * mpr + m));
  double delta_t;  // TT - UT in days
  if (t < -11) {
    delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3;
  } else {
    delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2;
  }
  return jd1 + c1 - delta_t;
}

// Apparent sun longitude in radians [0, 2π) at Julian date `jdn` (UT).
double sunLongitude(double jdn) {
  const double t = (jdn - 2451545.0) / 36525;  // Julian centuries since J2000
  const double t2 = t * t;
  const double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
  const double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
  double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * std::sin(kDr * m);
  dl = dl + (0.019993 - 0.000101 * t) * std::sin(kDr * 2 * m) + 0.000290 * std::sin(kDr * 3 * m);
  double l = (l0 + dl) * kDr;
  l = l - kPi * 2 * static_cast<double>(intPart(l / (kPi * 2)));
  return l;
}

// Sector 0..11 (30° each) of the sun's longitude at the start of local day `day_number`: the
// major solar term (trung khí) in force that day.
int sunSector(int64_t day_number, double time_zone) {
  return static_cast<int>(
      intPart(sunLongitude(static_cast<double>(day_number) - 0.5 - time_zone / 24) / kPi * 6));
}

// Day number of the start of lunar month 11 of solar year `yy` (the month containing the
// winter solstice).
int64_t lunarMonth11(int yy, double time_zone) {
  const int64_t off = toJulianDay(Date{yy, 12, 31}) - 2415021;
  const int64_t k = intPart(static_cast<double>(off) / kSynodicMonth);
  int64_t nm = newMoonDay(k, time_zone);
  if (sunSector(nm, time_zone) >= 9) nm = newMoonDay(k - 1, time_zone);
  return nm;
}

// Offset (in months) of the leap month after the month 11 starting on day `a11`, for a lunar
// year with 13 months: the first month in which the sun stays within one sector.
int leapMonthOffset(int64_t a11, double time_zone) {
  const int64_t k = intPart((static_cast<double>(a11) - kEpochNewMoon) / kSynodicMonth + 0.5);
  int last = 0;
  int i = 1;
  int arc = sunSector(newMoonDay(k + i, time_zone), time_zone);
  do {
    last = arc;
    ++i;
    arc = sunSector(newMoonDay(k + i, time_zone), time_zone);
  } while (arc != last && i < 14);
  return i - 1;
}

// Leap month number (1..12) of the 12 or 13 months starting at month 11 on day `a11` and
// ending before the month 11 on day `b11`; 0 when there are only 12.
int leapMonthBetween(int64_t a11, int64_t b11, double time_zone) {
  if (b11 - a11 <= 365) return 0;
  int leap = leapMonthOffset(a11, time_zone) - 2;
  if (leap < 0) leap += 12;
  return leap;
}

core::Error outOfRange(const std::string& what) {
  return core::makeError(Errc::kInvalidArgument, "calendar: " + what + " outside the years " +
                                                     std::to_string(kLunarFirstYear) + ".." +
                                                     std::to_string(kLunarLastYear));
}

// Unchecked conversion; returns day 0 for a leap flag on a month that is not leap.
int64_t lunarToJulianDay(const LunarDate& l, double time_zone) {
  int64_t a11, b11;
  if (l.month < 11) {
    a11 = lunarMonth11(l.year - 1, time_zone);
    b11 = lunarMonth11(l.year, time_zone);
  } else {
    a11 = lunarMonth11(l.year, time_zone);
    b11 = lunarMonth11(l.year + 1, time_zone);
  }
  const int64_t k = intPart(0.5 + (static_cast<double>(a11) - kEpochNewMoon) / kSynodicMonth);
  int off = l.month - 11;
  if (off < 0) off += 12;
  if (b11 - a11 > 365) {
    const int leap_off = leapMonthOffset(a11, time_zone);
    int leap_month = leap_off - 2;
    if (leap_month < 0) leap_month += 12;
    if (l.leap && l.month != leap_month) return 0;
    if (l.leap || off >= leap_off) off += 1;
  } else if (l.leap) {
    return 0;
  }
  return newMoonDay(k + off, time_zone) + l.day - 1;
}

}  // namespace

int64_t newMoonDay(int64_t k, double time_zone) {
  return intPart(newMoon(k) + 0.5 + time_zone / 24);
}

core::Result<LunarDate> solarToLunar(const Date& d, double time_zone) {
  if (!isValidDate(d)) return core::makeError(Errc::kInvalidArgument, "calendar: invalid date");
  if (d.year < kLunarFirstYear || d.year > kLunarLastYear) return outOfRange(formatDate(d));
  const int64_t day_number = toJulianDay(d);
  const int64_t k = intPart((static_cast<double>(day_number) - kEpochNewMoon) / kSynodicMonth);
  int64_t month_start = newMoonDay(k + 1, time_zone);
  // The mean-motion estimate of k can be one too high when the true new moon runs late (e.g.
  // 2054-05-07 would get day 0 in the published code), so step back until the month has begun.
  for (int64_t i = k; month_start > day_number; --i) month_start = newMoonDay(i, time_zone);
  int64_t a11 = lunarMonth11(d.year, time_zone);
  int64_t b11 = a11;
  LunarDate out;
  if (a11 >= month_start) {
    out.year = d.year;
    a11 = lunarMonth11(d.year - 1, time_zone);
  } else {
    out.year = d.year + 1;
    b11 = lunarMonth11(d.year + 1, time_zone);
  }
  out.day = static_cast<int>(day_number - month_start + 1);
  const int diff = static_cast<int>(intPart(static_cast<double>(month_start - a11) / 29));
  out.month = diff + 11;
  if (b11 - a11 > 365) {
    const int leap_diff = leapMonthOffset(a11, time_zone);
    if (diff >= leap_diff) {
      out.month = diff + 10;
      out.leap = diff == leap_diff;
    }
  }
  if (out.month > 12) out.month -= 12;
  if (out.month >= 11 && diff < 4) out.year -= 1;
  return out;
}

core::Result<Date> lunarToSolar(const LunarDate& l, double time_zone) {
  if (l.year < kLunarFirstYear || l.year > kLunarLastYear) {
    return outOfRange("lunar year " + std::to_string(l.year));
  }
  if (l.month < 1 || l.month > 12 || l.day < 1 || l.day > 30) {
    return core::makeError(Errc::kInvalidArgument,
                           "calendar: lunar month must be 1..12, day 1..30");
  }
  const int64_t jd = lunarToJulianDay(l, time_zone);
  if (jd == 0) {
    return core::makeError(Errc::kInvalidArgument,
                           "calendar: lunar year " + std::to_string(l.year) +
                               " has no leap month " + std::to_string(l.month));
  }
  const Date d = fromJulianDay(jd);
  // Day 30 of a 29-day month lands on the next month's first day; the round trip catches it.
  auto back = solarToLunar(d, time_zone);
  if (!back || !(*back == l)) {
    return core::makeError(Errc::kInvalidArgument,
                           "calendar: lunar month " + std::to_string(l.month) +
                               (l.leap ? " (leap)" : "") + " of " + std::to_string(l.year) +
                               " has no day " + std::to_string(l.day));
  }
  return d;
}

int leapMonthOf(int lunar_year, double time_zone) {
  // Months 1..10 of year Y lie between month 11 of Y-1 and month 11 of Y; months 11 and 12 of Y
  // lie after month 11 of Y, so a leap 11 or 12 is found in the following interval.
  const int64_t m11_prev = lunarMonth11(lunar_year - 1, time_zone);
  const int64_t m11 = lunarMonth11(lunar_year, time_zone);
  const int early = leapMonthBetween(m11_prev, m11, time_zone);
  if (early >= 1 && early <= 10) return early;
  const int late = leapMonthBetween(m11, lunarMonth11(lunar_year + 1, time_zone), time_zone);
  if (late >= 11) return late;
  return 0;
}

int lunarMonthLength(int lunar_year, int month, bool leap, double time_zone) {
  if (lunar_year < kLunarFirstYear || lunar_year > kLunarLastYear || month < 1 || month > 12) {
    return 0;
  }
  const int64_t start = lunarToJulianDay(LunarDate{1, month, lunar_year, leap}, time_zone);
  if (start == 0) return 0;
  // Lunar months are 29 or 30 days, so the next new moon is 29 or 30 days later.
  const auto day30 = solarToLunar(fromJulianDay(start + 29), time_zone);
  return day30 && day30->day == 30 ? 30 : 29;
}

Date tetDate(int lunar_year) {
  return fromJulianDay(lunarToJulianDay(LunarDate{1, 1, lunar_year, false}, kVietnamTimeZone));
}

}  // namespace ioc::calendar
