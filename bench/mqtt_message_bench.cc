// The MQTT ingest's per-message work without the network or the broker: topic parsing and the
// mapping of a five-attribute IoT Agent JSON payload onto NGSI-LD attributes (what the network
// thread does for every message before it is batched). Run: build/release/bench/bench_mqtt_message
#include <benchmark/benchmark.h>

#include "mqtt/message.h"

namespace {

ioc::mqtt::DevicePtr benchDevice() {
  ioc::model::Device d;
  d.device_id = "bench-1";
  d.apikey = "bench";
  d.entity_id = "urn:ngsi-ld:AirQualityObserved:bench-1";
  d.entity_type = "https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved";
  d.unit_code = "46";
  d.mapping =
      R"({"a":{"name":"https://uri.etsi.org/ngsi-ld/default-context/pm25","type":"Property","unitCode":"GQ"},
    "b":{"name":"https://uri.etsi.org/ngsi-ld/default-context/pm10","type":"Property","unitCode":"GQ"},
    "c":{"name":"https://uri.etsi.org/ngsi-ld/default-context/no2","type":"Property","unitCode":"GQ"},
    "d":{"name":"https://uri.etsi.org/ngsi-ld/default-context/temperature","type":"Property","unitCode":"CEL"},
    "e":{"name":"https://uri.etsi.org/ngsi-ld/default-context/relativeHumidity","type":"Property","unitCode":"P1"}})";
  return *ioc::mqtt::makeEntry(d);
}

void BM_ParseTopic(benchmark::State& state) {
  for (auto _ : state) {
    auto ids = ioc::mqtt::parseTopic("", "/bench/bench-123/attrs");
    benchmark::DoNotOptimize(ids);
  }
}
BENCHMARK(BM_ParseTopic);

void BM_MapPayload(benchmark::State& state) {
  auto device = benchDevice();
  const std::string payload =
      state.range(0)
          ? R"({"a":12.3,"b":19.7,"c":42,"d":21.23,"e":0.512,"TimeInstant":"2026-03-01T07:30:00.123Z"})"
          : R"({"a":12.3,"b":19.7,"c":42,"d":21.23,"e":0.512})";
  int64_t now = 1'780'000'000'000;
  for (auto _ : state) {
    auto m = ioc::mqtt::mapPayload(*device, payload, ++now);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_MapPayload)->Arg(0)->Arg(1);

}  // namespace
