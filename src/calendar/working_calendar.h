#pragma once
// Working time: SLA deadlines for incidents and citizen reports run only while the city's
// offices work, so "3 working days" must skip nights, weekends, Tết and the rest.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/date.h"
#include "calendar/holidays.h"
#include "core/result.h"

namespace ioc::calendar {

//! [start, end) in minutes after local midnight; end may be 1440 (24:00).
struct TimeWindow {
  int start_min = 0;
  int end_min = 0;

  bool operator==(const TimeWindow&) const = default;
};

struct CalendarConfig {
  //! The same on every working day, in order; default: public-sector hours 07:30-11:30 and
  //! 13:00-17:00.
  std::vector<TimeWindow> hours{{7 * 60 + 30, 11 * 60 + 30}, {13 * 60, 17 * 60}};
  //! Weekly days off (default Sat + Sun), national-day default and the yearly schedules.
  HolidayRules rules;
};

//! Parses a calendar document (data/calendar/vn_holidays.json and README.md): optional
//! "weekend": ["sat","sun"], "working_hours": [["07:30","11:30"],["13:00","17:00"]],
//! "national_day_extra": "before"|"after", "years": {...}, "note". Missing keys keep defaults.
core::Result<CalendarConfig> parseCalendarConfig(std::string_view json_text);
core::Result<CalendarConfig> loadCalendarConfigFile(const std::string& path);

enum class DayKind {
  kWorking,
  kWeekend,
  kHoliday,          //!< holiday, compensatory or scheduled day off
  kMakeUpWorkingDay  //!< weekend or holiday that the yearly schedule makes a working day
};

//! How addWorkingDays places the due instant.
enum class DueRule {
  //! The same local time of day, n working days after the start moved to the next working
  //! instant (opened Fri 10:00 + 3 = Wed 10:00; opened Sat = Mon 07:30, + 3 = Thu 07:30).
  //! Default: n working days then equal n x the daily working time, so SLA fractions and
  //! pauses behave the same for day- and hour-based policies.
  kSameLocalTime,
  //! Close of business of the n-th working day after the start's local day, counting from the
  //! next day as the Civil Code does for time limits in days (opened Fri 10:00 + 3 = Wed 17:00;
  //! n = 0: close of the start's working day).
  kEndOfDay,
};

//! Instants are unix milliseconds; local time is fixed UTC+7. Inputs are clamped to
//! [kMinInstantMs, kMaxInstantMs]. Immutable after create(); safe to share between threads.
class WorkingCalendar {
 public:
  static core::Result<WorkingCalendar> create(const CalendarConfig& config);
  static core::Result<WorkingCalendar> loadFile(const std::string& path);

  //! Local midnight of 1900-01-01 and 2200-01-01 (checked by the tests).
  static constexpr int64_t kMinInstantMs = -2'209'014'000'000;
  static constexpr int64_t kMaxInstantMs = 7'258'093'200'000;
  //! Upper bounds of addWorkingDays / addWorkingMillis (about 100 years).
  static constexpr int kMaxWorkingDays = 36'500;
  static constexpr int64_t kMaxWorkingMillis = 36'500LL * 24 * 3'600'000;

  bool isWorkingDay(const Date& d) const;
  DayKind dayKind(const Date& d) const;
  //! `ms` itself if it is inside working hours of a working day, else the next opening.
  int64_t nextWorkingInstant(int64_t ms) const;
  //! See DueRule. kInvalidArgument if n < 0 or n > kMaxWorkingDays.
  core::Result<int64_t> addWorkingDays(int64_t start_ms, int n,
                                       DueRule rule = DueRule::kSameLocalTime) const;
  //! The instant at which `millis` of working time have passed since `start_ms`; it may be the
  //! end of a window (17:00), not the next opening. millis = 0 returns start_ms.
  core::Result<int64_t> addWorkingMillis(int64_t start_ms, int64_t millis) const;
  core::Result<int64_t> addWorkingHours(int64_t start_ms, double hours) const;
  //! Working time in [a_ms, b_ms); negative if b_ms < a_ms.
  int64_t workingMillisBetween(int64_t a_ms, int64_t b_ms) const;
  //! Working time of one full working day (8 h by default).
  int64_t workingMillisPerDay() const { return per_day_ms_; }

  const HolidayCalendar& holidays() const { return *holidays_; }
  const std::vector<TimeWindow>& hours() const { return hours_; }
  const std::array<bool, 7>& weekend() const { return weekend_; }

 private:
  WorkingCalendar() = default;  // only create() makes calendars, so holidays_ is never null

  bool isWorkingDayNumber(int64_t day) const;
  int64_t closeOfDay(int64_t day) const;

  std::vector<TimeWindow> hours_;
  std::vector<std::pair<int64_t, int64_t>> windows_ms_;  // hours_ in ms after local midnight
  std::array<bool, 7> weekend_{};
  int64_t per_day_ms_ = 0;
  std::shared_ptr<const HolidayCalendar> holidays_;
};

}  // namespace ioc::calendar
