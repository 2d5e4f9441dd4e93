#include "reports/service.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/tokens.h"
#include "context/entity.h"
#include "core/clock.h"
#include "core/text.h"
#include "ngsild/geo.h"
#include "reports/photos.h"

namespace ioc::reports {
namespace {

namespace fs = std::filesystem;
using json = ioc::Json;

constexpr size_t kMaxDescription = 4000;
constexpr size_t kMaxAddress = 500;
constexpr size_t kMaxReason = 2000;
constexpr size_t kMaxMediaUrls = 5;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
// No 0/O, 1/I/L: codes are read out over the phone.
constexpr std::string_view kCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

core::Error bad(std::string message) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(message));
}
core::Error notFound(const std::string& what) {
  return core::makeError(core::Errc::kNotFound, "no report " + what);
}
core::Error conflict(std::string message) {
  return core::makeError(core::Errc::kConflict, std::move(message));
}

// Ten characters from the CSPRNG (about 49 bits): unguessable for a status page.
std::string newCode() {
  const std::string hex = auth::randomHex(8);
  uint64_t v = std::stoull(hex, nullptr, 16);
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out += kCodeAlphabet[v % kCodeAlphabet.size()];
    v /= kCodeAlphabet.size();
  }
  return out;
}

// Control characters other than line breaks and tabs are dropped; surrounding space trimmed.
std::string cleanText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 || c == '\n' || c == '\t') out += c;
  }
  const auto first = out.find_first_not_of(" \n\t");
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(" \n\t") - first + 1);
}

core::Result<std::string> checkedText(std::string_view s, size_t max, const char* field) {
  std::string t = cleanText(s);
  if (t.size() > max)
    return bad(std::string(field) + " is longer than " + std::to_string(max) + " bytes");
  if (hasMarkup(t)) return bad(std::string(field) + " must be plain text, without HTML or scripts");
  return t;
}

json timeOrNull(int64_t ms) {
  return ms ? json(core::formatRfc3339(ms)) : json(nullptr);
}

std::string yymmdd(int64_t ms) {
  const std::string t = core::formatRfc3339(ms);  // YYYY-MM-DDT…
  return t.substr(2, 2) + t.substr(5, 2) + t.substr(8, 2);
}

// One rating per resolution: resolved or closed, and not rated since it was last resolved.
bool canRate(const Report& r) {
  if (isOpen(r.status)) return false;
  for (auto it = r.updates.rbegin(); it != r.updates.rend(); ++it) {
    if (it->kind == "rated") return false;
    if (it->kind == "resolved") return true;
  }
  return true;
}

KpiRecord kpiRecord(const Report& r) {
  KpiRecord k;
  k.created_ms = r.created_ms;
  k.first_resolved_ms = r.first_resolved_ms;
  k.due_ms = r.due_ms;
  k.open = isOpen(r.status);
  k.rating = r.rating;
  k.reopened = r.reopen_count > 0;
  k.hidden = r.hidden;
  k.agency = r.agency;
  k.ward = r.ward_code;
  k.unit = r.unit_code;
  k.service = r.service_code;
  return k;
}

bool isHttpUrl(const std::string& u) {
  return (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) && u.size() <= 2000 &&
         u.find_first_of(" \"<>\n\r") == std::string::npos;
}

}  // namespace

ReportService::ReportService(storage::Store& store, const units::UnitCatalog& units,
                             const core::Clock& clock, Catalog catalog, ServiceOptions options)
    : store_(store),
      units_(units),
      clock_(clock),
      catalog_(std::move(catalog)),
      options_(std::move(options)) {}

void ReportService::setListener(std::function<void(const ReportEvent&)> listener) {
  listener_ = std::move(listener);
}

core::Status ReportService::load() {
  auto docs = store_.listDocuments(kReportKind);
  if (!docs.ok()) return docs.error();
  for (const auto& d : *docs) {
    json j = json::parse(d.doc, nullptr, false);
    auto r = reportFromStoredJson(j);
    if (!r.ok())
      return core::makeError(core::Errc::kInternal, "report " + d.id + ": " + r.error().message);
    next_number_ = std::max(next_number_, r->number + 1);
    for (const auto& u : r->updates) next_seq_ = std::max(next_seq_, u.seq + 1);
    remember(std::make_shared<const Report>(std::move(*r)));
  }
  return core::Status::success();
}

