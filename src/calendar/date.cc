#include "calendar/date.h"

#include <cstdio>

#include "core/clock.h"

namespace ioc::calendar {
namespace {

using core::Errc;

int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `n` digits at `pos`; false if any is not a digit.
bool readDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!isDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

bool isLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

bool isValidDate(const Date& d) {
  // The bound keeps day-number arithmetic far from overflow; no caller needs more.
  return d.year >= -100'000 && d.year <= 100'000 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= daysInMonth(d.year, d.month);
}

int64_t toDayNumber(const Date& d) {
  return core::daysFromCivil(d.year, static_cast<unsigned>(d.month), static_cast<unsigned>(d.day));
}

Date fromDayNumber(int64_t day_number) {
  const int64_t z = day_number + 719'468;
  const int64_t era = floorDiv(z, 146'097);
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return Date{static_cast<int>(year), month, day};
}

Weekday weekday(const Date& d) {
  // 1970-01-01 was a Thursday (index 3).
  const int64_t n = toDayNumber(d) + 3;
  return static_cast<Weekday>(n - floorDiv(n, 7) * 7);
}

Date addDays(const Date& d, int64_t days) {
  return fromDayNumber(toDayNumber(d) + days);
}

core::Result<Date> parseDate(std::string_view text) {
  Date d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !readDigits(text, 0, 4, d.year) ||
      !readDigits(text, 5, 2, d.month) || !readDigits(text, 8, 2, d.day)) {
    return core::makeError(Errc::kMalformedInput,
                           "calendar: date '" + std::string(text) + "' is not YYYY-MM-DD");
  }
  if (!isValidDate(d)) {
    return core::makeError(Errc::kInvalidArgument,
                           "calendar: '" + std::string(text) + "' is not a calendar date");
  }
  return d;
}

std::string formatDate(const Date& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

int64_t localDayNumber(int64_t unix_ms) {
  return floorDiv(unix_ms + kVietnamOffsetMs, kMsPerDay);
}

Date localDate(int64_t unix_ms) {
  return fromDayNumber(localDayNumber(unix_ms));
}

int64_t localMidnightMs(const Date& d) {
  return toDayNumber(d) * kMsPerDay - kVietnamOffsetMs;
}

int64_t localTimeMs(const Date& d, int hour, int minute) {
  return localMidnightMs(d) + (static_cast<int64_t>(hour) * 60 + minute) * 60'000;
}

std::string formatLocal(int64_t unix_ms) {
  const int64_t day = localDayNumber(unix_ms);
  const int64_t in_day = unix_ms + kVietnamOffsetMs - day * kMsPerDay;
  const Date d = fromDayNumber(day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+07:00", d.year, d.month, d.day,
                static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
  return buf;
}

core::Result<int64_t> parseLocalDateTime(std::string_view text) {
  const auto bad = [&] {
    return core::makeError(Errc::kMalformedInput,
                           "calendar: '" + std::string(text) + "' is not YYYY-MM-DDTHH:MM[:SS]");
  };
  if (text.size() < 16 || (text[10] != 'T' && text[10] != ' ')) return bad();
  auto date = parseDate(text.substr(0, 10));
  if (!date) return date.error();
  int hour = 0, minute = 0, second = 0, milli = 0;
  if (!readDigits(text, 11, 2, hour) || text[13] != ':' || !readDigits(text, 14, 2, minute)) {
    return bad();
  }
  size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!readDigits(text, pos + 1, 2, second)) return bad();
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      if (!readDigits(text, pos + 1, 3, milli)) return bad();
      pos += 4;
    }
  }
  int64_t offset_ms = kVietnamOffsetMs;
  if (pos < text.size()) {
    const std::string_view zone = text.substr(pos);
    int oh = 0, om = 0;
    if (zone == "Z") {
      offset_ms = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
               readDigits(zone, 1, 2, oh) && readDigits(zone, 4, 2, om) && oh < 24 && om < 60) {
      offset_ms = (zone[0] == '-' ? -1 : 1) * (oh * 60LL + om) * 60'000;
    } else {
      return bad();
    }
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return core::makeError(Errc::kInvalidArgument,
                           "calendar: '" + std::string(text) + "' has an invalid time of day");
  }
  return toDayNumber(*date) * kMsPerDay - offset_ms +
         ((hour * 60LL + minute) * 60 + second) * 1000 + milli;
}

}  // namespace ioc::calendar
