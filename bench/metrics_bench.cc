// Hot-path costs of metric updates; the server does these >50k times/s on 2 cores.
#include <benchmark/benchmark.h>

#include "obs/metrics.h"

namespace {

using ioc::obs::Counter;
using ioc::obs::Histogram;
using ioc::obs::Registry;

// Shared across threads so that ->Threads(2) measures contention on one cache line.
Registry& registry() {
  static Registry r;
  return r;
}

void BM_CounterInc(benchmark::State& state) {
  Counter& c = registry().counter("bench_counter_total", "x").with();
  for (auto _ : state) c.inc();
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2);

void BM_GaugeInc(benchmark::State& state) {
  auto& g = registry().gauge("bench_gauge", "x").with();
  for (auto _ : state) g.inc();
}
BENCHMARK(BM_GaugeInc)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& h = registry().histogram("bench_latency_seconds", "x").with();
  double v = 0.0001;
  for (auto _ : state) {
    h.observe(v);
    v = v < 20 ? v * 1.5 : 0.0001;  // walk across all buckets
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

void BM_LabelledLookupAndInc(benchmark::State& state) {
  auto& family = registry().counter("bench_requests_total", "x", {"method", "route", "code"});
  for (int i = 0; i < 50; ++i) family.with({"GET", "/api/v1/route" + std::to_string(i), "200"});
  for (auto _ : state) family.with({"GET", "/api/v1/units/{code}", "200"}).inc();
}
BENCHMARK(BM_LabelledLookupAndInc)->Threads(1)->Threads(2);

void BM_ScopedTimer(benchmark::State& state) {
  Histogram& h = registry().histogram("bench_timer_seconds", "x").with();
  for (auto _ : state) ioc::obs::ScopedTimer timer(h);
}
BENCHMARK(BM_ScopedTimer);

void BM_Render(benchmark::State& state) {
  Registry r;
  auto& family = r.histogram("render_seconds", "x", {"route", "code"});
  for (int i = 0; i < 100; ++i)
    family.with({"/api/v1/route" + std::to_string(i), "200"}).observe(0.01);
  for (auto _ : state) benchmark::DoNotOptimize(r.render());
}
BENCHMARK(BM_Render);

}  // namespace