size_t ReportService::size() const {
  std::shared_lock lock(mu_);
  return by_id_.size();
}

void ReportService::remember(std::shared_ptr<const Report> r) {
  std::unique_lock lock(mu_);
  by_code_[r->code] = r->id;
  if (!r->token.empty()) by_token_[r->token] = r->id;
  const auto n = static_cast<size_t>(r->number);
  if (n > 0) {
    if (ordered_.size() < n) ordered_.resize(n);
    ordered_[n - 1] = r;
    kpi_.put(n, kpiRecord(*r));
  }
  by_id_[r->id] = std::move(r);
}

int64_t ReportService::dueFrom(int64_t start_ms, int days) const {
  if (days <= 0) return 0;
  if (options_.calendar) {
    if (auto due = options_.calendar->addWorkingDays(start_ms, days); due.ok()) return *due;
  }
  return start_ms + days * kDayMs;
}

void ReportService::addUpdate(Report& r, std::string kind, std::string text,
                              const std::string& actor, bool is_public) {
  Update u;
  {
    std::lock_guard lock(seq_mu_);
    u.seq = next_seq_++;
  }
  u.at_ms = clock_.nowUnixMs();
  u.kind = std::move(kind);
  u.status = r.status;
  u.text = std::move(text);
  u.actor = actor;
  u.is_public = is_public;
  r.updates.push_back(std::move(u));
}

core::Result<Photo> ReportService::savePhoto(const Report& r, size_t n, const Upload& up,
                                             bool keep_location, const std::string& source) const {
  if (up.bytes.size() > options_.max_photo_bytes) {
    return core::makeError(core::Errc::kPayloadTooLarge,
                           "photo " + std::to_string(n) + " is larger than " +
                               std::to_string(options_.max_photo_bytes / (1024 * 1024)) + " MB");
  }
  auto clean = cleanPhoto(up.bytes, keep_location);
  if (!clean.ok()) return clean.error();
  if (options_.photo_dir.empty()) {
    return core::makeError(core::Errc::kUnavailable, "photo storage is not configured");
  }
  const fs::path dir = fs::path(options_.photo_dir) / r.id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string name =
      "photo-" + std::to_string(n) + (clean->content_type == "image/png" ? ".png" : ".jpg");
  const fs::path tmp = dir / (name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(clean->bytes.data(), static_cast<std::streamsize>(clean->bytes.size()));
    out.flush();
    if (!out) return core::makeError(core::Errc::kInternal, "cannot write " + tmp.string());
  }
  fs::rename(tmp, dir / name, ec);
  if (ec) return core::makeError(core::Errc::kInternal, "cannot store " + name);
  return Photo{name,
               clean->content_type,
               static_cast<int64_t>(clean->bytes.size()),
               clock_.nowUnixMs(),
               source,
               false};
}

// ---------------------------------------------------------------------------------------------
// Submission

