// The MQTT side of the ingest alone: MqttIngest (libmosquitto client, topic parsing, device
// lookup, payload mapping, batching) against a real broker, with a sink that acknowledges every
// batch at once instead of the context broker and the store. Shows whether CityIOC's MQTT code or
// the broker is the limit. Provisions bench-0 … bench-{D-1} (apikey "bench", the payload keys of
// bench_mqtt_ingest) in a temporary store, then waits for N messages and prints the rate from the
// first to the last.
// Usage: bench_mqtt_sink PORT QOS MESSAGES DEVICES [SUBSCRIBERS]  (then run bench_mqtt_ingest)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "core/clock.h"
#include "mqtt/ingest.h"
#include "storage/sqlite/sqlite_store.h"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fputs("usage: bench_mqtt_sink PORT QOS MESSAGES DEVICES [SUBSCRIBERS]\n", stderr);
    return 2;
  }
  const std::string port = argv[1];
  const int qos = std::atoi(argv[2]);
  const long messages = std::atol(argv[3]), devices = std::atol(argv[4]);
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bench-mqtt-sink-" + std::to_string(getpid()));
  fs::create_directories(dir);
  ioc::storage::sqlite::SqliteOptions so;
  so.path = (dir / "sink.db").string();
  auto store = ioc::storage::sqlite::SqliteStore::open(std::move(so));
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
    return 1;
  }
  const auto& clock = ioc::core::SystemClock::instance();
  ioc::mqtt::DeviceRegistry registry(**store, clock);
  const std::string vocab = "https://uri.etsi.org/ngsi-ld/default-context/";
  std::string mapping = "{";
  const char* names[] = {"pm25", "pm10", "no2", "temperature", "relativeHumidity"};
  for (int i = 0; i < 5; ++i) {
    mapping += std::string(i ? "," : "") + "\"" + static_cast<char>('a' + i) + "\":{\"name\":\"" +
               vocab + names[i] + "\",\"type\":\"Property\"}";
  }
  mapping += "}";
  const ioc::model::Actor actor{"bench", "system", "", "", ""};
  for (long d = 0; d < devices; ++d) {
    ioc::model::Device dev{"bench-" + std::to_string(d),
                           "bench",
                           "urn:ngsi-ld:AirQualityObserved:bench-" + std::to_string(d),
                           vocab + "AirQualityObserved",
                           "46",
                           mapping,
                           0};
    if (auto s = registry.provision(std::move(dev), actor); !s.ok()) {
      std::fprintf(stderr, "provision: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  auto options = ioc::mqtt::mqttOptions("mqtt://127.0.0.1:" + port,
                                        "bench-sink-" + std::to_string(getpid()), qos, "");
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.error().message.c_str());
    return 2;
  }
  options->subscribers = argc == 6 ? std::max(1, std::atoi(argv[5])) : 1;
  auto cpuSeconds = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  std::atomic<double> cpu_at_first{-1};
  std::atomic<long> seen{0};
  std::atomic<int64_t> first_ns{0}, last_ns{0};
  auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  ioc::mqtt::MqttIngest ingest(
      *options, registry,
      [&](std::vector<ioc::context::Observation> obs, const ioc::context::Visibility&,
          std::function<void(ioc::core::Status)> done) {
        int64_t zero = 0;
        if (first_ns.compare_exchange_strong(zero, now_ns())) cpu_at_first = cpuSeconds();
        seen += static_cast<long>(obs.size());
        last_ns = now_ns();
        done(ioc::core::Status::success());
      },
      clock);
  if (auto s = ingest.start(); !s.ok()) return 1;
  while (!ingest.connected()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::printf("ready\n");
  std::fflush(stdout);
  long last_seen = -1;
  auto last_change = std::chrono::steady_clock::now();
  while (seen < messages) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (seen != last_seen) {
      last_seen = seen;
      last_change = std::chrono::steady_clock::now();
    } else if (last_seen > 0 &&
               std::chrono::steady_clock::now() - last_change > std::chrono::seconds(10)) {
      break;
    }
  }
  ingest.stop();
  const double secs = static_cast<double>(last_ns - first_ns) / 1e9;
  const double cpu = cpuSeconds() - cpu_at_first;
  std::printf(
      "mqtt side: %ld of %ld messages mapped and batched in %.3f s = %.0f msgs/s "
      "(CPU %.2f s from the first message on, %.1f µs per message)\n",
      seen.load(), messages, secs, secs > 0 ? static_cast<double>(seen) / secs : 0.0, cpu,
      seen > 0 ? cpu * 1e6 / static_cast<double>(seen) : 0.0);
  store->reset();
  fs::remove_all(dir);
  return seen >= messages ? 0 : 1;
}
