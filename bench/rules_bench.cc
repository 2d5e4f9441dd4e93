// Rule evaluation cost per reading as the number of rules grows (issue 4: 1 -> 100,000 rules).
// One rule applies to the readings; the rest are on other entity types, other entities or
// other wards, so with a working index the cost per reading should stay flat.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "rules/engine.h"

namespace {

using namespace ioc::rules;

AlertTemplate alertTemplate() {
  AlertTemplate a;
  a.category = Category::kEnv;
  a.severity = Severity::kModerate;
  a.headline = "{attribute} {value} at {entityId}";
  return a;
}

Rule threshold(std::string id, std::string type, std::string attribute) {
  Rule r;
  r.id = std::move(id);
  r.name = "bench";
  r.kind = RuleKind::kThreshold;
  r.target.entity_type = std::move(type);
  r.target.attribute = std::move(attribute);
  r.threshold.value = 50;
  r.threshold.hysteresis = 2;
  r.alert = alertTemplate();
  return r;
}

geo::Geometry square(double lon, double lat, double half) {
  geo::Geometry g;
  g.type = geo::GeometryType::kPolygon;
  g.polygons = {{{{lon - half, lat - half},
                  {lon + half, lat - half},
                  {lon + half, lat + half},
                  {lon - half, lat + half},
                  {lon - half, lat - half}}}};
  return g;
}

// state.range(0) unrelated rules: a third on other types, a third on single other entities, a
// third on the same type and attribute but in wards far away (by bounding box).
void loadRules(Engine& e, int64_t unrelated) {
  for (int64_t i = 0; i < unrelated; ++i) {
    const std::string id = "r" + std::to_string(i);
    Rule r;
    switch (i % 3) {
      case 0:
        r = threshold(id, "Type" + std::to_string(i), "pm25");
        break;
      case 1:
        r = threshold(id, "", "pm25");
        r.target.entity_id = "urn:other:" + std::to_string(i);
        break;
      default:
        r = threshold(id, "AirQualityObserved", "pm25");
        r.target.area = square(102.0 + 0.01 * static_cast<double>(i % 300),
                               20.0 + 0.01 * static_cast<double>((i / 300) % 300), 0.004);
        break;
    }
    (void)e.addRule(std::move(r));
  }
  (void)e.addRule(threshold("applies", "AirQualityObserved", "pm25"));
}

void BM_ReadingWithUnrelatedRules(benchmark::State& state) {
  ioc::core::FakeClock clock;
  Engine e(clock);
  loadRules(e, state.range(0));
  std::vector<Reading> readings;
  for (int i = 0; i < 1000; ++i) {
    readings.push_back(Reading{"urn:ngsi-ld:AirQualityObserved:hue-" + std::to_string(i),
                               "AirQualityObserved", "pm25", 0, 0,
                               geo::Position{107.55 + 0.0001 * i, 16.45}});
  }
  int64_t t = 1'772'323'200'000;
  size_t i = 0;
  size_t signals = 0;
  for (auto _ : state) {
    Reading& r = readings[i++ % readings.size()];
    r.time_ms = ++t;
    r.value = static_cast<double>((t / 7) % 60);  // crosses the threshold now and then
    signals += e.onReading(r).size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["signals"] = static_cast<double>(signals);
  state.counters["evaluations/reading"] =
      static_cast<double>(e.evaluations()) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ReadingWithUnrelatedRules)->Arg(0)->Arg(100)->Arg(10'000)->Arg(100'000);

}  // namespace