core::Result<Report> ReportService::prepare(Submission& s) {
  const Service* svc = catalog_.find(s.service_code);
  if (svc == nullptr) return bad("unknown service_code " + s.service_code);
  if (!svc->handled) {
    return bad("the city does not take " + svc->name + " as field reports: " + svc->redirect);
  }
  auto description = checkedText(s.description, kMaxDescription, "description");
  if (!description.ok()) return description.error();
  auto address = checkedText(s.address, kMaxAddress, "address");
  if (!address.ok()) return address.error();
  // Open311 makes the description optional (the category and place say it all for a streetlight).
  if (description->empty() && s.photos.empty() && s.channel != "open311") {
    return bad("a description or a photo is required");
  }
  if (s.lat.has_value() != s.lon.has_value()) return bad("lat and long go together");
  if (s.lat && (!std::isfinite(*s.lat) || !std::isfinite(*s.lon) || std::abs(*s.lat) > 90 ||
                std::abs(*s.lon) > 180)) {
    return bad("lat must be within ±90 and long within ±180");
  }
  if (!s.lat && address->empty()) return bad("a location is required: lat/long or address_string");
  if (s.photos.size() > options_.max_photos) {
    return bad("at most " + std::to_string(options_.max_photos) + " photos");
  }
  if (s.media_urls.size() > kMaxMediaUrls) return bad("too many media_url");
  for (const auto& u : s.media_urls) {
    if (!isHttpUrl(u)) return bad("media_url must be an http(s) URL");
  }
  auto answers = catalog_.validateAnswers(*svc, s.attributes, s.channel != "import");
  if (!answers.ok()) return answers.error();
  for (const auto* field : {&s.reporter.name, &s.reporter.phone, &s.reporter.email}) {
    if (field->size() > 200 || hasMarkup(*field))
      return bad("reporter details must be short plain text");
  }
  if (!s.reporter.email.empty() && !core::isPlausibleEmail(s.reporter.email)) {
    return bad("email is not a valid address");
  }
  Report r;
  const int64_t now = clock_.nowUnixMs();
  {
    std::lock_guard lock(seq_mu_);
    r.number = next_number_++;
  }
  char num[32];
  std::snprintf(num, sizeof num, "%05lld", static_cast<long long>(r.number));
  r.id = "PA-" + yymmdd(now) + "-" + num;
  r.code = newCode();
  r.token = auth::randomHex(8);
  r.service_code = svc->code;
  r.description = std::move(*description);
  r.address = std::move(*address);
  r.lat = s.lat;
  r.lon = s.lon;
  if (s.lat && options_.wards) {
    if (auto w = options_.wards->wardAt(*s.lon, *s.lat)) r.ward_code = *w;
  }
  r.unit_code = !r.ward_code.empty() ? r.ward_code : s.unit_code;
  if (!r.unit_code.empty() && !units_.find(r.unit_code)) return bad("unknown unit " + r.unit_code);
  r.attributes = std::move(*answers);
  if (!s.media_urls.empty()) r.attributes["media_urls"] = s.media_urls;
  r.emergency = s.emergency;
  r.channel = s.channel;
  r.reporter = s.reporter;
  r.created_ms = r.updated_ms = now;
  r.sla_days = catalog_.workingDays(svc->sla_tier);
  r.due_ms = dueFrom(now, r.sla_days);
  if (options_.route) {
    if (auto agency = options_.route(r.unit_code, svc->incident_category, r.ward_code)) {
      r.agency = *agency;
    }
  }
  for (size_t i = 0; i < s.photos.size(); ++i) {
    auto photo = savePhoto(r, i + 1, s.photos[i], s.keep_location, "citizen");
    if (!photo.ok()) {
      std::error_code ec;
      fs::remove_all(fs::path(options_.photo_dir) / r.id, ec);
      return photo.error();
    }
    r.photos.push_back(std::move(*photo));
  }
  addUpdate(r, "submitted", "", r.reporter.user_id ? "citizen" : "anonymous");
  for (size_t i = 0; i < r.photos.size(); ++i) r.updates.back().photos.push_back(i + 1);
  return r;
}

void ReportService::submit(Submission s, SubmitDone done) {
  auto prepared = prepare(s);
  if (!prepared.ok()) return done(prepared.error());
  auto report = std::make_shared<const Report>(std::move(*prepared));
  model::Actor actor{report->reporter.user_id
                         ? "citizen:" + std::to_string(report->reporter.user_id)
                         : "anonymous",
                     "citizen", report->unit_code, report->reporter.ip, ""};
  commitNew(std::move(report), actor, "report.submit", std::move(done));
}

void ReportService::commitNew(std::shared_ptr<const Report> report, const model::Actor& actor,
                              const std::string& action, SubmitDone done) {
  model::StoredDocument doc{kReportKind, report->id, toStoredJson(*report).dump(),
                            report->created_ms};
  json detail = {{"service_code", report->service_code},
                 {"unit", report->unit_code},
                 {"channel", report->channel},
                 {"photos", report->photos.size()}};
  auto audit = model::makeAuditEntry(actor, action, "report:" + report->id, detail.dump(),
                                     clock_.nowUnixMs());
  store_.submitWrite(
      [doc = std::move(doc), audit = std::move(audit)](storage::WriteTx& tx) {
        if (auto st = tx.putDocument(doc); !st.ok()) return st;
        auto seq = tx.appendAudit(audit);
        return seq.ok() ? core::Status::success() : core::Status(seq.error());
      },
      [this, report, done = std::move(done)](core::Status st) {
        if (!st.ok()) {
          std::error_code ec;
          if (!report->photos.empty())
            fs::remove_all(fs::path(options_.photo_dir) / report->id, ec);
          return done(st.error());
        }
        remember(report);
        emit("report.submitted", *report, nullptr);
        Receipt receipt{report->id, report->code, report->token, publicView(*report)};
        const Service* svc = catalog_.find(report->service_code);
        if (report->emergency && svc != nullptr) {
          receipt.report["hotline"] = svc->hotline.empty() ? "112" : svc->hotline;
        }
        done(std::move(receipt));
      });
}

