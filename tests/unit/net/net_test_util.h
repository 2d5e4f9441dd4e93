#pragma once
// Helpers for the in-process server tests: a started HttpServer on 127.0.0.1:0, a raw blocking
// client whose reads all have a deadline (so a server bug fails a test instead of hanging it),
// a WebSocket client with deadlines, and a temporary directory.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "net/router.h"
#include "net/server.h"

namespace ioc::net::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

//! Limits small enough that timing tests finish quickly.
inline ServerLimits fastLimits() {
  ServerLimits l;
  l.read_timeout = 300ms;
  l.idle_timeout = 500ms;
  l.write_timeout = 2000ms;
  return l;
}

//! Runs its functions when destroyed (or joins its threads) before the server goes away.
class ThreadBag {
 public:
  ThreadBag() = default;
  ThreadBag(const ThreadBag&) = delete;
  ThreadBag& operator=(const ThreadBag&) = delete;
  ~ThreadBag() { joinAll(); }
  //! Runs `fn` (which may be move-only, e.g. hold a Responder) on a new thread.
  template <class Fn>
  void spawn(Fn&& fn) {
    std::lock_guard lock(mu_);
    threads_.emplace_back(std::forward<Fn>(fn));
  }
  void joinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

//! An HttpServer on 127.0.0.1:0. Configure router() and limits(), then start(). On destruction,
//! the cleanups run and handler threads are joined first, so nothing answers a dead server.
class TestServer {
 public:
  explicit TestServer(ServerLimits limits = fastLimits(), int io_threads = 2)
      : limits_(limits), io_threads_(io_threads) {}
  ~TestServer() {
    for (auto& fn : cleanups_) fn();
    threads_.joinAll();
    server_.reset();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  Router& router() { return router_; }
  ServerLimits& limits() { return limits_; }
  ThreadBag& threads() { return threads_; }
  void addCleanup(std::function<void()> fn) { cleanups_.push_back(std::move(fn)); }

  ::testing::AssertionResult start() {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = io_threads_;
    o.limits = limits_;
    o.access_log = false;
    server_ = std::make_unique<HttpServer>(o, router_);
    auto st = server_->start();
    if (!st.ok()) return ::testing::AssertionFailure() << "server did not start";
    if (server_->boundPort() == 0) return ::testing::AssertionFailure() << "no bound port";
    return ::testing::AssertionSuccess();
  }
  uint16_t port() const { return server_->boundPort(); }
  HttpServer& server() { return *server_; }

 private:
  ServerLimits limits_;
  int io_threads_;
  std::vector<std::function<void()>> cleanups_;
  ThreadBag threads_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

//! Polls `pred` every 10 ms until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

using Res = http::response<http::string_body>;

struct ReadResult {
  Res res;
  error_code ec;           //!< set when no complete response arrived
  bool timed_out = false;  //!< nothing complete within the deadline
  bool ok() const { return !ec && !timed_out; }
  std::string error() const {
    return timed_out ? std::string("timed out") : ec ? ec.message() : std::string("ok");
  }
  std::string header(std::string_view name) const {
    auto it = res.find(beast::string_view(name.data(), name.size()));
    return it == res.end() ? std::string() : std::string(it->value());
  }
  bool has(std::string_view name) const {
    return res.find(beast::string_view(name.data(), name.size())) != res.end();
  }
  int status() const { return static_cast<int>(res.result_int()); }
};

//! A plain TCP client. Writes are blocking; reads wait with poll() up to a deadline.
class RawClient {
 public:
  //! `rcvbuf` > 0 shrinks the socket's receive buffer (for slow-reader tests).
  explicit RawClient(uint16_t port, int rcvbuf = 0) : sock_(ioc_) {
    error_code ec;
    sock_.open(tcp::v4(), ec);
    if (!ec && rcvbuf > 0) sock_.set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
    if (!ec) sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    connect_ec_ = ec;
  }
  bool connected() const { return !connect_ec_; }
  error_code connectError() const { return connect_ec_; }
  tcp::socket& socket() { return sock_; }

  error_code send(std::string_view bytes) {
    error_code ec;
    asio::write(sock_, asio::buffer(bytes.data(), bytes.size()), ec);
    return ec;
  }

  //! Reads one HTTP response (an interim 1xx counts as one). `head`: the request was HEAD,
  //! so the response has no body whatever its Content-Length says.
  ReadResult read(std::chrono::milliseconds timeout = 5s, bool head = false) {
    ReadResult out;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head);
    parser.body_limit(64 * 1024 * 1024);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!buf_.empty()) {
        error_code ec;
        size_t n = parser.put(asio::buffer(buf_.data(), buf_.size()), ec);
        buf_.erase(0, n);
        if (ec && ec != http::error::need_more) {
          out.ec = ec;
          return out;
        }
        if (parser.is_done()) {
          out.res = parser.release();
          return out;
        }
        if (n > 0 && !ec) continue;
      }
      error_code ec;
      if (!fill(deadline, ec)) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset) {
          error_code eof_ec;
          parser.put_eof(eof_ec);
          if (!eof_ec && parser.is_done()) {
            out.res = parser.release();
            return out;
          }
          out.ec = eof_ec ? eof_ec : ec;
          return out;
        }
        if (ec) {
          out.ec = ec;
        } else {
          out.timed_out = true;
        }
        return out;
      }
    }
  }

  //! Waits until the peer closes the connection. Returns true on EOF/reset within `timeout`;
  //! any bytes that arrive meanwhile are appended to `*received` (or kept in the buffer).
  bool waitClosed(std::chrono::milliseconds timeout, std::string* received = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      error_code ec;
      bool got = fill(deadline, ec);
      if (received) {
        *received += buf_;
        buf_.clear();
      }
      if (!got) return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
  }

  //! Whatever is buffered and not yet parsed.
  const std::string& pending() const { return buf_; }

 private:
  //! Appends what the socket has within the deadline. False on EOF/error (ec set) or timeout.
  bool fill(std::chrono::steady_clock::time_point deadline, error_code& ec) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = 0ms;
    pollfd p{sock_.native_handle(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) return false;  // timeout, ec stays clear
    char tmp[16384];
    size_t n = sock_.read_some(asio::buffer(tmp), ec);
    if (ec) return false;
    buf_.append(tmp, n);
    return true;
  }

  asio::io_context ioc_;
  tcp::socket sock_;
  error_code connect_ec_;
  std::string buf_;
};

