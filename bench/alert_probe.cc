// Reading → alert latency probe (bench/mqtt_ingest.sh with IOC_BENCH_ALERT_PROBE=1): while the
// server ingests a load with many rules loaded, this tool PATCHes a probe entity whose `level`
// alternates above and below a threshold rule (each crossing opens or resolves an alert) and
// measures, on a WebSocket client subscribed to the "alerts" topic, the time from sending the
// reading to receiving the alert event. The reading's value carries its sequence number.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Samples {
  std::mutex mu;
  std::map<long, Clock::time_point> sent;
  std::vector<double> ms;
};

// Reads alert events until `stop`; each event whose value names a sent reading is one sample.
void watch(websocket::stream<beast::tcp_stream>& ws, Samples& s, const bool& stop) {
  beast::flat_buffer buf;
  while (!stop) {
    beast::error_code ec;
    ws.read(buf, ec);
    if (ec) return;
    json m = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
    buf.consume(buf.size());
    if (!m.is_object() || m.value("topic", "") != "alerts") continue;
    const json& data = m["data"];
    if (!data.is_object() || !data.contains("value") || !data["value"].is_number()) continue;
    const long seq = std::lround(std::fabs(data["value"].get<double>())) - 1000;
    std::lock_guard lock(s.mu);
    auto it = s.sent.find(seq);
    if (it == s.sent.end()) continue;
    s.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - it->second).count());
    s.sent.erase(it);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: bench_alert_probe PORT TOKEN ENTITY_ID COUNT RATE\n");
    return 2;
  }
  const std::string port = argv[1], token = argv[2], entity = argv[3];
  const long count = std::atol(argv[4]), rate = std::atol(argv[5]);
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve("127.0.0.1", port);

  websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(endpoints);
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::authorization, "Bearer " + token);
  }));
  ws.handshake("127.0.0.1:" + port, "/api/v1/stream");
  ws.write(asio::buffer(json{{"op", "subscribe"}, {"topics", {"alerts"}}}.dump()));

  Samples samples;
  bool stop = false;
  std::thread reader([&] { watch(ws, samples, stop); });

  beast::tcp_stream http_stream(ioc);
  http_stream.connect(endpoints);
  auto next = Clock::now();
  const auto step = std::chrono::microseconds(1'000'000 / std::max(1L, rate));
  long ok = 0;
  for (long seq = 0; seq < count; ++seq) {
    std::this_thread::sleep_until(next);
    next += step;
    // Odd readings cross above the threshold (0), even ones fall below: open, resolve, open…
    const double value = (seq % 2 ? 1.0 : -1.0) * static_cast<double>(1000 + seq);
    http::request<http::string_body> req{http::verb::patch,
                                         "/ngsi-ld/v1/entities/" + entity + "/attrs", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::content_type, "application/json");
    req.body() = json{{"level", {{"type", "Property"}, {"value", value}}}}.dump();
    req.prepare_payload();
    {
      std::lock_guard lock(samples.mu);
      samples.sent[seq] = Clock::now();
    }
    http::write(http_stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(http_stream, buf, res);
    if (res.result_int() / 100 == 2) ++ok;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // stragglers
  stop = true;
  // A blocking read is not woken by cancel(); shutting the socket down ends it.
  beast::error_code ignored;
  beast::get_lowest_layer(ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  reader.join();
  std::vector<double> v;
  {
    std::lock_guard lock(samples.mu);
    v = samples.ms;
  }
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  std::printf(
      "alert events: %zu received for %ld crossings sent (%ld accepted); reading→alert on the "
      "WebSocket ms: p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
      v.size(), count, ok, pct(0.5), pct(0.9), pct(0.99), v.empty() ? 0.0 : v.back());
  return v.empty() ? 1 : 0;
}
