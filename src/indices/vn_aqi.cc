#include "indices/vn_aqi.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace ioc::indices {
namespace {

using core::Errc;

constexpr size_t kBreakpoints = 8;
constexpr std::array<double, kBreakpoints> kIndexLevels = {0, 50, 100, 150, 200, 300, 400, 500};
// Table 2, one row per Pollutant in enum order. NaN marks "–" (O3 8h has no bands above 300).
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
constexpr std::array<std::array<double, kBreakpoints>, kPollutantCount> kTable2 = {{
    {0, 25, 50, 80, 150, 250, 350, 500},                     // PM2.5
    {0, 50, 150, 250, 350, 420, 500, 600},                   // PM10
    {0, 160, 200, 300, 400, 800, 1000, 1200},                // O3 (1h)
    {0, 100, 120, 170, 210, 400, kNone, kNone},              // O3 (8h)
    {0, 10000, 30000, 45000, 60000, 90000, 120000, 150000},  // CO
    {0, 125, 350, 550, 800, 1600, 2100, 2630},               // SO2
    {0, 100, 200, 700, 1200, 2350, 3100, 3850},              // NO2
}};

constexpr std::array<AqiCategory, 6> kCategories = {{
    {1, 0, 50, "Tốt", "Good", "Xanh", "Green", "#00E400", {0, 228, 0}},
    {2, 51, 100, "Trung bình", "Moderate", "Vàng", "Yellow", "#FFFF00", {255, 255, 0}},
    {3, 101, 150, "Kém", "Poor", "Da cam", "Orange", "#FF7E00", {255, 126, 0}},
    {4, 151, 200, "Xấu", "Bad", "Đỏ", "Red", "#FF0000", {255, 0, 0}},
    {5, 201, 300, "Rất xấu", "Very bad", "Tím", "Purple", "#8F3F97", {143, 63, 151}},
    {6, 301, 500, "Nguy hại", "Hazardous", "Nâu", "Maroon", "#7E0023", {126, 0, 35}},
}};

constexpr std::array<std::string_view, kPollutantCount> kNames = {
    "PM2.5", "PM10", "O3 (1h)", "O3 (8h)", "CO", "SO2", "NO2"};
constexpr std::array<std::string_view, kPollutantCount> kKeys = {"pm25", "pm10", "o3_1h", "o3_8h",
                                                                 "co",   "so2",  "no2"};

size_t idx(Pollutant p) {
  return static_cast<size_t>(p);
}

core::Error invalid(const std::string& message) {
  return core::makeError(Errc::kInvalidArgument, "vn_aqi: " + message);
}

bool present(const std::optional<double>& v) {
  return v && std::isfinite(*v) && *v >= 0;
}

// Sub-indices of the given (pollutant, value) pairs combined into one overall result.
struct Accumulator {
  AqiResult result;
  bool any = false;

  core::Status add(Pollutant p, const std::optional<double>& value) {
    if (!value) return {};
    auto sub = subIndex(p, *value);
    if (!sub) return sub.error();
    result.sub_indices[idx(p)] = *sub;
    // Strictly greater: on a tie the pollutant earlier in enum order (PM first) stays dominant.
    if (!any || *sub > result.aqi) {
      result.aqi = *sub;
      result.dominant = p;
    }
    any = true;
    return {};
  }

  core::Result<AqiResult> finish() {
    result.category = aqiCategory(result.aqi);
    return result;
  }
};

core::Status requirePm(const std::optional<double>& pm25, const std::optional<double>& pm10) {
  if (!pm25 && !pm10) return invalid("PM2.5 or PM10 is required to publish a VN_AQI");
  return {};
}

}  // namespace

std::string_view pollutantName(Pollutant p) {
  return kNames[idx(p)];
}
std::string_view pollutantKey(Pollutant p) {
  return kKeys[idx(p)];
}

std::optional<Pollutant> pollutantFromKey(std::string_view key) {
  for (Pollutant p : kAllPollutants) {
    if (kKeys[idx(p)] == key) return p;
  }
  return std::nullopt;
}

std::span<const AqiCategory, 6> aqiCategories() {
  return kCategories;
}

const AqiCategory& aqiCategory(int aqi) {
  for (const AqiCategory& c : kCategories) {
    if (aqi <= c.max_aqi) return c;
  }
  return kCategories.back();
}

int roundHalfUp(double x) {
  // Concentrations arrive as decimals (38.7), so an exact .5 in decimal can land a hair below .5
  // in binary; the epsilon is far below any meaningful AQI difference.
  return static_cast<int>(std::floor(x + 0.5 + 1e-9));
}

core::Result<double> subIndexExact(Pollutant p, double ug_m3) {
  if (!std::isfinite(ug_m3) || ug_m3 < 0) {
    return invalid(std::string(pollutantName(p)) + " concentration must be a finite value >= 0");
  }
  const auto& bp = kTable2[idx(p)];
  for (size_t i = 0; i + 1 < kBreakpoints; ++i) {
    if (std::isnan(bp[i + 1])) break;
    if (ug_m3 <= bp[i + 1]) {
      // Multiply before dividing: 50 * 3500 / 10000 is exactly 17.5, 50 / 10000 * 3500 is not.
      return kIndexLevels[i] +
             (kIndexLevels[i + 1] - kIndexLevels[i]) * (ug_m3 - bp[i]) / (bp[i + 1] - bp[i]);
    }
  }
  if (p == Pollutant::O3_8h) {
    return invalid("O3 (8h) has no band above 400 ug/m3; use the O3 (1h) sub-index");
  }
  return 500.0;  // the last band reads ">="; the index is capped at 500
}

