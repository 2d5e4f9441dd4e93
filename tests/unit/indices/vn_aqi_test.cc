#include "indices/vn_aqi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ioc::indices {
namespace {

using json = ioc::Json;

const json& cases() {
  static const json* c = [] {
    const std::string path = std::string(IOC_SOURCE_DIR) + "/tests/data/indices/vn_aqi_cases.json";
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return new json(json::parse(in, nullptr, /*allow_exceptions=*/false));
  }();
  return *c;
}

Pollutant pollutantOf(const json& key) {
  auto p = pollutantFromKey(key.get<std::string>());
  EXPECT_TRUE(p.has_value()) << key;
  return p.value_or(Pollutant::PM25);
}

std::vector<std::optional<double>> hoursOf(const json& arr) {
  std::vector<std::optional<double>> out;
  for (const json& v : arr) {
    out.push_back(v.is_null() ? std::nullopt : std::optional<double>(v.get<double>()));
  }
  return out;
}

std::optional<double> opt(const json& obj, const char* key) {
  return obj.contains(key) ? std::optional<double>(obj[key].get<double>()) : std::nullopt;
}

// Compares a result with an "aqi"/"dominant"/"sub_indices" case, within the case's tolerance.
void expectMatches(const core::Result<AqiResult>& r, const json& c) {
  const std::string note = c.value("note", "");
  if (c.value("error", false)) {
    ASSERT_FALSE(r.ok()) << note;
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument) << note;
    return;
  }
  ASSERT_TRUE(r.ok()) << note << ": " << r.error().message;
  const int tol = c.value("tolerance", 0);
  EXPECT_NEAR(r->aqi, c["aqi"].get<int>(), tol) << note;
  EXPECT_EQ(pollutantKey(r->dominant), c["dominant"].get<std::string>()) << note;
  EXPECT_EQ(r->category.level, aqiCategory(r->aqi).level) << note;
  for (Pollutant p : kAllPollutants) {
    const std::string key(pollutantKey(p));
    if (c["sub_indices"].contains(key)) {
      ASSERT_TRUE(r->subIndexOf(p).has_value()) << note << " " << key;
      EXPECT_NEAR(*r->subIndexOf(p), c["sub_indices"][key].get<int>(), tol) << note << " " << key;
    } else {
      EXPECT_FALSE(r->subIndexOf(p).has_value()) << note << " " << key;
    }
  }
}

TEST(VnAqiCases, FileLoads) {
  ASSERT_TRUE(cases().is_object());
  EXPECT_GE(cases()["sub_index"].size(), 150u);
}

TEST(VnAqiCases, SubIndexTable) {
  size_t n = 0;
  for (const json& c : cases()["sub_index"]) {
    const Pollutant p = pollutantOf(c["pollutant"]);
    const double conc = c["c"].get<double>();
    auto r = subIndex(p, conc);
    ASSERT_TRUE(r.ok()) << c.dump() << ": " << r.error().message;
    EXPECT_EQ(*r, c["aqi"].get<int>()) << c.dump();
    if (c.contains("exact")) {
      auto e = subIndexExact(p, conc);
      ASSERT_TRUE(e.ok());
      EXPECT_NEAR(*e, c["exact"].get<double>(), 1e-9) << c.dump();
    }
    ++n;
  }
  EXPECT_EQ(n, cases()["sub_index"].size());
}

TEST(VnAqiCases, SubIndexErrors) {
  for (const json& c : cases()["sub_index_errors"]) {
    auto r = subIndex(pollutantOf(c["pollutant"]), c["c"].get<double>());
    ASSERT_FALSE(r.ok()) << c.dump();
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
  }
  EXPECT_FALSE(subIndex(Pollutant::PM10, std::nan("")).ok());
  EXPECT_FALSE(subIndex(Pollutant::NO2, INFINITY).ok());
}

