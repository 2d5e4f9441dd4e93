#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ioc::obs {
namespace {

TEST(Counter, RendersLabelledChildrenSortedByLabelValues) {
  Registry registry;
  auto& requests =
      registry.counter("http_requests_total", "HTTP requests served.", {"method", "route", "code"});
  requests.with({"GET", "/api/v1/units/{code}", "200"}).inc();
  requests.with({"GET", "/api/v1/units/{code}", "200"}).inc(2);
  requests.with({"DELETE", "/api/v1/units/{code}", "404"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP http_requests_total HTTP requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"DELETE\",route=\"/api/v1/units/{code}\",code=\"404\"} 1\n"
            "http_requests_total{method=\"GET\",route=\"/api/v1/units/{code}\",code=\"200\"} 3\n");
}

TEST(Counter, UnlabelledIsExposedAsZeroBeforeFirstUse) {
  Registry registry;
  auto& family = registry.counter("ioc_started_total", "Starts.");
  EXPECT_EQ(registry.render(),
            "# HELP ioc_started_total Starts.\n"
            "# TYPE ioc_started_total counter\n"
            "ioc_started_total 0\n");
  family.with().inc(5);
  EXPECT_EQ(family.with().value(), 5u);
}

TEST(Counter, LabelledFamilyWithoutChildrenRendersNothing) {
  Registry registry;
  registry.counter("ioc_errors_total", "Errors.", {"kind"});
  EXPECT_EQ(registry.render(), "");
}

TEST(Gauge, SetIncDecAndFormatting) {
  Registry registry;
  auto& family = registry.gauge("ioc_queue_depth", "Items queued.", {"queue"});
  Gauge& a = family.with({"a"});
  a.set(10);
  a.inc();
  a.dec(3);
  a.inc(0.5);
  EXPECT_EQ(a.value(), 8.5);
  family.with({"b"}).set(size_t{42});
  family.with({"c"}).set(-0.0005);
  family.with({"d"}).set(1e-5);
  family.with({"e"}).set(1e20);
  family.with({"f"}).set(std::numeric_limits<double>::infinity());
  family.with({"g"}).set(std::numeric_limits<double>::quiet_NaN());
  family.with({"h"}).set(int64_t{-7});
  EXPECT_EQ(registry.render(),
            "# HELP ioc_queue_depth Items queued.\n"
            "# TYPE ioc_queue_depth gauge\n"
            "ioc_queue_depth{queue=\"a\"} 8.5\n"
            "ioc_queue_depth{queue=\"b\"} 42\n"
            "ioc_queue_depth{queue=\"c\"} -0.0005\n"
            "ioc_queue_depth{queue=\"d\"} 1e-05\n"
            "ioc_queue_depth{queue=\"e\"} 1e+20\n"
            "ioc_queue_depth{queue=\"f\"} +Inf\n"
            "ioc_queue_depth{queue=\"g\"} NaN\n"
            "ioc_queue_depth{queue=\"h\"} -7\n");
}

TEST(Histogram, RendersCumulativeBucketsSumAndCount) {
  Registry registry;
  auto& family = registry.histogram("http_request_duration_seconds", "Request latency.", {"route"},
                                    {0.125, 0.5, 1});
  Histogram& h = family.with({"/a"});
  h.observe(0.0625);
  h.observe(0.125);  // bounds are inclusive
  h.observe(0.25);
  h.observe(4);
  family.with({"/b"});
  EXPECT_EQ(registry.render(),
            "# HELP http_request_duration_seconds Request latency.\n"
            "# TYPE http_request_duration_seconds histogram\n"
            "http_request_duration_seconds_bucket{route=\"/a\",le=\"0.125\"} 2\n"
            "http_request_duration_seconds_bucket{route=\"/a\",le=\"0.5\"} 3\n"
            "http_request_duration_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
            "http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "http_request_duration_seconds_sum{route=\"/a\"} 4.4375\n"
            "http_request_duration_seconds_count{route=\"/a\"} 4\n"
            "http_request_duration_seconds_bucket{route=\"/b\",le=\"0.125\"} 0\n"
            "http_request_duration_seconds_bucket{route=\"/b\",le=\"0.5\"} 0\n"
            "http_request_duration_seconds_bucket{route=\"/b\",le=\"1\"} 0\n"
            "http_request_duration_seconds_bucket{route=\"/b\",le=\"+Inf\"} 0\n"
            "http_request_duration_seconds_sum{route=\"/b\"} 0\n"
            "http_request_duration_seconds_count{route=\"/b\"} 0\n");
}

TEST(Histogram, UnlabelledDefaultBuckets) {
  Registry registry;
  Histogram& h = registry.histogram("ioc_tick_seconds", "Tick.").with();
  h.observe(0.003);
  h.observe(std::numeric_limits<double>::quiet_NaN());  // lands in +Inf only
  std::string expected =
      "# HELP ioc_tick_seconds Tick.\n"
      "# TYPE ioc_tick_seconds histogram\n";
  const char* les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                       "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};
  int cumulative = 0;
  for (const char* le : les) {
    if (std::string(le) == "0.005") cumulative = 1;
    expected += "ioc_tick_seconds_bucket{le=\"" + std::string(le) + "\"} " +
                std::to_string(cumulative) + "\n";
  }
  expected +=
      "ioc_tick_seconds_bucket{le=\"+Inf\"} 2\n"
      "ioc_tick_seconds_sum NaN\n"
      "ioc_tick_seconds_count 2\n";
  EXPECT_EQ(registry.render(), expected);
}

TEST(Histogram, SnapshotAndInvalidBounds) {
  Histogram h({1, 2});
  h.observe(-1);
  h.observe(1.5);
  h.observe(3);
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.sum, 3.5);
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  Registry registry;
  EXPECT_THROW(registry.histogram("h", "h", {"x"}, {0.5, 0.1}), std::invalid_argument);
}

TEST(Render, EscapesHelpAndLabelValues) {
  Registry registry;
  registry.counter("esc_total", "Back\\slash \"quoted\"\nsecond line", {"v"})
      .with({"a\\b\"c\nd"})
      .inc();
  EXPECT_EQ(registry.render(),
            "# HELP esc_total Back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Render, OrdersFamiliesByName) {
  Registry registry;
  registry.gauge("b_gauge", "B.").with().set(2);
  registry.counter("a_total", "A.").with().inc();
  registry.gaugeCallback("c_cb", "C.", [] { return 3.0; });
  EXPECT_EQ(registry.render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
            "# HELP b_gauge B.\n# TYPE b_gauge gauge\nb_gauge 2\n"
            "# HELP c_cb C.\n# TYPE c_cb gauge\nc_cb 3\n");
}

TEST(Registry, InvalidNamesThrow) {
  Registry registry;
  for (const char* bad : {"", "1abc", "a-b", "a b", "é", "a.b"}) {
    EXPECT_THROW(registry.counter(bad, "x"), std::invalid_argument) << bad;
    EXPECT_THROW(registry.gaugeCallback(bad, "x", [] { return 0.0; }), std::invalid_argument);
  }
  EXPECT_NO_THROW(registry.counter("ns:sub_name_total", "x"));
  EXPECT_NO_THROW(registry.counter("_x9", "x", {"_ok", "A1"}));
  for (const char* bad : {"", "1a", "a:b", "a-b", "__reserved"}) {
    EXPECT_THROW(registry.counter("c_total", "x", {bad}), std::invalid_argument) << bad;
  }
  EXPECT_THROW(registry.counter("c_total", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "x", {"le"}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("c_total", "x", {"le"}));  // only reserved for histograms
}

TEST(Registry, ReRegistrationReturnsSameFamilyOrThrowsOnConflict) {
  Registry registry;
  auto& a = registry.counter("req_total", "Requests.", {"code"});
  EXPECT_EQ(&registry.counter("req_total", "Other help.", {"code"}), &a);
  EXPECT_THROW(registry.counter("req_total", "x", {"method"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("req_total", "x", {"code"}), std::invalid_argument);
  EXPECT_THROW(registry.gaugeCallback("req_total", "x", [] { return 0.0; }), std::invalid_argument);
  auto& h = registry.histogram("lat_seconds", "x", {}, {1, 2});
  EXPECT_EQ(&registry.histogram("lat_seconds", "x", {}, {1, 2}), &h);
  EXPECT_THROW(registry.histogram("lat_seconds", "x", {}, {1, 3}), std::invalid_argument);
  // Names a histogram exposes are taken, in either registration order.
  EXPECT_THROW(registry.counter("lat_seconds_count", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("lat_seconds_sum", "x"), std::invalid_argument);
  registry.counter("other_bucket", "x");
  EXPECT_THROW(registry.histogram("other", "x"), std::invalid_argument);
}

TEST(Registry, WrongNumberOfLabelValuesThrows) {
  Registry registry;
  auto& family = registry.counter("x_total", "x", {"a", "b"});
  EXPECT_THROW(family.with({"1"}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::invalid_argument);
  EXPECT_THROW(family.with(), std::invalid_argument);
}

TEST(Registry, ChildReferencesAreStable) {
  Registry registry;
  auto& family = registry.counter("stable_total", "x", {"id"});
  Counter* first = &family.with({"m"});
  for (int i = 0; i < 1000; ++i) family.with({std::to_string(i)}).inc();
  EXPECT_EQ(&family.with({"m"}), first);
  std::string key = "m";
  std::string_view values[] = {key};
  EXPECT_EQ(&family.with(values), first);
}

TEST(Concurrency, CounterIncrementsAreExact) {
  Registry registry;
  auto& family = registry.counter("hits_total", "x", {"route"});
  auto& hist = registry.histogram("lat_seconds", "x");
  auto& gauge = registry.gauge("open", "x").with();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  constexpr uint64_t kTotal = uint64_t{kThreads} * kPerThread;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& cached = family.with({"/cached"});
      for (int i = 0; i < kPerThread; ++i) {
        cached.inc();
        gauge.inc();
        if (i % 100 == 0) {
          family.with({"/looked-up"}).inc();
          family.with({"/t" + std::to_string(t) + "/" + std::to_string(i)}).inc();
          hist.with().observe(0.001);
        }
        if (t == 0 && i % 10'000 == 0) (void)registry.render();  // scrape during updates
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(family.with({"/cached"}).value(), kTotal);
  EXPECT_EQ(family.with({"/looked-up"}).value(), kTotal / 100);
  EXPECT_EQ(gauge.value(), static_cast<double>(kTotal));
  Histogram::Snapshot s = hist.with().snapshot();
  EXPECT_EQ(s.count, kTotal / 100);
  EXPECT_EQ(s.cumulative[1], s.count);  // 0.001 is the second bound
}

TEST(GaugeCallback, ReadAtScrapeTimeReplacedAndRemoved) {
  Registry registry;
  int depth = 3;
  registry.gaugeCallback("ioc_ingest_queue_depth", "Queued.", [&] { return double(depth); });
  const std::string header =
      "# HELP ioc_ingest_queue_depth Queued.\n# TYPE ioc_ingest_queue_depth gauge\n";
  EXPECT_EQ(registry.render(), header + "ioc_ingest_queue_depth 3\n");
  depth = 7;
  EXPECT_EQ(registry.render(), header + "ioc_ingest_queue_depth 7\n");
  registry.gaugeCallback("ioc_ingest_queue_depth", "Queued.", [] { return 0.25; });
  EXPECT_EQ(registry.render(), header + "ioc_ingest_queue_depth 0.25\n");
  registry.gaugeCallback("ioc_ingest_queue_depth", "Queued.",
                         []() -> double { throw std::runtime_error("boom"); });
  EXPECT_EQ(registry.render(), header + "ioc_ingest_queue_depth NaN\n");
  registry.removeGaugeCallback("ioc_ingest_queue_depth");
  EXPECT_EQ(registry.render(), "");
  registry.removeGaugeCallback("unknown");  // no-op
  registry.counter("plain_total", "x");
  EXPECT_THROW(registry.removeGaugeCallback("plain_total"), std::invalid_argument);
}

TEST(ScopedTimer, ObservesElapsedSecondsOnce) {
  Histogram h({0.001, 60});
  {
    ScopedTimer timer(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_GE(timer.elapsedSeconds(), 0.002);
  }
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.cumulative[0], 0u);
  EXPECT_EQ(s.cumulative[1], 1u);
  EXPECT_GE(s.sum, 0.002);
  EXPECT_LT(s.sum, 60);
  {
    ScopedTimer cancelled(h);
    cancelled.cancel();
  }
  EXPECT_EQ(h.snapshot().count, 1u);
}

TEST(DefaultRegistry, IsProcessWide) {
  EXPECT_EQ(&defaultRegistry(), &defaultRegistry());
  auto& c = defaultRegistry().counter("obs_test_default_total", "x");
  c.with().inc();
  EXPECT_NE(defaultRegistry().render().find("obs_test_default_total 1\n"), std::string::npos);
}

}  // namespace
}  // namespace ioc::obs
