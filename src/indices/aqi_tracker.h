#pragma once
// Live AQI giờ for one station: readings arrive one by one, hourly means and NowCast follow.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "core/result.h"
#include "indices/vn_aqi.h"

namespace ioc::indices {

//! Keeps the last 12 hourly buckets (sum and count) of each pollutant the station has reported,
//! in a fixed ring, so add() is O(1) and current() is O(12 × pollutants). Memory follows the
//! pollutants in use: ~0.2 KB per pollutant (a city runs one tracker per station — 100,000
//! stations held 197 MB when every tracker kept all six pollutants' rings). Hours are aligned to
//! the Unix epoch, which gives the same boundaries in UTC and UTC+7. Not thread-safe: one
//! tracker per station, owned by whoever serialises that station's readings.
class HourlyAqiTracker {
 public:
  static constexpr int64_t kHourMs = 3'600'000;
  static constexpr int kHours = 12;

  //! Adds one reading (µg/m³; O3 as Pollutant::O3_1h). A reading in a later hour starts that
  //! hour; readings for any of the 11 hours before the latest are still folded in. Errors
  //! (kInvalidArgument): O3_8h (derived, not measured), negative or non-finite value, or a
  //! reading older than the 12-hour window, which could no longer affect the index.
  core::Status add(int64_t unix_ms, Pollutant pollutant, double ug_m3);

  //! AQI giờ with the latest hour that received any reading as the current hour c1.
  //! nullopt before any reading, or when neither PM2.5 nor PM10 has a NowCast.
  std::optional<AqiResult> current() const;
  //! AQI giờ with the hour containing `unix_ms` as c1, e.g. "now" when a station fell silent
  //! (its old hours then count as missing). nullopt for an hour before the latest one, whose
  //! window may already have been overwritten.
  std::optional<AqiResult> at(int64_t unix_ms) const;

  //! Mean of the readings in the hour starting at or containing `unix_ms`, if still held.
  std::optional<double> hourlyMean(Pollutant pollutant, int64_t unix_ms) const;
  //! NowCast (PM2.5/PM10 only) with the hour containing `unix_ms` as c1.
  std::optional<double> nowcastAt(Pollutant pollutant, int64_t unix_ms) const;
  //! Start (unix ms) of the latest hour that received a reading.
  std::optional<int64_t> latestHourStartMs() const;

 private:
  // Measured pollutants: every Pollutant except O3_8h.
  static constexpr int kSlots = 6;
  static constexpr int64_t kNoHour = std::numeric_limits<int64_t>::min();
  static constexpr int32_t kEmpty = std::numeric_limits<int32_t>::min();

  struct Bucket {
    int32_t hour = kEmpty;  // hours since the epoch (±245,000 years)
    uint32_t count = 0;
    double sum = 0;
  };

  static int slotOf(Pollutant p);
  const Bucket* ringOf(int slot) const;
  std::optional<double> meanOfHour(int slot, int64_t hour) const;
  std::optional<double> nowcastOfHour(int slot, int64_t hour) const;
  std::optional<AqiResult> aqiOfHour(int64_t hour) const;

  //! kHours buckets per pollutant in use, in the order each was first reported.
  std::vector<Bucket> rings_;
  std::array<int8_t, kSlots> ring_of_slot_{-1, -1, -1, -1, -1, -1};  //!< -1: never reported
  int64_t latest_hour_ = kNoHour;
};

}  // namespace ioc::indices