// A record: {service_code, description?, lat?, long?, address?, created_at, resolved_at?,
// status: open|closed, agency?, rating?, reopened?}.
void ReportService::importRecord(const json& rec, const Caller& who, SubmitDone done) {
  if (!rec.is_object()) return done(bad("each record must be an object"));
  auto created = context::parseDateTime(rec.value("created_at", ""));
  if (!created.ok()) return done(bad("created_at (RFC 3339) is required"));
  Submission s;
  s.service_code = rec.value("service_code", "");
  s.description = rec.value("description", "");
  s.address = rec.value("address", "");
  if (rec.contains("lat") && rec.contains("long") && rec["lat"].is_number() &&
      rec["long"].is_number()) {
    s.lat = rec["lat"].get<double>();
    s.lon = rec["long"].get<double>();
  }
  s.channel = "import";
  s.attributes = rec.value("attributes", json::object());
  s.unit_code = rec.value("unit_code", who.unit_code);
  if (s.description.empty()) s.description = "(imported)";
  auto prepared = prepare(s);
  if (!prepared.ok()) return done(prepared.error());
  Report& r = *prepared;
  if (!who.unit_code.empty() &&
      (r.unit_code.empty() || !units_.isWithin(r.unit_code, who.unit_code))) {
    return done(core::makeError(core::Errc::kForbidden, "the report lies outside your unit"));
  }
  r.created_ms = r.updated_ms = *created;
  r.updates.front().at_ms = *created;
  r.due_ms = dueFrom(*created, r.sla_days);
  if (auto agency = rec.value("agency", std::string()); !agency.empty())
    r.agency = agency.substr(0, 200);
  const std::string status = rec.value("status", "open");
  if (status != "open" && status != "closed") return done(bad("status must be open or closed"));
  if (status == "closed") {
    auto resolved = context::parseDateTime(rec.value("resolved_at", ""));
    if (!resolved.ok() || *resolved < *created)
      return done(bad("a closed record needs resolved_at after created_at"));
    r.status = Status::kClosed;
    r.resolution = Resolution::kFixed;
    r.resolved_ms = r.closed_ms = r.first_resolved_ms = r.updated_ms = *resolved;
  } else if (!r.agency.empty()) {
    r.status = Status::kAssigned;
  }
  if (rec.contains("rating") && rec["rating"].is_number_integer()) {
    const int rating = rec["rating"].get<int>();
    if (rating < 1 || rating > 5) return done(bad("rating must be 1 to 5"));
    r.rating = rating;
  }
  if (rec.value("reopened", false)) r.reopen_count = 1;
  commitNew(std::make_shared<const Report>(std::move(r)), who.actor, "report.import",
            std::move(done));
}

// ---------------------------------------------------------------------------------------------
// Views

