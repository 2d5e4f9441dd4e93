#pragma once
// River flood alarm levels (Báo động I/II/III) of a gauging station, with hysteresis so that a
// level hovering around a threshold does not raise and clear the alarm every reading.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::indices {

//! CAP-style severities (Minor … Extreme); kNone below alarm level I.
enum class FloodSeverity { kNone, kMinor, kModerate, kSevere, kExtreme };

struct FloodStationConfig {
  std::string station;
  std::array<double, 3> levels_m{};  //!< thresholds of Báo động I, II, III; strictly increasing
  double hysteresis_m = 0.0;         //!< a level clears only below threshold − hysteresis
  //! Extreme at or above level III + this margin. 1 m is a placeholder: set it per station.
  double extreme_margin_m = 1.0;
};

//! {"station":"Kim Long","levels_m":[1.0,2.0,3.5],"hysteresis_m":0.05,"extreme_margin_m":1.0};
//! the last two are optional, other keys are ignored. Errors: kInvalidArgument.
core::Result<FloodStationConfig> parseFloodStationConfig(const ioc::Json& j);
//! A JSON array of station objects; station names must be unique.
core::Result<std::vector<FloodStationConfig>> parseFloodStationConfigs(const ioc::Json& j);

struct FloodAlarm {
  int level = 0;  //!< 0 = below Báo động I, 1..3 = Báo động I..III
  FloodSeverity severity = FloodSeverity::kNone;

  bool operator==(const FloodAlarm&) const = default;
};

//! Alarm level for `water_level_m`, reached at (≥) its threshold. With `previous_level` (the
//! level reported last time; 0 = none) a level only drops once the water is below its threshold
//! minus the hysteresis. Error: non-finite water level.
core::Result<int> floodAlarmLevel(const FloodStationConfig& cfg, double water_level_m,
                                  int previous_level = 0);
//! Level plus severity (I → Minor, II → Moderate, III → Severe, III + margin → Extreme; Extreme
//! clears with the same hysteresis). Pass the previous result to get hysteresis.
core::Result<FloodAlarm> assessFlood(const FloodStationConfig& cfg, double water_level_m,
                                     const FloodAlarm& previous = {});

//! "Dưới báo động I", "Báo động I", "Báo động II", "Báo động III".
std::string_view floodLevelNameVi(int level);
//! "Below alarm level I", "Alarm level I", "Alarm level II", "Alarm level III".
std::string_view floodLevelNameEn(int level);
//! "None", "Minor", "Moderate", "Severe", "Extreme".
std::string_view floodSeverityName(FloodSeverity s);

}  // namespace ioc::indices
