#include "reports/report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace ioc::reports {
namespace {

using json = ioc::Json;

constexpr std::array<std::pair<Status, const char*>, 6> kStatuses = {{
    {Status::kNew, "new"},
    {Status::kTriaged, "triaged"},
    {Status::kAssigned, "assigned"},
    {Status::kInProgress, "in_progress"},
    {Status::kResolved, "resolved"},
    {Status::kClosed, "closed"},
}};

constexpr std::array<std::pair<Resolution, const char*>, 5> kResolutions = {{
    {Resolution::kNone, ""},
    {Resolution::kFixed, "fixed"},
    {Resolution::kNotFixed, "not_fixed"},
    {Resolution::kNotResponsible, "not_responsible"},
    {Resolution::kDuplicate, "duplicate"},
}};

const char* resolvedStatus(Resolution r) {
  switch (r) {
    case Resolution::kFixed:
      return "FIXED";
    case Resolution::kNotFixed:
      return "NO_FURTHER_ACTION";
    case Resolution::kNotResponsible:
      return "NOT_COUNCILS_RESPONSIBILITY";
    case Resolution::kDuplicate:
      return "DUPLICATE";
    case Resolution::kNone:
      break;
  }
  return "CLOSED";
}

const char* openStatus(Status s) {
  switch (s) {
    case Status::kNew:
      return "OPEN";
    case Status::kTriaged:
      return "INVESTIGATING";
    case Status::kAssigned:
      return "ACTION_SCHEDULED";
    case Status::kInProgress:
      return "IN_PROGRESS";
    default:
      return "CLOSED";
  }
}

template <typename T>
T get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

json photoJson(const Photo& p) {
  return {{"name", p.name},     {"content_type", p.content_type},
          {"bytes", p.bytes},   {"at_ms", p.at_ms},
          {"source", p.source}, {"redacted", p.redacted}};
}

json updateJson(const Update& u) {
  return {{"seq", u.seq},
          {"at_ms", u.at_ms},
          {"kind", u.kind},
          {"text", u.text},
          {"status", statusName(u.status)},
          {"actor", u.actor},
          {"public", u.is_public},
          {"photos", u.photos}};
}

}  // namespace

const char* statusName(Status s) {
  for (const auto& [v, name] : kStatuses) {
    if (v == s) return name;
  }
  return "new";
}

std::optional<Status> parseStatus(std::string_view name) {
  for (const auto& [v, n] : kStatuses) {
    if (name == n) return v;
  }
  return std::nullopt;
}

bool isOpen(Status s) {
  return s != Status::kResolved && s != Status::kClosed;
}

const char* resolutionName(Resolution r) {
  for (const auto& [v, name] : kResolutions) {
    if (v == r) return name;
  }
  return "";
}

std::optional<Resolution> parseResolution(std::string_view name) {
  for (const auto& [v, n] : kResolutions) {
    if (!name.empty() && name == n) return v;
  }
  return std::nullopt;
}

bool hasMarkup(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i + 1]);
    if (s[i] == '<' && (std::isalpha(c) || c == '/' || c == '!')) return true;
  }
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return lower.find("javascript:") != std::string::npos;
}

const char* open311Status(const Report& r) {
  return isOpen(r.status) ? "open" : "closed";
}

const char* extendedStatus(const Report& r) {
  if (isOpen(r.status)) {
    return r.reopen_count > 0 && r.status != Status::kInProgress ? "REOPENED"
                                                                 : openStatus(r.status);
  }
  return resolvedStatus(r.resolution);
}

const char* extendedStatus(const Update& u, Resolution resolution_then) {
  if (u.kind == "reopened") return "REOPENED";
  return isOpen(u.status) ? openStatus(u.status) : resolvedStatus(resolution_then);
}

bool isOverdue(const Report& r, int64_t now_ms) {
  return isOpen(r.status) && r.due_ms > 0 && now_ms > r.due_ms;
}

std::optional<bool> resolvedOnTime(const Report& r) {
  if (r.first_resolved_ms == 0 || r.due_ms == 0) return std::nullopt;
  return r.first_resolved_ms <= r.due_ms;
}

