#include "core/clock.h"

#include <cstdio>

namespace ioc::core {

int64_t Clock::nowUnixMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

TimePoint FakeClock::now() const {
  return TimePoint(std::chrono::milliseconds(ms_.load()));
}

namespace {

// Days since 1970-01-01 → proleptic Gregorian (year, month, day): H. Hinnant's civil_from_days.
void civilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

void putDigits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

// Hand-formatted: every reading, rendered attribute and stored row carries timestamps, and
// gmtime_r + snprintf cost several times more than the arithmetic.
std::string formatRfc3339(int64_t unix_ms) {
  constexpr int64_t kMsPerDay = 86'400'000;
  int64_t days = unix_ms / kMsPerDay;
  int64_t ms_of_day = unix_ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  civilFromDays(days, year, month, day);
  const auto ms = static_cast<unsigned>(ms_of_day);
  if (year < 0 || year > 9999) {  // outside RFC 3339's four-digit years: printf's rendering
    char buf[64];
    snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", static_cast<long long>(year),
             month, day, ms / 3'600'000, ms / 60'000 % 60, ms / 1000 % 60, ms % 1000);
    return buf;
  }
  std::string out(24, '\0');  // YYYY-MM-DDTHH:MM:SS.mmmZ
  char* p = out.data();
  putDigits(p, static_cast<unsigned>(year), 4);
  p[4] = '-';
  putDigits(p + 5, month, 2);
  p[7] = '-';
  putDigits(p + 8, day, 2);
  p[10] = 'T';
  putDigits(p + 11, ms / 3'600'000, 2);
  p[13] = ':';
  putDigits(p + 14, ms / 60'000 % 60, 2);
  p[16] = ':';
  putDigits(p + 17, ms / 1000 % 60, 2);
  p[19] = '.';
  putDigits(p + 20, ms % 1000, 3);
  p[23] = 'Z';
  return out;
}

}  // namespace ioc::core
