#include "core/clock.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

namespace ioc::core {
namespace {

// What formatRfc3339 printed before it was hand-formatted: the C library's calendar.
std::string viaGmtime(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  int millis = static_cast<int>(unix_ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

TEST(FormatRfc3339, KnownInstants) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(formatRfc3339(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339(1'796'256'000'123), "2026-12-03T00:00:00.123Z");
  EXPECT_EQ(formatRfc3339(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
}

TEST(FormatRfc3339, AgreesWithTheCLibraryFromYearZeroToNineThousandNineHundredNinetyNine) {
  std::mt19937_64 rng(42);
  // 0000-01-01 … 9999-12-31, plus every day boundary of a leap-year February and a century.
  std::uniform_int_distribution<int64_t> any(-62'167'219'200'000, 253'402'300'799'999);
  for (int i = 0; i < 200'000; ++i) {
    const int64_t ms = any(rng);
    ASSERT_EQ(formatRfc3339(ms), viaGmtime(ms)) << ms;
  }
  for (int64_t day = -800; day < 800; ++day) {
    for (int64_t ms :
         {day * 86'400'000 - 1, day * 86'400'000, 4'107'456'000'000 + day * 86'400'000}) {
      ASSERT_EQ(formatRfc3339(ms), viaGmtime(ms)) << ms;
    }
  }
}

}  // namespace
}  // namespace ioc::core