TEST(VnAqiCases, Nowcast) {
  for (const json& c : cases()["nowcast"]) {
    const auto hours = hoursOf(c["hours"]);
    const auto v = nowcast(hours);
    if (c["nowcast"].is_null()) {
      EXPECT_FALSE(v.has_value()) << c["note"];
      continue;
    }
    ASSERT_TRUE(v.has_value()) << c["note"];
    EXPECT_NEAR(*v, c["nowcast"].get<double>(), 1e-9) << c["note"];
    auto aqi = subIndex(Pollutant::PM25, *v);
    ASSERT_TRUE(aqi.ok());
    EXPECT_EQ(*aqi, c["pm25_aqi"].get<int>()) << c["note"];
  }
}

TEST(VnAqiCases, Hourly) {
  for (const json& c : cases()["hourly"]) {
    const json& in = c["inputs"];
    HourlyInputs h;
    h.pm25_nowcast = opt(in, "pm25");
    h.pm10_nowcast = opt(in, "pm10");
    h.o3_1h = opt(in, "o3_1h");
    h.co_1h = opt(in, "co");
    h.so2_1h = opt(in, "so2");
    h.no2_1h = opt(in, "no2");
    expectMatches(hourlyAqi(h), c);
  }
}

TEST(VnAqiCases, Daily) {
  for (const json& c : cases()["daily"]) {
    const json& in = c["inputs"];
    DailyInputs d;
    d.pm25_24h = opt(in, "pm25");
    d.pm10_24h = opt(in, "pm10");
    d.o3_max_1h = opt(in, "o3_max_1h");
    d.o3_max_8h = opt(in, "o3_max_8h");
    d.co_max_1h = opt(in, "co");
    d.so2_max_1h = opt(in, "so2");
    d.no2_max_1h = opt(in, "no2");
    expectMatches(dailyAqi(d), c);
  }
}

TEST(VnAqiCases, CategoryBoundaries) {
  for (const json& c : cases()["category_boundaries"]) {
    const AqiCategory& cat = aqiCategory(c["aqi"].get<int>());
    EXPECT_EQ(cat.level, c["level"].get<int>()) << c.dump();
    EXPECT_EQ(cat.name_vi, c["name_vi"].get<std::string>()) << c.dump();
    EXPECT_EQ(cat.hex, c["hex"].get<std::string>()) << c.dump();
  }
}

// §5(a): the worked daily PM2.5 table, with its categories.
TEST(VnAqi, WorkedExampleDailyPm25Categories) {
  const struct {
    double c;
    int aqi;
    std::string_view category;
  } rows[] = {{18.0, 36, "Tốt"},
              {38.7, 77, "Trung bình"},
              {62.0, 120, "Kém"},
              {95.0, 161, "Xấu"},
              {180.0, 230, "Rất xấu"}};
  for (const auto& row : rows) {
    DailyInputs d;
    d.pm25_24h = row.c;
    auto r = dailyAqi(d);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->aqi, row.aqi) << row.c;
    EXPECT_EQ(r->category.name_vi, row.category) << row.c;
    EXPECT_EQ(r->dominant, Pollutant::PM25);
  }
}

// §5(b): NowCast values as printed (2 decimals) and the resulting AQI.
TEST(VnAqi, WorkedExampleNowcast) {
  const struct {
    std::vector<std::optional<double>> hours;
    double nowcast;
    int aqi;
    int level;
  } rows[] = {
      {{35, 42, 50, 48, 40, 33, 30, 28, 27, 25, 26, 30}, 39.47, 79, 2},
      {{80, 60, 40, 30, 25, 22, 20, 20, 18, 16, 15, 15}, 63.31, 122, 3},
      {{30, 32, 35, 33, 31, 29, 28, 27, 28, 30, 31, 32}, 31.20, 62, 2},
  };
  for (const auto& row : rows) {
    auto v = nowcast(row.hours);
    ASSERT_TRUE(v.has_value());
    EXPECT_NEAR(*v, row.nowcast, 0.005);
    HourlyInputs in;
    in.pm25_nowcast = v;
    auto r = hourlyAqi(in);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->aqi, row.aqi);
    EXPECT_EQ(r->category.level, row.level);
  }
}

