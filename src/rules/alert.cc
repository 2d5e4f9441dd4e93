#include "rules/alert.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ioc::rules {
namespace {

using core::Errc;
using json = ioc::Json;

core::Error bad(std::string_view field, std::string_view problem) {
  return core::makeError(Errc::kInvalidArgument, std::string(field) + ": " + std::string(problem));
}

void addEvidence(Alert& a, const std::vector<Evidence>& items) {
  for (const Evidence& e : items) a.evidence.push_back(e);
  // Keep what opened the alert and the most recent items; drop the middle.
  if (a.evidence.size() > kMaxAlertEvidence) {
    const size_t excess = a.evidence.size() - kMaxAlertEvidence;
    a.evidence.erase(a.evidence.begin() + static_cast<ptrdiff_t>(kKeptFirstEvidence),
                     a.evidence.begin() + static_cast<ptrdiff_t>(kKeptFirstEvidence + excess));
  }
}

bool suppressed(const Signal& s) {
  if (!s.rule || s.kind == SignalKind::kClear) return false;
  return std::any_of(s.rule->suppress.begin(), s.rule->suppress.end(),
                     [&](const SuppressWindow& w) { return w.contains(s.time_ms); });
}

json timeJson(int64_t ms) {
  return core::formatRfc3339(ms);
}

core::Status readTime(const json& j, const char* key, bool required, int64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? core::Status(bad(key, "is required")) : core::Status::success();
  }
  if (!it->is_string()) return bad(key, "must be an RFC 3339 string");
  auto t = parseRfc3339(it->get<std::string>());
  if (!t.ok()) return bad(key, t.error().message);
  out = *t;
  return core::Status::success();
}

core::Status readString(const json& j, const char* key, bool required, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? core::Status(bad(key, "is required")) : core::Status::success();
  }
  if (!it->is_string()) return bad(key, "must be a string");
  out = it->get<std::string>();
  return core::Status::success();
}

template <typename E>
core::Status readEnum(const json& j, const char* key, std::optional<E> (*parse)(std::string_view),
                      E& out) {
  std::string s;
  if (auto st = readString(j, key, true, s); !st) return st;
  auto v = parse(s);
  if (!v) return bad(key, "unknown value \"" + s + "\"");
  out = *v;
  return core::Status::success();
}

}  // namespace

std::string_view toString(AlertStatus s) {
  switch (s) {
    case AlertStatus::kNew:
      return "new";
    case AlertStatus::kAcknowledged:
      return "acknowledged";
    case AlertStatus::kResolved:
      return "resolved";
    case AlertStatus::kClosed:
      return "closed";
  }
  return "?";
}

