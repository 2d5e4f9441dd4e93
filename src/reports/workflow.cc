// The agencies' side of ReportService: workflow actions, moderation, evidence and indicators.
#include <filesystem>

#include "reports/service.h"

namespace ioc::reports {
namespace {

namespace fs = std::filesystem;
using json = ioc::Json;

constexpr size_t kMaxText = 4000;

core::Status bad(std::string message) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(message));
}
core::Status conflict(std::string message) {
  return core::makeError(core::Errc::kConflict, std::move(message));
}

std::string text(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Staff text goes on the public page too: same rules as the citizens'.
core::Status checkText(const std::string& s, const char* field) {
  if (s.size() > kMaxText) return bad(std::string(field) + " is too long");
  if (hasMarkup(s)) return bad(std::string(field) + " must be plain text, without HTML or scripts");
  return core::Status::success();
}

}  // namespace

core::Result<json> ReportService::act(const std::string& id, const std::string& action,
                                      const json& body_in, const Caller& who) {
  const json body = body_in.is_object() ? body_in : json::object();
  for (const char* field : {"note", "reason", "answer", "text", "description"}) {
    if (auto st = checkText(text(body, field), field); !st.ok()) return st.error();
  }
  const std::string note = text(body, "note");
  const std::string actor = who.actor.name;
  const int64_t now = clock_.nowUnixMs();

  if (action == "merge") {
    const std::string into = text(body, "into");
    if (into.empty() || into == id) return bad("merge needs \"into\": another report's id").error();
    std::vector<int64_t> people;
    auto merged = mutate(
        id, "merge", who.actor,
        [&](Report& r, json& detail, std::string&) {
          if (!isOpen(r.status)) return conflict("only an open report can be merged");
          if (!findPublic(into))
            return core::Status(core::makeError(core::Errc::kNotFound, "no report " + into));
          people = r.followers;
          if (r.reporter.user_id) people.push_back(r.reporter.user_id);
          r.status = Status::kResolved;
          r.resolution = Resolution::kDuplicate;
          r.duplicate_of = into;
          r.resolved_ms = now;
          if (!r.first_resolved_ms) r.first_resolved_ms = now;
          addUpdate(r, "resolved", "Trùng với phản ánh " + into, actor);
          detail = {{"into", into}};
          return core::Status::success();
        },
        &who);
    if (!merged.ok()) return merged;
    (void)mutate(
        into, "merged", who.actor,
        [&](Report& r, json& detail, std::string&) {
          for (int64_t p : people) {
            if (std::find(r.followers.begin(), r.followers.end(), p) == r.followers.end())
              r.followers.push_back(p);
          }
          addUpdate(r, "merged", "Đã gộp phản ánh " + id, actor, false);
          detail = {{"from", id}};
          return core::Status::success();
        },
        &who);
    return merged;
  }

  auto fn = [&](Report& r, json& detail, std::string& event) -> core::Status {
    detail = body;
    if (action == "triage") {
      if (r.status != Status::kNew) return conflict("only a new report can be triaged");
      if (auto code = text(body, "service_code"); !code.empty() && code != r.service_code) {
        const Service* svc = catalog_.find(code);
        if (!svc || !svc->handled) return bad("unknown service_code " + code);
        r.service_code = code;
      }
      if (body.contains("emergency") && body["emergency"].is_boolean())
        r.emergency = body["emergency"];
      r.status = Status::kTriaged;
      addUpdate(r, "triaged", "Đã tiếp nhận, đang xác minh", actor);
      if (!note.empty()) addUpdate(r, "note", note, actor, false);
      return core::Status::success();
    }
    if (action == "assign" || action == "reassign") {
      const std::string agency = text(body, "agency").empty() ? r.agency : text(body, "agency");
      if (agency.empty() || agency.size() > 200) return bad("agency is required");
      if (action == "assign" && r.status != Status::kNew && r.status != Status::kTriaged) {
        return conflict("assign works on new or triaged reports; use reassign");
      }
      if (action == "reassign") {
        if (r.status != Status::kAssigned && r.status != Status::kInProgress) {
          return conflict("only an assigned report can be reassigned");
        }
        if (text(body, "reason").empty()) return bad("reassign needs a reason");
      }
      const std::string from = r.agency;
      r.agency = agency;
      r.status = Status::kAssigned;
      addUpdate(r, action == "assign" ? "assigned" : "reassigned", "Chuyển đến " + agency, actor);
      if (action == "reassign")
        addUpdate(r, "note", "từ " + from + ": " + text(body, "reason"), actor, false);
      detail["from"] = from;
      return core::Status::success();
    }
    if (action == "start") {
      if (r.status != Status::kAssigned) return conflict("only an assigned report can be started");
      r.status = Status::kInProgress;
      addUpdate(r, "started", note.empty() ? "Đơn vị đang xử lý" : note, actor);
      return core::Status::success();
    }
    if (action == "resolve") {
      auto resolution = parseResolution(text(body, "resolution"));
      if (!resolution || *resolution == Resolution::kNone) {
        return bad("resolution must be fixed, not_fixed, not_responsible or duplicate");
      }
      const std::string answer = text(body, "answer");
      if (answer.empty()) return bad("answer (the public reply to the citizen) is required");
      if ((*resolution == Resolution::kNotFixed || *resolution == Resolution::kNotResponsible) &&
          text(body, "reason").empty()) {
        return bad("a reason is required for not_fixed and not_responsible");
      }
      if (*resolution == Resolution::kDuplicate) {
        const std::string of = text(body, "duplicate_of");
        if (of.empty() || of == r.id || !findPublic(of))
          return bad("duplicate_of must name another report");
        r.duplicate_of = of;
      }
      if (!isOpen(r.status)) return conflict("the report is already resolved");
      if (r.status == Status::kNew && *resolution == Resolution::kFixed) {
        return conflict("assign the report before resolving it as fixed");
      }
      r.status = Status::kResolved;
      r.resolution = *resolution;
      r.resolution_reason = text(body, "reason");
      r.agency_answer = answer;
      r.resolved_ms = now;
      if (!r.first_resolved_ms) r.first_resolved_ms = now;
      addUpdate(r, "resolved", answer, actor);
      for (size_t i = 0; i < r.photos.size(); ++i) {  // the agency's evidence goes with it
        if (r.photos[i].source == "agency" && !r.photos[i].redacted)
          r.updates.back().photos.push_back(i + 1);
      }
      return core::Status::success();
    }
    if (action == "close") {
      if (r.status != Status::kResolved) return conflict("only a resolved report can be closed");
      r.status = Status::kClosed;
      r.closed_ms = now;
      addUpdate(r, "closed", note, actor);
      return core::Status::success();
    }
    if (action == "reopen") {
      if (isOpen(r.status)) return conflict("the report is open");
      if (text(body, "reason").empty()) return bad("reopen needs a reason");
      r.status = r.agency.empty() ? Status::kNew : Status::kAssigned;
      r.resolution = Resolution::kNone;
      r.resolved_ms = r.closed_ms = 0;
      r.reopen_count += 1;
      r.due_ms = dueFrom(now, r.sla_days);
      addUpdate(r, "reopened", text(body, "reason"), actor);
      return core::Status::success();
    }
    if (action == "comment") {
      const std::string t = text(body, "text");
      if (t.empty()) return bad("text is required");
      const bool pub = body.value("public", false);
      addUpdate(r, "comment", t, actor, pub);
      if (!pub) event.clear();
      return core::Status::success();
    }
    if (action == "link-incident") {
      const std::string incident = text(body, "incident_id");
      if (incident.empty()) return bad("incident_id is required");
      r.incident_id = incident;
      addUpdate(r, "incident_linked", incident, actor, false);
      event.clear();
      return core::Status::success();
    }
    return core::makeError(core::Errc::kNotFound, "unknown action " + action);
  };
  return mutate(id, action, who.actor, fn, &who);
}

