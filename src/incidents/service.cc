#include "incidents/service.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "calendar/date.h"
#include "context/entity.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "incidents/media.h"

namespace ioc::incidents {

using json = ioc::Json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxTitle = 300;
constexpr size_t kMaxText = 4000;
constexpr size_t kMaxTimeline = 5000;
constexpr size_t kMaxAttachments = 20;

core::Error bad(std::string detail) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(detail));
}
core::Error notFound(const std::string& id) {
  return core::makeError(core::Errc::kNotFound, "no incident " + id);
}
core::Error conflict(std::string detail) {
  return core::makeError(core::Errc::kConflict, std::move(detail));
}

core::Status onlyMembers(const json& obj, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return bad("the body must be a JSON object");
  for (const auto& [k, v] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return bad("unknown member " + k);
    }
  }
  return core::Status::success();
}

//! Optional text member: "" when absent or null; error when not text or too long.
core::Result<std::string> text(const json& obj, const char* name, size_t max,
                               bool required = false) {
  if (!obj.contains(name) || obj[name].is_null()) {
    if (required) return bad(std::string(name) + " is required");
    return std::string();
  }
  if (!obj[name].is_string()) return bad(std::string(name) + " must be text");
  std::string v = obj[name];
  if (v.size() > max) return bad(std::string(name) + " is longer than " + std::to_string(max));
  if (required && v.find_first_not_of(" \t\r\n") == std::string::npos) {
    return bad(std::string(name) + " is required");
  }
  return v;
}

//! {"lon","lat"} or a GeoJSON Point.
core::Result<std::optional<Location>> location(const json& obj) {
  if (!obj.contains("location") || obj["location"].is_null()) {
    return std::optional<Location>();
  }
  const json& l = obj["location"];
  double lon = 0, lat = 0;
  if (l.is_object() && l.contains("lon") && l.contains("lat") && l["lon"].is_number() &&
      l["lat"].is_number()) {
    lon = l["lon"];
    lat = l["lat"];
  } else if (l.is_object() && l.value("type", "") == "Point" && l.contains("coordinates") &&
             l["coordinates"].is_array() && l["coordinates"].size() >= 2 &&
             l["coordinates"][0].is_number() && l["coordinates"][1].is_number()) {
    lon = l["coordinates"][0];
    lat = l["coordinates"][1];
  } else {
    return bad("location must be {\"lon\": …, \"lat\": …} or a GeoJSON Point");
  }
  if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180 || lon > 180 || lat < -90 ||
      lat > 90) {
    return bad("location is out of range");
  }
  return std::optional<Location>(Location{lon, lat});
}

Priority defaultPriority(const std::string& category) {
  if (category == "fire" || category == "medical") return Priority::kCritical;
  if (category == "traffic_accident" || category == "crime" || category == "flooding") {
    return Priority::kHigh;
  }
  if (category == "public_order" || category == "infrastructure" || category == "crowd") {
    return Priority::kMedium;
  }
  return category == "other" || category == "environment" ? Priority::kMedium : Priority::kLow;
}

struct HotlineLine {
  const char* line;
  const char* category;
  Priority priority;
  const char* name;
};
constexpr HotlineLine kLines[] = {
    {"113", "crime", Priority::kHigh, "Công an (113)"},
    {"114", "fire", Priority::kCritical, "Cứu hỏa, cứu nạn cứu hộ (114)"},
    {"115", "medical", Priority::kCritical, "Cấp cứu y tế (115)"},
    {"1022", "other", Priority::kMedium, "Đường dây nóng thành phố (1022)"},
};

struct CameraType {
  const char* type;
  const char* category;
  Priority priority;
  const char* title;
};
constexpr CameraType kCameraTypes[] = {
    {"red_light", "traffic_violation", Priority::kLow, "Vượt đèn đỏ"},
    {"wrong_lane", "traffic_violation", Priority::kLow, "Đi sai làn đường"},
    {"illegal_parking", "illegal_parking", Priority::kLow, "Đỗ xe trái phép"},
    {"sidewalk_encroachment", "sidewalk_encroachment", Priority::kLow, "Lấn chiếm vỉa hè"},
    {"fire_smoke", "fire", Priority::kCritical, "Phát hiện khói/lửa"},
    {"flooding", "flooding", Priority::kHigh, "Phát hiện ngập nước"},
    {"crowd", "crowd", Priority::kMedium, "Tụ tập đông người"},
    {"littering", "littering", Priority::kLow, "Xả rác nơi công cộng"},
};

std::vector<std::string> notifyRolesFor(const std::string& event) {
  if (event == "incident.escalated" || event == "incident.sla_overdue") {
    return {"supervisor", "leader"};
  }
  if (event == "incident.assigned" || event == "incident.reassigned" ||
      event == "incident.referred" || event == "incident.reminder") {
    return {"agency_staff", "operator"};
  }
  return {"operator", "supervisor"};
}

Caller systemCaller() {
  Caller c;
  c.role = "system";
  c.can_override = true;
  c.sees_caller_numbers = true;
  c.actor.name = "system:sla";
  c.actor.role = "system";
  return c;
}

std::string stepsOpenMessage(const SopRun& run) {
  std::string titles;
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const auto& s = run.steps[i];
    if (!s.step.mandatory || s.done) continue;
    if (!titles.empty()) titles += "; ";
    titles += std::to_string(i + 1) + ". " + s.step.title;
  }
  return "sop-steps-open: " + std::to_string(run.mandatoryOpen()) +
         " mandatory SOP step(s) still open: " + titles;
}

}  // namespace

json defaultSlaPolicies() {
  return json::parse(R"({"policies": [
    {"category": "*", "priority": "critical", "duration": {"working_hours": 4},
     "reminders_pct": [50, 75, 90], "due_soon_pct": 75},
    {"category": "*", "priority": "high", "duration": {"working_days": 1},
     "reminders_pct": [50, 75, 90], "due_soon_pct": 75},
    {"category": "*", "priority": "medium", "duration": {"working_days": 3},
     "reminders_pct": [50, 75, 90], "due_soon_pct": 75},
    {"category": "*", "priority": "low", "duration": {"working_days": 10},
     "reminders_pct": [50, 75, 90], "due_soon_pct": 75}
  ]})");
}

std::shared_ptr<const calendar::WorkingCalendar> allHoursCalendar(int64_t now_ms) {
  calendar::CalendarConfig config;
  config.hours = {{0, 24 * 60}};
  config.rules.weekend.fill(false);
  // Holidays become working days for the years around now: every day of them is listed as a
  // make-up working day, which wins over every holiday rule.
  const int year = calendar::localDate(now_ms).year;
  for (int y = year - 1; y <= year + 2; ++y) {
    calendar::YearSchedule s;
    s.compensate = false;
    for (calendar::Date d{y, 1, 1}; d.year == y; d = calendar::addDays(d, 1)) {
      s.working_days.push_back(d);
    }
    config.rules.years[y] = std::move(s);
  }
  auto cal = calendar::WorkingCalendar::create(config);
  if (!cal.ok()) return nullptr;
  return std::make_shared<const calendar::WorkingCalendar>(std::move(*cal));
}

