#pragma once
// Incidents (sự vụ): what the operations centre dispatches and follows up. The types here are
// plain data with their JSON forms; rules that need state (routing, SLA clocks, SOP runs, unit
// scoping) live in IncidentService.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "incidents/sop.h"

namespace ioc::incidents {

//! new → assigned → in_progress → resolved → closed; any open state → cancelled.
enum class Status { kNew, kAssigned, kInProgress, kResolved, kClosed, kCancelled };
const char* statusName(Status s);
std::optional<Status> parseStatus(std::string_view name);
//! Not resolved, closed or cancelled: the SLA clock runs and the SOP can be worked.
bool isOpen(Status s);
//! The lifecycle's allowed moves (assigned → assigned is a reassignment).
bool canTransition(Status from, Status to);

enum class Priority { kCritical, kHigh, kMedium, kLow };
const char* priorityName(Priority p);
std::optional<Priority> parsePriority(std::string_view name);

//! fire, traffic_accident, flooding, crime, medical, infrastructure, environment, public_order,
//! other and the camera categories (traffic_violation, illegal_parking, sidewalk_encroachment,
//! crowd, littering).
const std::vector<std::string>& categories();
bool isKnownCategory(std::string_view name);

//! alert, hotline, camera, citizen_report, manual.
bool isKnownSourceKind(std::string_view kind);

struct Location {
  double lon = 0;
  double lat = 0;
};

//! One line of the incident's history: who did what, when.
struct TimelineEntry {
  int64_t at_ms = 0;
  std::string type;  //!< created, routed, sop_launched, assigned, reassigned, referred, …
  std::string actor;
  std::string role;
  std::string text;  //!< human-readable summary (a reason, a comment)
  ioc::Json data = ioc::Json::object();
};

struct Sla {
  ioc::Json policy;               //!< the SlaPolicy document it was opened with
  int64_t opened_ms = 0;          //!< when the clock started
  int64_t due_ms = 0;             //!< deadline on the working-day calendar
  std::string state = "on_time";  //!< on_time | due_soon | overdue
  int reminders_sent = 0;
  int escalation_level = 0;  //!< 0 = the incident's own unit; each level is one unit up
  std::string escalated_to;  //!< unit code it was last escalated to
  bool auto_escalated = false;
};

struct Attachment {
  std::string name;  //!< file name under the incident's attachment directory
  std::string content_type;
  int64_t bytes = 0;
  int64_t at_ms = 0;
  std::string source;  //!< e.g. "camera"
};

struct Incident {
  std::string id;  //!< INC-YYYYMMDD-NNNN (local date)
  std::string title;
  std::string description;
  std::string category;
  Priority priority = Priority::kMedium;
  Status status = Status::kNew;
  std::string source_kind;                 //!< alert | hotline | camera | citizen_report | manual
  std::string source_ref;                  //!< alert id, call id, camera id, report id
  ioc::Json source = ioc::Json::object();  //!< source-specific details
  std::optional<Location> location;
  std::string address;
  std::string ward_code;
  std::string unit_code;
  std::string agency;
  std::string assignee;
  std::string resolution;
  std::string created_by;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t resolved_ms = 0;
  int64_t closed_ms = 0;
  std::optional<Sla> sla;
  std::optional<SopRun> sop;
  std::vector<TimelineEntry> timeline;
  std::vector<Attachment> attachments;
};

//! The stored and served form (times both as *_ms and RFC 3339).
ioc::Json toJson(const Incident& inc, bool with_timeline = true);
core::Result<Incident> incidentFromJson(const ioc::Json& j);

//! "0905123456" → "0905***456": enough to recognise a repeat caller, not to call back.
std::string maskPhone(std::string_view number);

}  // namespace ioc::incidents
