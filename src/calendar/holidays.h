#pragma once
// Public holidays in Vietnam (Labour Code 2019, Article 112) and the yearly schedule the
// government announces on top of them: which days Tết actually covers, bridging days off and
// the Saturdays worked in exchange. Both feed the working-day calendar behind SLA deadlines.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "calendar/date.h"
#include "core/json.h"
#include "core/result.h"

namespace ioc::calendar {

enum class HolidayKind {
  kNewYear,       //!< Tết Dương lịch, 1/1
  kTet,           //!< Tết Âm lịch (Nguyên Đán), 5 days
  kHungKings,     //!< Giỗ Tổ Hùng Vương, 10/3 lunar
  kVictoryDay,    //!< Ngày Chiến thắng, 30/4
  kLabourDay,     //!< Ngày Quốc tế Lao động, 1/5
  kNationalDay,   //!< Quốc khánh, 2/9 and one adjacent day
  kCompensatory,  //!< nghỉ bù: a holiday fell on a weekly day off
  kExtraDayOff,   //!< a day off the yearly schedule adds (usually swapped for a Saturday)
};

//! Stable snake_case name, e.g. "tet", "national_day" (API and logs).
const char* holidayKindName(HolidayKind kind);
//! Vietnamese display name, e.g. "Tết Nguyên Đán".
const char* holidayDisplayName(HolidayKind kind);

struct Holiday {
  Date date;
  HolidayKind kind = HolidayKind::kNewYear;
};

//! Which day accompanies 2/9 when the yearly schedule does not say (Art. 112: "1/9 or 3/9").
enum class NationalDayExtra { kDayBefore, kDayAfter };

//! One year of the government's announced schedule; every field is optional.
struct YearSchedule {
  std::optional<std::vector<Date>> tet;           //!< replaces the default 5 Tết days
  std::optional<std::vector<Date>> national_day;  //!< replaces 2/9 + default adjacent day
  std::vector<Date> days_off;                     //!< extra days off (bridging days)
  std::vector<Date> working_days;  //!< worked although weekend or holiday (make-up Saturdays)
  bool compensate = true;  //!< false: no automatic nghỉ bù; the schedule lists everything
  std::string source;      //!< where the schedule was announced, for humans
};

struct HolidayRules {
  //! Weekly days off used to decide compensation, indexed by Weekday (Mon..Sun).
  std::array<bool, 7> weekend{false, false, false, false, false, true, true};
  NationalDayExtra national_day_extra = NationalDayExtra::kDayBefore;
  std::map<int, YearSchedule> years;  //!< by solar year
};

//! Years for which holidays are computed; outside them only weekends are days off.
inline constexpr int kHolidayFirstYear = 1900;
inline constexpr int kHolidayLastYear = 2199;

//! Parses the "years" object of a calendar document (see README.md): {"2025": {"tet": [...],
//! "national_day": [...], "days_off": [...], "working_days": [...], "compensate": true,
//! "source": "...", "note": "..."}}. Unknown keys are errors, so that a typo cannot silently
//! drop a day off; every date must lie in its year.
core::Result<std::map<int, YearSchedule>> parseYearSchedules(const ioc::Json& years);

//! Every public holiday, compensatory day and scheduled day off for kHolidayFirstYear..
//! kHolidayLastYear, computed once; immutable and thread-safe afterwards.
//!
//! Defaults per Labour Code 2019 Art. 112 (applied to every year, although before 2021 2/9 was a
//! single day): 1/1; Tết = the last day of the lunar year and 1..4 of the new one; 10/3 lunar;
//! 30/4; 1/5; 2/9 plus 1/9 (or 3/9). A holiday on a weekly day off gives a compensatory day on
//! the next day that is neither weekend nor holiday (Art. 111(3)). A YearSchedule overrides
//! these; its working days win over everything.
class HolidayCalendar {
 public:
  HolidayCalendar() = default;  //!< no holidays at all
  static core::Result<HolidayCalendar> build(const HolidayRules& rules);

  //! A day off because of a holiday, compensation or scheduled day off (weekends aside), and
  //! not overridden as a working day.
  bool isDayOff(const Date& d) const;
  //! Listed as a working day by the yearly schedule (e.g. a make-up Saturday).
  bool isScheduledWorkingDay(const Date& d) const;
  //! The holiday on `d` (even if the schedule makes `d` a working day); nullopt if none.
  std::optional<Holiday> find(const Date& d) const;
  //! All holidays and days off of solar year `year` in date order.
  std::vector<Holiday> holidaysOf(int year) const;

 private:
  std::unordered_map<int64_t, HolidayKind> days_;  // by day number
  std::unordered_set<int64_t> working_;            // by day number
};

}  // namespace ioc::calendar