IncidentService::IncidentService(storage::Store& store, const units::UnitCatalog& units,
                                 const core::Clock& clock, ServiceOptions options)
    : store_(store), units_(units), clock_(clock), options_(std::move(options)) {
  if (!options_.calendar) {
    calendar::CalendarConfig config;
    auto cal = calendar::WorkingCalendar::create(config);
    if (cal.ok()) options_.calendar = std::make_shared<const calendar::WorkingCalendar>(*cal);
  }
  sla_doc_ = defaultSlaPolicies();
  auto parsed = calendar::parseSlaPolicies(sla_doc_.dump());
  if (parsed.ok()) sla_policies_ = std::move(*parsed);
}

IncidentService::~IncidentService() {
  stop();
}

void IncidentService::setListener(EventListener listener) {
  listener_ = std::move(listener);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

core::Status IncidentService::load() {
  auto docs = store_.listDocuments(kIncidentKind);
  if (!docs.ok()) return docs.error();
  size_t unreadable = 0;
  for (const auto& d : *docs) {
    auto inc = incidentFromJson(json::parse(d.doc, nullptr, false));
    if (!inc.ok()) {
      ++unreadable;
      core::logWarn("incident not loaded", {{"id", d.id}, {"error", inc.error().message}});
      continue;
    }
    // INC-YYYYMMDD-NNNN: keep numbering after a restart.
    if (inc->id.size() == 17 && inc->id.rfind("INC-", 0) == 0) {
      int& seq = day_seq_[inc->id.substr(4, 8)];
      seq = std::max(seq, std::atoi(inc->id.substr(13).c_str()));
    }
    const std::string id = inc->id;  // before the move: the right operand is evaluated first
    incidents_[id] = std::make_shared<const Incident>(std::move(*inc));
  }
  auto templates = store_.listDocuments(kTemplateKind);
  if (!templates.ok()) return templates.error();
  for (const auto& d : *templates) {
    json j = json::parse(d.doc, nullptr, false);
    auto t = parseSopTemplate(j.is_object() ? json{{"id", j.value("id", "")},
                                                   {"category", j.value("category", "")},
                                                   {"title", j.value("title", "")},
                                                   {"active", j.value("active", true)},
                                                   {"steps", j.value("steps", json::array())}}
                                            : json(),
                              isKnownCategory);
    if (!t.ok()) {
      core::logWarn("SOP template not loaded", {{"id", d.id}, {"error", t.error().message}});
      continue;
    }
    t->version = j.value("version", 1);
    t->created_ms = j.value("created_at_ms", int64_t{0});
    t->created_by = j.value("created_by", "");
    templates_[t->id][t->version] = std::move(*t);
  }
  auto tables = store_.listDocuments(kRoutingKind);
  if (!tables.ok()) return tables.error();
  for (const auto& d : *tables) {
    json j = json::parse(d.doc, nullptr, false);
    if (!j.is_object()) continue;
    auto t = parseRoutingTable(d.id,
                               json{{"rules", j.value("rules", json::array())},
                                    {"default_agency", j.value("default_agency", json())}},
                               isKnownCategory);
    if (!t.ok()) continue;
    t->updated_ms = j.value("updated_at_ms", int64_t{0});
    t->updated_by = j.value("updated_by", "");
    routing_[d.id] = std::move(*t);
  }
  auto sla = store_.listDocuments(kSlaKind);
  if (!sla.ok()) return sla.error();
  for (const auto& d : *sla) {
    auto parsed = calendar::parseSlaPolicies(d.doc);
    if (!parsed.ok()) continue;
    sla_doc_ = json::parse(d.doc, nullptr, false);
    sla_policies_ = std::move(*parsed);
  }
  // Shipped SOP templates: installed once, as version 1, when the store lacks them.
  if (!options_.sop_defaults_file.empty()) {
    std::ifstream in(options_.sop_defaults_file);
    std::stringstream ss;
    ss << in.rdbuf();
    json file = json::parse(ss.str(), nullptr, false);
    if (!in || file.is_discarded()) {
      return core::makeError(core::Errc::kInvalidArgument,
                             "cannot read SOP templates " + options_.sop_defaults_file);
    }
    Caller loader = systemCaller();
    loader.actor.name = "system:defaults";
    for (const auto& body : file.value("templates", json::array())) {
      auto t = parseSopTemplate(body, isKnownCategory);
      if (!t.ok()) {
        return core::makeError(core::Errc::kInvalidArgument,
                               options_.sop_defaults_file + ": " + t.error().message);
      }
      if (t->id.empty() || templates_.count(t->id)) continue;
      std::lock_guard write(write_mu_);
      if (auto s = putTemplateLocked(std::move(*t), "sop_template.install", loader); !s.ok()) {
        return s;
      }
    }
  }
  core::logInfo("incidents loaded", {{"count", static_cast<int64_t>(incidents_.size())},
                                     {"unreadable", static_cast<int64_t>(unreadable)},
                                     {"sop_templates", static_cast<int64_t>(templates_.size())}});
  return core::Status::success();
}

void IncidentService::start() {
  std::lock_guard lock(tick_mu_);
  if (ticker_.joinable()) return;
  stopping_ = false;
  ticker_ = std::thread([this] {
    core::nameThisThread("ioc-incidents");
    tickerLoop();
  });
}

void IncidentService::stop() {
  {
    std::lock_guard lock(tick_mu_);
    stopping_ = true;
  }
  tick_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void IncidentService::tickerLoop() {
  std::unique_lock lock(tick_mu_);
  while (!stopping_) {
    tick_cv_.wait_for(lock, options_.tick, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      tick();
    } catch (const std::exception& e) {
      core::logError("incident SLA tick failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

size_t IncidentService::size() const {
  std::lock_guard lock(mu_);
  return incidents_.size();
}

// ---------------------------------------------------------------------------------------------
// Helpers

bool IncidentService::visible(const Incident& inc, const Caller& who) const {
  if (who.unit_code.empty()) return true;
  return !inc.unit_code.empty() && units_.isWithin(inc.unit_code, who.unit_code);
}

json IncidentService::render(const Incident& inc, const Caller& who, bool with_timeline) const {
  json j = toJson(inc, with_timeline);
  if (!who.sees_caller_numbers && j["source"].contains("caller_number") &&
      j["source"]["caller_number"].is_string()) {
    j["source"]["caller_number"] = maskPhone(j["source"]["caller_number"].get<std::string>());
  }
  return j;
}

void IncidentService::emit(const IncidentEvent& event) const {
  if (!listener_) return;
  try {
    listener_(event);
  } catch (const std::exception& e) {
    core::logWarn("incident event listener failed", {{"error", e.what()}});
  }
}

void IncidentService::addEntry(Incident& inc, const Caller& who, std::string type, std::string text,
                               json data) const {
  if (inc.timeline.size() >= kMaxTimeline) return;
  inc.timeline.push_back(TimelineEntry{clock_.nowUnixMs(), std::move(type), who.actor.name,
                                       who.actor.role, std::move(text), std::move(data)});
}

std::string IncidentService::nextId(int64_t now_ms) {
  std::string day = calendar::formatDate(calendar::localDate(now_ms));
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  int seq = ++day_seq_[day];
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", seq);
  return "INC-" + day + "-" + buf;
}

std::optional<std::string> IncidentService::routeFor(const std::string& unit,
                                                     const std::string& category,
                                                     const std::string& ward) const {
  // The ward's own table first, then the units above it.
  for (const units::Unit* u = units_.find(unit); u != nullptr; u = units_.find(u->parent_code)) {
    auto it = routing_.find(u->code);
    if (it != routing_.end()) {
      if (auto agency = route(it->second, category, ward)) return agency;
    }
    if (u->parent_code.empty()) break;
  }
  auto national = routing_.find("");
  if (national != routing_.end()) return route(national->second, category, ward);
  return std::nullopt;
}

std::optional<std::string> IncidentService::agencyFor(const std::string& unit,
                                                      const std::string& category,
                                                      const std::string& ward) const {
  std::lock_guard lock(mu_);
  return routeFor(unit, category, ward);
}

const SopTemplate* IncidentService::templateFor(const std::string& category) const {
  for (const auto& [id, versions] : templates_) {
    if (versions.empty()) continue;
    const SopTemplate& latest = versions.rbegin()->second;
    if (latest.active && latest.category == category) return &latest;
  }
  return nullptr;
}

std::optional<Sla> IncidentService::slaFor(const std::string& category, Priority priority,
                                           int64_t now_ms) const {
  const calendar::SlaPolicy* p =
      calendar::findSlaPolicy(sla_policies_, category, priorityName(priority));
  if (!p || !options_.calendar) return std::nullopt;
  // The stored policy is the document entry that matched, so that running incidents keep it.
  json policy_doc;
  const json list = sla_doc_.is_array() ? sla_doc_ : sla_doc_.value("policies", json::array());
  for (const auto& entry : list) {
    if (entry.value("category", "") == p->category && entry.value("priority", "") == p->priority) {
      policy_doc = entry;
      break;
    }
  }
  auto clock = calendar::SlaClock::open(options_.calendar, *p, now_ms);
  if (!clock.ok()) return std::nullopt;
  Sla sla;
  sla.policy = policy_doc;
  sla.opened_ms = now_ms;
  sla.due_ms = clock->currentDeadline(now_ms);
  sla.state = calendar::slaStatusName(clock->state(now_ms).status);
  return sla;
}

core::Status IncidentService::persist(const Incident& inc, const std::string& action,
                                      const model::Actor& actor, const json& detail) {
  const int64_t now = clock_.nowUnixMs();
  model::StoredDocument doc{kIncidentKind, inc.id, toJson(inc).dump(), now};
  auto audit = model::makeAuditEntry(actor, action, "incident:" + inc.id, detail.dump(), now);
  return store_.writeSync([doc = std::move(doc), audit = std::move(audit)](storage::WriteTx& tx) {
    if (auto s = tx.putDocument(doc); !s.ok()) return s;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
}

core::Result<std::string> IncidentService::storeSnapshot(const std::string& incident_id, size_t n,
                                                         const std::string& bytes,
                                                         const std::string& content_type) const {
  if (options_.attachment_dir.empty()) {
    return core::makeError(core::Errc::kUnavailable, "attachments are not configured");
  }
  const fs::path dir = fs::path(options_.attachment_dir) / incident_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return core::makeError(core::Errc::kInternal, "cannot create " + dir.string());
  const std::string name =
      "snapshot-" + std::to_string(n) + (content_type == "image/png" ? ".png" : ".jpg");
  const fs::path tmp = dir / (name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return core::makeError(core::Errc::kInternal, "cannot write " + tmp.string());
  }
  fs::rename(tmp, dir / name, ec);
  if (ec) return core::makeError(core::Errc::kInternal, "cannot rename " + tmp.string());
  return name;
}

// ---------------------------------------------------------------------------------------------
// Intake

core::Result<json> IncidentService::open(Intake in, const Caller& who) {
  if (!isKnownCategory(in.category)) return bad("unknown category " + in.category);
  std::string ward;
  if (in.location && options_.wards) {
    if (auto w = options_.wards->wardAt(in.location->lon, in.location->lat)) ward = *w;
  }
  std::string unit = !ward.empty() ? ward : !in.unit_code.empty() ? in.unit_code : who.unit_code;
  if (!unit.empty() && !units_.find(unit)) return bad("unknown unit_code " + unit);
  if (!who.unit_code.empty() && (unit.empty() || !units_.isWithin(unit, who.unit_code))) {
    return core::makeError(core::Errc::kForbidden,
                           "the incident lies outside your unit " + who.unit_code);
  }
  const int64_t now = clock_.nowUnixMs();
  IncidentEvent event;
  json stored;
  {
    std::lock_guard write(write_mu_);
    Incident inc;
    inc.id = nextId(now);
    inc.title = in.title;
    inc.description = in.description;
    inc.category = in.category;
    inc.priority = in.priority.value_or(defaultPriority(in.category));
    inc.status = Status::kNew;
    inc.source_kind = in.source_kind;
    inc.source_ref = in.source_ref;
    inc.source = in.source;
    inc.location = in.location;
    inc.address = in.address;
    inc.ward_code = ward;
    inc.unit_code = unit;
    inc.created_by = who.actor.name;
    inc.created_ms = inc.updated_ms = now;
    addEntry(inc, who, "created",
             "opened from " + in.source_kind + (in.source_ref.empty() ? "" : " " + in.source_ref),
             {{"source", in.source_kind}, {"priority", priorityName(inc.priority)}});
    if (auto agency = routeFor(unit, inc.category, ward)) {
      inc.agency = *agency;
      addEntry(inc, who, "routed", "routed to " + inc.agency,
               {{"agency", inc.agency}, {"ward", ward}, {"category", inc.category}});
    } else {
      addEntry(inc, who, "routed", "no routing rule matched: dispatch by hand",
               {{"agency", nullptr}});
    }
    if (const SopTemplate* t = templateFor(inc.category)) {
      inc.sop = launchSop(*t);
      addEntry(inc, who, "sop_launched", "SOP " + t->title + " v" + std::to_string(t->version),
               {{"template_id", t->id}, {"version", t->version}});
    }
    inc.sla = slaFor(inc.category, inc.priority, now);
    if (in.snapshot) {
      auto name = storeSnapshot(inc.id, 1, in.snapshot->first, in.snapshot->second);
      if (!name.ok()) return name.error();
      inc.attachments.push_back(Attachment{*name, in.snapshot->second,
                                           static_cast<int64_t>(in.snapshot->first.size()), now,
                                           in.source_kind});
    }
    json detail = {{"category", inc.category},
                   {"priority", priorityName(inc.priority)},
                   {"unit", inc.unit_code},
                   {"agency", inc.agency},
                   {"source", inc.source_kind}};
    if (auto s = persist(inc, "incident.open", who.actor, detail); !s.ok()) {
      if (!inc.attachments.empty()) {
        std::error_code ec;
        fs::remove_all(fs::path(options_.attachment_dir) / inc.id, ec);
      }
      return s.error();
    }
    auto ptr = std::make_shared<const Incident>(std::move(inc));
    {
      std::lock_guard lock(mu_);
      incidents_[ptr->id] = ptr;
    }
    event = IncidentEvent{"incident.created", toJson(*ptr, false), ptr->unit_code,
                          priorityName(ptr->priority), notifyRolesFor("incident.created")};
    stored = render(*ptr, who);
  }
  emit(event);
  return stored;
}

core::Result<json> IncidentService::openManual(const json& body, const Caller& who) {
  if (auto s = onlyMembers(body, {"title", "description", "category", "priority", "location",
                                  "address", "unit_code", "source"});
      !s.ok()) {
    return s.error();
  }
  Intake in;
  auto title = text(body, "title", kMaxTitle, true);
  auto desc = text(body, "description", kMaxText);
  auto cat = text(body, "category", 64, true);
  auto addr = text(body, "address", 500);
  auto unit = text(body, "unit_code", 16);
  for (auto* r : {&title, &desc, &cat, &addr, &unit}) {
    if (!r->ok()) return r->error();
  }
  in.title = *title;
  in.description = *desc;
  in.category = *cat;
  in.address = *addr;
  in.unit_code = *unit;
  if (body.contains("priority")) {
    auto p = body["priority"].is_string() ? parsePriority(body["priority"].get<std::string>())
                                          : std::nullopt;
    if (!p) return bad("priority must be critical, high, medium or low");
    in.priority = p;
  }
  auto loc = location(body);
  if (!loc.ok()) return loc.error();
  in.location = *loc;
  in.source_kind = "manual";
  if (body.contains("source")) {
    const json& src = body["source"];
    if (!src.is_object()) return bad("source must be an object {kind, ref}");
    if (auto s = onlyMembers(src, {"kind", "ref"}); !s.ok()) return s.error();
    auto kind = text(src, "kind", 32, true);
    auto ref = text(src, "ref", 200);
    if (!kind.ok()) return kind.error();
    if (!ref.ok()) return ref.error();
    if (!isKnownSourceKind(*kind)) {
      return bad("source.kind must be alert, hotline, camera, citizen_report or manual");
    }
    in.source_kind = *kind;
    in.source_ref = *ref;
  }
  return open(std::move(in), who);
}

core::Result<json> IncidentService::openFromHotline(const json& body, const Caller& who) {
  if (auto s = onlyMembers(
          body, {"line", "caller_number", "caller_name", "summary", "category", "priority",
                 "location", "address", "call_id", "unit_code", "received_at"});
      !s.ok()) {
    return s.error();
  }
  auto line = text(body, "line", 8, true);
  if (!line.ok()) return line.error();
  const HotlineLine* l = nullptr;
  for (const auto& candidate : kLines) {
    if (*line == candidate.line) l = &candidate;
  }
  if (!l) return bad("line must be 113, 114, 115 or 1022");
  auto number = text(body, "caller_number", 20, true);
  if (!number.ok()) return number.error();
  if (number->find_first_not_of("+0123456789 ") != std::string::npos) {
    return bad("caller_number must be digits");
  }
  auto name = text(body, "caller_name", 200);
  auto summary = text(body, "summary", kMaxText, true);
  auto cat = text(body, "category", 64);
  auto addr = text(body, "address", 500);
  auto call = text(body, "call_id", 100);
  auto unit = text(body, "unit_code", 16);
  auto received = text(body, "received_at", 64);
  for (auto* r : {&name, &summary, &cat, &addr, &call, &unit, &received}) {
    if (!r->ok()) return r->error();
  }
  auto loc = location(body);
  if (!loc.ok()) return loc.error();
  if (!*loc && addr->empty()) return bad("a hotline call needs a location or an address");
  Intake in;
  in.category = cat->empty() ? l->category : *cat;
  in.priority = l->priority;
  if (body.contains("priority")) {
    auto p = body["priority"].is_string() ? parsePriority(body["priority"].get<std::string>())
                                          : std::nullopt;
    if (!p) return bad("priority must be critical, high, medium or low");
    in.priority = p;
  }
  in.title = "[" + *line + "] " + summary->substr(0, 120);
  in.description = *summary;
  in.address = *addr;
  in.location = *loc;
  in.unit_code = *unit;
  in.source_kind = "hotline";
  in.source_ref = *call;
  in.source = {{"line", *line}, {"line_name", l->name}, {"caller_number", *number}};
  if (!name->empty()) in.source["caller_name"] = *name;
  if (!received->empty()) {
    auto t = context::parseDateTime(*received);
    if (!t.ok()) return bad("received_at must be an RFC 3339 date-time");
    in.source["received_at"] = *received;
  }
  return open(std::move(in), who);
}

core::Result<IncidentService::CameraOutcome> IncidentService::openFromCamera(const json& body,
                                                                             const Caller& who) {
  if (auto s = onlyMembers(body, {"camera_id", "event_type", "confidence", "time", "location",
                                  "snapshot", "event_id", "description"});
      !s.ok()) {
    return s.error();
  }
  auto camera = text(body, "camera_id", 200, true);
  auto type = text(body, "event_type", 64, true);
  auto time = text(body, "time", 64);
  auto event_id = text(body, "event_id", 200);
  auto desc = text(body, "description", kMaxText);
  for (auto* r : {&camera, &type, &time, &event_id, &desc}) {
    if (!r->ok()) return r->error();
  }
  const CameraType* ct = nullptr;
  for (const auto& c : kCameraTypes) {
    if (*type == c.type) ct = &c;
  }
  if (!ct) {
    return bad(
        "event_type must be red_light, wrong_lane, illegal_parking, "
        "sidewalk_encroachment, fire_smoke, flooding, crowd or littering");
  }
  double confidence = 1;
  if (body.contains("confidence")) {
    if (!body["confidence"].is_number()) return bad("confidence must be a number in [0, 1]");
    confidence = body["confidence"];
    if (!(confidence >= 0 && confidence <= 1)) return bad("confidence must be in [0, 1]");
  }
  int64_t event_ms = clock_.nowUnixMs();
  if (!time->empty()) {
    auto t = context::parseDateTime(*time);
    if (!t.ok()) return bad("time must be an RFC 3339 date-time");
    event_ms = *t;
  }
  auto loc = location(body);
  if (!loc.ok()) return loc.error();
  if (!*loc) return bad("location is required for a camera event");
  std::optional<std::pair<std::string, std::string>> snapshot;
  if (body.contains("snapshot") && !body["snapshot"].is_null()) {
    if (!body["snapshot"].is_string()) return bad("snapshot must be base64 text");
    auto bytes = decodeBase64(body["snapshot"].get<std::string>());
    if (!bytes) {
      return core::makeError(core::Errc::kMalformedInput, "snapshot is not valid base64");
    }
    if (bytes->size() > options_.max_snapshot_bytes) {
      return core::makeError(
          core::Errc::kPayloadTooLarge,
          "snapshot is larger than " + std::to_string(options_.max_snapshot_bytes) + " bytes");
    }
    std::string ctype = sniffImageType(*bytes);
    if (ctype.empty()) return bad("snapshot must be a JPEG or PNG image");
    snapshot = std::make_pair(std::move(*bytes), std::move(ctype));
  }
  // The same camera reporting the same thing again within the window joins the open incident.
  const int64_t now = clock_.nowUnixMs();
  std::string existing;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, inc] : incidents_) {
      if (!isOpen(inc->status) || inc->source_kind != "camera") continue;
      if (inc->source.value("camera_id", "") != *camera ||
          inc->source.value("event_type", "") != *type) {
        continue;
      }
      if (now - inc->source.value("last_seen_ms", int64_t{0}) > options_.camera_dedup_ms) continue;
      if (!visible(*inc, who)) continue;
      existing = id;
    }
  }
  if (!existing.empty()) {
    auto r =
        mutate(existing, who, "incident.camera_repeat",
               [&](Incident& inc, IncidentEvent& ev, json& detail) -> core::Status {
                 const int count = inc.source.value("count", 1) + 1;
                 inc.source["count"] = count;
                 inc.source["last_seen_ms"] = now;
                 inc.source["last_confidence"] = confidence;
                 if (snapshot && inc.attachments.size() < kMaxAttachments) {
                   auto name = storeSnapshot(inc.id, inc.attachments.size() + 1, snapshot->first,
                                             snapshot->second);
                   if (!name.ok()) return name.error();
                   inc.attachments.push_back(
                       Attachment{*name, snapshot->second,
                                  static_cast<int64_t>(snapshot->first.size()), now, "camera"});
                 }
                 addEntry(inc, who, "camera_event_repeated",
                          "camera " + *camera + " reported " + *type + " again",
                          {{"count", count}, {"confidence", confidence}, {"event_id", *event_id}});
                 ev.type = "incident.updated";
                 detail = {{"camera_id", *camera}, {"count", count}};
                 return core::Status::success();
               });
    if (!r.ok()) return r.error();
    return CameraOutcome{std::move(*r), true};
  }
  Intake in;
  in.category = ct->category;
  in.priority = ct->priority;
  in.title = std::string(ct->title) + " (camera " + *camera + ")";
  in.description = *desc;
  in.location = *loc;
  in.source_kind = "camera";
  in.source_ref = *camera;
  in.source = {{"camera_id", *camera},
               {"event_type", *type},
               {"confidence", confidence},
               {"event_time", core::formatRfc3339(event_ms)},
               {"count", 1},
               {"last_seen_ms", now}};
  if (!event_id->empty()) in.source["event_id"] = *event_id;
  in.snapshot = std::move(snapshot);
  auto r = open(std::move(in), who);
  if (!r.ok()) return r.error();
  return CameraOutcome{std::move(*r), false};
}

core::Result<json> IncidentService::openFromAlert(const AlertEscalation& alert, const Caller& who) {
  Intake in;
  in.category = isKnownCategory(alert.category) ? alert.category : "other";
  if (alert.severity == "Extreme") {
    in.priority = Priority::kCritical;
  } else if (alert.severity == "Severe") {
    in.priority = Priority::kHigh;
  } else if (alert.severity == "Moderate") {
    in.priority = Priority::kMedium;
  } else {
    in.priority = Priority::kLow;
  }
  in.title = alert.headline.empty() ? "Alert " + alert.alert_id : alert.headline.substr(0, 300);
  in.description = alert.description.substr(0, kMaxText);
  in.location = alert.location;
  in.unit_code = alert.unit_code;
  in.source_kind = "alert";
  in.source_ref = alert.alert_id;
  in.source = {{"severity", alert.severity}};
  return open(std::move(in), who);
}

core::Result<json> IncidentService::openFromCitizenReport(const CitizenReport& report,
                                                          const Caller& who) {
  Intake in;
  in.category = isKnownCategory(report.category) ? report.category : "other";
  in.title = report.title.substr(0, kMaxTitle);
  in.description = report.description.substr(0, kMaxText);
  in.location = report.location;
  in.address = report.address;
  in.unit_code = report.unit_code;
  in.source_kind = "citizen_report";
  in.source_ref = report.report_id;
  return open(std::move(in), who);
}

// ---------------------------------------------------------------------------------------------
// Reads

core::Result<json> IncidentService::get(const std::string& id, const Caller& who) const {
  std::shared_ptr<const Incident> inc;
  {
    std::lock_guard lock(mu_);
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return notFound(id);
    inc = it->second;
  }
  if (!visible(*inc, who)) return notFound(id);
  return render(*inc, who);
}

IncidentService::Page IncidentService::list(const ListQuery& q, const Caller& who) const {
  std::vector<std::shared_ptr<const Incident>> all;
  {
    std::lock_guard lock(mu_);
    all.reserve(incidents_.size());
    for (const auto& [id, inc] : incidents_) all.push_back(inc);
  }
  std::vector<std::shared_ptr<const Incident>> hits;
  for (const auto& inc : all) {
    if (!visible(*inc, who)) continue;
    if (q.status && inc->status != *q.status) continue;
    if (!q.category.empty() && inc->category != q.category) continue;
    if (q.priority && inc->priority != *q.priority) continue;
    if (!q.agency.empty() && inc->agency != q.agency) continue;
    if (!q.unit.empty() && !units_.isWithin(inc->unit_code, q.unit)) continue;
    if (q.since_ms > 0 && inc->created_ms < q.since_ms) continue;
    if (q.overdue) {
      const bool overdue = inc->sla && inc->sla->state == "overdue" && isOpen(inc->status);
      if (overdue != *q.overdue) continue;
    }
    hits.push_back(inc);
  }
  auto newest = [](const auto& a, const auto& b) {
    return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->id > b->id;
  };
  if (q.triage) {
    auto rank = [](const Incident& i) {
      if (!isOpen(i.status)) return 3;
      if (i.status == Status::kNew || i.assignee.empty()) return 0;
      if (i.sla && i.sla->state == "overdue") return 1;
      return 2;
    };
    std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
      const int ra = rank(*a), rb = rank(*b);
      if (ra != rb) return ra < rb;
      if (a->priority != b->priority) return a->priority < b->priority;
      return newest(a, b);
    });
  } else {
    std::sort(hits.begin(), hits.end(), newest);
  }
  Page page;
  page.total = hits.size();
  for (size_t i = q.offset; i < hits.size() && page.items.size() < q.limit; ++i) {
    page.items.push_back(render(*hits[i], who, false));
  }
  return page;
}

core::Result<std::pair<std::string, std::string>> IncidentService::attachment(
    const std::string& id, size_t n, const Caller& who) const {
  std::shared_ptr<const Incident> inc;
  {
    std::lock_guard lock(mu_);
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return notFound(id);
    inc = it->second;
  }
  if (!visible(*inc, who)) return notFound(id);
  if (n == 0 || n > inc->attachments.size()) {
    return core::makeError(core::Errc::kNotFound, "no attachment " + std::to_string(n));
  }
  const Attachment& a = inc->attachments[n - 1];
  std::ifstream in(fs::path(options_.attachment_dir) / id / a.name, std::ios::binary);
  if (!in) return core::makeError(core::Errc::kNotFound, "attachment file is missing");
  std::stringstream ss;
  ss << in.rdbuf();
  return std::make_pair(ss.str(), a.content_type);
}

// ---------------------------------------------------------------------------------------------
// Work on an incident

core::Result<json> IncidentService::mutate(const std::string& id, const Caller& who,
                                           const std::string& action, const Mutator& fn) {
  IncidentEvent event;
  json out;
  {
    std::lock_guard write(write_mu_);
    std::shared_ptr<const Incident> cur;
    {
      std::lock_guard lock(mu_);
      auto it = incidents_.find(id);
      if (it == incidents_.end()) return notFound(id);
      cur = it->second;
    }
    if (!visible(*cur, who)) return notFound(id);
    Incident next = *cur;
    json detail = json::object();
    event.type = "incident.updated";
    if (auto s = fn(next, event, detail); !s.ok()) return s.error();
    next.updated_ms = clock_.nowUnixMs();
    if (auto s = persist(next, action, who.actor, detail); !s.ok()) return s.error();
    auto ptr = std::make_shared<const Incident>(std::move(next));
    {
      std::lock_guard lock(mu_);
      incidents_[id] = ptr;
    }
    event.incident = toJson(*ptr, false);
    event.unit_code =
        ptr->sla && !ptr->sla->escalated_to.empty() && event.type == "incident.escalated"
            ? ptr->sla->escalated_to
            : ptr->unit_code;
    event.priority = priorityName(ptr->priority);
    if (event.roles.empty()) event.roles = notifyRolesFor(event.type);
    out = render(*ptr, who);
  }
  emit(event);
  return out;
}

core::Result<json> IncidentService::assign(const std::string& id, const json& body,
                                           const Caller& who) {
  if (auto s = onlyMembers(body, {"assignee", "agency", "note"}); !s.ok()) return s.error();
  auto assignee = text(body, "assignee", 100, true);
  auto agency = text(body, "agency", 200);
  auto note = text(body, "note", kMaxText);
  for (auto* r : {&assignee, &agency, &note}) {
    if (!r->ok()) return r->error();
  }
  return mutate(id, who, "incident.assign", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (inc.status != Status::kNew) {
      return core::Status(conflict("the incident is " + std::string(statusName(inc.status)) +
                                   "; use reassign (with a reason) to change its assignee"));
    }
    inc.assignee = *assignee;
    if (!agency->empty()) inc.agency = *agency;
    inc.status = Status::kAssigned;
    addEntry(inc, who, "assigned",
             "assigned to " + inc.assignee + (note->empty() ? "" : ": " + *note),
             {{"assignee", inc.assignee}, {"agency", inc.agency}});
    ev.type = "incident.assigned";
    detail = {{"assignee", inc.assignee}, {"agency", inc.agency}};
    return core::Status::success();
  });
}

core::Result<json> IncidentService::reassign(const std::string& id, const json& body,
                                             const Caller& who) {
  if (auto s = onlyMembers(body, {"assignee", "agency", "reason"}); !s.ok()) return s.error();
  auto assignee = text(body, "assignee", 100);
  auto agency = text(body, "agency", 200);
  auto reason = text(body, "reason", kMaxText, true);
  for (auto* r : {&assignee, &agency, &reason}) {
    if (!r->ok()) return r->error();
  }
  if (assignee->empty() && agency->empty()) return bad("give a new assignee or agency");
  return mutate(id, who, "incident.reassign", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!isOpen(inc.status)) {
      return core::Status(
          conflict("a " + std::string(statusName(inc.status)) + " incident cannot be reassigned"));
    }
    json data = {{"from_assignee", inc.assignee}, {"from_agency", inc.agency}, {"reason", *reason}};
    if (!assignee->empty()) inc.assignee = *assignee;
    if (!agency->empty()) inc.agency = *agency;
    if (!inc.assignee.empty() && inc.status == Status::kNew) inc.status = Status::kAssigned;
    data["to_assignee"] = inc.assignee;
    data["to_agency"] = inc.agency;
    addEntry(inc, who, "reassigned",
             "reassigned to " + (inc.assignee.empty() ? inc.agency : inc.assignee) + ": " + *reason,
             data);
    ev.type = "incident.reassigned";
    detail = data;
    return core::Status::success();
  });
}