std::optional<AlertStatus> parseAlertStatus(std::string_view s) {
  for (AlertStatus v : {AlertStatus::kNew, AlertStatus::kAcknowledged, AlertStatus::kResolved,
                        AlertStatus::kClosed}) {
    if (toString(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view toString(ChangeType t) {
  switch (t) {
    case ChangeType::kOpened:
      return "opened";
    case ChangeType::kUpdated:
      return "updated";
    case ChangeType::kAcknowledged:
      return "acknowledged";
    case ChangeType::kResolved:
      return "resolved";
    case ChangeType::kClosed:
      return "closed";
    case ChangeType::kReopened:
      return "reopened";
  }
  return "?";
}

AlertBook::AlertBook(const core::Clock& clock, IdGenerator next_id)
    : clock_(&clock), next_id_(std::move(next_id)) {}

std::string AlertBook::openKey(const std::string& rule_id, const std::string& subject) {
  std::string k = rule_id;
  k += '\x1f';
  k += subject;
  return k;
}

std::vector<AlertChange> AlertBook::apply(const std::vector<Signal>& signals) {
  std::vector<AlertChange> out;
  for (const Signal& s : signals) {
    for (AlertChange& c : apply(s)) out.push_back(std::move(c));
  }
  return out;
}

std::vector<AlertChange> AlertBook::apply(const Signal& s) {
  std::vector<AlertChange> out;
  if (suppressed(s)) {
    ++suppressed_;
    return out;
  }
  const std::string key = openKey(s.rule_id, s.subject);
  auto open = open_.find(key);
  if (s.kind == SignalKind::kClear) {
    if (open == open_.end()) return out;
    Alert& a = alerts_.at(open->second);
    const AlertStatus from = a.status;
    a.status = AlertStatus::kResolved;
    a.resolved_by = "system";
    a.resolution = s.reason.empty() ? "condition cleared" : s.reason;
    a.last_seen_ms = std::max(a.last_seen_ms, s.time_ms);
    a.history.push_back(
        Transition{from, AlertStatus::kResolved, "system", s.time_ms, a.resolution});
    open_.erase(open);
    out.push_back(AlertChange{ChangeType::kResolved, a});
    return out;
  }
  if (open != open_.end()) {
    Alert& a = alerts_.at(open->second);
    ++a.count;
    a.last_seen_ms = std::max(a.last_seen_ms, s.time_ms);
    a.value = s.value;
    a.headline = s.headline;
    if (s.geometry) a.area = s.geometry;
    addEvidence(a, s.evidence);
    out.push_back(AlertChange{ChangeType::kUpdated, a});
    return out;
  }
  Alert a;
  a.id = next_id_();
  a.rule_id = s.rule_id;
  a.rule_version = s.rule_version;
  a.subject = s.subject;
  a.category = s.category;
  a.severity = s.severity;
  a.urgency = s.urgency;
  a.certainty = s.certainty;
  a.headline = s.headline;
  a.description = s.description;
  a.area = s.geometry;
  if (!a.area && s.rule && s.rule->target.area) a.area = s.rule->target.area;
  a.onset_ms = s.time_ms;
  if (s.rule && s.rule->alert.expires_after_ms) {
    a.expires_ms = s.time_ms + *s.rule->alert.expires_after_ms;
  }
  a.first_seen_ms = s.time_ms;
  a.last_seen_ms = s.time_ms;
  a.count = 1;
  a.value = s.value;
  addEvidence(a, s.evidence);
  a.history.push_back(Transition{std::nullopt, AlertStatus::kNew, "system", s.time_ms,
                                 s.kind == SignalKind::kFire ? "rule fired" : "rule still firing"});
  open_[key] = a.id;
  auto [it, inserted] = alerts_.insert_or_assign(a.id, std::move(a));
  out.push_back(AlertChange{ChangeType::kOpened, it->second});
  return out;
}

core::Result<Alert*> AlertBook::transitionTarget(const std::string& id, const std::string& by,
                                                 std::initializer_list<AlertStatus> from,
                                                 std::string_view action) {
  if (by.empty()) return bad("by", "who performs the transition is required");
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return core::makeError(Errc::kNotFound, "no alert " + id);
  Alert& a = it->second;
  if (std::find(from.begin(), from.end(), a.status) == from.end()) {
    return core::makeError(Errc::kConflict, "alert " + id + " is " +
                                                std::string(toString(a.status)) +
                                                " and cannot be " + std::string(action));
  }
  return &a;
}

core::Result<AlertChange> AlertBook::acknowledge(const std::string& id, const std::string& by,
                                                 const std::string& note) {
  auto target = transitionTarget(id, by, {AlertStatus::kNew}, "acknowledged");
  if (!target.ok()) return target.error();
  Alert& a = **target;
  a.status = AlertStatus::kAcknowledged;
  a.history.push_back(
      Transition{AlertStatus::kNew, AlertStatus::kAcknowledged, by, clock_->nowUnixMs(), note});
  return AlertChange{ChangeType::kAcknowledged, a};
}

core::Result<AlertChange> AlertBook::resolve(const std::string& id, const std::string& by,
                                             const std::string& reason) {
  auto target =
      transitionTarget(id, by, {AlertStatus::kNew, AlertStatus::kAcknowledged}, "resolved");
  if (!target.ok()) return target.error();
  Alert& a = **target;
  const AlertStatus from = a.status;
  a.status = AlertStatus::kResolved;
  a.resolved_by = by;
  a.resolution = reason;
  a.history.push_back(Transition{from, AlertStatus::kResolved, by, clock_->nowUnixMs(), reason});
  open_.erase(openKey(a.rule_id, a.subject));
  return AlertChange{ChangeType::kResolved, a};
}

core::Result<AlertChange> AlertBook::close(const std::string& id, const std::string& by,
                                           const std::string& note) {
  auto target = transitionTarget(id, by, {AlertStatus::kResolved}, "closed");
  if (!target.ok()) return target.error();
  Alert& a = **target;
  a.status = AlertStatus::kClosed;
  a.history.push_back(
      Transition{AlertStatus::kResolved, AlertStatus::kClosed, by, clock_->nowUnixMs(), note});
  return AlertChange{ChangeType::kClosed, a};
}

core::Result<AlertChange> AlertBook::reopen(const std::string& id, const std::string& by,
                                            const std::string& reason) {
  auto target = transitionTarget(id, by, {AlertStatus::kResolved}, "reopened");
  if (!target.ok()) return target.error();
  Alert& a = **target;
  const std::string key = openKey(a.rule_id, a.subject);
  if (auto other = open_.find(key); other != open_.end()) {
    return core::makeError(Errc::kConflict, "alert " + other->second +
                                                " is already open for the same rule and subject");
  }
  a.status = AlertStatus::kAcknowledged;
  a.resolved_by.clear();
  a.resolution.clear();
  a.history.push_back(Transition{AlertStatus::kResolved, AlertStatus::kAcknowledged, by,
                                 clock_->nowUnixMs(), reason});
  open_[key] = a.id;
  return AlertChange{ChangeType::kReopened, a};
}

const Alert* AlertBook::find(const std::string& id) const {
  auto it = alerts_.find(id);
  return it == alerts_.end() ? nullptr : &it->second;
}

const Alert* AlertBook::openFor(const std::string& rule_id, const std::string& subject) const {
  auto it = open_.find(openKey(rule_id, subject));
  return it == open_.end() ? nullptr : find(it->second);
}

std::vector<const Alert*> AlertBook::all() const {
  std::vector<const Alert*> out;
  out.reserve(alerts_.size());
  for (const auto& [id, a] : alerts_) out.push_back(&a);
  return out;
}

core::Status AlertBook::restore(Alert alert) {
  if (alert.id.empty()) return bad("id", "is required");
  if (alerts_.count(alert.id)) {
    return core::makeError(Errc::kAlreadyExists, "alert " + alert.id + " is already loaded");
  }
  if (alert.open()) {
    const std::string key = openKey(alert.rule_id, alert.subject);
    if (auto other = open_.find(key); other != open_.end()) {
      return core::makeError(Errc::kConflict, "alert " + other->second +
                                                  " is already open for the same rule and subject");
    }
    open_[key] = alert.id;
  }
  std::string id = alert.id;
  alerts_.emplace(std::move(id), std::move(alert));
  return core::Status::success();
}

bool AlertBook::forget(const std::string& id) {
  auto it = alerts_.find(id);
  if (it == alerts_.end() || it->second.status != AlertStatus::kClosed) return false;
  alerts_.erase(it);
  return true;
}

// ---- JSON ------------------------------------------------------------------------------------

json evidenceToJson(const Evidence& e) {
  json j = {{"kind", e.kind}, {"ref", e.ref}, {"time", timeJson(e.time_ms)}};
  if (!e.attribute.empty()) j["attribute"] = e.attribute;
  if (e.kind != "event") j["value"] = e.value;
  return j;
}

core::Result<Evidence> evidenceFromJson(const json& j) {
  if (!j.is_object()) return bad("evidence", "must be an object");
  Evidence e;
  if (auto st = readString(j, "kind", true, e.kind); !st) return st.error();
  if (auto st = readString(j, "ref", true, e.ref); !st) return st.error();
  if (auto st = readString(j, "attribute", false, e.attribute); !st) return st.error();
  if (auto st = readTime(j, "time", true, e.time_ms); !st) return st.error();
  if (auto it = j.find("value"); it != j.end()) {
    if (!it->is_number()) return bad("value", "must be a number");
    e.value = it->get<double>();
  }
  return e;
}

json alertToJson(const Alert& a) {
  json j = {{"id", a.id},
            {"ruleId", a.rule_id},
            {"ruleVersion", a.rule_version},
            {"subject", a.subject},
            {"status", toString(a.status)},
            {"category", toString(a.category)},
            {"severity", toString(a.severity)},
            {"urgency", toString(a.urgency)},
            {"certainty", toString(a.certainty)},
            {"headline", a.headline},
            {"onset", timeJson(a.onset_ms)},
            {"firstSeen", timeJson(a.first_seen_ms)},
            {"lastSeen", timeJson(a.last_seen_ms)},
            {"count", a.count},
            {"value", std::isfinite(a.value) ? json(a.value) : json(nullptr)}};
  if (!a.description.empty()) j["description"] = a.description;
  if (a.area) j["area"] = geo::toGeoJson(*a.area);
  if (a.expires_ms) j["expires"] = timeJson(*a.expires_ms);
  json ev = json::array();
  for (const Evidence& e : a.evidence) ev.push_back(evidenceToJson(e));
  j["evidence"] = std::move(ev);
  if (!a.resolved_by.empty()) j["resolvedBy"] = a.resolved_by;
  if (!a.resolution.empty()) j["resolution"] = a.resolution;
  json h = json::array();
  for (const Transition& t : a.history) {
    json tj = {{"to", toString(t.to)}, {"by", t.by}, {"at", timeJson(t.at_ms)}};
    if (t.from) tj["from"] = toString(*t.from);
    if (!t.note.empty()) tj["note"] = t.note;
    h.push_back(std::move(tj));
  }
  j["history"] = std::move(h);
  return j;
}

core::Result<Alert> alertFromJson(const json& j) {
  if (!j.is_object()) return bad("alert", "must be a JSON object");
  Alert a;
  if (auto st = readString(j, "id", true, a.id); !st) return st.error();
  if (a.id.empty()) return bad("id", "must not be empty");
  if (auto st = readString(j, "ruleId", true, a.rule_id); !st) return st.error();
  if (auto st = readString(j, "subject", true, a.subject); !st) return st.error();
  if (auto it = j.find("ruleVersion"); it != j.end()) {
    if (!it->is_number_integer()) return bad("ruleVersion", "must be an integer");
    a.rule_version = it->get<int64_t>();
  }
  if (auto st = readEnum(j, "status", &parseAlertStatus, a.status); !st) return st.error();
  if (auto st = readEnum(j, "category", &parseCategory, a.category); !st) return st.error();
  if (auto st = readEnum(j, "severity", &parseSeverity, a.severity); !st) return st.error();
  if (auto st = readEnum(j, "urgency", &parseUrgency, a.urgency); !st) return st.error();
  if (auto st = readEnum(j, "certainty", &parseCertainty, a.certainty); !st) return st.error();
  if (auto st = readString(j, "headline", true, a.headline); !st) return st.error();
  if (auto st = readString(j, "description", false, a.description); !st) return st.error();
  if (auto st = readTime(j, "onset", true, a.onset_ms); !st) return st.error();
  if (auto st = readTime(j, "firstSeen", true, a.first_seen_ms); !st) return st.error();
  if (auto st = readTime(j, "lastSeen", true, a.last_seen_ms); !st) return st.error();
  if (j.contains("expires") && !j["expires"].is_null()) {
    int64_t t = 0;
    if (auto st = readTime(j, "expires", true, t); !st) return st.error();
    a.expires_ms = t;
  }
  if (auto it = j.find("count"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return bad("count", "must be an integer >= 0");
    }
    a.count = it->get<int64_t>();
  }
  if (auto it = j.find("value"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) return bad("value", "must be a number");
    a.value = it->get<double>();
  }
  if (auto it = j.find("area"); it != j.end() && !it->is_null()) {
    auto g = geo::parseGeoJson(*it);
    if (!g.ok()) return bad("area", g.error().message);
    a.area = std::move(g).value();
  }
  if (auto it = j.find("evidence"); it != j.end()) {
    if (!it->is_array()) return bad("evidence", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      auto e = evidenceFromJson((*it)[i]);
      if (!e.ok()) return bad("evidence[" + std::to_string(i) + "]", e.error().message);
      a.evidence.push_back(std::move(e).value());
    }
  }
  if (auto st = readString(j, "resolvedBy", false, a.resolved_by); !st) return st.error();
  if (auto st = readString(j, "resolution", false, a.resolution); !st) return st.error();
  if (auto it = j.find("history"); it != j.end()) {
    if (!it->is_array()) return bad("history", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& h = (*it)[i];
      const std::string path = "history[" + std::to_string(i) + "]";
      if (!h.is_object()) return bad(path, "must be an object");
      Transition t;
      auto check = [&](core::Status st) -> core::Status {
        if (st) return st;
        return bad(path, st.error().message);
      };
      if (auto st = check(readEnum(h, "to", &parseAlertStatus, t.to)); !st) return st.error();
      if (h.contains("from")) {
        AlertStatus from = AlertStatus::kNew;
        if (auto st = check(readEnum(h, "from", &parseAlertStatus, from)); !st) return st.error();
        t.from = from;
      }
      if (auto st = check(readString(h, "by", true, t.by)); !st) return st.error();
      if (auto st = check(readTime(h, "at", true, t.at_ms)); !st) return st.error();
      if (auto st = check(readString(h, "note", false, t.note)); !st) return st.error();
      a.history.push_back(std::move(t));
    }
  }
  return a;
}

}  // namespace ioc::rules
