#pragma once
// Counts failed logins per key (a username or a client address) in a fixed window; once a key
// reaches its limit it is refused until the window that started with its first failure ends.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ioc::auth {

class FailureLimiter {
 public:
  FailureLimiter(int max_failures, int64_t window_ms, size_t max_keys = 100000)
      : max_failures_(max_failures), window_ms_(window_ms), max_keys_(max_keys) {}

  //! Milliseconds until the key may try again, 0 if it may try now.
  int64_t retryAfterMs(const std::string& key, int64_t now_ms);
  void recordFailure(const std::string& key, int64_t now_ms);
  void reset(const std::string& key);

 private:
  struct Window {
    int64_t start_ms = 0;
    int failures = 0;
  };
  void evictExpired(int64_t now_ms);

  int max_failures_;
  int64_t window_ms_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace ioc::auth