core::Result<json> ReportService::moderate(const std::string& id, const std::string& action,
                                           const json& body_in, const Caller& who) {
  const json body = body_in.is_object() ? body_in : json::object();
  const std::string reason = text(body, "reason");
  if (reason.empty()) return bad("moderation needs a reason").error();
  if (auto st = checkText(reason, "reason"); !st.ok()) return st.error();
  std::string removed_photo;
  auto result = mutate(
      id, "moderate." + action, who.actor,
      [&](Report& r, json& detail, std::string& event) {
        detail = body;
        event.clear();
        if (action == "hide" || action == "unhide") {
          r.hidden = action == "hide";
        } else if (action == "edit") {
          const std::string d = text(body, "description");
          if (d.empty()) return bad("description is required");
          if (auto st = checkText(d, "description"); !st.ok()) return st;
          detail["before"] = r.description;
          r.description = d;
        } else if (action == "redact-photo") {
          if (!body.contains("n") || !body["n"].is_number_integer())
            return bad("n (the photo number) is required");
          const int64_t n = body["n"].get<int64_t>();
          if (n <= 0 || static_cast<size_t>(n) > r.photos.size())
            return core::Status(core::makeError(core::Errc::kNotFound, "no such photo"));
          r.photos[n - 1].redacted = true;
          removed_photo = r.photos[n - 1].name;
        } else {
          return core::Status(
              core::makeError(core::Errc::kNotFound, "unknown moderation action " + action));
        }
        addUpdate(r, "moderated", action + ": " + reason, who.actor.name, false);
        return core::Status::success();
      },
      &who);
  if (result.ok() && !removed_photo.empty()) {
    // The redaction is durable first; then the bytes go, so nothing can serve them again.
    std::error_code ec;
    fs::remove(fs::path(options_.photo_dir) / id / removed_photo, ec);
  }
  return result;
}

