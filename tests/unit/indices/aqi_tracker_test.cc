#include "indices/aqi_tracker.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <vector>

namespace ioc::indices {
namespace {

constexpr int64_t kHour = HourlyAqiTracker::kHourMs;
// 2024-01-01T00:00:00+07:00 = 2023-12-31T17:00:00Z: a local midnight is also an hour boundary.
constexpr int64_t kT0 = 1'704'042'000'000;

TEST(HourlyAqiTracker, EmptyHasNoIndex) {
  HourlyAqiTracker t;
  EXPECT_FALSE(t.current().has_value());
  EXPECT_FALSE(t.at(kT0).has_value());
  EXPECT_FALSE(t.latestHourStartMs().has_value());
}

TEST(HourlyAqiTracker, WorkedExampleFedHourByHour) {
  // vn_aqi.md §5(b) first series, current hour first: feed oldest first, two readings an hour
  // whose mean is the listed value.
  const double c[12] = {35, 42, 50, 48, 40, 33, 30, 28, 27, 25, 26, 30};
  HourlyAqiTracker t;
  for (int i = 11; i >= 0; --i) {
    const int64_t hour_start = kT0 + (11 - i) * kHour;
    ASSERT_TRUE(t.add(hour_start + 5 * 60'000, Pollutant::PM25, c[i] - 2).ok());
    ASSERT_TRUE(t.add(hour_start + 50 * 60'000, Pollutant::PM25, c[i] + 2).ok());
  }
  EXPECT_EQ(*t.latestHourStartMs(), kT0 + 11 * kHour);
  EXPECT_NEAR(*t.hourlyMean(Pollutant::PM25, kT0 + 11 * kHour), 35.0, 1e-12);
  EXPECT_NEAR(*t.nowcastAt(Pollutant::PM25, kT0 + 11 * kHour), 39.466178, 1e-6);
  auto r = t.current();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->aqi, 79);
  EXPECT_EQ(r->category.level, 2);
  EXPECT_EQ(r->dominant, Pollutant::PM25);
}

TEST(HourlyAqiTracker, HourBoundaries) {
  HourlyAqiTracker t;
  ASSERT_TRUE(t.add(kT0 - 1, Pollutant::PM25, 10).ok());  // 23:59:59.999 local
  ASSERT_TRUE(t.add(kT0, Pollutant::PM25, 30).ok());      // 00:00:00.000 local
  EXPECT_NEAR(*t.hourlyMean(Pollutant::PM25, kT0 - kHour), 10.0, 1e-12);
  EXPECT_NEAR(*t.hourlyMean(Pollutant::PM25, kT0 + kHour - 1), 30.0, 1e-12);
  EXPECT_EQ(*t.latestHourStartMs(), kT0);
  // Readings before 1970 still land in the right hour (floor, not truncation).
  HourlyAqiTracker old;
  ASSERT_TRUE(old.add(-1, Pollutant::PM10, 5).ok());
  EXPECT_EQ(*old.latestHourStartMs(), -kHour);
}

TEST(HourlyAqiTracker, GasesUseTheCurrentHourOnly) {
  HourlyAqiTracker t;
  ASSERT_TRUE(t.add(kT0, Pollutant::PM25, 10).ok());
  ASSERT_TRUE(t.add(kT0, Pollutant::NO2, 1000).ok());  // previous hour: not in the next AQI
  ASSERT_TRUE(t.add(kT0 + kHour, Pollutant::PM25, 10).ok());
  ASSERT_TRUE(t.add(kT0 + kHour, Pollutant::O3_1h, 160).ok());
  ASSERT_TRUE(t.add(kT0 + kHour + 10, Pollutant::O3_1h, 200).ok());  // mean 180 → 75
  auto r = t.current();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->aqi, 75);
  EXPECT_EQ(r->dominant, Pollutant::O3_1h);
  EXPECT_FALSE(r->subIndexOf(Pollutant::NO2).has_value());
  EXPECT_EQ(*r->subIndexOf(Pollutant::PM25), 20);
}

TEST(HourlyAqiTracker, NoPmNoIndex) {
  HourlyAqiTracker t;
  ASSERT_TRUE(t.add(kT0, Pollutant::NO2, 100).ok());
  ASSERT_TRUE(t.add(kT0 + kHour, Pollutant::NO2, 100).ok());
  EXPECT_FALSE(t.current().has_value());
  // One PM hour is not a NowCast (needs 2 of the last 3 hours).
  ASSERT_TRUE(t.add(kT0 + kHour, Pollutant::PM10, 50).ok());
  EXPECT_FALSE(t.current().has_value());
  ASSERT_TRUE(t.add(kT0, Pollutant::PM10, 50).ok());  // late reading for the previous hour
  ASSERT_TRUE(t.current().has_value());
  EXPECT_EQ(t.current()->aqi, 50);
}

TEST(HourlyAqiTracker, RejectsBadReadings) {
  HourlyAqiTracker t;
  EXPECT_FALSE(t.add(kT0, Pollutant::O3_8h, 10).ok());
  EXPECT_FALSE(t.add(kT0, Pollutant::PM25, -1).ok());
  EXPECT_FALSE(t.add(kT0, Pollutant::PM25, std::nan("")).ok());
  ASSERT_TRUE(t.add(kT0 + 11 * kHour, Pollutant::PM25, 10).ok());
  EXPECT_TRUE(t.add(kT0, Pollutant::PM25, 10).ok());  // c12: still inside the window
  auto stale = t.add(kT0 - 1, Pollutant::PM25, 10);   // c13: outside
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, core::Errc::kInvalidArgument);
}

TEST(HourlyAqiTracker, SilentStationAgesOut) {
  HourlyAqiTracker t;
  for (int h = 0; h < 12; ++h) ASSERT_TRUE(t.add(kT0 + h * kHour, Pollutant::PM25, 40).ok());
  const int64_t last = kT0 + 11 * kHour;
  EXPECT_TRUE(t.at(last + kHour).has_value());       // c1 missing, c2 and c3 present
  EXPECT_FALSE(t.at(last + 2 * kHour).has_value());  // only c3
  EXPECT_FALSE(t.at(last - kHour).has_value());      // before the latest hour: not answered
  EXPECT_EQ(t.at(last + kHour)->aqi, t.current()->aqi);
}

TEST(HourlyAqiTracker, RingReuseDropsOldHours) {
  HourlyAqiTracker t;
  for (int h = 0; h < 12; ++h) ASSERT_TRUE(t.add(kT0 + h * kHour, Pollutant::PM25, 400).ok());
  // A day later the same ring slots come round again; yesterday's 400s must not leak in.
  ASSERT_TRUE(t.add(kT0 + 24 * kHour, Pollutant::PM25, 10).ok());
  EXPECT_FALSE(t.current().has_value());
  ASSERT_TRUE(t.add(kT0 + 23 * kHour, Pollutant::PM25, 10).ok());
  ASSERT_TRUE(t.current().has_value());
  EXPECT_EQ(t.current()->aqi, 20);
  EXPECT_FALSE(t.hourlyMean(Pollutant::PM25, kT0 + 12 * kHour).has_value());
}

TEST(HourlyAqiTracker, BoundedMemory) {
  EXPECT_LE(sizeof(HourlyAqiTracker), 2048u);
}

// Random readings, gaps and late arrivals, checked after every reading against a brute-force
// computation over everything received.
TEST(HourlyAqiTracker, MatchesBruteForce) {
  std::mt19937 rng(1459);
  std::uniform_real_distribution<double> value(0, 300);
  std::uniform_int_distribution<int> pollutant(0, 2);
  HourlyAqiTracker t;
  std::map<std::pair<int, int64_t>, std::pair<double, int>> sums;  // (pollutant, hour) → sum, n
  int64_t latest = 0;
  int published = 0;
  const Pollutant ps[] = {Pollutant::PM25, Pollutant::PM10, Pollutant::NO2};
  for (int i = 0; i < 3000; ++i) {
    // Mostly forward in time with random gaps; sometimes up to 11 hours late.
    int64_t ms = kT0 + i * 7 * 60'000 + (i / 200) * 5 * kHour;
    if (i % 13 == 0) ms -= (rng() % 12) * kHour;
    ms = std::max(ms, (latest - 11) * kHour);
    const int p = pollutant(rng);
    const double v = value(rng);
    ASSERT_TRUE(t.add(ms, ps[p], v).ok());
    const int64_t hour = ms / kHour;
    latest = std::max(latest, hour);
    auto& [sum, n] = sums[{p, hour}];
    sum += v;
    ++n;

    auto mean = [&](int q, int64_t h) -> std::optional<double> {
      auto it = sums.find({q, h});
      if (it == sums.end()) return std::nullopt;
      return it->second.first / it->second.second;
    };
    HourlyInputs in;
    std::vector<std::optional<double>> pm25, pm10;
    for (int k = 0; k < 12; ++k) {
      pm25.push_back(mean(0, latest - k));
      pm10.push_back(mean(1, latest - k));
    }
    in.pm25_nowcast = nowcast(pm25);
    in.pm10_nowcast = nowcast(pm10);
    in.no2_1h = mean(2, latest);
    auto expected = hourlyAqi(in);
    auto got = t.current();
    ASSERT_EQ(expected.ok(), got.has_value()) << i;
    if (got) {
      ++published;
      ASSERT_EQ(got->aqi, expected->aqi) << i;
      ASSERT_EQ(got->dominant, expected->dominant) << i;
    }
  }
  EXPECT_GT(published, 2000);  // the comparison must mostly be about published indices
}

TEST(HourlyAqiTracker, HoldsRingsOnlyForThePollutantsItWasGiven) {
  // One tracker per station: 100,000 stations with six rings each held 197 MB.
  EXPECT_LE(sizeof(HourlyAqiTracker), 48u);
  HourlyAqiTracker t;
  const int64_t t0 = 1'772'323'200'000;
  ASSERT_TRUE(t.add(t0, Pollutant::PM25, 30).ok());
  ASSERT_TRUE(t.add(t0 + 1000, Pollutant::NO2, 40).ok());
  EXPECT_EQ(t.hourlyMean(Pollutant::PM25, t0), 30.0);
  EXPECT_EQ(t.hourlyMean(Pollutant::NO2, t0), 40.0);
  EXPECT_FALSE(t.hourlyMean(Pollutant::PM10, t0));
}

TEST(HourlyAqiTracker, RefusesTimesBeyondItsHourRange) {
  HourlyAqiTracker t;
  EXPECT_FALSE(t.add(std::numeric_limits<int64_t>::max(), Pollutant::PM25, 30).ok());
  EXPECT_FALSE(t.add(std::numeric_limits<int64_t>::min(), Pollutant::PM25, 30).ok());
  EXPECT_FALSE(t.latestHourStartMs());
}

}  // namespace
}  // namespace ioc::indices
