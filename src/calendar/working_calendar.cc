#include "calendar/working_calendar.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/json.h"

namespace ioc::calendar {
namespace {

using core::Errc;
using json = ioc::Json;

constexpr int64_t kMsPerMinute = 60'000;
// A calendar document is a few kilobytes; anything far larger is a wrong path.
constexpr std::streamoff kMaxFileBytes = 4 << 20;

core::Error invalid(const std::string& message) {
  return core::makeError(Errc::kInvalidArgument, "calendar: " + message);
}

// "HH:MM" with HH 00..24 and 24:00 as the only time in hour 24.
bool parseClock(const json& value, int& minutes) {
  if (!value.is_string()) return false;
  const auto& s = value.get_ref<const std::string&>();
  if (s.size() != 5 || s[2] != ':') return false;
  for (size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minutes = h * 60 + m;
  return true;
}

core::Status readHours(const json& value, std::vector<TimeWindow>& out) {
  if (!value.is_array() || value.empty()) {
    return invalid("working_hours must be a non-empty array of [\"HH:MM\",\"HH:MM\"]");
  }
  out.clear();
  for (const json& w : value) {
    TimeWindow t;
    if (!w.is_array() || w.size() != 2 || !parseClock(w[0], t.start_min) ||
        !parseClock(w[1], t.end_min)) {
      return invalid("working_hours entries must be [\"HH:MM\",\"HH:MM\"]");
    }
    out.push_back(t);
  }
  return {};
}

core::Status readWeekend(const json& value, std::array<bool, 7>& out) {
  static constexpr const char* kNames[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  if (!value.is_array()) return invalid("weekend must be an array like [\"sat\",\"sun\"]");
  out.fill(false);
  for (const json& d : value) {
    const auto it = d.is_string() ? std::find(std::begin(kNames), std::end(kNames),
                                              d.get_ref<const std::string&>())
                                  : std::end(kNames);
    if (it == std::end(kNames)) return invalid("weekend days are mon, tue, ... sun");
    out[static_cast<size_t>(it - std::begin(kNames))] = true;
  }
  return {};
}

int64_t clampInstant(int64_t ms) {
  return std::clamp(ms, WorkingCalendar::kMinInstantMs, WorkingCalendar::kMaxInstantMs);
}

int64_t midnightOf(int64_t day) {
  return day * kMsPerDay - kVietnamOffsetMs;
}

}  // namespace

core::Result<CalendarConfig> parseCalendarConfig(std::string_view json_text) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return core::makeError(Errc::kMalformedInput, "calendar: configuration is not valid JSON");
  }
  if (!root.is_object()) return invalid("configuration must be a JSON object");
  CalendarConfig config;
  for (const auto& [key, value] : root.items()) {
    if (key == "weekend") {
      if (auto s = readWeekend(value, config.rules.weekend); !s) return s.error();
    } else if (key == "working_hours") {
      if (auto s = readHours(value, config.hours); !s) return s.error();
    } else if (key == "national_day_extra") {
      if (value == "before") {
        config.rules.national_day_extra = NationalDayExtra::kDayBefore;
      } else if (value == "after") {
        config.rules.national_day_extra = NationalDayExtra::kDayAfter;
      } else {
        return invalid("national_day_extra must be \"before\" or \"after\"");
      }
    } else if (key == "years") {
      auto years = parseYearSchedules(value);
      if (!years) return years.error();
      config.rules.years = std::move(*years);
    } else if (key != "note") {
      return invalid("unknown field '" + key + "'");
    }
  }
  return config;
}

core::Result<CalendarConfig> loadCalendarConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return core::makeError(Errc::kNotFound, "calendar: cannot open " + path);
  if (in.tellg() > kMaxFileBytes) return invalid(path + " is too large");
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parseCalendarConfig(text.str());
  if (!config)
    return core::makeError(config.error().code, config.error().message + " (" + path + ")");
  return config;
}

core::Result<WorkingCalendar> WorkingCalendar::create(const CalendarConfig& config) {
  if (config.hours.empty()) return invalid("no working hours");
  int prev_end = 0;
  for (const TimeWindow& w : config.hours) {
    if (w.start_min < 0 || w.end_min > 24 * 60 || w.start_min >= w.end_min) {
      return invalid("a working-hours window must start before it ends, within 00:00-24:00");
    }
    if (w.start_min < prev_end)
      return invalid("working-hours windows must be ordered and disjoint");
    prev_end = w.end_min;
  }
  auto holidays = HolidayCalendar::build(config.rules);
  if (!holidays) return holidays.error();
  WorkingCalendar cal;
  cal.hours_ = config.hours;
  cal.weekend_ = config.rules.weekend;
  for (const TimeWindow& w : config.hours) {
    cal.windows_ms_.emplace_back(w.start_min * kMsPerMinute, w.end_min * kMsPerMinute);
    cal.per_day_ms_ += (w.end_min - w.start_min) * kMsPerMinute;
  }
  cal.holidays_ = std::make_shared<const HolidayCalendar>(std::move(*holidays));
  return cal;
}

