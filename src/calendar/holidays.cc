#include "calendar/holidays.h"

#include <algorithm>
#include <set>
#include <utility>

#include "calendar/lunar.h"

namespace ioc::calendar {
namespace {

using core::Errc;
using json = ioc::Json;

core::Error invalid(const std::string& message) {
  return core::makeError(Errc::kInvalidArgument, "calendar: " + message);
}

// Reads a list of "YYYY-MM-DD" strings that must all fall in `year`, without duplicates.
core::Result<std::vector<Date>> readDates(const json& value, int year, const std::string& who) {
  if (!value.is_array()) return invalid(who + " must be an array of YYYY-MM-DD strings");
  std::vector<Date> out;
  for (const json& item : value) {
    if (!item.is_string()) return invalid(who + " must be an array of YYYY-MM-DD strings");
    auto d = parseDate(item.get_ref<const std::string&>());
    if (!d) return invalid(who + ": " + d.error().message);
    if (d->year != year)
      return invalid(who + ": " + formatDate(*d) + " is not in " + std::to_string(year));
    if (std::find(out.begin(), out.end(), *d) != out.end()) {
      return invalid(who + ": " + formatDate(*d) + " is listed twice");
    }
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<YearSchedule> readYear(const json& obj, int year) {
  const std::string who = "years." + std::to_string(year);
  if (!obj.is_object()) return invalid(who + " must be an object");
  YearSchedule s;
  for (const auto& [key, value] : obj.items()) {
    const std::string field = who + "." + key;
    if (key == "tet" || key == "national_day" || key == "days_off" || key == "working_days") {
      auto dates = readDates(value, year, field);
      if (!dates) return dates.error();
      if (key == "tet") {
        // Art. 112 grants five days; the government only chooses which.
        if (dates->size() != 5) return invalid(field + " must list exactly 5 days");
        s.tet = std::move(*dates);
      } else if (key == "national_day") {
        if (dates->size() != 2 ||
            !std::binary_search(dates->begin(), dates->end(), Date{year, 9, 2})) {
          return invalid(field + " must list 2 days, one of them " + std::to_string(year) +
                         "-09-02");
        }
        s.national_day = std::move(*dates);
      } else if (key == "days_off") {
        s.days_off = std::move(*dates);
      } else {
        s.working_days = std::move(*dates);
      }
    } else if (key == "compensate") {
      if (!value.is_boolean()) return invalid(field + " must be true or false");
      s.compensate = value.get<bool>();
    } else if (key == "source" || key == "note") {
      if (!value.is_string()) return invalid(field + " must be a string");
      if (key == "source") s.source = value.get<std::string>();
    } else {
      return invalid("unknown field " + field);
    }
  }
  for (const Date& d : s.working_days) {
    if (std::binary_search(s.days_off.begin(), s.days_off.end(), d)) {
      return invalid(who + ": " + formatDate(d) + " is both a day off and a working day");
    }
  }
  return s;
}

// The statutory holidays of `year` before compensation, in date order.
std::vector<Holiday> statutoryHolidays(int year, const YearSchedule* s, NationalDayExtra extra) {
  std::vector<Holiday> out;
  out.push_back({Date{year, 1, 1}, HolidayKind::kNewYear});
  if (s != nullptr && s->tet) {
    for (const Date& d : *s->tet) out.push_back({d, HolidayKind::kTet});
  } else {
    // The last day of the old lunar year (29 or 30 tháng Chạp) and 1..4 tháng Giêng.
    const Date tet = tetDate(year);
    for (int i = -1; i <= 3; ++i) out.push_back({addDays(tet, i), HolidayKind::kTet});
  }
  const auto hung = lunarToSolar(LunarDate{10, 3, year, false});
  if (hung) out.push_back({*hung, HolidayKind::kHungKings});
  out.push_back({Date{year, 4, 30}, HolidayKind::kVictoryDay});
  out.push_back({Date{year, 5, 1}, HolidayKind::kLabourDay});
  if (s != nullptr && s->national_day) {
    for (const Date& d : *s->national_day) out.push_back({d, HolidayKind::kNationalDay});
  } else {
    out.push_back({Date{year, 9, 2}, HolidayKind::kNationalDay});
    out.push_back(
        {Date{year, 9, extra == NationalDayExtra::kDayBefore ? 1 : 3}, HolidayKind::kNationalDay});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Holiday& a, const Holiday& b) { return a.date < b.date; });
  return out;
}

}  // namespace

const char* holidayKindName(HolidayKind kind) {
  switch (kind) {
    case HolidayKind::kNewYear:
      return "new_year";
    case HolidayKind::kTet:
      return "tet";
    case HolidayKind::kHungKings:
      return "hung_kings";
    case HolidayKind::kVictoryDay:
      return "victory_day";
    case HolidayKind::kLabourDay:
      return "labour_day";
    case HolidayKind::kNationalDay:
      return "national_day";
    case HolidayKind::kCompensatory:
      return "compensatory";
    case HolidayKind::kExtraDayOff:
      return "extra_day_off";
  }
  return "unknown";
}

const char* holidayDisplayName(HolidayKind kind) {
  switch (kind) {
    case HolidayKind::kNewYear:
      return "Tết Dương lịch";
    case HolidayKind::kTet:
      return "Tết Nguyên Đán";
    case HolidayKind::kHungKings:
      return "Giỗ Tổ Hùng Vương";
    case HolidayKind::kVictoryDay:
      return "Ngày Chiến thắng";
    case HolidayKind::kLabourDay:
      return "Ngày Quốc tế Lao động";
    case HolidayKind::kNationalDay:
      return "Quốc khánh";
    case HolidayKind::kCompensatory:
      return "Nghỉ bù";
    case HolidayKind::kExtraDayOff:
      return "Ngày nghỉ theo lịch năm";
  }
  return "";
}

core::Result<std::map<int, YearSchedule>> parseYearSchedules(const json& years) {
  if (!years.is_object()) return invalid("'years' must be an object keyed by year");
  std::map<int, YearSchedule> out;
  for (const auto& [key, value] : years.items()) {
    const bool digits = key.size() == 4 && std::all_of(key.begin(), key.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    const int year = digits ? std::stoi(key) : 0;
    if (!digits || year < kHolidayFirstYear || year > kHolidayLastYear) {
      return invalid("year '" + key + "' must be " + std::to_string(kHolidayFirstYear) + ".." +
                     std::to_string(kHolidayLastYear));
    }
    auto s = readYear(value, year);
    if (!s) return s.error();
    out.emplace(year, std::move(*s));
  }
  return out;
}

core::Result<HolidayCalendar> HolidayCalendar::build(const HolidayRules& rules) {
  if (std::all_of(rules.weekend.begin(), rules.weekend.end(), [](bool w) { return w; })) {
    return invalid("every weekday is a weekend day");
  }
  const auto is_weekend = [&](const Date& d) {
    return rules.weekend[static_cast<size_t>(weekday(d))];
  };
  HolidayCalendar cal;
  cal.days_.reserve(static_cast<size_t>(kHolidayLastYear - kHolidayFirstYear + 1) * 16);
  for (int year = kHolidayFirstYear; year <= kHolidayLastYear; ++year) {
    const auto it = rules.years.find(year);
    const YearSchedule* s = it == rules.years.end() ? nullptr : &it->second;
    const std::vector<Holiday> statutory = statutoryHolidays(year, s, rules.national_day_extra);
    std::set<int64_t> taken;
    for (const Holiday& h : statutory) {
      const int64_t n = toDayNumber(h.date);
      taken.insert(n);
      cal.days_.try_emplace(n, h.kind);
    }
    if (s == nullptr || s->compensate) {
      // In date order, so that a run of holidays over a weekend (Tết) pushes each compensatory
      // day past the whole run and past the compensatory days already given.
      for (const Holiday& h : statutory) {
        if (!is_weekend(h.date)) continue;
        Date d = addDays(h.date, 1);
        while (is_weekend(d) || taken.contains(toDayNumber(d))) d = addDays(d, 1);
        taken.insert(toDayNumber(d));
        cal.days_.try_emplace(toDayNumber(d), HolidayKind::kCompensatory);
      }
    }
    if (s == nullptr) continue;
    for (const Date& d : s->days_off)
      cal.days_.try_emplace(toDayNumber(d), HolidayKind::kExtraDayOff);
    for (const Date& d : s->working_days) cal.working_.insert(toDayNumber(d));
  }
  return cal;
}

bool HolidayCalendar::isDayOff(const Date& d) const {
  const int64_t n = toDayNumber(d);
  return days_.contains(n) && !working_.contains(n);
}

bool HolidayCalendar::isScheduledWorkingDay(const Date& d) const {
  return working_.contains(toDayNumber(d));
}

std::optional<Holiday> HolidayCalendar::find(const Date& d) const {
  const auto it = days_.find(toDayNumber(d));
  if (it == days_.end()) return std::nullopt;
  return Holiday{d, it->second};
}

std::vector<Holiday> HolidayCalendar::holidaysOf(int year) const {
  std::vector<Holiday> out;
  const int64_t first = toDayNumber(Date{year, 1, 1});
  const int64_t last = toDayNumber(Date{year, 12, 31});
  for (int64_t n = first; n <= last; ++n) {
    const auto it = days_.find(n);
    if (it != days_.end()) out.push_back({fromDayNumber(n), it->second});
  }
  return out;
}

}  // namespace ioc::calendar