//! One request, one response, on a fresh connection.
inline ReadResult roundTrip(uint16_t port, std::string_view request,
                            std::chrono::milliseconds timeout = 5s, bool head = false) {
  RawClient c(port);
  if (!c.connected()) {
    ReadResult r;
    r.ec = c.connectError();
    return r;
  }
  if (auto ec = c.send(request)) {
    ReadResult r;
    r.ec = ec;
    return r;
  }
  return c.read(timeout, head);
}

inline std::string get(std::string_view target, std::string_view extra_headers = "") {
  std::string s = "GET ";
  s += target;
  s += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  s += extra_headers;
  s += "\r\n";
  return s;
}

//! A WebSocket client whose operations all have a deadline.
class WsClient {
 public:
  WsClient() : ws_(ioc_) {}

  //! `rcvbuf` > 0 shrinks the socket's receive buffer (for slow-reader tests).
  error_code connect(uint16_t port, const std::string& target, int rcvbuf = 0,
                     std::chrono::milliseconds timeout = 5s) {
    error_code ec;
    auto& sock = beast::get_lowest_layer(ws_);
    sock.open(tcp::v4(), ec);
    if (ec) return ec;
    if (rcvbuf > 0) sock.set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
    if (ec) return ec;
    sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return ec;
    return run(
        [&](auto handler) {
          ws_.async_handshake(response_, "127.0.0.1", target, std::move(handler));
        },
        timeout);
  }

  error_code write(const std::string& text, std::chrono::milliseconds timeout = 5s) {
    ws_.text(true);
    return run([&](auto handler) { ws_.async_write(asio::buffer(text), std::move(handler)); },
               timeout);
  }

  //! Next message; nullopt on error/close/timeout (see lastError()).
  std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
    buffer_.consume(buffer_.size());
    last_ = run([&](auto handler) { ws_.async_read(buffer_, std::move(handler)); }, timeout);
    if (last_) return std::nullopt;
    return beast::buffers_to_string(buffer_.data());
  }

  error_code lastError() const { return last_; }
  beast::websocket::stream<tcp::socket>& stream() { return ws_; }
  const beast::websocket::response_type& handshakeResponse() const { return response_; }

 private:
  //! Runs one async operation to completion or until the deadline (then cancels it and
  //! reports operation_aborted/timed_out).
  template <class Start>
  error_code run(Start&& start, std::chrono::milliseconds timeout) {
    bool done = false;
    error_code result;
    auto handler = [&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    };
    start(handler);
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      error_code ignored;
      beast::get_lowest_layer(ws_).cancel(ignored);
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  asio::io_context ioc_;
  beast::websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  beast::websocket::response_type response_;
  error_code last_;
};

//! Runs `fn` in a child process (gtest's death-test machinery): a crash in the server then fails
//! this one test instead of aborting the whole binary. `fn` returns true on success and explains
//! failures on stderr, which gtest shows. Use in test suites named *DeathTest.
template <class Fn>
void runIsolated(Fn fn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        bool ok = fn();
        std::fflush(stderr);
        std::_Exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

//! A fresh directory, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      auto p = base / ("ioc-net-test-" + std::to_string(rd()));
      std::error_code ec;
      if (std::filesystem::create_directory(p, ec)) {
        path_ = p;
        break;
      }
    }
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  void write(const std::string& rel, const std::string& content) const {
    auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ioc::net::testing
