#include "notify/smtp.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <ctime>

#include "core/text.h"

namespace ioc::notify {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

core::Error unavailable(std::string what) {
  return core::makeError(core::Errc::kUnavailable, "smtp: " + std::move(what));
}

std::string base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(n >> (6 * k)) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

//! Length of the UTF-8 sequence starting with byte `c` (1 for stray continuation bytes).
size_t utf8Length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

//! One SMTP conversation on a blocking-looking API with a deadline per step.
class Connection {
 public:
  explicit Connection(std::chrono::milliseconds timeout) : stream_(ioc_), timeout_(timeout) {}

  core::Status connect(const std::string& host, uint16_t port) {
    asio::ip::tcp::resolver resolver(ioc_);
    error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return unavailable("cannot resolve " + host + ": " + ec.message());
    ec = run([&](error_code& out) {
      stream_.async_connect(endpoints, [&out](error_code e, const auto&) { out = e; });
    });
    if (ec)
      return unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                         ec.message());
    return core::Status::success();
  }

  //! A whole (possibly multi-line) reply: code and text.
  core::Result<std::pair<int, std::string>> reply() {
    std::string text;
    while (true) {
      size_t n = 0;
      error_code ec = run([&](error_code& out) {
        asio::async_read_until(stream_, asio::dynamic_buffer(buf_), "\r\n",
                               [&out, &n](error_code e, size_t got) {
                                 out = e;
                                 n = got;
                               });
      });
      if (ec) return unavailable("reading the reply: " + ec.message());
      std::string line = buf_.substr(0, n - 2);
      buf_.erase(0, n);
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0]))) {
        return unavailable("malformed reply: " + line);
      }
      text += line + "\n";
      if (line.size() == 3 || line[3] != '-') {
        text.pop_back();
        return std::pair{std::stoi(line.substr(0, 3)), text};
      }
      if (text.size() > 64 * 1024) return unavailable("reply too long");
    }
  }

  core::Status write(const std::string& data) {
    error_code ec = run([&](error_code& out) {
      asio::async_write(stream_, asio::buffer(data), [&out](error_code e, size_t) { out = e; });
    });
    if (ec) return unavailable("writing: " + ec.message());
    return core::Status::success();
  }

  //! Sends `command` (CRLF added) and expects a reply code in [lo, hi].
  core::Status step(const std::string& command, int lo, int hi) {
    if (!command.empty()) {
      if (auto s = write(command + "\r\n"); !s.ok()) return s;
    }
    auto r = reply();
    if (!r.ok()) return r.error();
    if (r->first < lo || r->first > hi) {
      std::string what = command.empty() ? std::string("greeting") : command.substr(0, 10);
      return unavailable(what + " refused: " + r->second);
    }
    return core::Status::success();
  }

 private:
  template <class Start>
  error_code run(Start start) {
    error_code result = asio::error::would_block;
    stream_.expires_after(timeout_);
    start(result);
    ioc_.restart();
    ioc_.run();
    if (result == asio::error::operation_aborted || result == boost::beast::error::timeout) {
      return boost::beast::error::timeout;
    }
    return result;
  }

  asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

}  // namespace

bool isValidEmail(std::string_view address) {
  return core::isPlausibleEmail(address);
}

std::string encodeHeaderWord(std::string_view utf8) {
  bool plain = true;
  for (char c : utf8) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) plain = false;
  }
  if (plain && utf8.find("=?") == std::string_view::npos) return std::string(utf8);
  // Each encoded word is at most 75 characters: "=?UTF-8?B?" + base64 + "?=" leaves 63 for the
  // base64, i.e. 45 bytes of text; characters are never split between words.
  std::string out;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t j = i;
    while (j < utf8.size()) {
      size_t n = utf8Length(static_cast<unsigned char>(utf8[j]));
      if (j + n - i > 45) break;
      j += n;
    }
    if (j == i) j = std::min(utf8.size(), i + utf8Length(static_cast<unsigned char>(utf8[i])));
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(utf8.substr(i, j - i)) + "?=";
    i = j;
  }
  return out;
}

std::string renderMessage(const SmtpOptions& options, const Mail& mail, int64_t date_unix_s,
                          const std::string& message_id) {
  char date[64];
  std::time_t t = static_cast<std::time_t>(date_unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string to;
  for (const auto& r : mail.to) to += (to.empty() ? "" : ", ") + r;
  std::string m;
  m += "From: " + options.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + encodeHeaderWord(mail.subject) + "\r\n";
  m += std::string("Date: ") + date + "\r\n";
  m += "Message-ID: <" + message_id + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  // Body: normalize line ends to CRLF and dot-stuff (RFC 5321 §4.5.2).
  bool line_start = true;
  for (size_t i = 0; i < mail.body.size(); ++i) {
    char c = mail.body[i];
    if (c == '\r') continue;
    if (c == '\n') {
      m += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') m += '.';
    m += c;
    line_start = false;
  }
  if (!line_start) m += "\r\n";
  return m;
}

core::Status sendMail(const SmtpOptions& options, const Mail& mail) {
  if (options.host.empty()) return unavailable("smtp.host is not set");
  if (!isValidEmail(options.from)) {
    return core::makeError(core::Errc::kInvalidArgument, "smtp.from is not an email address");
  }
  if (mail.to.empty()) return core::makeError(core::Errc::kInvalidArgument, "no recipients");
  for (const auto& r : mail.to) {
    if (!isValidEmail(r)) {
      return core::makeError(core::Errc::kInvalidArgument, "not an email address: " + r);
    }
  }
  Connection c(options.timeout);
  if (auto s = c.connect(options.host, options.port); !s.ok()) return s;
  if (auto s = c.step("", 220, 220); !s.ok()) return s;
  if (auto s = c.step("EHLO " + options.helo, 250, 250); !s.ok()) {
    if (auto h = c.step("HELO " + options.helo, 250, 250); !h.ok()) return h;
  }
  if (auto s = c.step("MAIL FROM:<" + options.from + ">", 250, 250); !s.ok()) return s;
  for (const auto& r : mail.to) {
    if (auto s = c.step("RCPT TO:<" + r + ">", 250, 251); !s.ok()) return s;
  }
  if (auto s = c.step("DATA", 354, 354); !s.ok()) return s;
  const int64_t now = std::time(nullptr);
  const std::string id = std::to_string(now) + "." +
                         std::to_string(reinterpret_cast<uintptr_t>(&c)) + "@" + options.helo;
  if (auto s = c.step(renderMessage(options, mail, now, id) + ".", 250, 250); !s.ok()) return s;
  (void)c.step("QUIT", 221, 221);  // the message is accepted; a rude goodbye changes nothing
  return core::Status::success();
}

}  // namespace ioc::notify