// §5(d): the decision's example: NowCast PM2.5 20.3 → 41.
TEST(VnAqi, WorkedExampleDecision) {
  EXPECT_EQ(*subIndex(Pollutant::PM25, 20.3), 41);
  EXPECT_NEAR(*subIndexExact(Pollutant::PM25, 20.3), 40.6, 1e-9);
}

TEST(VnAqi, NowcastWeightClamp) {
  // w* = 10/100 = 0.1 → w = 0.5: (100 + 0.5·10) / 1.5 = 70.
  const std::vector<std::optional<double>> low = {100, 10};
  EXPECT_NEAR(*nowcast(low), 70.0, 1e-12);
  // w* = 0.6 is used as is: (100 + 0.6·60) / 1.6 = 85.
  const std::vector<std::optional<double>> high = {100, 60};
  EXPECT_NEAR(*nowcast(high), 85.0, 1e-12);
  // Just above one half: w = 0.51, not clamped.
  const std::vector<std::optional<double>> edge = {100, 51};
  EXPECT_NEAR(*nowcast(edge), (100 + 0.51 * 51) / 1.51, 1e-12);
}

TEST(VnAqi, NowcastMissingHours) {
  std::vector<std::optional<double>> h(12, 20.0);
  h[0].reset();
  EXPECT_TRUE(nowcast(h).has_value());  // c2, c3 present
  h[1].reset();
  EXPECT_FALSE(nowcast(h).has_value());  // only c3
  h[1] = 20.0;
  h[2].reset();
  EXPECT_FALSE(nowcast(h).has_value());  // only c2
  // Old hours may all be missing.
  const std::vector<std::optional<double>> recent = {20.0, 20.0, std::nullopt};
  EXPECT_NEAR(*nowcast(recent), 20.0, 1e-12);
  const std::vector<std::optional<double>> nan_hour = {20.0, std::nan(""), std::nullopt};
  EXPECT_FALSE(nowcast(nan_hour).has_value());  // NaN counts as missing
}

TEST(VnAqi, CategoriesTable1) {
  const struct {
    int level;
    std::string_view vi, en, hex;
    Rgb rgb;
  } rows[] = {
      {1, "Tốt", "Good", "#00E400", {0, 228, 0}},
      {2, "Trung bình", "Moderate", "#FFFF00", {255, 255, 0}},
      {3, "Kém", "Poor", "#FF7E00", {255, 126, 0}},
      {4, "Xấu", "Bad", "#FF0000", {255, 0, 0}},
      {5, "Rất xấu", "Very bad", "#8F3F97", {143, 63, 151}},
      {6, "Nguy hại", "Hazardous", "#7E0023", {126, 0, 35}},
  };
  ASSERT_EQ(aqiCategories().size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    const AqiCategory& c = aqiCategories()[i];
    EXPECT_EQ(c.level, rows[i].level);
    EXPECT_EQ(c.name_vi, rows[i].vi);
    EXPECT_EQ(c.name_en, rows[i].en);
    EXPECT_EQ(c.hex, rows[i].hex);
    EXPECT_EQ(c.rgb.r, rows[i].rgb.r);
    EXPECT_EQ(c.rgb.g, rows[i].rgb.g);
    EXPECT_EQ(c.rgb.b, rows[i].rgb.b);
    // The hex string and the RGB triple must describe the same colour.
    char hex[8];
    std::snprintf(hex, sizeof hex, "#%02X%02X%02X", c.rgb.r, c.rgb.g, c.rgb.b);
    EXPECT_EQ(c.hex, hex);
    EXPECT_EQ(&aqiCategory(c.min_aqi), &c);
    EXPECT_EQ(&aqiCategory(c.max_aqi), &c);
  }
  EXPECT_EQ(aqiCategory(-5).level, 1);
  EXPECT_EQ(aqiCategory(900).level, 6);
}

