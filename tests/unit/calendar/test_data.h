#pragma once
// Shared helpers of the calendar tests: table cases live in tests/data/calendar/*.json.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "calendar/date.h"
#include "calendar/working_calendar.h"
#include "core/json.h"

namespace ioc::calendar::testing {

inline std::string sourcePath(const std::string& relative) {
  return std::string(IOC_SOURCE_DIR) + "/" + relative;
}

inline ioc::Json loadCases(const std::string& file) {
  std::ifstream in(sourcePath("tests/data/calendar/" + file));
  EXPECT_TRUE(in.good()) << "cannot open " << file;
  std::ostringstream text;
  text << in.rdbuf();
  return ioc::Json::parse(text.str());
}

inline Date date(const std::string& text) {
  auto d = parseDate(text);
  EXPECT_TRUE(d.ok()) << text;
  return d.ok() ? *d : Date{};
}

//! "YYYY-MM-DDTHH:MM" in Vietnam local time -> unix ms.
inline int64_t at(const std::string& text) {
  auto ms = parseLocalDateTime(text);
  EXPECT_TRUE(ms.ok()) << text;
  return ms.ok() ? *ms : 0;
}

inline constexpr int64_t kHourMs = 3'600'000;

//! The shipped calendar (data/calendar/vn_holidays.json), loaded once.
inline std::shared_ptr<const WorkingCalendar> shippedCalendar() {
  static const std::shared_ptr<const WorkingCalendar> cal = [] {
    auto loaded = WorkingCalendar::loadFile(sourcePath("data/calendar/vn_holidays.json"));
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return std::make_shared<const WorkingCalendar>(
        loaded.ok() ? std::move(loaded).value() : WorkingCalendar::create({}).value());
  }();
  return cal;
}

//! Computed rules only (no yearly schedules), default hours and weekend.
inline std::shared_ptr<const WorkingCalendar> defaultCalendar() {
  static const std::shared_ptr<const WorkingCalendar> cal =
      std::make_shared<const WorkingCalendar>(WorkingCalendar::create({}).value());
  return cal;
}

}  // namespace ioc::calendar::testing
