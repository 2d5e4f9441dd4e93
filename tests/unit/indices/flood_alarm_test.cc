#include "indices/flood_alarm.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ioc::indices {
namespace {

using json = ioc::Json;

FloodStationConfig kimLong() {
  // Thresholds as shaped for the Hương river at Kim Long (Huế); values illustrative.
  auto cfg = parseFloodStationConfig(json::parse(
      R"({"station":"Kim Long","levels_m":[1.0,2.0,3.5],"hysteresis_m":0.1,"extreme_margin_m":1.0})"));
  EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message);
  return cfg.ok() ? std::move(cfg).value() : FloodStationConfig{};
}

TEST(FloodConfig, Parses) {
  const FloodStationConfig cfg = kimLong();
  EXPECT_EQ(cfg.station, "Kim Long");
  EXPECT_EQ(cfg.levels_m[2], 3.5);
  EXPECT_EQ(cfg.hysteresis_m, 0.1);
  EXPECT_EQ(cfg.extreme_margin_m, 1.0);
  auto minimal = parseFloodStationConfig(json::parse(R"({"station":"S","levels_m":[1,2,3]})"));
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(minimal->hysteresis_m, 0.0);
}

TEST(FloodConfig, RejectsBadConfigs) {
  const char* bad[] = {
      R"([])",
      R"({"levels_m":[1,2,3]})",
      R"({"station":"","levels_m":[1,2,3]})",
      R"({"station":"S"})",
      R"({"station":"S","levels_m":[1,2]})",
      R"({"station":"S","levels_m":[1,2,"3"]})",
      R"({"station":"S","levels_m":[1,3,2]})",
      R"({"station":"S","levels_m":[1,1,2]})",
      R"({"station":"S","levels_m":[1,2,3],"hysteresis_m":-0.1})",
      R"({"station":"S","levels_m":[1,2,3],"extreme_margin_m":"1"})",
  };
  for (const char* text : bad) {
    auto r = parseFloodStationConfig(json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument) << text;
  }
}

