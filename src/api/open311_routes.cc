// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2/, over the
// citizen reports service, with mySociety's servicerequestupdates and the extended attributes
// extension. Every answer, errors included, is in the format the path asks for (.json or .xml);
// errors are the spec's [{code, description}] with code = HTTP status: 404 for what does not
// exist, 403 for a bad api_key, 400 for other bad requests (413/415/429/503 where HTTP has a
// more precise word a client can act on).
//
// Everything is public (Open311 reads need no key); POST requests checks its api_key itself: a
// CityIOC API key of scope ingest or integration, so each integration is known and revocable.
#include <charconv>
#include <cmath>
#include <memory>

#include "api/api.h"
#include "api/open311_format.h"
#include "core/text.h"
#include "net/form.h"
#include "reports/service.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using open311::Doc;
using open311::Format;

namespace {

constexpr const char* kBase = "/open311/v2";
constexpr size_t kPostBody = 30 * 1024 * 1024;  //!< up to 5 photos of 5 MB, with room
constexpr size_t kSmallBody = 64 * 1024;
constexpr int64_t kDayMs = 24 * 3600 * 1000LL;
constexpr int64_t kWindowMs = 90 * kDayMs;  //!< the spec's default and widest date range
constexpr size_t kMaxRecords = 1000;        //!< the spec's default record limit

Response send(const Doc& doc, std::string_view root, Format f, status st = status::ok) {
  Response r;
  r.status = st;
  r.content_type = open311::contentType(f);
  r.body = open311::render(doc, root, f);
  return r;
}

Response fail(Format f, int code, std::string description) {
  return send(open311::errors({{code, std::move(description)}}), "errors", f,
              static_cast<status>(code));
}

int codeFor(core::Errc e) {
  switch (e) {
    case core::Errc::kNotFound:
      return 404;
    case core::Errc::kUnauthenticated:
    case core::Errc::kForbidden:
      return 403;
    case core::Errc::kPayloadTooLarge:
      return 413;
    case core::Errc::kUnsupportedMediaType:
      return 415;
    case core::Errc::kTooManyRequests:
      return 429;
    case core::Errc::kUnavailable:
      return 503;
    case core::Errc::kInternal:
      return 500;
    default:
      return 400;  // malformed, invalid, conflicting: "the request can not be fulfilled"
  }
}

Response fail(Format f, const core::Error& e) {
  const int code = codeFor(e.code);
  // Internal errors never echo their message: it may name files or SQL.
  Response r = fail(f, code, code == 500 ? "internal error" : e.message);
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

//! "http://host:port" as the client reached us (Host header; X-Forwarded-Proto from a proxy).
//! A Host with characters no host name has falls back to localhost rather than into URLs.
std::string origin(const Request& req) {
  std::string host(req.header(net::http::field::host));
  const bool sane = !host.empty() && host.size() <= 255 &&
                    host.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-:[]_") == std::string::npos;
  const bool https = req.raw["X-Forwarded-Proto"] == "https";
  return std::string(https ? "https://" : "http://") + (sane ? host : "localhost");
}

//! The query string's fields, strictly decoded.
core::Result<net::FormFields> queryFields(const Request& req) {
  auto fields = net::parseUrlEncoded(req.query, 64);
  if (!fields.ok()) return core::makeError(core::Errc::kMalformedInput, "bad query string");
  for (const auto& [k, v] : *fields) {
    if (!core::isValidUtf8(k) || !core::isValidUtf8(v)) {
      return core::makeError(core::Errc::kMalformedInput, "query string is not UTF-8");
    }
  }
  return fields;
}

//! A field's value, with "optional argument" semantics: empty is the same as absent.
std::optional<std::string> field(const net::FormFields& fields, std::string_view name) {
  const std::string* v = net::findField(fields, name);
  if (!v || v->empty()) return std::nullopt;
  return *v;
}

//! Every value of a comma list, over all occurrences of the field.
std::vector<std::string> commaList(const net::FormFields& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields) {
    if (k != name) continue;
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = std::min(v.find(',', start), v.size());
      std::string item = v.substr(start, comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) out.push_back(std::move(item));
      start = comma + 1;
    }
  }
  return out;
}

//! jurisdiction_id is optional (one jurisdiction), but a wrong one is "not found".
std::optional<Response> wrongJurisdiction(const reports::ReportService& reports,
                                          const net::FormFields& fields, Format f) {
  auto given = field(fields, "jurisdiction_id");
  if (!given || *given == reports.catalog().jurisdiction()) return std::nullopt;
  return fail(f, 404,
              "jurisdiction_id " + *given + " not found: this endpoint serves " +
                  reports.catalog().jurisdiction());
}

