#include "alerts/city_indices.h"

#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "indices/vn_aqi.h"

namespace ioc::alerts {

using json = ioc::Json;

namespace {

core::Result<std::optional<json>> readJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::optional<json>{};
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return core::makeError(core::Errc::kMalformedInput, path + ": not JSON");
  return std::optional<json>{std::move(j)};
}

json property(json value, int64_t time_ms) {
  return {{"type", "Property"},
          {"value", std::move(value)},
          {"observedAt", core::formatRfc3339(time_ms)}};
}

// QCVN 40 parameter ids for the attribute names devices use.
const std::map<std::string, std::string>& wastewaterNames() {
  static const std::map<std::string, std::string> names = {{"temperature", "temperature"},
                                                           {"pH", "ph"},
                                                           {"ph", "ph"},
                                                           {"bod5", "bod5"},
                                                           {"BOD5", "bod5"},
                                                           {"bod", "bod5"},
                                                           {"cod", "cod"},
                                                           {"COD", "cod"},
                                                           {"tss", "tss"},
                                                           {"TSS", "tss"},
                                                           {"nh4", "nh4_n"},
                                                           {"ammonium", "nh4_n"},
                                                           {"totalNitrogen", "total_n"},
                                                           {"totalPhosphorus", "total_p"},
                                                           {"coliform", "coliform"}};
  return names;
}

}  // namespace

core::Result<IndexConfig> loadIndexConfig(const std::string& data_root) {
  IndexConfig config;
  auto flood = readJsonFile(data_root + "/indices/flood_stations.json");
  if (!flood.ok()) return flood.error();
  if (*flood) {
    auto stations = indices::parseFloodStationConfigs((**flood).value("stations", json::array()));
    if (!stations.ok()) return stations.error();
    for (auto& s : *stations) config.flood[s.station] = s;
  }
  auto table = readJsonFile(data_root + "/indices/qcvn40_2011.json");
  if (!table.ok()) return table.error();
  if (*table) {
    auto parsed = indices::parseQcvn40Table(**table);
    if (!parsed.ok()) return parsed.error();
    config.qcvn40 = std::move(*parsed);
  }
  return config;
}

std::optional<json> CityIndices::update(const EntityReadings& r) {
  if (r.type == "AirQualityObserved") return airQuality(r);
  if (r.type == "WaterObserved") return flood(r);
  if (r.type == "WaterQualityObserved") return wastewater(r);
  return std::nullopt;
}

std::optional<json> CityIndices::airQuality(const EntityReadings& r) {
  AqiState& state = aqi_[r.id];
  bool fed = false;
  for (const auto& [attr, value] : r.changed) {
    // Pollutant keys as devices name them (pm25, pm10, o3, no2, so2, co), all in µg/m³.
    auto pollutant = indices::pollutantFromKey(attr == "o3" ? "o3_1h" : attr);
    if (!pollutant || *pollutant == indices::Pollutant::O3_8h) continue;
    fed = state.tracker.add(r.time_ms, *pollutant, value).ok() || fed;
  }
  if (!fed) return std::nullopt;
  auto aqi = state.tracker.current();
  if (!aqi) return std::nullopt;
  const int64_t hour = state.tracker.latestHourStartMs().value_or(0);
  if (aqi->aqi == state.last_aqi && hour == state.last_hour) return std::nullopt;
  state.last_aqi = aqi->aqi;
  state.last_hour = hour;
  json level = property(aqi->category.name_en, r.time_ms);
  level["nameVi"] = {{"type", "Property"}, {"value", aqi->category.name_vi}};
  level["colour"] = {{"type", "Property"}, {"value", aqi->category.hex}};
  json index = property(aqi->aqi, r.time_ms);
  index["dominantPollutant"] = {{"type", "Property"},
                                {"value", indices::pollutantName(aqi->dominant)}};
  return json{{"airQualityIndex", std::move(index)}, {"airQualityLevel", std::move(level)}};
}

std::optional<json> CityIndices::flood(const EntityReadings& r) {
  auto height = r.changed.find("height");
  if (height == r.changed.end()) height = r.changed.find("waterLevel");
  if (height == r.changed.end()) return std::nullopt;
  auto cfg = config_.flood.find(r.id);
  if (cfg == config_.flood.end()) cfg = config_.flood.find("*");
  if (cfg == config_.flood.end()) return std::nullopt;
  auto known = flood_.find(r.id);
  const indices::FloodAlarm previous =
      known == flood_.end() ? indices::FloodAlarm{} : known->second;
  auto alarm = indices::assessFlood(cfg->second, height->second, previous);
  if (!alarm.ok()) return std::nullopt;
  if (known != flood_.end() && alarm->level == previous.level) return std::nullopt;
  flood_[r.id] = *alarm;
  json level = property(alarm->level, r.time_ms);
  level["nameVi"] = {{"type", "Property"},
                     {"value", std::string(indices::floodLevelNameVi(alarm->level))}};
  return json{{"floodAlarmLevel", std::move(level)}};
}

std::optional<json> CityIndices::wastewater(const EntityReadings& r) {
  if (!config_.qcvn40) return std::nullopt;
  std::vector<indices::WastewaterSample> samples;
  for (const auto& [attr, value] : r.latest) {
    auto id = wastewaterNames().find(attr);
    if (id != wastewaterNames().end()) samples.push_back({id->second, value});
  }
  if (samples.empty()) return std::nullopt;
  auto exceeded = indices::wastewaterExceedances(*config_.qcvn40, config_.qcvn40_column, samples);
  if (!exceeded.ok()) return std::nullopt;
  std::string status = exceeded->empty() ? "compliant" : "exceeded:";
  for (const auto& e : *exceeded) status += " " + e.parameter;
  auto& last = wastewater_[r.id];
  if (last == status) return std::nullopt;
  last = status;
  json detail = json::array();
  for (const auto& e : *exceeded) {
    detail.push_back(
        {{"parameter", e.parameter}, {"value", e.value}, {"limit", e.limit}, {"ratio", e.ratio}});
  }
  json count = property(static_cast<int64_t>(exceeded->size()), r.time_ms);
  json stat = property(exceeded->empty() ? "compliant" : "exceeded", r.time_ms);
  stat["detail"] = {{"type", "Property"}, {"value", std::move(detail)}};
  return json{{"qcvn40Exceedances", std::move(count)}, {"qcvn40Status", std::move(stat)}};
}

}  // namespace ioc::alerts