core::Result<json> IncidentService::refer(const std::string& id, const json& body,
                                          const Caller& who) {
  if (auto s = onlyMembers(body, {"agency", "reason"}); !s.ok()) return s.error();
  auto agency = text(body, "agency", 200, true);
  auto reason = text(body, "reason", kMaxText, true);
  for (auto* r : {&agency, &reason}) {
    if (!r->ok()) return r->error();
  }
  return mutate(id, who, "incident.refer", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!isOpen(inc.status)) {
      return core::Status(
          conflict("a " + std::string(statusName(inc.status)) + " incident cannot be referred"));
    }
    if (inc.agency == *agency) return core::Status(bad("the incident is already with " + *agency));
    json data = {{"from_agency", inc.agency}, {"to_agency", *agency}, {"reason", *reason}};
    inc.agency = *agency;
    inc.assignee.clear();
    inc.status = Status::kNew;  // the receiving agency assigns it
    addEntry(inc, who, "referred", "referred to " + *agency + ": " + *reason, data);
    ev.type = "incident.referred";
    detail = data;
    return core::Status::success();
  });
}

core::Result<json> IncidentService::escalate(const std::string& id, const json& body,
                                             const Caller& who) {
  if (auto s = onlyMembers(body, {"reason"}); !s.ok()) return s.error();
  auto reason = text(body, "reason", kMaxText, true);
  if (!reason.ok()) return reason.error();
  return mutate(id, who, "incident.escalate", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!isOpen(inc.status)) {
      return core::Status(
          conflict("a " + std::string(statusName(inc.status)) + " incident cannot be escalated"));
    }
    if (!inc.sla) inc.sla = Sla{};
    const std::string from = inc.sla->escalated_to.empty() ? inc.unit_code : inc.sla->escalated_to;
    const units::Unit* u = units_.find(from);
    const std::string to = u && !u->parent_code.empty() ? u->parent_code : from;
    inc.sla->escalation_level += 1;
    inc.sla->escalated_to = to;
    json data = {{"level", inc.sla->escalation_level},
                 {"from_unit", from},
                 {"to_unit", to},
                 {"reason", *reason}};
    addEntry(inc, who, "escalated",
             "escalated to unit " + to + " (level " + std::to_string(inc.sla->escalation_level) +
                 "): " + *reason,
             data);
    ev.type = "incident.escalated";
    detail = data;
    return core::Status::success();
  });
}