//! The shared start of every handler: the service is there, the query parses, the
//! jurisdiction is ours. On failure, the answer to send.
struct Prelude {
  reports::ReportService* reports = nullptr;
  net::FormFields query;
  std::optional<Response> error;
};

Prelude prelude(const ApiServices& s, const Request& req, Format f) {
  Prelude p;
  if (!s.reports) {
    p.error = fail(f, 503, "citizen reports are not enabled on this server");
    return p;
  }
  p.reports = s.reports;
  auto query = queryFields(req);
  if (!query.ok()) {
    p.error = fail(f, query.error());
    return p;
  }
  p.query = std::move(*query);
  p.error = wrongJurisdiction(*s.reports, p.query, f);
  return p;
}

bool wantsEnglish(const net::FormFields& q) {
  auto locale = field(q, "locale");
  return locale && locale->rfind("en", 0) == 0;
}

bool wantsExtensions(const net::FormFields& q) {
  auto ext = field(q, "extensions");
  return ext && *ext == "true";
}

// ---- discovery, services

Response discoveryDoc(const ApiServices& s, const Request& req, Format f) {
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  // Sortable; a restart may bring a new catalog, so clients refresh what they cached.
  static const std::string changeset = open311::formatW3c(s.clock->nowUnixMs());
  open311::DiscoveryInfo info;
  info.base_url = origin(req) + kBase;
  info.changeset = changeset;
  info.contact = "Trung tâm Giám sát, điều hành đô thị thông minh (IOC) — " +
                 p.reports->catalog().jurisdiction() +
                 " / the city's Intelligent Operations Center";
  info.key_service =
      "Khóa API do quản trị viên IOC cấp (phạm vi ingest hoặc integration) / API keys (scope "
      "ingest or integration) are issued by the IOC's administrators: cityioc key add";
  return send(open311::discovery(info), "discovery", f);
}

Response servicesDoc(const ApiServices& s, const Request& req, Format f) {
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  return send(open311::services(p.reports->catalog(), wantsEnglish(p.query)), "services", f);
}

Response serviceDefinitionDoc(const ApiServices& s, const Request& req) {
  auto file = open311::splitFormat(req.param("file"));
  const Format f = file ? file->second : Format::kJson;
  if (!file) return fail(f, 404, "unknown format: use .json or .xml");
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  const reports::Service* service = p.reports->catalog().find(file->first);
  if (!service) return fail(f, 404, "service_code " + file->first + " not found");
  if (!service->handled) {
    return fail(f, 404,
                "service_code " + file->first + " is not handled here: " + service->redirect);
  }
  return send(open311::serviceDefinition(*service, wantsEnglish(p.query)), "service_definition", f);
}

// ---- GET requests, request, token, updates

//! start_date/end_date with the spec's rules: default the most recent 90 days, never more.
struct Window {
  int64_t start_ms = 0, end_ms = 0;
};

core::Result<Window> dateWindow(const net::FormFields& q, int64_t now) {
  std::optional<int64_t> start, end;
  if (auto v = field(q, "start_date")) {
    auto t = open311::parseW3c(*v);
    if (!t.ok())
      return core::makeError(core::Errc::kMalformedInput, "start_date: " + t.error().message);
    start = *t;
  }
  if (auto v = field(q, "end_date")) {
    auto t = open311::parseW3c(*v);
    if (!t.ok())
      return core::makeError(core::Errc::kMalformedInput, "end_date: " + t.error().message);
    end = *t;
  }
  Window w;
  w.end_ms = end ? *end : start ? *start + kWindowMs : now;
  w.start_ms = start ? *start : w.end_ms - kWindowMs;
  if (w.start_ms > w.end_ms) {
    return core::makeError(core::Errc::kMalformedInput, "start_date is after end_date");
  }
  if (w.end_ms - w.start_ms > kWindowMs) {
    return core::makeError(core::Errc::kMalformedInput,
                           "start_date to end_date may not span more than 90 days");
  }
  return w;
}

