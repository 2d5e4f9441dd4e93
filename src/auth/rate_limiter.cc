#include "auth/rate_limiter.h"

namespace ioc::auth {

int64_t FailureLimiter::retryAfterMs(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) return 0;
  int64_t end = it->second.start_ms + window_ms_;
  if (now_ms >= end) {
    windows_.erase(it);
    return 0;
  }
  return it->second.failures >= max_failures_ ? end - now_ms : 0;
}

void FailureLimiter::recordFailure(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (windows_.size() >= max_keys_) evictExpired(now_ms);
  if (windows_.size() >= max_keys_ && !windows_.count(key)) {
    // Memory is bounded: under a flood of distinct keys, the oldest window makes room.
    auto oldest = windows_.begin();
    for (auto it = windows_.begin(); it != windows_.end(); ++it) {
      if (it->second.start_ms < oldest->second.start_ms) oldest = it;
    }
    windows_.erase(oldest);
  }
  Window& w = windows_[key];
  if (w.failures == 0 || now_ms >= w.start_ms + window_ms_) {
    w.start_ms = now_ms;
    w.failures = 0;
  }
  ++w.failures;
}

void FailureLimiter::reset(const std::string& key) {
  std::lock_guard lock(mu_);
  windows_.erase(key);
}

void FailureLimiter::evictExpired(int64_t now_ms) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    it = now_ms >= it->second.start_ms + window_ms_ ? windows_.erase(it) : std::next(it);
  }
}

}  // namespace ioc::auth
