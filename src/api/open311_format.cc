// Open311 GeoReport v2 documents. Field names and order follow the spec's examples; XML is the
// spec's required format, so both forms come from one ordered JSON document.
#include "api/open311_format.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>

#include "core/text.h"

namespace ioc::api::open311 {

using json = ioc::Json;

namespace {

constexpr int64_t kVietnamOffsetMs = 7 * 3600 * 1000;  // UTC+7 all year (no daylight saving)

//! Spark convention: the element of each item of an array, by the array's element name.
std::string_view itemName(std::string_view array) {
  static const std::map<std::string_view, std::string_view> kItems = {
      {"services", "service"},     {"service_requests", "request"},
      {"attributes", "attribute"}, {"values", "value"},
      {"errors", "error"},         {"endpoints", "endpoint"},
      {"formats", "format"},       {"service_request_updates", "request_update"},
      {"photos", "photo"},         {"notes", "note"},
  };
  auto it = kItems.find(array);
  return it == kItems.end() ? std::string_view("item") : it->second;
}

void writeXml(std::string& out, std::string_view name, const Doc& v, int depth);

void writeChildren(std::string& out, std::string_view name, const Doc& v, int depth) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) writeXml(out, k, child, depth + 1);
  } else {
    const std::string_view item = itemName(name);
    for (const auto& child : v) writeXml(out, item, child, depth + 1);
  }
}

void writeXml(std::string& out, std::string_view name, const Doc& v, int depth) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
  out += '<';
  out += name;
  if (v.is_null() || ((v.is_object() || v.is_array()) && v.empty())) {
    out += "/>\n";
    return;
  }
  out += '>';
  if (v.is_object() || v.is_array()) {
    out += '\n';
    writeChildren(out, name, v, depth);
    out.append(static_cast<size_t>(depth) * 2, ' ');
  } else if (v.is_string()) {
    out += core::xmlEscape(v.get_ref<const std::string&>());
  } else {
    out += v.dump();  // numbers, true/false
  }
  out += "</";
  out += name;
  out += ">\n";
}

//! Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if invalid (RFC 3629).
//! Reads `n` digits at s[pos]; false if they are not all there.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

core::Error badDate(std::string_view text) {
  return core::makeError(
      core::Errc::kMalformedInput,
      "not a W3C date-time (e.g. 2026-01-05T08:30:00+07:00): " + std::string(text.substr(0, 64)));
}

//! "Z", "±hh:mm" (or " hh:mm": an unencoded '+'), or nothing (Vietnam time); the offset in ms.
core::Result<int64_t> zoneOffset(std::string_view zone, std::string_view text) {
  if (zone.empty()) return kVietnamOffsetMs;
  if (zone == "Z" || zone == "z") return int64_t{0};
  int hh, mm;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-' && zone[0] != ' ') ||
      !digits(zone, 1, 2, hh) || zone[3] != ':' || !digits(zone, 4, 2, mm) || hh > 23 || mm > 59) {
    return badDate(text);
  }
  const int64_t ms = (hh * 60 + mm) * 60'000LL;
  return zone[0] == '-' ? -ms : ms;
}

//! "hh:mm[:ss[.s…]]" at the start of `t`; advances `t` past it. Milliseconds into the day.
core::Result<int64_t> timeOfDay(std::string_view& t, std::string_view text) {
  int h, mi, sec = 0;
  if (!digits(t, 0, 2, h) || t.size() < 5 || t[2] != ':' || !digits(t, 3, 2, mi) || h > 23 ||
      mi > 59) {
    return badDate(text);
  }
  t.remove_prefix(5);
  int64_t ms = 0;
  if (!t.empty() && t[0] == ':') {
    if (!digits(t, 1, 2, sec) || sec > 59) return badDate(text);
    t.remove_prefix(3);
    if (!t.empty() && t[0] == '.') {
      size_t n = 1;
      int64_t scale = 100;
      for (; n < t.size() && t[n] >= '0' && t[n] <= '9'; ++n, scale /= 10)
        ms += (t[n] - '0') * scale;
      if (n == 1) return badDate(text);
      t.remove_prefix(n);
    }
  }
  return ((h * 60 + mi) * 60 + sec) * 1000LL + ms;
}

std::string serviceName(const reports::Catalog& catalog, const std::string& code) {
  const reports::Service* s = catalog.find(code);
  return s ? s->name : code;
}

//! What the city says about the report now: the agency's answer once resolved, else the
//! latest public update that has text.
std::string statusNotes(const reports::Report& r) {
  if (!reports::isOpen(r.status) && !r.agency_answer.empty()) return r.agency_answer;
  for (auto it = r.updates.rbegin(); it != r.updates.rend(); ++it) {
    if (it->is_public && !it->text.empty()) return it->text;
  }
  return "";
}