Response requestsDoc(const ApiServices& s, const Request& req, Format f) {
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  reports::ReportService::PublicQuery q;
  q.limit = kMaxRecords;
  q.ids = commaList(p.query, "service_request_id");
  if (q.ids.empty()) {  // service_request_id overrides every other argument
    q.service_codes = commaList(p.query, "service_code");
    q.statuses = commaList(p.query, "status");
    for (const auto& st : q.statuses) {
      if (st != "open" && st != "closed") return fail(f, 400, "status must be open or closed");
    }
    auto window = dateWindow(p.query, s.clock->nowUnixMs());
    if (!window.ok()) return fail(f, window.error());
    q.start_ms = window->start_ms;
    q.end_ms = window->end_ms;
  } else if (q.ids.size() > kMaxRecords) {
    return fail(f, 400, "at most 1000 service_request_id values");
  }
  const open311::ViewOptions view{origin(req), wantsExtensions(p.query)};
  return send(open311::requests(p.reports->queryPublic(q), p.reports->catalog(), view),
              "service_requests", f);
}

Response requestDoc(const ApiServices& s, const Request& req) {
  auto file = open311::splitFormat(req.param("file"));
  const Format f = file ? file->second : Format::kJson;
  if (!file) return fail(f, 404, "unknown format: use .json or .xml");
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  auto report = p.reports->findPublic(file->first);
  if (!report || report->hidden) {
    return fail(f, 404, "service_request_id " + file->first + " not found");
  }
  const open311::ViewOptions view{origin(req), wantsExtensions(p.query)};
  return send(open311::requests({report}, p.reports->catalog(), view), "service_requests", f);
}

Response tokenDoc(const ApiServices& s, const Request& req) {
  auto file = open311::splitFormat(req.param("file"));
  const Format f = file ? file->second : Format::kJson;
  if (!file) return fail(f, 404, "unknown format: use .json or .xml");
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  auto id = p.reports->idForToken(file->first);
  auto report = id ? p.reports->findPublic(*id) : nullptr;
  if (!report || report->hidden) return fail(f, 404, "token " + file->first + " not found");
  Doc out = Doc::array();
  out.push_back({{"service_request_id", *id}, {"token", file->first}});
  return send(out, "service_requests", f);
}

Response updatesDoc(const ApiServices& s, const Request& req, Format f) {
  auto p = prelude(s, req, f);
  if (p.error) return *p.error;
  auto window = dateWindow(p.query, s.clock->nowUnixMs());
  if (!window.ok()) return fail(f, window.error());
  const open311::ViewOptions view{origin(req), false};
  auto list = p.reports->publicUpdates(window->start_ms, window->end_ms, kMaxRecords);
  return send(open311::updates(list, view), "service_request_updates", f);
}

//! GET /open311/v2/{file}: a resource or format this server does not have.
Response unknownResource(const Request& req) {
  auto file = open311::splitFormat(req.param("file"));
  return fail(file ? file->second : Format::kJson, 404,
              "no such Open311 resource: " + std::string(req.param("file")));
}

// ---- POST requests

//! The form as fields plus uploads (multipart parts named media), query fields added where
//! the body has none (some clients send api_key and jurisdiction_id in the URL).
struct PostForm {
  net::FormFields fields;
  std::vector<reports::Upload> media;
};

core::Result<PostForm> readForm(const Request& req, const net::FormFields& query) {
  std::string type(req.header(net::http::field::content_type));
  std::string media_type = type.substr(0, type.find(';'));
  for (char& c : media_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  PostForm form;
  if (media_type == "application/x-www-form-urlencoded") {
    auto fields = net::parseUrlEncoded(req.raw.body());
    if (!fields.ok()) return fields.error();
    form.fields = std::move(*fields);
  } else if (media_type == "multipart/form-data") {
    auto parts = net::parseMultipart(type, req.raw.body());
    if (!parts.ok()) return parts.error();
    for (auto& part : *parts) {
      if (part.name == "media" || part.name == "media[]") {
        form.media.push_back({std::move(part.data), std::move(part.filename)});
      } else if (!part.filename.empty()) {
        return core::makeError(core::Errc::kMalformedInput,
                               "unexpected file in field " + part.name + " (send photos as media)");
      } else {
        form.fields.emplace_back(std::move(part.name), std::move(part.data));
      }
    }
  } else {
    return core::makeError(core::Errc::kUnsupportedMediaType,
                           "send application/x-www-form-urlencoded or multipart/form-data");
  }
  for (const auto& [k, v] : query) {
    if (!net::findField(form.fields, k)) form.fields.emplace_back(k, v);
  }
  for (const auto& [k, v] : form.fields) {
    if (!core::isValidUtf8(k) || !core::isValidUtf8(v)) {
      return core::makeError(core::Errc::kMalformedInput, "field " + k + " is not UTF-8");
    }
  }
  return form;
}

//! The key must be a CityIOC API key of scope ingest or integration.
core::Result<Principal> checkApiKey(const ApiServices& s, const net::FormFields& fields) {
  auto key = field(fields, "api_key");
  if (!key) return core::makeError(core::Errc::kForbidden, "api_key is required");
  if (key->size() > 256) return core::makeError(core::Errc::kForbidden, "invalid api_key");
  auto who = s.auth->authenticate(*key);
  if (!who.ok()) {
    if (who.error().code == core::Errc::kTooManyRequests) return who.error();
    return core::makeError(core::Errc::kForbidden, "invalid api_key");
  }
  const bool key_scope =
      who->kind == Principal::Kind::kApiKey && who->scope &&
      (*who->scope == model::KeyScope::kIngest || *who->scope == model::KeyScope::kIntegration);
  if (!key_scope) {
    return core::makeError(core::Errc::kForbidden,
                           "api_key must be an API key of scope ingest or integration");
  }
  return who;
}

core::Result<double> coordinate(const std::string& text, const char* name, double limit) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v) || std::fabs(v) > limit) {
    return core::makeError(core::Errc::kMalformedInput,
                           std::string(name) + " must be a WGS84 number within ±" +
                               std::to_string(static_cast<int>(limit)));
  }
  return v;
}