core::Result<int> subIndex(Pollutant p, double ug_m3) {
  auto exact = subIndexExact(p, ug_m3);
  if (!exact) return exact.error();
  return roundHalfUp(*exact);
}

std::optional<double> nowcast(std::span<const std::optional<double>> last12) {
  const size_t n = std::min<size_t>(last12.size(), 12);
  int recent = 0;
  for (size_t i = 0; i < std::min<size_t>(n, 3); ++i) recent += present(last12[i]) ? 1 : 0;
  if (recent < 2) return std::nullopt;

  double cmin = 0, cmax = 0;
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    if (!present(last12[i])) continue;
    const double c = *last12[i];
    cmin = first ? c : std::min(cmin, c);
    cmax = first ? c : std::max(cmax, c);
    first = false;
  }
  if (cmax <= 0) return 0.0;  // all present hours are 0; avoids 0/0 in w*
  const double w_star = cmin / cmax;
  const double w = w_star > 0.5 ? w_star : 0.5;

  // The general form with the denominator, also for w = 1/2 where the decision prints
  // Σ(1/2)^i·c_i: that shortcut only holds with all 12 hours present.
  double num = 0, den = 0, weight = 1;
  for (size_t i = 0; i < n; ++i, weight *= w) {
    if (!present(last12[i])) continue;
    num += weight * *last12[i];
    den += weight;
  }
  return num / den;
}

core::Result<AqiResult> hourlyAqi(const HourlyInputs& in) {
  if (auto s = requirePm(in.pm25_nowcast, in.pm10_nowcast); !s) return s.error();
  Accumulator acc;
  const std::pair<Pollutant, const std::optional<double>*> inputs[] = {
      {Pollutant::PM25, &in.pm25_nowcast}, {Pollutant::PM10, &in.pm10_nowcast},
      {Pollutant::O3_1h, &in.o3_1h},       {Pollutant::CO, &in.co_1h},
      {Pollutant::SO2, &in.so2_1h},        {Pollutant::NO2, &in.no2_1h},
  };
  for (const auto& [p, v] : inputs) {
    if (auto s = acc.add(p, *v); !s) return s.error();
  }
  return acc.finish();
}

core::Result<AqiResult> dailyAqi(const DailyInputs& in) {
  if (auto s = requirePm(in.pm25_24h, in.pm10_24h); !s) return s.error();
  // Above 400 µg/m³ the 8-hour part is not computed; the 1-hour row covers those levels.
  std::optional<double> o3_8h = in.o3_max_8h;
  if (o3_8h && std::isfinite(*o3_8h) && *o3_8h > 400) o3_8h.reset();
  Accumulator acc;
  const std::pair<Pollutant, const std::optional<double>*> inputs[] = {
      {Pollutant::PM25, &in.pm25_24h},   {Pollutant::PM10, &in.pm10_24h},
      {Pollutant::O3_1h, &in.o3_max_1h}, {Pollutant::O3_8h, &o3_8h},
      {Pollutant::CO, &in.co_max_1h},    {Pollutant::SO2, &in.so2_max_1h},
      {Pollutant::NO2, &in.no2_max_1h},
  };
  for (const auto& [p, v] : inputs) {
    if (auto s = acc.add(p, *v); !s) return s.error();
  }
  return acc.finish();
}

std::optional<double> meanIfComplete(std::span<const std::optional<double>> hourly,
                                     size_t min_valid) {
  double sum = 0;
  size_t count = 0;
  for (const auto& v : hourly) {
    if (!present(v)) continue;
    sum += *v;
    ++count;
  }
  if (count == 0 || count < min_valid) return std::nullopt;
  return sum / static_cast<double>(count);
}

std::optional<double> maxIfComplete(std::span<const std::optional<double>> hourly,
                                    size_t min_valid) {
  std::optional<double> best;
  size_t count = 0;
  for (const auto& v : hourly) {
    if (!present(v)) continue;
    best = best ? std::max(*best, *v) : *v;
    ++count;
  }
  if (count < min_valid) return std::nullopt;
  return best;
}

std::optional<double> maxRollingMean(std::span<const std::optional<double>> hourly, size_t window,
                                     size_t min_valid) {
  if (window == 0 || hourly.size() < window) return std::nullopt;
  std::optional<double> best;
  for (size_t start = 0; start + window <= hourly.size(); ++start) {
    if (auto m = meanIfComplete(hourly.subspan(start, window), min_valid)) {
      best = best ? std::max(*best, *m) : *m;
    }
  }
  return best;
}

ioc::Json toJson(const AqiResult& r) {
  ioc::Json subs = ioc::Json::object();
  for (Pollutant p : kAllPollutants) {
    if (auto s = r.subIndexOf(p)) subs[std::string(pollutantKey(p))] = *s;
  }
  const AqiCategory& c = r.category;
  return {
      {"aqi", r.aqi},
      {"dominant", pollutantKey(r.dominant)},
      {"category",
       {{"level", c.level},
        {"name_vi", c.name_vi},
        {"name_en", c.name_en},
        {"colour_vi", c.colour_vi},
        {"colour_en", c.colour_en},
        {"hex", c.hex},
        {"rgb", {c.rgb.r, c.rgb.g, c.rgb.b}}}},
      {"sub_indices", std::move(subs)},
  };
}

}  // namespace ioc::indices
