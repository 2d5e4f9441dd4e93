#pragma once
// Standard operating procedures: versioned templates per incident category, and the run of one
// template on one incident (which steps are done, by whom, with what data).
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::incidents {

//! One input of a form step: text, number, boolean or select (one of `options`).
struct FormField {
  std::string name;
  std::string type = "text";
  bool required = true;
  std::vector<std::string> options;
};

struct SopStep {
  std::string title;
  std::string kind = "manual";  //!< manual | notify | checklist | form
  std::string role;             //!< who completes it (a role name); "" = anyone who manages
  std::string agency;           //!< the agency it concerns (notify steps), informative
  bool mandatory = true;
  std::vector<FormField> fields;       //!< form steps
  std::vector<std::string> checklist;  //!< checklist steps: items that must all be ticked
};

struct SopTemplate {
  std::string id;  //!< [a-z0-9_-]{1,64}
  int version = 1;
  std::string category;
  std::string title;
  bool active = true;
  std::vector<SopStep> steps;
  int64_t created_ms = 0;
  std::string created_by;
};

//! {"id"?, "category", "title", "active"?, "steps": [{"title","kind","role"?,"agency"?,
//! "mandatory"?, "fields"?: [{"name","type","required"?,"options"?}], "checklist"?: [..]}]}.
//! Unknown members and categories are kInvalidArgument (via `known_category`).
core::Result<SopTemplate> parseSopTemplate(const ioc::Json& body,
                                           bool (*known_category)(std::string_view));
ioc::Json toJson(const SopTemplate& t);
bool isValidTemplateId(std::string_view id);

struct SopStepRun {
  SopStep step;
  bool done = false;
  std::string completed_by;
  std::string completed_role;
  int64_t completed_ms = 0;
  ioc::Json data;  //!< form values or checked items; null when none
  std::string note;
};

struct SopRun {
  std::string template_id;
  int version = 0;
  std::string title;
  std::vector<SopStepRun> steps;

  size_t done() const;
  size_t mandatoryOpen() const;
};

SopRun launchSop(const SopTemplate& t);
ioc::Json toJson(const SopRun& run);
core::Result<SopRun> sopRunFromJson(const ioc::Json& j);

//! Checks what a completion carries: a form's values ({"field": value}, required present, types
//! and options respected, nothing unknown) or a checklist's ticked items ({"checked": [..]} with
//! every item). Manual and notify steps accept any object or null.
core::Status validateStepData(const SopStep& step, const ioc::Json& data);

}  // namespace ioc::incidents