//! lat & long, or address_string (address_id alone: we keep no address register).
core::Status readLocation(const net::FormFields& fields, reports::Submission& sub) {
  auto lat = field(fields, "lat");
  auto lon = field(fields, "long");
  if (lat.has_value() != lon.has_value()) {
    return core::makeError(core::Errc::kMalformedInput, "lat and long must be sent together");
  }
  if (lat) {
    auto la = coordinate(*lat, "lat", 90);
    if (!la.ok()) return la.error();
    auto lo = coordinate(*lon, "long", 180);
    if (!lo.ok()) return lo.error();
    sub.lat = *la;
    sub.lon = *lo;
  }
  if (auto address = field(fields, "address_string")) sub.address = *address;
  if (!sub.lat && sub.address.empty()) {
    return core::makeError(core::Errc::kMalformedInput,
                           field(fields, "address_id")
                               ? "address_id is not known here: send lat and long or address_string"
                               : "a location is required: lat and long, or address_string");
  }
  return core::Status::success();
}

//! attribute[code]=value; attribute[code][]=value for each value of a multivaluelist.
core::Status readAttributes(const net::FormFields& fields, ioc::Json& out) {
  constexpr std::string_view kPrefix = "attribute[";
  for (const auto& [k, v] : fields) {
    if (k.rfind(kPrefix, 0) != 0) continue;
    const size_t close = k.find(']', kPrefix.size());
    const std::string code = k.substr(kPrefix.size(), close - kPrefix.size());
    const std::string_view rest =
        close == std::string::npos ? "" : std::string_view(k).substr(close + 1);
    if (close == std::string::npos || code.empty() || (!rest.empty() && rest != "[]")) {
      return core::makeError(core::Errc::kMalformedInput, "bad attribute field " + k);
    }
    if (rest == "[]") {
      if (out.contains(code) && !out[code].is_array()) {
        return core::makeError(core::Errc::kMalformedInput, "attribute " + code + " sent twice");
      }
      out[code].push_back(v);
    } else if (out.contains(code)) {
      return core::makeError(core::Errc::kMalformedInput, "attribute " + code + " sent twice");
    } else {
      out[code] = v;
    }
  }
  return core::Status::success();
}

//! Everything but the key and the service: the submission as the reports service takes it.
core::Result<reports::Submission> readSubmission(PostForm& form, const Principal& key,
                                                 const Request& req) {
  reports::Submission sub;
  sub.channel = "open311";
  sub.service_code = *field(form.fields, "service_code");
  if (auto st = readLocation(form.fields, sub); !st.ok()) return st.error();
  if (auto st = readAttributes(form.fields, sub.attributes); !st.ok()) return st.error();
  if (auto d = field(form.fields, "description")) sub.description = *d;
  for (const auto& [k, v] : form.fields) {
    if (k == "media_url" && !v.empty()) sub.media_urls.push_back(v);
  }
  sub.photos = std::move(form.media);
  sub.unit_code = key.unit_code;  // where the integration belongs, when the location has no ward
  sub.reporter.ip = req.client_ip;
  if (auto e = field(form.fields, "email")) sub.reporter.email = *e;
  if (auto ph = field(form.fields, "phone")) sub.reporter.phone = *ph;
  std::string name = field(form.fields, "first_name").value_or("");
  if (auto last = field(form.fields, "last_name")) name += (name.empty() ? "" : " ") + *last;
  sub.reporter.name = std::move(name);
  return sub;
}

