// MQTT load generator for the ingest benchmark (bench/mqtt_ingest.sh): N publisher clients, each
// on its own thread, publish FIWARE IoT Agent JSON readings ({"a":…,"b":…,"c":…,"d":…,"e":…,
// "TimeInstant":…}, five attributes) on /{apikey}/{device_id}/attrs for devices bench-0 …
// bench-{D-1}, at QoS 0 or 1, as fast as the broker takes them (a window of unacknowledged
// messages per client) or at a fixed total rate. Prints the publish rate; the end-to-end rate is
// measured by the script from the server's mqtt_messages_committed_total.
#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Args {
  std::string host = "127.0.0.1";
  int port = 1883;
  int publishers = 4;
  long messages = 100000;  // in total
  int qos = 0;
  long devices = 1000;
  std::string apikey = "bench";
  std::string prefix;
  long window = 1000;  // unacknowledged messages per client (QoS 1) / unwritten (QoS 0)
  long rate = 0;       // total messages/s, 0 = as fast as possible
  bool time_instant = true;
};

const char* kUsage =
    "usage: bench_mqtt_ingest [--host H] [--port P] [--publishers N] [--messages M] [--qos 0|1]\n"
    "                         [--devices D] [--apikey K] [--prefix P] [--window W] [--rate R]\n"
    "                         [--no-time-instant]\n";

bool parseLong(std::string_view s, long lo, long hi, long& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string_view k = argv[i];
    if (k == "--no-time-instant") {
      a.time_instant = false;
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string_view v = argv[++i];
    long n = 0;
    if (k == "--host") {
      a.host = v;
    } else if (k == "--apikey") {
      a.apikey = v;
    } else if (k == "--prefix") {
      a.prefix = v;
    } else if (k == "--port" && parseLong(v, 1, 65535, n)) {
      a.port = static_cast<int>(n);
    } else if (k == "--publishers" && parseLong(v, 1, 1000, n)) {
      a.publishers = static_cast<int>(n);
    } else if (k == "--messages" && parseLong(v, 1, 1'000'000'000, n)) {
      a.messages = n;
    } else if (k == "--qos" && parseLong(v, 0, 1, n)) {
      a.qos = static_cast<int>(n);
    } else if (k == "--devices" && parseLong(v, 1, 10'000'000, n)) {
      a.devices = n;
    } else if (k == "--window" && parseLong(v, 1, 65535, n)) {
      a.window = n;
    } else if (k == "--rate" && parseLong(v, 0, 100'000'000, n)) {
      a.rate = n;
    } else {
      return false;
    }
  }
  return true;
}

//! One publisher client: libmosquitto's network thread (loop_start) writes and reads; this
//! thread publishes while fewer than `window` messages are unacknowledged (QoS 1: PUBACK;
//! QoS 0: written to the socket — libmosquitto calls on_publish then).
class Publisher {
 public:
  Publisher(const Args& args, int index) : args_(args), index_(index) {}

  bool connect() {
    const std::string id = "bench-pub-" + std::to_string(index_) + "-" + std::to_string(getpid());
    mosq_ = mosquitto_new(id.c_str(), true, this);
    if (mosq_ == nullptr) return false;
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(args_.window));
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      auto* p = static_cast<Publisher*>(self);
      std::lock_guard lock(p->mu_);
      p->connect_rc_ = rc;
      p->cv_.notify_all();
    });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
      auto* p = static_cast<Publisher*>(self);
      std::lock_guard lock(p->mu_);
      ++p->acked_;
      p->cv_.notify_all();
    });
    if (mosquitto_connect(mosq_, args_.host.c_str(), args_.port, 60) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    if (mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) return false;
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [this] { return connect_rc_ >= 0; }) &&
           connect_rc_ == 0;
  }

  //! Publishes `count` messages for the devices index, index + publishers, …
  bool run(long count, std::chrono::steady_clock::time_point start, double per_client_rate) {
    std::vector<long> mine;
    for (long d = index_; d < args_.devices; d += args_.publishers) mine.push_back(d);
    if (mine.empty()) mine.push_back(index_ % args_.devices);
    std::vector<std::string> topics;
    for (long d : mine) {
      topics.push_back(args_.prefix + "/" + args_.apikey + "/bench-" + std::to_string(d) +
                       "/attrs");
    }
    // Readings one millisecond apart per device, starting a day ago (UTC), so that every point
    // has its own time.
    const long long base_ms =
        (static_cast<long long>(std::time(nullptr)) - 86400) * 1000 + index_ * 7;
    char payload[256];
    for (long i = 0; i < count; ++i) {
      if (per_client_rate > 0) {
        auto due =
            start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / per_client_rate));
        std::this_thread::sleep_until(due);
      }
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return i - acked_ < args_.window; });
      }
      const size_t slot = static_cast<size_t>(i) % mine.size();
      const long round = i / static_cast<long>(mine.size());
      const double v = static_cast<double>((i * 7 + index_) % 1000) / 10.0;
      int n = 0;
      if (args_.time_instant) {
        const long long ms = base_ms + round;
        const std::time_t secs = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        n = std::snprintf(payload, sizeof payload,
                          "{\"a\":%.1f,\"b\":%.1f,\"c\":%ld,\"d\":%.2f,\"e\":%.3f,"
                          "\"TimeInstant\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ\"}",
                          v, v * 1.6, round % 500, 20 + v / 10, 0.5 + v / 2000, tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
      } else {
        n = std::snprintf(payload, sizeof payload,
                          "{\"a\":%.1f,\"b\":%.1f,\"c\":%ld,\"d\":%.2f,\"e\":%.3f}", v, v * 1.6,
                          round % 500, 20 + v / 10, 0.5 + v / 2000);
      }
      int rc =
          mosquitto_publish(mosq_, nullptr, topics[slot].c_str(), n, payload, args_.qos, false);
      if (rc != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "publisher %d: publish failed: %s\n", index_, mosquitto_strerror(rc));
        return false;
      }
    }
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return acked_ >= count; });
  }

  void close() {
    if (mosq_ == nullptr) return;
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  ~Publisher() { close(); }

 private:
  const Args& args_;
  int index_;
  mosquitto* mosq_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  int connect_rc_ = -1;
  long acked_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  mosquitto_lib_init();
  std::vector<std::unique_ptr<Publisher>> pubs;
  for (int i = 0; i < args.publishers; ++i) {
    pubs.push_back(std::make_unique<Publisher>(args, i));
    if (!pubs.back()->connect()) {
      std::fprintf(stderr, "publisher %d cannot connect to %s:%d\n", i, args.host.c_str(),
                   args.port);
      return 1;
    }
  }
  std::atomic<bool> ok{true};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < args.publishers; ++i) {
    const long count = args.messages / args.publishers + (i < args.messages % args.publishers);
    const double rate = args.rate > 0 ? static_cast<double>(args.rate) / args.publishers : 0;
    threads.emplace_back([&, i, count, rate] {
      if (!pubs[static_cast<size_t>(i)]->run(count, start, rate)) ok = false;
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& p : pubs) p->close();
  mosquitto_lib_cleanup();
  std::printf(
      "published %ld messages (QoS %d, %d publishers, %ld devices) in %.3f s: %.0f msgs/s%s\n",
      args.messages, args.qos, args.publishers, args.devices, secs,
      static_cast<double>(args.messages) / secs, ok ? "" : " (WITH ERRORS)");
  return ok ? 0 : 1;
}
