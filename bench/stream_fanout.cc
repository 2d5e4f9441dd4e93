// Live-stream fan-out load (bench/mqtt_ingest.sh with IOC_BENCH_WS_CLIENTS=N): N WebSocket
// clients subscribe to the "entities" topic and read for SECONDS while the server ingests; a few
// of them (SLOW) stop reading after the first message, as a frozen browser tab would. Reports
// how many clients stayed connected, what they received, and how fresh the last update each
// client saw was (its modifiedAt against the wall clock), so a run shows coalescing at work.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-06T22:50:00.123Z" (the hub's format) → Unix ms; -1 when it is not that.
int64_t parseAt(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

struct Stats {
  long messages = 0;
  bool connected = false;
  bool closed = false;
  int64_t last_lag_ms = -1;  //!< wall clock − the last entity update's timestamp
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(asio::io_context& ioc, Stats& stats, bool slow) : ws_(ioc), stats_(stats), slow_(slow) {}

  void start(const asio::ip::tcp::resolver::results_type& endpoints, const std::string& host,
             const std::string& token) {
    auto self = shared_from_this();
    beast::get_lowest_layer(ws_).async_connect(endpoints, [self, host, token](beast::error_code ec,
                                                                              const auto&) {
      if (ec) return self->fail();
      self->ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        req.set(http::field::authorization, "Bearer " + token);
      }));
      beast::get_lowest_layer(self->ws_).expires_never();
      self->ws_.async_handshake(host, "/api/v1/stream",
                                [self](beast::error_code e) { self->subscribe(e); });
    });
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void subscribe(beast::error_code ec) {
    if (ec) return fail();
    stats_.connected = true;
    sub_ = json{{"op", "subscribe"}, {"topics", {"entities"}}}.dump();
    auto self = shared_from_this();
    ws_.async_write(asio::buffer(sub_), [self](beast::error_code e, size_t) {
      if (e) return self->fail();
      self->read();
    });
  }

  void read() {
    auto self = shared_from_this();
    ws_.async_read(buf_, [self](beast::error_code ec, size_t) {
      if (ec) return self->fail();
      self->onMessage();
      // A frozen tab: reads once, then leaves the socket alone so the server must cope.
      if (!self->slow_) self->read();
    });
  }

  void onMessage() {
    ++stats_.messages;
    json m = json::parse(beast::buffers_to_string(buf_.data()), nullptr, false);
    buf_.consume(buf_.size());
    if (!m.is_object() || m.value("topic", "") != "entities") return;
    if (auto at = m.find("at"); at != m.end() && at->is_string()) {
      if (int64_t t = parseAt(at->get<std::string>()); t > 0) stats_.last_lag_ms = nowMs() - t;
    }
  }

  void fail() { stats_.closed = true; }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::string sub_;
  Stats& stats_;
  bool slow_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: bench_stream_fanout PORT TOKEN CLIENTS SLOW SECONDS\n");
    return 2;
  }
  const std::string port = argv[1], token = argv[2];
  const int clients = std::atoi(argv[3]), slow = std::atoi(argv[4]);
  const int seconds = std::atoi(argv[5]);
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve("127.0.0.1", port);
  std::vector<Stats> stats(static_cast<size_t>(clients));
  std::vector<std::shared_ptr<Client>> all;
  for (int i = 0; i < clients; ++i) {
    all.push_back(std::make_shared<Client>(ioc, stats[static_cast<size_t>(i)], i < slow));
    all.back()->start(endpoints, "127.0.0.1:" + port, token);
  }
  std::printf("ready\n");
  std::fflush(stdout);
  asio::steady_timer timer(ioc, std::chrono::seconds(seconds));
  timer.async_wait([&](beast::error_code) {
    for (auto& c : all) c->close();
  });
  ioc.run();

  std::vector<double> counts, lags;
  long connected = 0, total = 0;
  for (int i = 0; i < clients; ++i) {
    const Stats& s = stats[static_cast<size_t>(i)];
    connected += s.connected;
    total += s.messages;
    if (i < slow) continue;
    counts.push_back(static_cast<double>(s.messages));
    if (s.last_lag_ms >= 0) lags.push_back(static_cast<double>(s.last_lag_ms));
  }
  std::printf(
      "stream: %ld of %d clients connected (%d frozen); %ld messages in %d s (%.0f/s in total); "
      "per reading client: min %.0f median %.0f max %.0f messages; lag of each client's last "
      "update ms: p50 %.0f p99 %.0f\n",
      connected, clients, slow, total, seconds, static_cast<double>(total) / seconds,
      percentile(counts, 0), percentile(counts, 0.5), percentile(counts, 1.0),
      percentile(lags, 0.5), percentile(lags, 0.99));
  return connected == clients ? 0 : 1;
}