core::Result<json> ReportService::addEvidence(const std::string& id, Upload photo,
                                              const Caller& who) {
  std::optional<Photo> saved;
  auto result = mutate(
      id, "evidence", who.actor,
      [&](Report& r, json& detail, std::string& event) {
        if (r.photos.size() >= options_.max_photos * 2)
          return bad("too many photos on this report");
        auto p = savePhoto(r, r.photos.size() + 1, photo, false, "agency");
        if (!p.ok()) return core::Status(p.error());
        saved = *p;
        r.photos.push_back(std::move(*p));
        addUpdate(r, "evidence", "", who.actor.name);
        r.updates.back().photos.push_back(r.photos.size());
        detail = {{"photo", r.photos.size()}};
        event.clear();
        return core::Status::success();
      },
      &who);
  if (!result.ok() && saved) {
    std::error_code ec;
    fs::remove(fs::path(options_.photo_dir) / id / saved->name, ec);
  }
  return result;
}

json ReportService::kpis(const KpiQuery& q, const Caller& who) const {
  KpiIndex::Query kq;
  kq.from_ms = q.from_ms;
  kq.to_ms = q.to_ms;
  kq.group_by = q.group_by;
  const std::string scope = !q.unit.empty() ? q.unit : who.unit_code;
  if (!scope.empty() || !who.unit_code.empty()) {
    kq.in_scope = [this, scope, mine = who.unit_code](std::string_view unit) {
      if (unit.empty()) return false;
      const std::string u(unit);
      return units_.isWithin(u, scope) && (mine.empty() || units_.isWithin(u, mine));
    };
  }
  std::shared_lock lock(mu_);
  json out = kpi_.query(kq, clock_.nowUnixMs());
  out["from"] = q.from_ms ? json(core::formatRfc3339(q.from_ms)) : json(nullptr);
  out["to"] = q.to_ms ? json(core::formatRfc3339(q.to_ms)) : json(nullptr);
  out["unit"] = scope;
  return out;
}

}  // namespace ioc::reports