core::Result<json> IncidentService::comment(const std::string& id, const json& body,
                                            const Caller& who) {
  if (auto s = onlyMembers(body, {"text"}); !s.ok()) return s.error();
  auto t = text(body, "text", kMaxText, true);
  if (!t.ok()) return t.error();
  return mutate(id, who, "incident.comment", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    addEntry(inc, who, "comment", *t);
    ev.type = "incident.commented";
    detail = {{"length", t->size()}};
    return core::Status::success();
  });
}

core::Result<json> IncidentService::completeStep(const std::string& id, size_t n, const json& body,
                                                 const Caller& who) {
  if (auto s = onlyMembers(body, {"data", "note"}); !s.ok()) return s.error();
  auto note = text(body, "note", kMaxText);
  if (!note.ok()) return note.error();
  const json data = body.contains("data") ? body["data"] : json(nullptr);
  return mutate(
      id, who, "incident.step_complete", [&](Incident& inc, IncidentEvent& ev, json& detail) {
        if (!inc.sop) return core::Status(conflict("this incident has no SOP"));
        if (n == 0 || n > inc.sop->steps.size()) {
          return core::Status(core::makeError(core::Errc::kNotFound,
                                              "no SOP step " + std::to_string(n) + " (1.." +
                                                  std::to_string(inc.sop->steps.size()) + ")"));
        }
        if (!isOpen(inc.status)) {
          return core::Status(conflict("a " + std::string(statusName(inc.status)) +
                                       " incident's steps cannot change"));
        }
        SopStepRun& step = inc.sop->steps[n - 1];
        if (step.done)
          return core::Status(conflict("step " + std::to_string(n) + " is already done"));
        if (!step.step.role.empty() && step.step.role != who.role && !who.can_override) {
          return core::Status(
              core::makeError(core::Errc::kForbidden,
                              "step " + std::to_string(n) + " is for the role " + step.step.role));
        }
        if (auto s = validateStepData(step.step, data); !s.ok()) return s;
        step.done = true;
        step.completed_by = who.actor.name;
        step.completed_role = who.role;
        step.completed_ms = clock_.nowUnixMs();
        step.data = data;
        step.note = *note;
        if (inc.status == Status::kAssigned) inc.status = Status::kInProgress;
        json d = {{"step", n},
                  {"title", step.step.title},
                  {"done", inc.sop->done()},
                  {"total", inc.sop->steps.size()},
                  {"mandatory_open", inc.sop->mandatoryOpen()}};
        if (!data.is_null()) d["data"] = data;
        addEntry(inc, who, "step_completed",
                 "step " + std::to_string(n) + " done: " + step.step.title, d);
        ev.type = "incident.step_completed";
        detail = {{"step", n}, {"title", step.step.title}};
        return core::Status::success();
      });
}

