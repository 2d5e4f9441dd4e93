#pragma once
// VN_AQI, Vietnam's air quality index (Quyết định 1459/QĐ-TCMT, 12/11/2019): per-pollutant
// sub-indices from Table 2, NowCast for hourly PM, hourly and daily index, Table 1 categories.
// Method notes and worked examples: /work/shared/reference/vn_aqi.md (see README.md here).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace ioc::indices {

//! The rows of Table 2. Concentrations are always µg/m³, CO included.
enum class Pollutant { PM25, PM10, O3_1h, O3_8h, CO, SO2, NO2 };

inline constexpr size_t kPollutantCount = 7;
inline constexpr std::array<Pollutant, kPollutantCount> kAllPollutants = {
    Pollutant::PM25, Pollutant::PM10, Pollutant::O3_1h, Pollutant::O3_8h,
    Pollutant::CO,   Pollutant::SO2,  Pollutant::NO2};

//! Display name, e.g. "PM2.5", "O3 (8h)".
std::string_view pollutantName(Pollutant p);
//! Stable machine key: "pm25", "pm10", "o3_1h", "o3_8h", "co", "so2", "no2".
std::string_view pollutantKey(Pollutant p);
//! Inverse of pollutantKey; nullopt for an unknown key.
std::optional<Pollutant> pollutantFromKey(std::string_view key);

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

//! One row of Table 1.
struct AqiCategory {
  int level = 0;  //!< 1 (Tốt) .. 6 (Nguy hại)
  int min_aqi = 0, max_aqi = 0;
  std::string_view name_vi, name_en;      //!< "Tốt" / "Good"
  std::string_view colour_vi, colour_en;  //!< "Xanh" / "Green"
  std::string_view hex;                   //!< "#00E400"
  Rgb rgb;
};

//! The six categories, level 1 first.
std::span<const AqiCategory, 6> aqiCategories();
//! Category of an (already rounded) index; below 0 counts as level 1, above 500 as level 6.
const AqiCategory& aqiCategory(int aqi);

//! Half-up rounding as used for VN_AQI, tolerant of binary noise (72.4999999999 → 73).
int roundHalfUp(double x);

//! Formula 1 without rounding, capped at 500 above the last breakpoint. Errors: negative or
//! non-finite concentration, and O3 (8h) above 400 µg/m³, where Table 2 defines no band.
core::Result<double> subIndexExact(Pollutant p, double ug_m3);
//! subIndexExact rounded half-up.
core::Result<int> subIndex(Pollutant p, double ug_m3);

//! NowCast of the 12 latest hourly means, current hour first (last12[0] = c1). Missing hours are
//! nullopt and get weight 0 but keep their position; negative or non-finite values count as
//! missing; entries past the 12th are ignored. nullopt unless at least 2 of c1..c3 are present.
std::optional<double> nowcast(std::span<const std::optional<double>> last12);

//! An overall index with the sub-index of every pollutant that took part.
struct AqiResult {
  int aqi = 0;
  Pollutant dominant = Pollutant::PM25;  //!< ties go to the first in kAllPollutants
  AqiCategory category;
  std::array<std::optional<int>, kPollutantCount> sub_indices;  //!< indexed by Pollutant

  std::optional<int> subIndexOf(Pollutant p) const { return sub_indices[static_cast<size_t>(p)]; }
};

//! Inputs of AQI giờ: PM as NowCast values, gases as the current hour's 1-hour mean (µg/m³).
struct HourlyInputs {
  std::optional<double> pm25_nowcast, pm10_nowcast;
  std::optional<double> o3_1h, co_1h, so2_1h, no2_1h;
};

//! Inputs of AQI ngày (µg/m³). o3_max_8h above 400 is skipped, as the decision says.
struct DailyInputs {
  std::optional<double> pm25_24h, pm10_24h;
  std::optional<double> o3_max_1h, o3_max_8h;
  std::optional<double> co_max_1h, so2_max_1h, no2_max_1h;
};

//! AQI giờ. kInvalidArgument when neither PM value is present (a VN_AQI may not be published
//! without PM) or a value is negative or non-finite.
core::Result<AqiResult> hourlyAqi(const HourlyInputs& in);
//! AQI ngày, with the O3 rule max(sub(1h max), sub(8h max)). Errors as hourlyAqi.
core::Result<AqiResult> dailyAqi(const DailyInputs& in);

//! Helpers for building DailyInputs from hourly means. The decision's completeness rule (how
//! many valid hours make a valid mean) must be taken from the PDF, so it is always a parameter.
//! Mean of the present values, or nullopt when fewer than `min_valid` are present.
std::optional<double> meanIfComplete(std::span<const std::optional<double>> hourly,
                                     size_t min_valid);
//! Max of the present values, or nullopt when fewer than `min_valid` are present.
std::optional<double> maxIfComplete(std::span<const std::optional<double>> hourly,
                                    size_t min_valid);
//! Largest mean over every window of `window` consecutive hours (chronological input) that has
//! at least `min_valid` present values; nullopt if none qualifies. For the O3 8-hour maximum of
//! a day pass the day's 24 hours preceded by the 7 hours before it.
std::optional<double> maxRollingMean(std::span<const std::optional<double>> hourly, size_t window,
                                     size_t min_valid);

//! {"aqi":79,"dominant":"pm25","category":{"level":2,"name_vi":..,"name_en":..,"colour_vi":..,
//!  "colour_en":..,"hex":"#FFFF00","rgb":[255,255,0]},"sub_indices":{"pm25":79,...}}
ioc::Json toJson(const AqiResult& r);

}  // namespace ioc::indices