//! The first photo (1-based) among `numbers` that may be shown, or 0.
size_t firstVisiblePhoto(const reports::Report& r, const std::vector<size_t>& numbers) {
  for (size_t n : numbers) {
    if (n >= 1 && n <= r.photos.size() && !r.photos[n - 1].redacted) return n;
  }
  return 0;
}

size_t firstVisiblePhoto(const reports::Report& r) {
  for (size_t i = 0; i < r.photos.size(); ++i) {
    if (!r.photos[i].redacted) return i + 1;
  }
  return 0;
}

//! The media_url values an Open311 client sent (kept by the service among the attributes).
constexpr const char* kMediaUrls = "media_urls";

std::string givenMediaUrl(const reports::Report& r) {
  auto it = r.attributes.find(kMediaUrls);
  if (it == r.attributes.end() || !it->is_array() || it->empty() || !(*it)[0].is_string())
    return "";
  return (*it)[0].get<std::string>();
}

Doc answers(const json& attributes) {
  Doc out = Doc::array();
  for (const auto& [code, value] : attributes.items()) {
    if (code == kMediaUrls) continue;
    Doc a = {{"code", code}};
    if (value.is_array()) {
      a["values"] = Doc::array();
      for (const auto& v : value)
        a["values"].push_back(v.is_string() ? v.get<std::string>() : v.dump());
    } else {
      a["value"] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    out.push_back(std::move(a));
  }
  return out;
}

//! extended_attributes and notes, as Chicago, Boston and San Francisco publish them
//! (GeoReport v2 Extensions: "extended attributes", "update history").
void addExtensions(Doc& out, const reports::Report& r, const ViewOptions& o) {
  Doc ext = {{"extended_status", extendedStatus(r)},
             {"resolution", resolutionName(r.resolution)},
             {"channel", r.channel},
             {"ward_code", r.ward_code},
             {"sla_working_days", r.sla_days},
             {"reopen_count", r.reopen_count}};
  if (!r.duplicate_of.empty()) ext["duplicate_of"] = r.duplicate_of;
  ext["attributes"] = answers(r.attributes);
  ext["photos"] = Doc::array();
  for (size_t i = 0; i < r.photos.size(); ++i) {
    if (r.photos[i].redacted) continue;
    ext["photos"].push_back({{"media_url", photoUrl(o.base_url, r.id, i + 1)},
                             {"title", r.photos[i].source},
                             {"created_at", formatW3c(r.photos[i].at_ms)}});
  }
  out["extended_attributes"] = std::move(ext);
  Doc notes = Doc::array();
  for (const auto& u : r.updates) {
    if (!u.is_public) continue;
    notes.push_back({{"datetime", formatW3c(u.at_ms)},
                     {"type", u.kind},
                     {"status", updateStatus(u, r.resolution)},
                     {"description", u.text}});
  }
  out["notes"] = std::move(notes);
}

}  // namespace

std::optional<std::pair<std::string, Format>> splitFormat(std::string_view file) {
  const size_t dot = file.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const std::string_view ext = file.substr(dot + 1);
  std::string name(file.substr(0, dot));
  if (ext == "json") return std::pair{std::move(name), Format::kJson};
  if (ext == "xml") return std::pair{std::move(name), Format::kXml};
  return std::nullopt;
}

const char* contentType(Format f) {
  return f == Format::kJson ? "application/json; charset=utf-8" : "text/xml; charset=utf-8";
}

std::string render(const Doc& doc, std::string_view root, Format f) {
  if (f == Format::kJson) return doc.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  writeXml(out, root, doc, 0);
  return out;
}

std::string formatW3c(int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds(unix_ms + kVietnamOffsetMs)};
  const sys_days day = floor<days>(local);
  const year_month_day ymd(day);
  const hh_mm_ss hms(floor<seconds>(local - day));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+07:00",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

core::Result<int64_t> parseW3c(std::string_view text) {
  using namespace std::chrono;
  int y, mo, d;
  if (text.size() < 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d)) {
    return badDate(text);
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return badDate(text);
  const int64_t midnight_ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  std::string_view rest = text.substr(10);
  int64_t time_ms = 0;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != 't') return badDate(text);
    rest.remove_prefix(1);
    auto t = timeOfDay(rest, text);
    if (!t.ok()) return t.error();
    time_ms = *t;
  }
  auto offset = zoneOffset(rest, text);
  if (!offset.ok()) return offset.error();
  return midnight_ms + time_ms - *offset;
}

Doc errors(const std::vector<Error>& list) {
  Doc out = Doc::array();
  for (const auto& e : list) out.push_back({{"code", e.code}, {"description", e.description}});
  return out;
}

Doc discovery(const DiscoveryInfo& info) {
  Doc endpoint = {{"specification", "http://wiki.open311.org/GeoReport_v2"},
                  {"url", info.base_url},
                  {"changeset", info.changeset},
                  {"type", "production"},
                  {"formats", {"text/xml", "application/json"}}};
  return {{"changeset", info.changeset},
          {"contact", info.contact},
          {"key_service", info.key_service},
          {"endpoints", Doc::array({std::move(endpoint)})}};
}

