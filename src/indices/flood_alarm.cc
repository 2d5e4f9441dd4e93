#include "indices/flood_alarm.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

namespace ioc::indices {
namespace {

using json = ioc::Json;

core::Error invalid(const std::string& message) {
  return core::makeError(core::Errc::kInvalidArgument, "flood alarm: " + message);
}

// Reads an optional non-negative number; leaves `out` unchanged when the key is absent.
core::Status readNonNegative(const json& j, const char* key, const std::string& who, double& out) {
  const auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_number()) return invalid(who + ": '" + key + "' is not a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) return invalid(who + ": '" + key + "' must be >= 0");
  out = v;
  return {};
}

int clampLevel(int level) {
  return std::clamp(level, 0, 3);
}

}  // namespace

core::Result<FloodStationConfig> parseFloodStationConfig(const json& j) {
  if (!j.is_object()) return invalid("station config is not an object");
  FloodStationConfig cfg;
  const auto station = j.find("station");
  if (station == j.end() || !station->is_string() ||
      station->get_ref<const std::string&>().empty()) {
    return invalid("'station' must be a non-empty string");
  }
  cfg.station = station->get<std::string>();
  const std::string who = "station " + cfg.station;

  const auto levels = j.find("levels_m");
  if (levels == j.end() || !levels->is_array() || levels->size() != 3) {
    return invalid(who + ": 'levels_m' must be an array of 3 numbers [I, II, III]");
  }
  for (size_t i = 0; i < 3; ++i) {
    const json& v = (*levels)[i];
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
      return invalid(who + ": 'levels_m' must be an array of 3 numbers [I, II, III]");
    }
    cfg.levels_m[i] = v.get<double>();
  }
  if (!(cfg.levels_m[0] < cfg.levels_m[1] && cfg.levels_m[1] < cfg.levels_m[2])) {
    return invalid(who + ": 'levels_m' must be strictly increasing");
  }
  if (auto s = readNonNegative(j, "hysteresis_m", who, cfg.hysteresis_m); !s) return s.error();
  if (auto s = readNonNegative(j, "extreme_margin_m", who, cfg.extreme_margin_m); !s) {
    return s.error();
  }
  return cfg;
}

core::Result<std::vector<FloodStationConfig>> parseFloodStationConfigs(const json& j) {
  if (!j.is_array()) return invalid("station configs must be a JSON array");
  std::vector<FloodStationConfig> out;
  std::set<std::string> seen;
  for (const json& item : j) {
    auto cfg = parseFloodStationConfig(item);
    if (!cfg) return cfg.error();
    if (!seen.insert(cfg->station).second) return invalid("duplicate station " + cfg->station);
    out.push_back(std::move(cfg).value());
  }
  return out;
}

core::Result<int> floodAlarmLevel(const FloodStationConfig& cfg, double water_level_m,
                                  int previous_level) {
  if (!std::isfinite(water_level_m)) return invalid("water level must be finite");
  int level = 0;
  for (int k = 3; k >= 1; --k) {
    if (water_level_m >= cfg.levels_m[static_cast<size_t>(k - 1)]) {
      level = k;
      break;
    }
  }
  // Falling: keep the highest previous-or-lower level whose threshold minus hysteresis is still
  // reached, so noise around a threshold does not toggle the alarm.
  for (int k = clampLevel(previous_level); k > level; --k) {
    if (water_level_m >= cfg.levels_m[static_cast<size_t>(k - 1)] - cfg.hysteresis_m) return k;
  }
  return level;
}

core::Result<FloodAlarm> assessFlood(const FloodStationConfig& cfg, double water_level_m,
                                     const FloodAlarm& previous) {
  auto level = floodAlarmLevel(cfg, water_level_m, previous.level);
  if (!level) return level.error();
  FloodAlarm out;
  out.level = *level;
  out.severity = static_cast<FloodSeverity>(out.level);  // I..III → Minor..Severe
  if (out.level == 3) {
    double extreme_at = cfg.levels_m[2] + cfg.extreme_margin_m;
    if (previous.severity == FloodSeverity::kExtreme) extreme_at -= cfg.hysteresis_m;
    if (water_level_m >= extreme_at) out.severity = FloodSeverity::kExtreme;
  }
  return out;
}

std::string_view floodLevelNameVi(int level) {
  static constexpr std::string_view kNames[] = {"Dưới báo động I", "Báo động I", "Báo động II",
                                                "Báo động III"};
  return kNames[clampLevel(level)];
}

std::string_view floodLevelNameEn(int level) {
  static constexpr std::string_view kNames[] = {"Below alarm level I", "Alarm level I",
                                                "Alarm level II", "Alarm level III"};
  return kNames[clampLevel(level)];
}

std::string_view floodSeverityName(FloodSeverity s) {
  switch (s) {
    case FloodSeverity::kNone:
      return "None";
    case FloodSeverity::kMinor:
      return "Minor";
    case FloodSeverity::kModerate:
      return "Moderate";
    case FloodSeverity::kSevere:
      return "Severe";
    case FloodSeverity::kExtreme:
      return "Extreme";
  }
  return "None";
}

}  // namespace ioc::indices
