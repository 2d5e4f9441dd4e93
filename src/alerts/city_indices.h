#pragma once
// Built-in city indices computed as readings arrive and written back onto the entities as
// attributes, so they can be queried, charted and used by rules like any reading:
//  - AirQualityObserved: VN_AQI giờ (NowCast, QĐ 1459/QĐ-TCMT) as `airQualityIndex` and its
//    category as `airQualityLevel` (Smart Data Models names), each with its observedAt;
//  - WaterObserved (river gauges): `floodAlarmLevel` 0..3 (Báo động I/II/III) from per-station
//    thresholds;
//  - WaterQualityObserved (wastewater monitors): `qcvn40Exceedances` (how many parameters exceed
//    QCVN 40:2011/BTNMT) and `qcvn40Status`.
// Threading: not thread-safe; the AlertService worker thread drives it.
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/json.h"
#include "core/result.h"
#include "indices/aqi_tracker.h"
#include "indices/flood_alarm.h"
#include "indices/qcvn40.h"

namespace ioc::alerts {

//! One entity's numeric attributes as the change listener saw them (short names).
struct EntityReadings {
  std::string id;
  std::string type;                       //!< short type name, e.g. "AirQualityObserved"
  std::map<std::string, double> changed;  //!< attributes whose value changed in this update
  std::map<std::string, double> latest;   //!< every numeric attribute of the entity now
  int64_t time_ms = 0;                    //!< observedAt of the update
};

struct IndexConfig {
  //! Station id (entity id) → thresholds; "*" applies to every river gauge without its own.
  std::map<std::string, indices::FloodStationConfig> flood;
  std::optional<indices::Qcvn40Table> qcvn40;
  indices::Qcvn40Column qcvn40_column = indices::Qcvn40Column::kB;
};

//! Loads data/indices/{flood_stations.json, qcvn40_2011.json} under `data_root` (missing files
//! disable that index; malformed files are errors).
core::Result<IndexConfig> loadIndexConfig(const std::string& data_root);

class CityIndices {
 public:
  explicit CityIndices(IndexConfig config) : config_(std::move(config)) {}

  //! Expanded-name-free attributes to write back onto the entity (normalized NGSI-LD with short
  //! names), or nullopt when nothing changed — so a write-back never triggers another.
  std::optional<ioc::Json> update(const EntityReadings& r);
  //! Whether readings of this type feed an index one point at a time (so others skip the work).
  static bool readsPoints(const std::string& type) {
    return type == "AirQualityObserved" || type == "WaterObserved";
  }

 private:
  std::optional<ioc::Json> airQuality(const EntityReadings& r);
  std::optional<ioc::Json> flood(const EntityReadings& r);
  std::optional<ioc::Json> wastewater(const EntityReadings& r);

  IndexConfig config_;
  struct AqiState {
    indices::HourlyAqiTracker tracker;
    int last_aqi = -1;
    int64_t last_hour = 0;
  };
  std::unordered_map<std::string, AqiState> aqi_;
  std::unordered_map<std::string, indices::FloodAlarm> flood_;
  std::unordered_map<std::string, std::string> wastewater_;  //!< last status written
};

}  // namespace ioc::alerts