json ReportService::publicView(const Report& r) const {
  const Service* svc = catalog_.find(r.service_code);
  json photos = json::array();
  for (size_t i = 0; i < r.photos.size(); ++i) {
    if (r.photos[i].redacted) continue;
    photos.push_back({{"n", i + 1},
                      {"url", "/api/v1/reports/" + r.id + "/photos/" + std::to_string(i + 1)},
                      {"source", r.photos[i].source}});
  }
  json timeline = json::array();
  Resolution resolution_then = Resolution::kNone;
  for (const auto& u : r.updates) {
    if (!u.is_public) continue;
    if (u.kind == "resolved") resolution_then = r.resolution;
    timeline.push_back({{"update_id", std::to_string(u.seq)},
                        {"at", core::formatRfc3339(u.at_ms)},
                        {"kind", u.kind},
                        {"status", statusName(u.status)},
                        {"extended_status", extendedStatus(u, resolution_then)},
                        {"text", u.text},
                        {"photos", u.photos}});
  }
  json j = {{"id", r.id},
            {"service_code", r.service_code},
            {"service_name", svc ? svc->name : r.service_code},
            {"service_name_en", svc ? svc->name_en : r.service_code},
            {"description", r.description},
            {"address", r.address},
            {"ward_code", r.ward_code},
            {"unit_code", r.unit_code},
            {"status", statusName(r.status)},
            {"open311_status", open311Status(r)},
            {"extended_status", extendedStatus(r)},
            {"resolution", r.resolution == Resolution::kNone ? json(nullptr)
                                                             : json(resolutionName(r.resolution))},
            {"resolution_reason", r.resolution_reason},
            {"agency", r.agency},
            {"agency_answer", r.agency_answer},
            {"duplicate_of", r.duplicate_of},
            {"emergency", r.emergency},
            {"created_at", core::formatRfc3339(r.created_ms)},
            {"updated_at", core::formatRfc3339(r.updated_ms)},
            {"due_at", timeOrNull(r.due_ms)},
            {"resolved_at", timeOrNull(r.resolved_ms)},
            {"overdue", isOverdue(r, clock_.nowUnixMs())},
            {"rating", r.rating ? json(r.rating) : json(nullptr)},
            {"really_fixed", r.really_fixed ? json(*r.really_fixed) : json(nullptr)},
            {"reopen_count", r.reopen_count},
            {"followers", r.followers.size()},
            {"photos", std::move(photos)},
            {"timeline", std::move(timeline)}};
  j["location"] = r.lat ? json{{"lat", *r.lat}, {"long", *r.lon}} : json(nullptr);
  return j;
}

json ReportService::staffView(const Report& r, const Caller& who) const {
  json j = publicView(r);
  j["attributes"] = r.attributes;
  j["channel"] = r.channel;
  j["hidden"] = r.hidden;
  j["incident_id"] = r.incident_id;
  j["sla_days"] = r.sla_days;
  j["anonymous"] = r.reporter.user_id == 0 && r.reporter.name.empty() && r.reporter.phone.empty() &&
                   r.reporter.email.empty();
  // Internal steps (who did what) are for staff; the reporter's identity never is, here.
  json timeline = json::array();
  for (const auto& u : r.updates) {
    timeline.push_back({{"update_id", std::to_string(u.seq)},
                        {"at", core::formatRfc3339(u.at_ms)},
                        {"kind", u.kind},
                        {"status", statusName(u.status)},
                        {"text", u.text},
                        {"actor", u.kind == "submitted" ? "" : u.actor},
                        {"public", u.is_public},
                        {"photos", u.photos}});
  }
  j["timeline"] = std::move(timeline);
  json photos = json::array();
  for (size_t i = 0; i < r.photos.size(); ++i) {
    photos.push_back({{"n", i + 1},
                      {"url", r.photos[i].redacted ? json(nullptr)
                                                   : json("/api/v1/reports/" + r.id + "/photos/" +
                                                          std::to_string(i + 1))},
                      {"source", r.photos[i].source},
                      {"redacted", r.photos[i].redacted}});
  }
  j["photos"] = std::move(photos);
  (void)who;
  return j;
}

bool ReportService::visible(const Report& r, const Caller& who) const {
  if (who.unit_code.empty()) return true;
  return !r.unit_code.empty() && units_.isWithin(r.unit_code, who.unit_code);
}

void ReportService::emit(const std::string& type, const Report& r, const Report* before) const {
  if (!listener_) return;
  ReportEvent e;
  e.type = type;
  e.report = publicView(r);
  e.unit_code = r.unit_code;
  e.notify_users = r.followers;
  if (r.reporter.user_id) e.notify_users.push_back(r.reporter.user_id);
  e.code = r.code;
  e.tracking = e.report;  // the status page: the public view and whether it can be rated
  e.tracking["can_rate"] = canRate(r);
  // Imported history is not news to anyone.
  e.citizen_change = r.channel != "import" && citizenVisibleChange(before, r);
  if (e.citizen_change) {
    e.email = r.reporter.email;
    e.notice = composeNotice(r, options_.public_url);
  }
  listener_(e);
}

json ReportService::trackView(const Report& r) const {
  json j = publicView(r);
  j["can_rate"] = canRate(r);
  return j;
}

core::Result<json> ReportService::track(const std::string& code) const {
  std::shared_lock lock(mu_);
  auto c = by_code_.find(code);
  if (c == by_code_.end()) return notFound("with this tracking code");
  return trackView(*by_id_.at(c->second));
}

bool ReportService::knowsCode(const std::string& code) const {
  std::shared_lock lock(mu_);
  return by_code_.count(code) > 0;
}