core::Result<json> IncidentService::resolve(const std::string& id, const json& body,
                                            const Caller& who) {
  if (auto s = onlyMembers(body, {"resolution"}); !s.ok()) return s.error();
  auto resolution = text(body, "resolution", kMaxText, true);
  if (!resolution.ok()) return resolution.error();
  return mutate(id, who, "incident.resolve", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!canTransition(inc.status, Status::kResolved)) {
      return core::Status(
          conflict("a " + std::string(statusName(inc.status)) + " incident cannot be resolved"));
    }
    if (inc.sop && inc.sop->mandatoryOpen() > 0) {
      return core::Status(conflict(stepsOpenMessage(*inc.sop)));
    }
    inc.status = Status::kResolved;
    inc.resolution = *resolution;
    inc.resolved_ms = clock_.nowUnixMs();
    addEntry(inc, who, "resolved", *resolution);
    ev.type = "incident.resolved";
    detail = {{"sla_state", inc.sla ? inc.sla->state : "none"}};
    return core::Status::success();
  });
}

core::Result<json> IncidentService::close(const std::string& id, const json& body,
                                          const Caller& who) {
  if (auto s = onlyMembers(body, {"note"}); !s.ok()) return s.error();
  auto note = text(body, "note", kMaxText);
  if (!note.ok()) return note.error();
  return mutate(id, who, "incident.close", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!canTransition(inc.status, Status::kClosed)) {
      return core::Status(conflict("only a resolved incident can be closed (this one is " +
                                   std::string(statusName(inc.status)) + ")"));
    }
    if (inc.sop && inc.sop->mandatoryOpen() > 0) {
      return core::Status(conflict(stepsOpenMessage(*inc.sop)));
    }
    inc.status = Status::kClosed;
    inc.closed_ms = clock_.nowUnixMs();
    addEntry(inc, who, "closed", *note);
    ev.type = "incident.closed";
    detail = json::object();
    return core::Status::success();
  });
}