void postRequest(const ApiServices& s, net::RequestPtr req, Format f, net::Responder out) {
  auto p = prelude(s, *req, f);
  if (p.error) return out.send(std::move(*p.error));
  auto form = readForm(*req, p.query);
  if (!form.ok()) return out.send(fail(f, form.error()));
  if (auto wrong = wrongJurisdiction(*p.reports, form->fields, f))
    return out.send(std::move(*wrong));
  auto key = checkApiKey(s, form->fields);
  if (!key.ok()) return out.send(fail(f, key.error()));
  auto code = field(form->fields, "service_code");
  if (!code) return out.send(fail(f, 400, "service_code is required"));
  const reports::Service* service = p.reports->catalog().find(*code);
  if (!service) return out.send(fail(f, 404, "service_code " + *code + " not found"));
  if (!service->handled) {
    return out.send(
        fail(f, 400, "service_code " + *code + " is not handled here: " + service->redirect));
  }
  auto sub = readSubmission(*form, *key, *req);
  if (!sub.ok()) return out.send(fail(f, sub.error()));
  const std::string notice = open311::serviceNotice(p.reports->catalog(), *service);
  // The answer goes out from the store's thread once the report is durable.
  auto responder = std::make_shared<net::Responder>(std::move(out));
  p.reports->submit(std::move(*sub), [responder, f, notice](
                                         core::Result<reports::ReportService::Receipt> receipt) {
    if (!receipt.ok()) return responder->send(fail(f, receipt.error()));
    // A realtime service: the id, never a token (the spec: one or the other).
    Doc doc = Doc::array();
    doc.push_back({{"service_request_id", receipt->id}, {"service_notice", notice}});
    responder->send(send(doc, "service_requests", f, status::created));
  });
}

void addFormatPair(Api& api, const ApiServices* s, const std::string& name, Exec exec,
                   const std::string& summary,
                   Response (*fn)(const ApiServices&, const Request&, Format)) {
  for (Format f : {Format::kJson, Format::kXml}) {
    const std::string ext = f == Format::kJson ? ".json" : ".xml";
    api.add({verb::get, std::string(kBase) + "/" + name + ext, Permission::kPublic, exec,
             kSmallBody, summary},
            [s, f, fn](const Request& r, const Principal*) { return fn(*s, r, f); });
  }
}

}  // namespace

void addOpen311Routes(Api& api) {
  const ApiServices* s = &api.services();
  const std::string base = kBase;
  addFormatPair(api, s, "discovery", Exec::kInline, "Open311: service discovery", discoveryDoc);
  addFormatPair(api, s, "services", Exec::kInline, "Open311: service list (locale=en)",
                servicesDoc);
  addFormatPair(api, s, "requests", Exec::kWorker,
                "Open311: service requests (service_request_id, service_code, status, "
                "start_date, end_date; 90 days and 1,000 by default; extensions=true)",
                requestsDoc);
  addFormatPair(api, s, "servicerequestupdates", Exec::kWorker,
                "Open311 (mySociety): public updates (start_date, end_date)", updatesDoc);
  for (Format f : {Format::kJson, Format::kXml}) {
    const std::string ext = f == Format::kJson ? ".json" : ".xml";
    api.addAsync(
        {verb::post, base + "/requests" + ext, Permission::kPublic, Exec::kWorker, kPostBody,
         "Open311: submit a service request (api_key; form or multipart with media)"},
        [s, f](net::RequestPtr r, const Principal*, net::Responder out) {
          postRequest(*s, std::move(r), f, std::move(out));
        });
  }
  api.add({verb::get, base + "/services/{file}", Permission::kPublic, Exec::kInline, kSmallBody,
           "Open311: service definition ({service_code}.json|.xml)"},
          [s](const Request& r, const Principal*) { return serviceDefinitionDoc(*s, r); });
  api.add({verb::get, base + "/requests/{file}", Permission::kPublic, Exec::kInline, kSmallBody,
           "Open311: one service request ({service_request_id}.json|.xml)"},
          [s](const Request& r, const Principal*) { return requestDoc(*s, r); });
  api.add({verb::get, base + "/tokens/{file}", Permission::kPublic, Exec::kInline, kSmallBody,
           "Open311: service_request_id from a token ({token}.json|.xml)"},
          [s](const Request& r, const Principal*) { return tokenDoc(*s, r); });
  api.add({verb::get, base + "/{file}", Permission::kPublic, Exec::kInline, kSmallBody,
           "Open311: unknown resources and formats (an Open311 404)"},
          [](const Request& r, const Principal*) { return unknownResource(r); });
}

}  // namespace ioc::api