std::vector<json> ReportService::mine(int64_t user_id, size_t limit) const {
  std::vector<std::shared_ptr<const Report>> found;
  {
    std::shared_lock lock(mu_);
    for (const auto& r : ordered_) {
      if (!r) continue;
      const bool filed = r->reporter.user_id == user_id;
      if (!filed && r->hidden) continue;
      if (filed ||
          std::find(r->followers.begin(), r->followers.end(), user_id) != r->followers.end()) {
        found.push_back(r);
      }
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a->updated_ms > b->updated_ms; });
  if (found.size() > limit) found.resize(limit);
  std::vector<json> out;
  for (const auto& r : found) {
    const bool filed = r->reporter.user_id == user_id;
    json j = filed ? trackView(*r) : publicView(*r);
    j["relation"] = filed ? "reporter" : "follower";
    // The reporter's own code, so the app can open the tracking page and rate.
    if (filed) j["tracking_code"] = r->code;
    out.push_back(std::move(j));
  }
  return out;
}

std::shared_ptr<const Report> ReportService::findPublic(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second->hidden) return nullptr;
  return it->second;
}

std::optional<std::string> ReportService::idForToken(const std::string& token) const {
  std::shared_lock lock(mu_);
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return std::nullopt;
  return it->second;
}

core::Result<std::pair<std::string, std::string>> ReportService::photo(const std::string& id,
                                                                       size_t n) const {
  auto r = findPublic(id);
  if (!r || n == 0 || n > r->photos.size() || r->photos[n - 1].redacted) {
    return notFound(id + " photo " + std::to_string(n));
  }
  const Photo& p = r->photos[n - 1];
  std::ifstream in(fs::path(options_.photo_dir) / r->id / p.name, std::ios::binary);
  if (!in) return core::makeError(core::Errc::kNotFound, "photo file is missing");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::make_pair(bytes.str(), p.content_type);
}

std::vector<json> ReportService::duplicates(const std::string& service_code, double lat, double lon,
                                            double radius_m) const {
  std::vector<std::pair<double, json>> near;
  {
    std::shared_lock lock(mu_);
    for (const auto& r : ordered_) {
      if (!r || r->hidden || !isOpen(r->status) || r->service_code != service_code || !r->lat)
        continue;
      const double d = ngsild::geo::haversineMeters({lon, lat}, {*r->lon, *r->lat});
      if (d <= radius_m)
        near.emplace_back(d, json{{"id", r->id},
                                  {"distance_m", std::round(d)},
                                  {"description", r->description.substr(0, 200)},
                                  {"status", statusName(r->status)},
                                  {"created_at", core::formatRfc3339(r->created_ms)},
                                  {"followers", r->followers.size()}});
    }
  }
  std::sort(near.begin(), near.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json> out;
  for (size_t i = 0; i < near.size() && i < 10; ++i) out.push_back(std::move(near[i].second));
  return out;
}

std::vector<std::shared_ptr<const Report>> ReportService::queryPublic(const PublicQuery& q) const {
  std::vector<std::shared_ptr<const Report>> out;
  auto wanted = [&](const Report& r) {
    if (r.hidden) return false;
    if (!q.service_codes.empty() && std::find(q.service_codes.begin(), q.service_codes.end(),
                                              r.service_code) == q.service_codes.end()) {
      return false;
    }
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), open311Status(r)) == q.statuses.end()) {
      return false;
    }
    if (q.start_ms && r.created_ms < q.start_ms) return false;
    return !(q.end_ms && r.created_ms > q.end_ms);
  };
  std::shared_lock lock(mu_);
  if (!q.ids.empty()) {
    for (const auto& id : q.ids) {
      auto it = by_id_.find(id);
      if (it != by_id_.end() && !it->second->hidden) out.push_back(it->second);
    }
    return out;
  }
  // Newest first, as Open311 clients page back in time.
  for (auto it = ordered_.rbegin(); it != ordered_.rend() && out.size() < q.limit; ++it) {
    if (*it && wanted(**it)) out.push_back(*it);
  }
  return out;
}

