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

}  // namespace ioc::core