TEST(FloodConfig, ParsesArrayAndRejectsDuplicates) {
  auto ok = parseFloodStationConfigs(
      json::parse(R"([{"station":"A","levels_m":[1,2,3]},{"station":"B","levels_m":[-1,0,0.5]}])"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_FALSE(
      parseFloodStationConfigs(
          json::parse(R"([{"station":"A","levels_m":[1,2,3]},{"station":"A","levels_m":[1,2,3]}])"))
          .ok());
  EXPECT_FALSE(parseFloodStationConfigs(json::parse(R"({})")).ok());
}

TEST(FloodAlarmLevel, ThresholdsAreReachedAtEquality) {
  const FloodStationConfig cfg = kimLong();
  const struct {
    double water;
    int level;
  } rows[] = {{-2.0, 0}, {0.99, 0}, {1.0, 1}, {1.5, 1}, {1.999, 1},
              {2.0, 2},  {3.49, 2}, {3.5, 3}, {9.0, 3}};
  for (const auto& row : rows) EXPECT_EQ(*floodAlarmLevel(cfg, row.water), row.level) << row.water;
}

TEST(FloodAlarmLevel, HysteresisOnlyOnTheWayDown) {
  const FloodStationConfig cfg = kimLong();      // hysteresis 0.1
  EXPECT_EQ(*floodAlarmLevel(cfg, 1.95, 1), 1);  // rising still needs the threshold itself
  EXPECT_EQ(*floodAlarmLevel(cfg, 1.95, 2), 2);  // falling: holds until below 1.9
  EXPECT_EQ(*floodAlarmLevel(cfg, 1.90, 2), 2);
  EXPECT_EQ(*floodAlarmLevel(cfg, 1.89, 2), 1);
  // A big drop from III passes through: II is kept while ≥ 1.9, I while ≥ 0.9.
  EXPECT_EQ(*floodAlarmLevel(cfg, 3.45, 3), 3);
  EXPECT_EQ(*floodAlarmLevel(cfg, 1.92, 3), 2);
  EXPECT_EQ(*floodAlarmLevel(cfg, 0.95, 3), 1);
  EXPECT_EQ(*floodAlarmLevel(cfg, 0.5, 3), 0);
  // Out-of-range previous levels are clamped, not trusted.
  EXPECT_EQ(*floodAlarmLevel(cfg, 0.95, 7), 1);
  EXPECT_EQ(*floodAlarmLevel(cfg, 0.95, -1), 0);
}

TEST(FloodAlarmLevel, NonFiniteWaterLevelIsAnError) {
  EXPECT_FALSE(floodAlarmLevel(kimLong(), std::nan("")).ok());
  EXPECT_FALSE(assessFlood(kimLong(), INFINITY).ok());
}

TEST(FloodAssess, Severities) {
  const FloodStationConfig cfg = kimLong();
  EXPECT_EQ(*assessFlood(cfg, 0.5), (FloodAlarm{0, FloodSeverity::kNone}));
  EXPECT_EQ(*assessFlood(cfg, 1.2), (FloodAlarm{1, FloodSeverity::kMinor}));
  EXPECT_EQ(*assessFlood(cfg, 2.2), (FloodAlarm{2, FloodSeverity::kModerate}));
  EXPECT_EQ(*assessFlood(cfg, 3.6), (FloodAlarm{3, FloodSeverity::kSevere}));
  EXPECT_EQ(*assessFlood(cfg, 4.49), (FloodAlarm{3, FloodSeverity::kSevere}));
  EXPECT_EQ(*assessFlood(cfg, 4.5), (FloodAlarm{3, FloodSeverity::kExtreme}));
}

TEST(FloodAssess, SequenceWithHysteresis) {
  const FloodStationConfig cfg = kimLong();
  FloodAlarm state;
  const struct {
    double water;
    FloodAlarm expected;
  } steps[] = {
      {0.8, {0, FloodSeverity::kNone}},    {1.0, {1, FloodSeverity::kMinor}},
      {0.95, {1, FloodSeverity::kMinor}},  {2.1, {2, FloodSeverity::kModerate}},
      {4.6, {3, FloodSeverity::kExtreme}}, {4.45, {3, FloodSeverity::kExtreme}},
      {4.39, {3, FloodSeverity::kSevere}}, {4.45, {3, FloodSeverity::kSevere}},
      {3.41, {3, FloodSeverity::kSevere}}, {3.39, {2, FloodSeverity::kModerate}},
      {0.85, {0, FloodSeverity::kNone}},
  };
  for (const auto& s : steps) {
    auto r = assessFlood(cfg, s.water, state);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, s.expected) << s.water;
    state = *r;
  }
}

TEST(FloodNames, ViEnAndSeverity) {
  EXPECT_EQ(floodLevelNameVi(0), "Dưới báo động I");
  EXPECT_EQ(floodLevelNameVi(1), "Báo động I");
  EXPECT_EQ(floodLevelNameVi(2), "Báo động II");
  EXPECT_EQ(floodLevelNameVi(3), "Báo động III");
  EXPECT_EQ(floodLevelNameEn(1), "Alarm level I");
  EXPECT_EQ(floodLevelNameEn(3), "Alarm level III");
  EXPECT_EQ(floodLevelNameEn(9), "Alarm level III");
  EXPECT_EQ(floodSeverityName(FloodSeverity::kMinor), "Minor");
  EXPECT_EQ(floodSeverityName(FloodSeverity::kModerate), "Moderate");
  EXPECT_EQ(floodSeverityName(FloodSeverity::kSevere), "Severe");
  EXPECT_EQ(floodSeverityName(FloodSeverity::kExtreme), "Extreme");
  EXPECT_EQ(floodSeverityName(FloodSeverity::kNone), "None");
}

}  // namespace
}  // namespace ioc::indices