std::vector<std::pair<std::shared_ptr<const Report>, Update>> ReportService::publicUpdates(
    int64_t start_ms, int64_t end_ms, size_t limit) const {
  std::vector<std::pair<std::shared_ptr<const Report>, Update>> out;
  std::shared_lock lock(mu_);
  for (const auto& r : ordered_) {
    if (!r || r->hidden || r->updated_ms < start_ms) continue;
    for (const auto& u : r->updates) {
      if (!u.is_public || u.at_ms < start_ms || (end_ms && u.at_ms > end_ms)) continue;
      out.emplace_back(r, u);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second.seq < b.second.seq; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

json ReportService::geojson(const PublicQuery& q) const {
  json features = json::array();
  for (const auto& r : queryPublic(q)) {
    if (!r->lat) continue;
    const Service* svc = catalog_.find(r->service_code);
    features.push_back({{"type", "Feature"},
                        {"id", r->id},
                        {"geometry", {{"type", "Point"}, {"coordinates", {*r->lon, *r->lat}}}},
                        {"properties",
                         {{"service_code", r->service_code},
                          {"service_name", svc ? svc->name : r->service_code},
                          {"status", statusName(r->status)},
                          {"extended_status", extendedStatus(*r)},
                          {"ward_code", r->ward_code},
                          {"created_at", core::formatRfc3339(r->created_ms)},
                          {"overdue", isOverdue(*r, clock_.nowUnixMs())}}}});
  }
  return {{"type", "FeatureCollection"}, {"features", std::move(features)}};
}

// ---------------------------------------------------------------------------------------------
// Staff reads

ReportService::Page ReportService::list(const ListQuery& q, const Caller& who) const {
  const int64_t now = clock_.nowUnixMs();
  std::vector<std::shared_ptr<const Report>> hits;
  {
    std::shared_lock lock(mu_);
    for (const auto& r : ordered_) {
      if (!r || !visible(*r, who)) continue;
      if (q.status && r->status != *q.status) continue;
      if (!q.service_code.empty() && r->service_code != q.service_code) continue;
      if (!q.agency.empty() && r->agency != q.agency) continue;
      if (!q.unit.empty() && (r->unit_code.empty() || !units_.isWithin(r->unit_code, q.unit)))
        continue;
      if (q.overdue && isOverdue(*r, now) != *q.overdue) continue;
      if (q.triage && !isOpen(r->status)) continue;
      hits.push_back(r);
    }
  }
  auto rank = [&](const Report& r) {
    if (r.status == Status::kNew) return 0;       // unclaimed
    if (isOverdue(r, now)) return 1;              // late
    return r.status == Status::kTriaged ? 2 : 3;  // not yet with an agency
  };
  if (q.triage) {
    std::stable_sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
      const int ra = rank(*a), rb = rank(*b);
      if (ra != rb) return ra < rb;
      if (a->emergency != b->emergency) return a->emergency;
      return a->created_ms < b->created_ms;
    });
  } else {
    std::reverse(hits.begin(), hits.end());  // newest first
  }
  Page page;
  page.total = hits.size();
  for (size_t i = q.offset; i < hits.size() && page.items.size() < q.limit; ++i) {
    page.items.push_back(staffView(*hits[i], who));
  }
  return page;
}

core::Result<json> ReportService::get(const std::string& id, const Caller& who) const {
  std::shared_ptr<const Report> r;
  {
    std::shared_lock lock(mu_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) r = it->second;
  }
  if (!r || !visible(*r, who)) return notFound(id);
  return staffView(*r, who);
}

core::Result<json> ReportService::reporter(const std::string& id, const Caller& who) {
  if (!who.sees_reporter) {
    return core::makeError(core::Errc::kForbidden,
                           "the reporter's identity needs reports:identity");
  }
  std::shared_ptr<const Report> r;
  {
    std::shared_lock lock(mu_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) r = it->second;
  }
  if (!r || !visible(*r, who)) return notFound(id);
  // The view is recorded before it is shown: no audit, no identity.
  auto audit = model::makeAuditEntry(who.actor, "report.reporter_view", "report:" + id, "{}",
                                     clock_.nowUnixMs());
  auto st = store_.writeSync([audit = std::move(audit)](storage::WriteTx& tx) {
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!st.ok()) return st.error();
  return json{{"id", id},
              {"anonymous", r->reporter.user_id == 0 && r->reporter.name.empty() &&
                                r->reporter.phone.empty() && r->reporter.email.empty()},
              {"user_id", r->reporter.user_id ? json(r->reporter.user_id) : json(nullptr)},
              {"name", r->reporter.name},
              {"phone", r->reporter.phone},
              {"email", r->reporter.email}};
}

// ---------------------------------------------------------------------------------------------
// Changes

core::Status ReportService::persist(const Report& r, const std::string& action,
                                    const model::Actor& actor, const json& detail) {
  model::StoredDocument doc{kReportKind, r.id, toStoredJson(r).dump(), r.updated_ms};
  auto audit = model::makeAuditEntry(actor, action, "report:" + r.id, detail.dump(), r.updated_ms);
  return store_.writeSync([doc = std::move(doc), audit = std::move(audit)](storage::WriteTx& tx) {
    if (auto st = tx.putDocument(doc); !st.ok()) return st;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
}

core::Result<json> ReportService::mutate(const std::string& id, const std::string& action,
                                         const model::Actor& actor, const Mutator& fn,
                                         const Caller* staff) {
  std::lock_guard write(write_mu_);
  std::shared_ptr<const Report> current;
  {
    std::shared_lock lock(mu_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) current = it->second;
  }
  if (!current || (staff && !visible(*current, *staff))) return notFound(id);
  Report next = *current;
  json detail = json::object();
  std::string event = "report." + action;
  if (auto st = fn(next, detail, event); !st.ok()) return st.error();
  next.updated_ms = clock_.nowUnixMs();
  if (auto st = persist(next, "report." + action, actor, detail); !st.ok()) return st.error();
  auto ptr = std::make_shared<const Report>(std::move(next));
  remember(ptr);
  if (!event.empty()) emit(event, *ptr, current.get());
  return staff ? staffView(*ptr, *staff) : publicView(*ptr);
}

core::Result<json> ReportService::rate(const std::string& code, const json& body,
                                       const model::Actor& actor) {
  std::string id;
  {
    std::shared_lock lock(mu_);
    auto it = by_code_.find(code);
    if (it == by_code_.end()) return notFound("with this tracking code");
    id = it->second;
  }
  if (!body.is_object() || !body.contains("rating") || !body["rating"].is_number_integer()) {
    return bad("rating (1–5) is required");
  }
  const int rating = body["rating"].get<int>();
  if (rating < 1 || rating > 5) return bad("rating must be 1 to 5");
  if (body.contains("fixed") && !body["fixed"].is_boolean())
    return bad("fixed must be true or false");
  auto comment = checkedText(body.value("comment", ""), kMaxReason, "comment");
  if (!comment.ok()) return comment.error();
  const bool fixed = body.value("fixed", true);
  return mutate(
      id, "rate", actor,
      [&](Report& r, json& detail, std::string& event) {
        if (!canRate(r)) {
          return core::Status(conflict("only a resolved report can be rated, once per resolution"));
        }
        r.rating = rating;
        r.really_fixed = fixed;
        detail = {{"rating", rating}, {"fixed", fixed}};
        addUpdate(r, "rated", *comment, "citizen");
        if (!fixed) {
          // "Not fixed" puts it back in the agency's hands with a fresh SLA.
          r.status = r.agency.empty() ? Status::kNew : Status::kAssigned;
          r.resolution = Resolution::kNone;
          r.resolved_ms = r.closed_ms = 0;
          r.reopen_count += 1;
          r.due_ms = dueFrom(clock_.nowUnixMs(), r.sla_days);
          addUpdate(r, "reopened", "Người dân phản hồi: chưa được khắc phục", "citizen");
          event = "report.reopened";
        } else {
          event = "report.rated";
        }
        return core::Status::success();
      },
      nullptr);
}

core::Result<json> ReportService::follow(const std::string& code, int64_t user_id,
                                         const model::Actor& actor) {
  std::string id;
  {
    std::shared_lock lock(mu_);
    auto it = by_code_.find(code);
    if (it == by_code_.end()) {
      auto by_id = by_id_.find(code);  // following someone else's report: by its public id
      if (by_id == by_id_.end() || by_id->second->hidden) return notFound(code);
      id = code;
    } else {
      id = it->second;
    }
  }
  return mutate(
      id, "follow", actor,
      [&](Report& r, json& detail, std::string& event) {
        if (std::find(r.followers.begin(), r.followers.end(), user_id) == r.followers.end()) {
          r.followers.push_back(user_id);
        }
        detail = {{"user_id", user_id}};
        event.clear();
        return core::Status::success();
      },
      nullptr);
}

}  // namespace ioc::reports