TEST(VnAqi, RoundHalfUp) {
  EXPECT_EQ(roundHalfUp(12.5), 13);
  EXPECT_EQ(roundHalfUp(12.4999), 12);
  EXPECT_EQ(roundHalfUp(0.0), 0);
  EXPECT_EQ(roundHalfUp(72.49999999999999), 73);  // binary noise around a decimal .5
}

TEST(VnAqi, PmIsMandatory) {
  HourlyInputs h;
  h.o3_1h = 100;
  h.no2_1h = 50;
  auto r = hourlyAqi(h);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
  h.pm10_nowcast = 10;  // PM10 alone is enough
  ASSERT_TRUE(hourlyAqi(h).ok());
  EXPECT_EQ(hourlyAqi(h)->dominant, Pollutant::O3_1h);
}

TEST(VnAqi, InvalidGasValueIsAnError) {
  HourlyInputs h;
  h.pm25_nowcast = 10;
  h.so2_1h = -1;
  EXPECT_FALSE(hourlyAqi(h).ok());
  h.so2_1h = std::nan("");
  EXPECT_FALSE(hourlyAqi(h).ok());
}

TEST(VnAqi, PollutantKeysRoundTrip) {
  for (Pollutant p : kAllPollutants) {
    EXPECT_EQ(pollutantFromKey(pollutantKey(p)), p);
    EXPECT_FALSE(pollutantName(p).empty());
  }
  EXPECT_FALSE(pollutantFromKey("pm1").has_value());
  EXPECT_EQ(pollutantName(Pollutant::PM25), "PM2.5");
}

TEST(VnAqi, DailyHelpers) {
  std::vector<std::optional<double>> day(24, std::nullopt);
  for (size_t i = 0; i < 18; ++i) day[i] = static_cast<double>(i);  // 0..17, mean 8.5
  EXPECT_NEAR(*meanIfComplete(day, 18), 8.5, 1e-12);
  EXPECT_FALSE(meanIfComplete(day, 19).has_value());
  EXPECT_EQ(*maxIfComplete(day, 18), 17.0);
  EXPECT_FALSE(maxIfComplete(day, 20).has_value());
  // Rolling 8h: the best full window is hours 10..17, mean 13.5; at 6 of 8 hours the window
  // 12..19 (12..17 present) qualifies and wins with 14.5.
  EXPECT_NEAR(*maxRollingMean(day, 8, 8), 13.5, 1e-12);
  EXPECT_NEAR(*maxRollingMean(day, 8, 6), 14.5, 1e-12);
  // With min_valid 2 the window 16..23, holding only 16 and 17, wins.
  EXPECT_NEAR(*maxRollingMean(day, 8, 2), 16.5, 1e-12);
  EXPECT_FALSE(maxRollingMean(day, 30, 1).has_value());
  const std::vector<std::optional<double>> empty;
  EXPECT_FALSE(meanIfComplete(empty, 0).has_value());
}

TEST(VnAqi, ToJson) {
  HourlyInputs h;
  h.pm25_nowcast = 39.47;
  h.no2_1h = 40;
  auto r = hourlyAqi(h);
  ASSERT_TRUE(r.ok());
  const json j = toJson(*r);
  EXPECT_EQ(j["aqi"], 79);
  EXPECT_EQ(j["dominant"], "pm25");
  EXPECT_EQ(j["category"]["level"], 2);
  EXPECT_EQ(j["category"]["name_vi"], "Trung bình");
  EXPECT_EQ(j["category"]["hex"], "#FFFF00");
  EXPECT_EQ(j["category"]["rgb"], json::array({255, 255, 0}));
  EXPECT_EQ(j["sub_indices"]["no2"], 20);
  EXPECT_FALSE(j["sub_indices"].contains("co"));
}

}  // namespace
}  // namespace ioc::indices
