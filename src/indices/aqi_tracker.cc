#include "indices/aqi_tracker.h"

#include <cmath>
#include <string>
#include <utility>

namespace ioc::indices {
namespace {

// Floor division, so that readings before 1970 still fall in the right hour.
int64_t hourOf(int64_t unix_ms) {
  int64_t q = unix_ms / HourlyAqiTracker::kHourMs;
  if (unix_ms % HourlyAqiTracker::kHourMs < 0) --q;
  return q;
}

size_t ringIndex(int64_t hour) {
  const int64_t m = hour % HourlyAqiTracker::kHours;
  return static_cast<size_t>(m < 0 ? m + HourlyAqiTracker::kHours : m);
}

core::Error invalid(const std::string& message) {
  return core::makeError(core::Errc::kInvalidArgument, "aqi tracker: " + message);
}

}  // namespace

int HourlyAqiTracker::slotOf(Pollutant p) {
  switch (p) {
    case Pollutant::PM25:
      return 0;
    case Pollutant::PM10:
      return 1;
    case Pollutant::O3_1h:
      return 2;
    case Pollutant::CO:
      return 3;
    case Pollutant::SO2:
      return 4;
    case Pollutant::NO2:
      return 5;
    case Pollutant::O3_8h:
      break;
  }
  return -1;
}

core::Status HourlyAqiTracker::add(int64_t unix_ms, Pollutant pollutant, double ug_m3) {
  const int slot = slotOf(pollutant);
  if (slot < 0) return invalid("O3 (8h) is derived, not measured; add O3 as O3_1h");
  if (!std::isfinite(ug_m3) || ug_m3 < 0) {
    return invalid(std::string(pollutantName(pollutant)) + " value must be a finite value >= 0");
  }
  const int64_t hour = hourOf(unix_ms);
  if (hour <= kEmpty || hour > std::numeric_limits<int32_t>::max()) {
    return invalid("reading time out of range");
  }
  if (latest_hour_ != kNoHour && hour <= latest_hour_ - kHours) {
    return invalid("reading is older than the 12-hour NowCast window");
  }
  if (latest_hour_ == kNoHour || hour > latest_hour_) latest_hour_ = hour;

  auto& ring = ring_of_slot_[static_cast<size_t>(slot)];
  constexpr auto kRing = static_cast<size_t>(kHours);
  if (ring < 0) {  // this pollutant's first reading: its ring, and no spare capacity
    ring = static_cast<int8_t>(rings_.size() / kRing);
    rings_.reserve(rings_.size() + kRing);
    rings_.resize(rings_.size() + kRing);
  }
  Bucket& b = rings_[static_cast<size_t>(ring) * kRing + ringIndex(hour)];
  // A bucket holding an older hour is stale (that hour left the window): reuse it.
  if (b.hour != hour) b = Bucket{static_cast<int32_t>(hour), 0, 0};
  b.sum += ug_m3;
  ++b.count;
  return {};
}

const HourlyAqiTracker::Bucket* HourlyAqiTracker::ringOf(int slot) const {
  const int8_t ring = ring_of_slot_[static_cast<size_t>(slot)];
  return ring < 0 ? nullptr
                  : rings_.data() + static_cast<size_t>(ring) * static_cast<size_t>(kHours);
}

std::optional<double> HourlyAqiTracker::meanOfHour(int slot, int64_t hour) const {
  const Bucket* ring = ringOf(slot);
  if (ring == nullptr) return std::nullopt;
  const Bucket& b = ring[ringIndex(hour)];
  if (b.hour != hour || b.count == 0) return std::nullopt;
  return b.sum / b.count;
}

std::optional<double> HourlyAqiTracker::nowcastOfHour(int slot, int64_t hour) const {
  std::array<std::optional<double>, kHours> last12;
  for (int i = 0; i < kHours; ++i) last12[static_cast<size_t>(i)] = meanOfHour(slot, hour - i);
  return nowcast(last12);
}

std::optional<AqiResult> HourlyAqiTracker::aqiOfHour(int64_t hour) const {
  HourlyInputs in;
  in.pm25_nowcast = nowcastOfHour(slotOf(Pollutant::PM25), hour);
  in.pm10_nowcast = nowcastOfHour(slotOf(Pollutant::PM10), hour);
  in.o3_1h = meanOfHour(slotOf(Pollutant::O3_1h), hour);
  in.co_1h = meanOfHour(slotOf(Pollutant::CO), hour);
  in.so2_1h = meanOfHour(slotOf(Pollutant::SO2), hour);
  in.no2_1h = meanOfHour(slotOf(Pollutant::NO2), hour);
  auto r = hourlyAqi(in);  // add() validated every value, so the only failure is "no PM"
  if (!r) return std::nullopt;
  return std::move(r).value();
}

std::optional<AqiResult> HourlyAqiTracker::current() const {
  if (latest_hour_ == kNoHour) return std::nullopt;
  return aqiOfHour(latest_hour_);
}

std::optional<AqiResult> HourlyAqiTracker::at(int64_t unix_ms) const {
  const int64_t hour = hourOf(unix_ms);
  if (latest_hour_ == kNoHour || hour < latest_hour_) return std::nullopt;
  return aqiOfHour(hour);
}

std::optional<double> HourlyAqiTracker::hourlyMean(Pollutant pollutant, int64_t unix_ms) const {
  const int slot = slotOf(pollutant);
  if (slot < 0) return std::nullopt;
  return meanOfHour(slot, hourOf(unix_ms));
}

std::optional<double> HourlyAqiTracker::nowcastAt(Pollutant pollutant, int64_t unix_ms) const {
  if (pollutant != Pollutant::PM25 && pollutant != Pollutant::PM10) return std::nullopt;
  const int64_t hour = hourOf(unix_ms);
  if (latest_hour_ == kNoHour || hour < latest_hour_) return std::nullopt;
  return nowcastOfHour(slotOf(pollutant), hour);
}

std::optional<int64_t> HourlyAqiTracker::latestHourStartMs() const {
  if (latest_hour_ == kNoHour) return std::nullopt;
  return latest_hour_ * kHourMs;
}

}  // namespace ioc::indices
