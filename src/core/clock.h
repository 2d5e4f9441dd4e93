#pragma once
// Time is injected so that expiry, rate limits and SLAs can be tested with a fake clock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace ioc::core {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  int64_t nowUnixMs() const;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance();
};

//! Manually advanced clock for tests; thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_ms = 1'700'000'000'000) : ms_(unix_ms) {}
  TimePoint now() const override;
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  void set(int64_t unix_ms) { ms_ = unix_ms; }

 private:
  std::atomic<int64_t> ms_;
};

//! RFC 3339 UTC with milliseconds, e.g. 2026-11-22T00:11:35.123Z.
std::string formatRfc3339(int64_t unix_ms);

//! Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31), by Howard
//! Hinnant's days_from_civil: exact, and pure arithmetic (timegm takes the time-zone lock).
constexpr int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
static_assert(daysFromCivil(1970, 1, 1) == 0 && daysFromCivil(2000, 3, 1) == 11017);

}  // namespace ioc::core
