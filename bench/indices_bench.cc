// The city indices' cost per reading (the alert worker runs one per air-quality message):
// VN_AQI giờ for 1,000 stations reporting PM2.5, PM10 and NO2 round-robin.
// Run: build/release/bench/bench_indices (Release build; see docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "alerts/city_indices.h"

namespace {

using ioc::alerts::CityIndices;
using ioc::alerts::EntityReadings;

void BM_AirQualityReading(benchmark::State& state) {
  CityIndices indices{ioc::alerts::IndexConfig{}};
  const auto stations = static_cast<size_t>(state.range(0));
  std::vector<EntityReadings> readings;
  for (size_t i = 0; i < stations; ++i) {
    readings.push_back(EntityReadings{"urn:ngsi-ld:AirQualityObserved:hue-" + std::to_string(i),
                                      "AirQualityObserved",
                                      {{"no2", 20}, {"pm10", 40}, {"pm25", 25}},
                                      {},
                                      0});
  }
  int64_t t = 1'772'323'200'000;
  size_t i = 0, write_backs = 0;
  for (auto _ : state) {
    EntityReadings& r = readings[i++ % stations];
    t += 20;  // every station every 20 s at 1,000 stations: hours roll over during the run
    r.time_ms = t;
    r.changed["pm25"] = static_cast<double>((t / 997) % 120);
    if (indices.update(r)) ++write_backs;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["write_backs"] = static_cast<double>(write_backs);
}
BENCHMARK(BM_AirQualityReading)->Arg(1)->Arg(1000)->Arg(10'000);

}  // namespace
