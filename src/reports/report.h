#pragma once
// Citizen field reports (phản ánh hiện trường): plain data with their stored JSON form. The
// workflow rules that need state (routing, SLA clocks, unit scoping, privacy) live in
// ReportService; the public mappings (Open311 status, FixMyStreet-style extended status) here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::reports {

//! new → triaged → assigned → in_progress → resolved → closed. A "not fixed" rating or a
//! staff reopen sends a resolved or closed report back to assigned (or new without an agency).
enum class Status { kNew, kTriaged, kAssigned, kInProgress, kResolved, kClosed };
const char* statusName(Status s);
std::optional<Status> parseStatus(std::string_view name);
bool isOpen(Status s);  //!< not resolved or closed: the SLA clock runs

//! How a report was resolved.
enum class Resolution { kNone, kFixed, kNotFixed, kNotResponsible, kDuplicate };
const char* resolutionName(Resolution r);
std::optional<Resolution> parseResolution(std::string_view name);

struct Photo {
  std::string name;  //!< file name under the report's directory
  std::string content_type;
  int64_t bytes = 0;
  int64_t at_ms = 0;
  std::string source = "citizen";  //!< citizen | agency (evidence of the fix)
  bool redacted = false;           //!< hidden by a moderator: never served again
};

//! One public or internal step of the report's history (Open311 servicerequestupdates).
struct Update {
  int64_t seq = 0;  //!< unique across all reports: the Open311 update_id
  int64_t at_ms = 0;
  std::string kind;  //!< submitted, triaged, assigned, started, resolved, closed, reopened, …
  Status status = Status::kNew;  //!< the report's status after this step
  std::string text;              //!< public text (answers, reasons); may be empty
  std::string actor;             //!< who (internal: never shown to the public)
  bool is_public = true;
  std::vector<size_t> photos;  //!< 1-based photo numbers attached to this step
};

//! Who reported. Hidden from agencies and the public; IOC staff with reports:identity only.
struct Reporter {
  int64_t user_id = 0;  //!< citizen account; 0 = anonymous
  std::string name, phone, email;
  std::string ip;
};

struct Report {
  std::string id;      //!< public id, also the Open311 service_request_id: "PA-YYMMDD-NNNNN"
  std::string code;    //!< tracking code given to the reporter (unguessable)
  std::string token;   //!< Open311 token (resolves to id)
  int64_t number = 0;  //!< dense sequence behind the id
  std::string service_code;
  std::string description;
  std::optional<double> lat, lon;
  std::string address;
  std::string ward_code;                       //!< from the ward polygons; "" outside them
  std::string unit_code;                       //!< ward, else the unit that received it
  ioc::Json attributes = ioc::Json::object();  //!< per-category extra answers
  bool emergency = false;
  std::string channel = "web";  //!< web | app | open311 | import
  Status status = Status::kNew;
  Resolution resolution = Resolution::kNone;
  std::string resolution_reason;
  std::string agency;
  std::string agency_answer;  //!< the public answer of the resolving agency
  std::string duplicate_of;
  std::string incident_id;
  bool hidden = false;  //!< moderation: not in public feeds or lists
  int64_t created_ms = 0, updated_ms = 0;
  int64_t due_ms = 0;  //!< SLA deadline on the working-day calendar; 0 = none
  int sla_days = 0;
  int64_t resolved_ms = 0, closed_ms = 0;
  int64_t first_resolved_ms = 0;
  int rating = 0;  //!< 1–5; 0 = not rated
  std::optional<bool> really_fixed;
  int reopen_count = 0;
  std::vector<int64_t> followers;  //!< citizen user ids
  Reporter reporter;
  std::vector<Photo> photos;
  std::vector<Update> updates;
};

//! Open311 core status: "open" until resolved, then "closed".
const char* open311Status(const Report& r);
//! FixMyStreet's extended statuses: OPEN, INVESTIGATING, ACTION_SCHEDULED, IN_PROGRESS, FIXED,
//! NO_FURTHER_ACTION, NOT_COUNCILS_RESPONSIBILITY, DUPLICATE, CLOSED, REOPENED.
const char* extendedStatus(const Report& r);
//! Same for one update: the status the report had after it.
const char* extendedStatus(const Update& u, Resolution resolution_then);

//! Overdue now: open, with a deadline that has passed.
bool isOverdue(const Report& r, int64_t now_ms);
//! Resolved (first time) by the deadline; nullopt if not resolved or without a deadline.
std::optional<bool> resolvedOnTime(const Report& r);

//! HTML tags or a javascript: URL. Text is shown on public pages and in other cities' apps, so
//! markup is refused rather than escaped away: what the citizen sees is what was stored.
bool hasMarkup(std::string_view s);

//! The stored form (everything, reporter included).
ioc::Json toStoredJson(const Report& r);
core::Result<Report> reportFromStoredJson(const ioc::Json& j);

}  // namespace ioc::reports