core::Result<WorkingCalendar> WorkingCalendar::loadFile(const std::string& path) {
  auto config = loadCalendarConfigFile(path);
  if (!config) return config.error();
  return create(*config);
}

bool WorkingCalendar::isWorkingDayNumber(int64_t day) const {
  const Date d = fromDayNumber(day);
  if (holidays_->isScheduledWorkingDay(d)) return true;
  if (weekend_[static_cast<size_t>(weekday(d))]) return false;
  return !holidays_->isDayOff(d);
}

int64_t WorkingCalendar::closeOfDay(int64_t day) const {
  return midnightOf(day) + windows_ms_.back().second;
}

bool WorkingCalendar::isWorkingDay(const Date& d) const {
  return isValidDate(d) && isWorkingDayNumber(toDayNumber(d));
}

DayKind WorkingCalendar::dayKind(const Date& d) const {
  const bool weekend = weekend_[static_cast<size_t>(weekday(d))];
  const bool off = holidays_->isDayOff(d);
  if (holidays_->isScheduledWorkingDay(d)) {
    return weekend || holidays_->find(d) ? DayKind::kMakeUpWorkingDay : DayKind::kWorking;
  }
  if (off) return DayKind::kHoliday;
  return weekend ? DayKind::kWeekend : DayKind::kWorking;
}

int64_t WorkingCalendar::nextWorkingInstant(int64_t ms) const {
  ms = clampInstant(ms);
  // Terminates: at least one weekday is not weekend (build() checks) and days off are finite.
  for (int64_t day = localDayNumber(ms);; ++day) {
    if (!isWorkingDayNumber(day)) continue;
    const int64_t midnight = midnightOf(day);
    for (const auto& [start, end] : windows_ms_) {
      if (ms < midnight + end) return std::max(ms, midnight + start);
    }
  }
}

core::Result<int64_t> WorkingCalendar::addWorkingDays(int64_t start_ms, int n, DueRule rule) const {
  if (n < 0 || n > kMaxWorkingDays) {
    return invalid("working days must be 0.." + std::to_string(kMaxWorkingDays));
  }
  if (rule == DueRule::kSameLocalTime) {
    const int64_t start = nextWorkingInstant(start_ms);
    int64_t day = localDayNumber(start);
    const int64_t time_of_day = start - midnightOf(day);
    for (int k = 0; k < n;) k += isWorkingDayNumber(++day) ? 1 : 0;
    return midnightOf(day) + time_of_day;
  }
  if (n == 0) return closeOfDay(localDayNumber(nextWorkingInstant(start_ms)));
  int64_t day = localDayNumber(clampInstant(start_ms));
  for (int k = 0; k < n;) k += isWorkingDayNumber(++day) ? 1 : 0;
  return closeOfDay(day);
}

core::Result<int64_t> WorkingCalendar::addWorkingMillis(int64_t start_ms, int64_t millis) const {
  if (millis < 0 || millis > kMaxWorkingMillis) {
    return invalid("working time must be between 0 and about 100 years");
  }
  if (millis == 0) return start_ms;
  const int64_t start = clampInstant(start_ms);
  int64_t remaining = millis;
  for (int64_t day = localDayNumber(start);; ++day) {
    if (!isWorkingDayNumber(day)) continue;
    const int64_t midnight = midnightOf(day);
    for (const auto& [ws, we] : windows_ms_) {
      const int64_t from = std::max(start, midnight + ws);
      const int64_t to = midnight + we;
      if (from >= to) continue;
      if (remaining <= to - from) return from + remaining;
      remaining -= to - from;
    }
  }
}

core::Result<int64_t> WorkingCalendar::addWorkingHours(int64_t start_ms, double hours) const {
  if (!std::isfinite(hours) || hours < 0 ||
      hours > static_cast<double>(kMaxWorkingMillis) / 3'600'000) {
    return invalid("working hours must be between 0 and about 100 years");
  }
  return addWorkingMillis(start_ms, std::llround(hours * 3'600'000));
}

int64_t WorkingCalendar::workingMillisBetween(int64_t a_ms, int64_t b_ms) const {
  const int64_t a = clampInstant(a_ms);
  const int64_t b = clampInstant(b_ms);
  if (b < a) return -workingMillisBetween(b, a);
  int64_t total = 0;
  const int64_t last = localDayNumber(b);
  for (int64_t day = localDayNumber(a); day <= last; ++day) {
    if (!isWorkingDayNumber(day)) continue;
    const int64_t midnight = midnightOf(day);
    for (const auto& [ws, we] : windows_ms_) {
      const int64_t from = std::max(a, midnight + ws);
      const int64_t to = std::min(b, midnight + we);
      if (from < to) total += to - from;
    }
  }
  return total;
}

}  // namespace ioc::calendar