Doc services(const reports::Catalog& catalog, bool english) {
  Doc out = Doc::array();
  for (const auto& s : catalog.services()) {
    if (!s.handled) continue;
    std::string keywords;
    for (const auto& k : s.keywords) keywords += (keywords.empty() ? "" : ", ") + k;
    out.push_back(
        {{"service_code", s.code},
         {"service_name", english && !s.name_en.empty() ? s.name_en : s.name},
         {"description", english && !s.description_en.empty() ? s.description_en : s.description},
         {"metadata", !s.questions.empty()},
         {"type", "realtime"},  // the id is known once the report is durable
         {"keywords", keywords},
         {"group", s.group}});
  }
  return out;
}

Doc serviceDefinition(const reports::Service& service, bool english) {
  Doc attributes = Doc::array();
  for (const auto& q : service.questions) {
    Doc a = {
        {"variable", q.variable},
        {"code", q.code},
        {"datatype", q.datatype},
        {"required", q.required},
        {"datatype_description", q.datatype == "datetime"
                                     ? "ISO 8601, e.g. 2026-01-05T08:30:00+07:00"
                                 : q.datatype == "number" ? "a number, e.g. 12.5"
                                                          : ""},
        {"order", q.order},
        {"description", english && !q.description_en.empty() ? q.description_en : q.description}};
    if (q.datatype == "singlevaluelist" || q.datatype == "multivaluelist") {
      a["values"] = Doc::array();
      for (const auto& [key, name] : q.values)
        a["values"].push_back({{"key", key}, {"name", name}});
    }
    attributes.push_back(std::move(a));
  }
  return {{"service_code", service.code}, {"attributes", std::move(attributes)}};
}

std::string serviceNotice(const reports::Catalog& catalog, const reports::Service& service) {
  const int days = catalog.workingDays(service.sla_tier);
  if (days <= 0) return "";
  return "Cơ quan chức năng xử lý trong " + std::to_string(days) +
         " ngày làm việc (to be resolved within " + std::to_string(days) + " working day" +
         (days == 1 ? "" : "s") + ").";
}

std::string photoUrl(const std::string& base_url, const std::string& id, size_t n) {
  std::string escaped;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      escaped += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      escaped += buf;
    }
  }
  return base_url + "/api/v1/reports/" + escaped + "/photos/" + std::to_string(n);
}

Doc request(const reports::Report& r, const reports::Catalog& catalog, const ViewOptions& o) {
  const reports::Service* service = catalog.find(r.service_code);
  Doc out = {{"service_request_id", r.id},
             {"status", open311Status(r)},
             {"status_notes", statusNotes(r)},
             {"service_name", serviceName(catalog, r.service_code)},
             {"service_code", r.service_code},
             {"description", r.description},
             {"agency_responsible", r.agency},
             {"service_notice", service ? serviceNotice(catalog, *service) : ""},
             {"requested_datetime", formatW3c(r.created_ms)},
             {"updated_datetime", formatW3c(r.updated_ms)}};
  if (r.due_ms > 0) out["expected_datetime"] = formatW3c(r.due_ms);
  out["address"] = r.address;
  if (r.lat && r.lon) {
    out["lat"] = *r.lat;
    out["long"] = *r.lon;
  }
  const size_t photo = firstVisiblePhoto(r);
  out["media_url"] = photo > 0 ? photoUrl(o.base_url, r.id, photo) : givenMediaUrl(r);
  if (o.extensions) addExtensions(out, r, o);
  return out;
}

Doc requests(const std::vector<std::shared_ptr<const reports::Report>>& list,
             const reports::Catalog& catalog, const ViewOptions& o) {
  Doc out = Doc::array();
  for (const auto& r : list) {
    if (r && !r->hidden) out.push_back(request(*r, catalog, o));
  }
  return out;
}

std::string updateStatus(const reports::Update& u, reports::Resolution resolution) {
  std::string s = extendedStatus(u, resolution);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // mySociety's vocabulary (open311-adapter, status_extended) says "reopen".
  return s == "reopened" ? "reopen" : s;
}

Doc updates(
    const std::vector<std::pair<std::shared_ptr<const reports::Report>, reports::Update>>& list,
    const ViewOptions& o) {
  Doc out = Doc::array();
  for (const auto& [r, u] : list) {
    if (!r || r->hidden || !u.is_public) continue;
    const size_t photo = firstVisiblePhoto(*r, u.photos);
    out.push_back({{"update_id", std::to_string(u.seq)},
                   {"service_request_id", r->id},
                   {"status", updateStatus(u, r->resolution)},
                   {"updated_datetime", formatW3c(u.at_ms)},
                   {"description", u.text},
                   {"media_url", photo > 0 ? photoUrl(o.base_url, r->id, photo) : ""},
                   {"external_status_code", u.kind}});
  }
  return out;
}

}  // namespace ioc::api::open311
