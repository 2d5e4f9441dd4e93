#include "incidents/incident.h"

#include <algorithm>

#include "core/clock.h"

namespace ioc::incidents {

using json = ioc::Json;

namespace {
constexpr Status kStatuses[] = {Status::kNew,      Status::kAssigned, Status::kInProgress,
                                Status::kResolved, Status::kClosed,   Status::kCancelled};
constexpr Priority kPriorities[] = {Priority::kCritical, Priority::kHigh, Priority::kMedium,
                                    Priority::kLow};

json timeJson(int64_t ms) {
  return ms > 0 ? json(core::formatRfc3339(ms)) : json(nullptr);
}
json textOrNull(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}
std::string textOf(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
}  // namespace

const char* statusName(Status s) {
  switch (s) {
    case Status::kNew:
      return "new";
    case Status::kAssigned:
      return "assigned";
    case Status::kInProgress:
      return "in_progress";
    case Status::kResolved:
      return "resolved";
    case Status::kClosed:
      return "closed";
    case Status::kCancelled:
      return "cancelled";
  }
  return "new";
}

std::optional<Status> parseStatus(std::string_view name) {
  for (Status s : kStatuses) {
    if (name == statusName(s)) return s;
  }
  return std::nullopt;
}

bool isOpen(Status s) {
  return s == Status::kNew || s == Status::kAssigned || s == Status::kInProgress;
}

bool canTransition(Status from, Status to) {
  switch (from) {
    case Status::kNew:
      return to == Status::kAssigned || to == Status::kResolved || to == Status::kCancelled;
    case Status::kAssigned:
      return to == Status::kAssigned || to == Status::kInProgress || to == Status::kNew ||
             to == Status::kResolved || to == Status::kCancelled;
    case Status::kInProgress:
      return to == Status::kAssigned || to == Status::kNew || to == Status::kResolved ||
             to == Status::kCancelled;
    case Status::kResolved:
      return to == Status::kClosed;
    case Status::kClosed:
    case Status::kCancelled:
      return false;
  }
  return false;
}

const char* priorityName(Priority p) {
  switch (p) {
    case Priority::kCritical:
      return "critical";
    case Priority::kHigh:
      return "high";
    case Priority::kMedium:
      return "medium";
    case Priority::kLow:
      return "low";
  }
  return "medium";
}

std::optional<Priority> parsePriority(std::string_view name) {
  for (Priority p : kPriorities) {
    if (name == priorityName(p)) return p;
  }
  return std::nullopt;
}

const std::vector<std::string>& categories() {
  static const std::vector<std::string> kAll = {
      "fire",    "traffic_accident",  "flooding",        "crime",
      "medical", "infrastructure",    "environment",     "public_order",
      "other",   "traffic_violation", "illegal_parking", "sidewalk_encroachment",
      "crowd",   "littering"};
  return kAll;
}

bool isKnownCategory(std::string_view name) {
  const auto& all = categories();
  return std::find(all.begin(), all.end(), name) != all.end();
}

bool isKnownSourceKind(std::string_view kind) {
  return kind == "alert" || kind == "hotline" || kind == "camera" || kind == "citizen_report" ||
         kind == "manual";
}

std::string maskPhone(std::string_view number) {
  std::string s(number);
  if (s.size() <= 4) return std::string(s.size(), '*');
  const size_t keep_head = s.size() >= 8 ? 4 : 1;
  const size_t keep_tail = s.size() >= 8 ? 3 : 1;
  for (size_t i = keep_head; i + keep_tail < s.size(); ++i) s[i] = '*';
  return s;
}

json toJson(const Incident& inc, bool with_timeline) {
  json j = {{"id", inc.id},
            {"title", inc.title},
            {"description", inc.description},
            {"category", inc.category},
            {"priority", priorityName(inc.priority)},
            {"status", statusName(inc.status)},
            {"source", {{"kind", inc.source_kind}, {"ref", textOrNull(inc.source_ref)}}},
            {"address", textOrNull(inc.address)},
            {"ward_code", textOrNull(inc.ward_code)},
            {"unit_code", textOrNull(inc.unit_code)},
            {"agency", textOrNull(inc.agency)},
            {"assignee", textOrNull(inc.assignee)},
            {"resolution", textOrNull(inc.resolution)},
            {"created_by", inc.created_by},
            {"created_at", timeJson(inc.created_ms)},
            {"created_at_ms", inc.created_ms},
            {"updated_at", timeJson(inc.updated_ms)},
            {"updated_at_ms", inc.updated_ms},
            {"resolved_at", timeJson(inc.resolved_ms)},
            {"resolved_at_ms", inc.resolved_ms},
            {"closed_at", timeJson(inc.closed_ms)},
            {"closed_at_ms", inc.closed_ms}};
  for (const auto& [k, v] : inc.source.items()) j["source"][k] = v;
  j["location"] =
      inc.location ? json{{"lon", inc.location->lon}, {"lat", inc.location->lat}} : json(nullptr);
  if (inc.sla) {
    const Sla& s = *inc.sla;
    j["sla"] = {{"policy", s.policy},
                {"opened_at_ms", s.opened_ms},
                {"due_at", timeJson(s.due_ms)},
                {"due_at_ms", s.due_ms},
                {"state", s.state},
                {"reminders_sent", s.reminders_sent},
                {"escalation_level", s.escalation_level},
                {"escalated_to", textOrNull(s.escalated_to)},
                {"auto_escalated", s.auto_escalated}};
  } else {
    j["sla"] = nullptr;
  }
  j["sop"] = inc.sop ? toJson(*inc.sop) : json(nullptr);
  json atts = json::array();
  for (size_t i = 0; i < inc.attachments.size(); ++i) {
    const auto& a = inc.attachments[i];
    atts.push_back({{"n", i + 1},
                    {"name", a.name},
                    {"content_type", a.content_type},
                    {"bytes", a.bytes},
                    {"source", a.source},
                    {"at_ms", a.at_ms},
                    {"at", timeJson(a.at_ms)}});
  }
  j["attachments"] = std::move(atts);
  if (with_timeline) {
    json tl = json::array();
    for (const auto& e : inc.timeline) {
      tl.push_back({{"at", timeJson(e.at_ms)},
                    {"at_ms", e.at_ms},
                    {"type", e.type},
                    {"actor", e.actor},
                    {"role", e.role},
                    {"text", e.text},
                    {"data", e.data}});
    }
    j["timeline"] = std::move(tl);
  }
  return j;
}

core::Result<Incident> incidentFromJson(const json& j) {
  if (!j.is_object() || !j.contains("id")) {
    return core::makeError(core::Errc::kMalformedInput, "incident document without an id");
  }
  Incident inc;
  inc.id = textOf(j, "id");
  inc.title = textOf(j, "title");
  inc.description = textOf(j, "description");
  inc.category = textOf(j, "category");
  auto p = parsePriority(textOf(j, "priority"));
  auto s = parseStatus(textOf(j, "status"));
  if (!p || !s) return core::makeError(core::Errc::kMalformedInput, "bad priority or status");
  inc.priority = *p;
  inc.status = *s;
  json src = j.value("source", json::object());
  inc.source_kind = textOf(src, "kind");
  inc.source_ref = textOf(src, "ref");
  src.erase("kind");
  src.erase("ref");
  inc.source = src;
  if (j.contains("location") && j["location"].is_object()) {
    inc.location = Location{j["location"].value("lon", 0.0), j["location"].value("lat", 0.0)};
  }
  inc.address = textOf(j, "address");
  inc.ward_code = textOf(j, "ward_code");
  inc.unit_code = textOf(j, "unit_code");
  inc.agency = textOf(j, "agency");
  inc.assignee = textOf(j, "assignee");
  inc.resolution = textOf(j, "resolution");
  inc.created_by = textOf(j, "created_by");
  inc.created_ms = j.value("created_at_ms", int64_t{0});
  inc.updated_ms = j.value("updated_at_ms", int64_t{0});
  inc.resolved_ms = j.value("resolved_at_ms", int64_t{0});
  inc.closed_ms = j.value("closed_at_ms", int64_t{0});
  if (j.contains("sla") && j["sla"].is_object()) {
    const json& sj = j["sla"];
    Sla sla;
    sla.policy = sj.value("policy", json::object());
    sla.opened_ms = sj.value("opened_at_ms", int64_t{0});
    sla.due_ms = sj.value("due_at_ms", int64_t{0});
    sla.state = sj.value("state", "on_time");
    sla.reminders_sent = sj.value("reminders_sent", 0);
    sla.escalation_level = sj.value("escalation_level", 0);
    sla.escalated_to = textOf(sj, "escalated_to");
    sla.auto_escalated = sj.value("auto_escalated", false);
    inc.sla = std::move(sla);
  }
  if (j.contains("sop") && j["sop"].is_object()) {
    auto run = sopRunFromJson(j["sop"]);
    if (!run.ok()) return run.error();
    inc.sop = std::move(*run);
  }
  for (const auto& a : j.value("attachments", json::array())) {
    inc.attachments.push_back(Attachment{a.value("name", ""), a.value("content_type", ""),
                                         a.value("bytes", int64_t{0}), a.value("at_ms", int64_t{0}),
                                         a.value("source", "")});
  }
  for (const auto& e : j.value("timeline", json::array())) {
    inc.timeline.push_back(TimelineEntry{e.value("at_ms", int64_t{0}), e.value("type", ""),
                                         e.value("actor", ""), e.value("role", ""),
                                         e.value("text", ""), e.value("data", json::object())});
  }
  return inc;
}

}  // namespace ioc::incidents