json toStoredJson(const Report& r) {
  json photos = json::array(), updates = json::array();
  for (const auto& p : r.photos) photos.push_back(photoJson(p));
  for (const auto& u : r.updates) updates.push_back(updateJson(u));
  json j = {{"id", r.id},
            {"code", r.code},
            {"token", r.token},
            {"number", r.number},
            {"service_code", r.service_code},
            {"description", r.description},
            {"address", r.address},
            {"ward_code", r.ward_code},
            {"unit_code", r.unit_code},
            {"attributes", r.attributes},
            {"emergency", r.emergency},
            {"channel", r.channel},
            {"status", statusName(r.status)},
            {"resolution", resolutionName(r.resolution)},
            {"resolution_reason", r.resolution_reason},
            {"agency", r.agency},
            {"agency_answer", r.agency_answer},
            {"duplicate_of", r.duplicate_of},
            {"incident_id", r.incident_id},
            {"hidden", r.hidden},
            {"created_ms", r.created_ms},
            {"updated_ms", r.updated_ms},
            {"due_ms", r.due_ms},
            {"sla_days", r.sla_days},
            {"resolved_ms", r.resolved_ms},
            {"closed_ms", r.closed_ms},
            {"first_resolved_ms", r.first_resolved_ms},
            {"rating", r.rating},
            {"reopen_count", r.reopen_count},
            {"followers", r.followers},
            {"reporter",
             {{"user_id", r.reporter.user_id},
              {"name", r.reporter.name},
              {"phone", r.reporter.phone},
              {"email", r.reporter.email},
              {"ip", r.reporter.ip}}},
            {"photos", std::move(photos)},
            {"updates", std::move(updates)}};
  if (r.lat && r.lon) j["location"] = {*r.lon, *r.lat};
  if (r.really_fixed) j["really_fixed"] = *r.really_fixed;
  return j;
}

core::Result<Report> reportFromStoredJson(const json& j) {
  try {
    Report r;
    r.id = j.at("id").get<std::string>();
    r.code = j.at("code").get<std::string>();
    r.token = get<std::string>(j, "token", "");
    r.number = get<int64_t>(j, "number", 0);
    r.service_code = j.at("service_code").get<std::string>();
    r.description = get<std::string>(j, "description", "");
    r.address = get<std::string>(j, "address", "");
    r.ward_code = get<std::string>(j, "ward_code", "");
    r.unit_code = get<std::string>(j, "unit_code", "");
    r.attributes = j.value("attributes", json::object());
    r.emergency = get<bool>(j, "emergency", false);
    r.channel = get<std::string>(j, "channel", "web");
    auto status = parseStatus(j.at("status").get<std::string>());
    if (!status) return core::makeError(core::Errc::kMalformedInput, "bad status");
    r.status = *status;
    r.resolution =
        parseResolution(get<std::string>(j, "resolution", "")).value_or(Resolution::kNone);
    r.resolution_reason = get<std::string>(j, "resolution_reason", "");
    r.agency = get<std::string>(j, "agency", "");
    r.agency_answer = get<std::string>(j, "agency_answer", "");
    r.duplicate_of = get<std::string>(j, "duplicate_of", "");
    r.incident_id = get<std::string>(j, "incident_id", "");
    r.hidden = get<bool>(j, "hidden", false);
    r.created_ms = get<int64_t>(j, "created_ms", 0);
    r.updated_ms = get<int64_t>(j, "updated_ms", 0);
    r.due_ms = get<int64_t>(j, "due_ms", 0);
    r.sla_days = get<int>(j, "sla_days", 0);
    r.resolved_ms = get<int64_t>(j, "resolved_ms", 0);
    r.closed_ms = get<int64_t>(j, "closed_ms", 0);
    r.first_resolved_ms = get<int64_t>(j, "first_resolved_ms", 0);
    r.rating = get<int>(j, "rating", 0);
    r.reopen_count = get<int>(j, "reopen_count", 0);
    r.followers = j.value("followers", std::vector<int64_t>{});
    if (auto f = j.find("really_fixed"); f != j.end() && f->is_boolean()) r.really_fixed = *f;
    if (auto loc = j.find("location"); loc != j.end() && loc->is_array() && loc->size() == 2) {
      r.lon = (*loc)[0].get<double>();
      r.lat = (*loc)[1].get<double>();
    }
    const json& rep = j.at("reporter");
    r.reporter = {get<int64_t>(rep, "user_id", 0), get<std::string>(rep, "name", ""),
                  get<std::string>(rep, "phone", ""), get<std::string>(rep, "email", ""),
                  get<std::string>(rep, "ip", "")};
    for (const auto& p : j.value("photos", json::array())) {
      r.photos.push_back(Photo{p.at("name"), p.at("content_type"), p.value("bytes", int64_t{0}),
                               p.value("at_ms", int64_t{0}), p.value("source", "citizen"),
                               p.value("redacted", false)});
    }
    for (const auto& u : j.value("updates", json::array())) {
      Update up;
      up.seq = u.at("seq");
      up.at_ms = u.at("at_ms");
      up.kind = u.at("kind");
      up.text = u.value("text", "");
      up.status = parseStatus(u.value("status", "new")).value_or(Status::kNew);
      up.actor = u.value("actor", "");
      up.is_public = u.value("public", true);
      up.photos = u.value("photos", std::vector<size_t>{});
      r.updates.push_back(std::move(up));
    }
    return r;
  } catch (const json::exception& e) {
    return core::makeError(core::Errc::kMalformedInput, std::string("stored report: ") + e.what());
  }
}

}  // namespace ioc::reports
