#include "core/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/clock.h"
#include "core/thread_name.h"

namespace ioc::core {

namespace {
const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
constexpr size_t kFlushThreshold = 64 * 1024;
}  // namespace

void appendJsonEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

Logger& Logger::instance() {
  static Logger logger;
  return logger;
}

Logger::Logger()
    : thread_([this] {
        nameThisThread("ioc-log");
        run();
      }) {}

Logger::~Logger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Logger::log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  line += formatRfc3339(SystemClock::instance().nowUnixMs());
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"msg\":\"";
  appendJsonEscaped(line, msg);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    appendJsonEscaped(line, f.key);
    line += "\":";
    if (f.is_number) {
      line += std::to_string(f.number);
    } else if (f.is_real) {
      char buf[32];
      snprintf(buf, sizeof buf, "%.3f", f.real);
      line += buf;
    } else {
      line += '"';
      appendJsonEscaped(line, f.text);
      line += '"';
    }
  }
  line += "}\n";
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    buffer_ += line;
    wake = buffer_.size() > kFlushThreshold || level >= LogLevel::kWarn;
  }
  if (wake) cv_.notify_one();
}

void Logger::writeOut(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n <= 0) return;  // Nowhere to report a failing log sink; drop rather than spin.
    off += static_cast<size_t>(n);
  }
}

void Logger::flush() {
  std::string out;
  {
    std::lock_guard lock(mu_);
    out.swap(buffer_);
  }
  writeOut(out);
}

void Logger::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    std::string out;
    out.swap(buffer_);
    bool stop = stop_;
    lock.unlock();
    writeOut(out);
    lock.lock();
    if (stop && buffer_.empty()) return;
  }
}

}  // namespace ioc::core
