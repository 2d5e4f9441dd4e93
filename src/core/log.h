#pragma once
// Structured logs: one JSON object per line. Lines are buffered and written by a background
// thread so that logging an access line costs a format and a memcpy on the request path.
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace ioc::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

//! One key/value of a log line; numbers are written unquoted.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v) {}
  LogField(std::string_view k, const char* v) : key(k), text(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), text(v) {}
  LogField(std::string_view k, int64_t v) : key(k), number(v), is_number(true) {}
  LogField(std::string_view k, int v) : key(k), number(v), is_number(true) {}
  LogField(std::string_view k, uint64_t v)
      : key(k), number(static_cast<int64_t>(v)), is_number(true) {}
  LogField(std::string_view k, double v) : key(k), real(v), is_real(true) {}
  std::string_view key;
  std::string_view text;
  int64_t number = 0;
  double real = 0;
  bool is_number = false;
  bool is_real = false;
};

//! Process-wide logger. Thread-safe. Writes to stderr (fd 2) unless redirected with setFd.
class Logger {
 public:
  static Logger& instance();
  ~Logger();

  void setLevel(LogLevel level) { level_ = level; }
  void setFd(int fd) { fd_ = fd; }
  bool enabled(LogLevel level) const { return level >= level_; }
  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  //! Writes everything buffered so far; called on shutdown.
  void flush();

 private:
  Logger();
  void run();
  void writeOut(const std::string& data);

  LogLevel level_ = LogLevel::kInfo;
  int fd_ = 2;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;
  bool stop_ = false;
  std::thread thread_;
};

void appendJsonEscaped(std::string& out, std::string_view s);

inline void logInfo(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Logger::instance().log(LogLevel::kInfo, msg, f);
}
inline void logWarn(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Logger::instance().log(LogLevel::kWarn, msg, f);
}
inline void logError(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Logger::instance().log(LogLevel::kError, msg, f);
}

}  // namespace ioc::core
