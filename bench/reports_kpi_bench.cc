// KPI queries over 1,000,000 citizen reports (issue 5: p99 < 100 ms). Each repetition is one
// query over the whole index; the p99 statistic is over 100 repetitions.
// Run: build/release/bench/bench_reports_kpi --benchmark_repetitions=100
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "reports/kpis.h"

namespace {

using ioc::reports::KpiIndex;
using ioc::reports::KpiRecord;

constexpr size_t kReports = 1'000'000;
constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kStart = 1'735'689'600'000;  // 2025-01-01

// Names outlive the index's views of them.
struct Names {
  std::vector<std::string> agencies, wards, services;
  Names() {
    for (int i = 0; i < 40; ++i) agencies.push_back("Đơn vị " + std::to_string(i));
    for (int i = 0; i < 40; ++i) wards.push_back(std::to_string(19700 + i));
    for (int i = 0; i < 12; ++i) services.push_back("service-" + std::to_string(i));
  }
};

const KpiIndex& index() {
  static Names names;
  static KpiIndex idx = [] {
    KpiIndex k;
    std::mt19937_64 rng(42);
    for (size_t n = 1; n <= kReports; ++n) {
      KpiRecord r;
      r.created_ms = kStart + static_cast<int64_t>(rng() % (700 * kDay));
      r.due_ms = r.created_ms + (1 + static_cast<int64_t>(rng() % 10)) * kDay;
      r.open = rng() % 10 == 0;
      r.first_resolved_ms = r.open ? 0 : r.created_ms + static_cast<int64_t>(rng() % (12 * kDay));
      r.rating = r.open || rng() % 3 ? 0 : 1 + static_cast<int>(rng() % 5);
      r.reopened = rng() % 50 == 0;
      r.agency = names.agencies[rng() % names.agencies.size()];
      r.ward = names.wards[rng() % names.wards.size()];
      r.unit = r.ward;
      r.service = names.services[rng() % names.services.size()];
      k.put(n, r);
    }
    return k;
  }();
  return idx;
}

double p99(const std::vector<double>& v) {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  return s[std::min(s.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(s.size())))];
}

void run(benchmark::State& state, const char* group_by, bool period, bool scoped) {
  const KpiIndex& idx = index();
  KpiIndex::Query q;
  q.group_by = group_by;
  if (period) {  // one quarter
    q.from_ms = kStart + 200 * kDay;
    q.to_ms = q.from_ms + 91 * kDay;
  }
  if (scoped) q.in_scope = [](std::string_view unit) { return unit < "19720"; };
  for (auto _ : state) {
    auto out = idx.query(q, kStart + 710 * kDay);
    benchmark::DoNotOptimize(out);
  }
  state.counters["reports"] = static_cast<double>(idx.size());
}

void ByAgencyAllTime(benchmark::State& s) {
  run(s, "agency", false, false);
}
void ByWardOneQuarter(benchmark::State& s) {
  run(s, "ward", true, false);
}
void ByServiceScopedToHalfTheWards(benchmark::State& s) {
  run(s, "service", false, true);
}

}  // namespace

BENCHMARK(ByAgencyAllTime)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->ComputeStatistics("p99", p99);
BENCHMARK(ByWardOneQuarter)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->ComputeStatistics("p99", p99);
BENCHMARK(ByServiceScopedToHalfTheWards)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->ComputeStatistics("p99", p99);
BENCHMARK_MAIN();
