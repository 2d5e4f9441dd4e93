#pragma once
// The categories citizens choose from (the Open311 service list), loaded from
// data/reports/services.json: names in Vietnamese and English, the group, the SLA tier, the
// incident category a report maps to, per-category questions (Open311 attributes), and for
// matters the city does not handle, where to go instead.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::reports {

//! One Open311 service definition attribute (a question asked on submission).
struct Question {
  std::string code;
  std::string datatype;  //!< string | number | datetime | text | singlevaluelist | multivaluelist
  bool variable = true;  //!< false: informational only
  bool required = false;
  std::string description;  //!< the question, in Vietnamese
  std::string description_en;
  int order = 0;
  std::vector<std::pair<std::string, std::string>> values;  //!< key, name (lists only)
};

struct Service {
  std::string code;
  std::string name, name_en;
  std::string description, description_en;
  std::string group;  //!< urban_order, traffic, environment, sanitation, infrastructure, …
  std::vector<std::string> keywords;
  std::string sla_tier;               //!< urgent | simple | complex
  std::string incident_category;      //!< incidents::categories() entry used on escalation
  bool handled = true;                //!< false: the city does not take these reports
  std::string redirect, redirect_en;  //!< where to go instead (handled = false)
  std::string hotline;                //!< for emergencies of this kind (113, 114, 115)
  std::vector<Question> questions;
};

struct SlaTier {
  std::string name;
  int working_days = 0;
};

class Catalog {
 public:
  static core::Result<Catalog> loadFile(const std::string& path);
  static core::Result<Catalog> fromJson(const ioc::Json& j);

  const std::vector<Service>& services() const { return services_; }
  const Service* find(std::string_view code) const;
  //! Working days allowed for a tier (urgent 1, simple 3, complex 10 by default).
  int workingDays(std::string_view tier) const;
  const std::vector<SlaTier>& tiers() const { return tiers_; }
  const std::string& jurisdiction() const { return jurisdiction_; }

  //! Checks a submission's answers against the questions: required ones present, numbers are
  //! numbers, list answers among the keys. Returns the cleaned answers (strings and numbers).
  //! `require` = false for historical records, which predate the questions.
  core::Result<ioc::Json> validateAnswers(const Service& s, const ioc::Json& answers,
                                          bool require = true) const;

 private:
  std::vector<Service> services_;
  std::vector<SlaTier> tiers_;
  std::string jurisdiction_;
};

}  // namespace ioc::reports