core::Result<json> IncidentService::cancel(const std::string& id, const json& body,
                                           const Caller& who) {
  if (auto s = onlyMembers(body, {"reason"}); !s.ok()) return s.error();
  auto reason = text(body, "reason", kMaxText, true);
  if (!reason.ok()) return reason.error();
  return mutate(id, who, "incident.cancel", [&](Incident& inc, IncidentEvent& ev, json& detail) {
    if (!canTransition(inc.status, Status::kCancelled)) {
      return core::Status(
          conflict("a " + std::string(statusName(inc.status)) + " incident cannot be cancelled"));
    }
    inc.status = Status::kCancelled;
    inc.closed_ms = clock_.nowUnixMs();
    addEntry(inc, who, "cancelled", *reason);
    ev.type = "incident.cancelled";
    detail = {{"reason", *reason}};
    return core::Status::success();
  });
}

// ---------------------------------------------------------------------------------------------
// SLA ticker

void IncidentService::tick() {
  const int64_t now = clock_.nowUnixMs();
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, inc] : incidents_) {
      if (isOpen(inc->status) && inc->sla && !inc->sla->policy.is_null()) ids.push_back(id);
    }
  }
  const Caller sys = systemCaller();
  for (const auto& id : ids) {
    auto r = mutate(
        id, sys, "incident.sla",
        [&](Incident& inc, IncidentEvent& ev, json& detail) -> core::Status {
          if (!isOpen(inc.status) || !inc.sla) return conflict("unchanged");
          Sla& sla = *inc.sla;
          auto policy = calendar::parseSlaPolicy(sla.policy);
          if (!policy.ok()) return conflict("unchanged");
          auto clock = calendar::SlaClock::open(options_.calendar, *policy, sla.opened_ms);
          if (!clock.ok()) return conflict("unchanged");
          const calendar::SlaState st = clock->state(now);
          const std::string state = calendar::slaStatusName(st.status);
          bool changed = false;
          std::string type;
          while (sla.reminders_sent < st.reminders_passed &&
                 sla.reminders_sent < static_cast<int>(policy->reminders.size())) {
            const double pct = policy->reminders[static_cast<size_t>(sla.reminders_sent)] * 100;
            ++sla.reminders_sent;
            addEntry(inc, sys, "reminder",
                     "đôn đốc: " + std::to_string(static_cast<int>(pct)) + "% of the SLA used",
                     {{"reminder", sla.reminders_sent}, {"pct", pct}});
            changed = true;
            type = "incident.reminder";
          }
          if (state != sla.state) {
            addEntry(inc, sys, "sla_" + state, "SLA " + state,
                     {{"from", sla.state}, {"to", state}});
            sla.state = state;
            changed = true;
            type = "incident.sla_" + state;
          }
          const bool escalate_now = st.status == calendar::SlaStatus::kOverdue &&
                                    !sla.auto_escalated &&
                                    (!policy->escalate_after_hours || st.escalated);
          if (escalate_now) {
            const std::string from = sla.escalated_to.empty() ? inc.unit_code : sla.escalated_to;
            const units::Unit* u = units_.find(from);
            const std::string to = u && !u->parent_code.empty() ? u->parent_code : from;
            sla.auto_escalated = true;
            sla.escalation_level += 1;
            sla.escalated_to = to;
            addEntry(inc, sys, "escalated",
                     "overdue: escalated to unit " + to + " (level " +
                         std::to_string(sla.escalation_level) + ")",
                     {{"level", sla.escalation_level},
                      {"from_unit", from},
                      {"to_unit", to},
                      {"reason", "overdue"}});
            changed = true;
            type = "incident.escalated";
          }
          if (!changed) return conflict("unchanged");
          ev.type = type;
          detail = {{"state", sla.state},
                    {"reminders_sent", sla.reminders_sent},
                    {"escalation_level", sla.escalation_level}};
          return core::Status::success();
        });
    if (!r.ok() && r.error().message != "unchanged") {
      core::logWarn("incident SLA update failed", {{"id", id}, {"error", r.error().message}});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration

core::Result<json> IncidentService::routingTable(const std::string& unit, const Caller& who) const {
  if (!units_.find(unit)) return core::makeError(core::Errc::kNotFound, "unknown unit " + unit);
  if (!units_.isWithin(unit, who.unit_code)) {
    return core::makeError(core::Errc::kNotFound, "unknown unit " + unit);
  }
  std::lock_guard lock(mu_);
  auto it = routing_.find(unit);
  if (it == routing_.end()) return toJson(RoutingTable{unit, {}, "", 0, ""});
  return toJson(it->second);
}

core::Result<json> IncidentService::putRoutingTable(const std::string& unit, const json& body,
                                                    const Caller& who) {
  if (!units_.find(unit) || !units_.isWithin(unit, who.unit_code)) {
    return core::makeError(core::Errc::kNotFound, "unknown unit " + unit);
  }
  auto t = parseRoutingTable(unit, body, isKnownCategory);
  if (!t.ok()) return t.error();
  for (const auto& r : t->rules) {
    if (r.ward != "*" && !units_.isWithin(r.ward, unit)) {
      return bad("ward " + r.ward + " does not lie in unit " + unit);
    }
  }
  std::lock_guard write(write_mu_);
  const int64_t now = clock_.nowUnixMs();
  t->updated_ms = now;
  t->updated_by = who.actor.name;
  json doc = toJson(*t);
  model::StoredDocument stored{kRoutingKind, unit, doc.dump(), now};
  auto audit = model::makeAuditEntry(who.actor, "routing_table.put", "routing-table:" + unit,
                                     json{{"rules", t->rules.size()}}.dump(), now);
  auto s = store_.writeSync([stored, audit](storage::WriteTx& tx) {
    if (auto p = tx.putDocument(stored); !p.ok()) return p;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s.error();
  std::lock_guard lock(mu_);
  routing_[unit] = std::move(*t);
  return doc;
}

json IncidentService::slaPolicies() const {
  std::lock_guard lock(mu_);
  return sla_doc_;
}

core::Result<json> IncidentService::putSlaPolicies(const json& body, const Caller& who) {
  if (!body.is_object() || !body.contains("policies")) {
    return bad("the body must be {\"policies\": [...]}");
  }
  auto parsed = calendar::parseSlaPolicies(body.dump());
  if (!parsed.ok()) return bad(parsed.error().message);
  for (const auto& p : *parsed) {
    if (p.category != "*" && !isKnownCategory(p.category)) {
      return bad("unknown category " + p.category);
    }
    if (p.priority != "*" && !parsePriority(p.priority)) {
      return bad("priority must be critical, high, medium, low or *");
    }
  }
  std::lock_guard write(write_mu_);
  const int64_t now = clock_.nowUnixMs();
  model::StoredDocument stored{kSlaKind, "policies", body.dump(), now};
  auto audit = model::makeAuditEntry(who.actor, "sla_policies.put", "sla-policies",
                                     json{{"policies", parsed->size()}}.dump(), now);
  auto s = store_.writeSync([stored, audit](storage::WriteTx& tx) {
    if (auto p = tx.putDocument(stored); !p.ok()) return p;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s.error();
  std::lock_guard lock(mu_);
  sla_doc_ = body;
  sla_policies_ = std::move(*parsed);
  return sla_doc_;
}

json IncidentService::listTemplates() const {
  std::lock_guard lock(mu_);
  json items = json::array();
  for (const auto& [id, versions] : templates_) {
    if (!versions.empty()) items.push_back(toJson(versions.rbegin()->second));
  }
  return items;
}

core::Result<json> IncidentService::getTemplate(const std::string& id, int version) const {
  std::lock_guard lock(mu_);
  auto it = templates_.find(id);
  if (it == templates_.end() || it->second.empty()) {
    return core::makeError(core::Errc::kNotFound, "no SOP template " + id);
  }
  if (version <= 0) return toJson(it->second.rbegin()->second);
  auto v = it->second.find(version);
  if (v == it->second.end()) {
    return core::makeError(core::Errc::kNotFound,
                           "no version " + std::to_string(version) + " of SOP template " + id);
  }
  return toJson(v->second);
}

core::Status IncidentService::putTemplateLocked(SopTemplate t, const std::string& action,
                                                const Caller& who) {
  const int64_t now = clock_.nowUnixMs();
  t.created_ms = now;
  t.created_by = who.actor.name;
  json doc = toJson(t);
  model::StoredDocument stored{kTemplateKind, t.id + "@" + std::to_string(t.version), doc.dump(),
                               now};
  auto audit =
      model::makeAuditEntry(who.actor, action, "sop-template:" + t.id,
                            json{{"version", t.version}, {"category", t.category}}.dump(), now);
  auto s = store_.writeSync([stored, audit](storage::WriteTx& tx) {
    if (auto p = tx.putDocument(stored); !p.ok()) return p;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  templates_[t.id][t.version] = std::move(t);
  return core::Status::success();
}

core::Result<json> IncidentService::createTemplate(const json& body, const Caller& who) {
  auto t = parseSopTemplate(body, isKnownCategory);
  if (!t.ok()) return t.error();
  std::lock_guard write(write_mu_);
  if (t->id.empty()) {
    t->id = t->category;
    for (int i = 2; templates_.count(t->id); ++i) t->id = t->category + "-" + std::to_string(i);
  }
  {
    std::lock_guard lock(mu_);
    if (templates_.count(t->id)) {
      return core::makeError(core::Errc::kAlreadyExists,
                             "SOP template " + t->id + " exists; PUT creates a new version");
    }
  }
  t->version = 1;
  const std::string id = t->id;
  if (auto s = putTemplateLocked(std::move(*t), "sop_template.create", who); !s.ok()) {
    return s.error();
  }
  return getTemplate(id, 0);
}

core::Result<json> IncidentService::updateTemplate(const std::string& id, const json& body,
                                                   const Caller& who) {
  auto t = parseSopTemplate(body, isKnownCategory);
  if (!t.ok()) return t.error();
  if (!t->id.empty() && t->id != id) return bad("id cannot be changed");
  std::lock_guard write(write_mu_);
  int version = 0;
  {
    std::lock_guard lock(mu_);
    auto it = templates_.find(id);
    if (it == templates_.end() || it->second.empty()) {
      return core::makeError(core::Errc::kNotFound, "no SOP template " + id);
    }
    version = it->second.rbegin()->first + 1;
  }
  t->id = id;
  t->version = version;
  if (auto s = putTemplateLocked(std::move(*t), "sop_template.update", who); !s.ok()) {
    return s.error();
  }
  return getTemplate(id, version);
}

}  // namespace ioc::incidents
