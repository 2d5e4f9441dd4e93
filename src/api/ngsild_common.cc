// Pieces of the NGSI-LD API shared by its route files (entities, temporal, subscriptions).
#include "api/ngsild_common.h"

#include <cstring>

#include "api/api.h"
#include "api/json_body.h"

namespace ioc::api {

using auth::Principal;
using context::TermMap;
using net::Request;
using net::Response;
using net::http::status;
using json = ioc::Json;

namespace {
constexpr const char* kErrors = "https://uri.etsi.org/ngsi-ld/errors/";
}  // namespace

//! NGSI-LD ProblemDetails. Messages may start with the NGSI-LD error name ("AlreadyExists: …").
Response ldError(status st, std::string type, std::string detail, const Request& req) {
  static const char* kKnown[] = {"BadRequestData",        "InvalidRequest",        "AlreadyExists",
                                 "ResourceNotFound",      "OperationNotSupported", "TooManyResults",
                                 "LdContextNotAvailable", "InvalidContext",        "InternalError"};
  for (const char* k : kKnown) {
    std::string prefix = std::string(k) + ": ";
    if (detail.rfind(prefix, 0) == 0) {
      type = k == std::string("InvalidContext") ? "BadRequestData" : k;
      detail = detail.substr(prefix.size());
      break;
    }
  }
  json body = {{"type", kErrors + type}, {"title", type},        {"status", static_cast<int>(st)},
               {"detail", detail},       {"instance", req.path}, {"request_id", req.request_id}};
  Response r = jsonResponse(body, st);
  r.content_type = "application/json";
  return r;
}

Response ldError(const core::Error& e, const Request& req) {
  switch (e.code) {
    case core::Errc::kNotFound:
      return ldError(status::not_found, "ResourceNotFound", e.message, req);
    case core::Errc::kAlreadyExists:
    case core::Errc::kConflict:
      return ldError(status::conflict, "AlreadyExists", e.message, req);
    case core::Errc::kMalformedInput:
      return ldError(status::bad_request, "InvalidRequest", e.message, req);
    case core::Errc::kInvalidArgument:
      return ldError(status::bad_request, "BadRequestData", e.message, req);
    case core::Errc::kUnsupportedMediaType:
      return ldError(status::unsupported_media_type, "InvalidRequest", e.message, req);
    case core::Errc::kUnavailable:
      return ldError(status::service_unavailable, "LdContextNotAvailable", e.message, req);
    case core::Errc::kForbidden:
      return ldError(status::forbidden, "OperationNotSupported", e.message, req);
    default:
      return ldError(status::internal_server_error, "InternalError", "", req);
  }
}

context::Visibility visibility(const Principal& who) {
  return context::Visibility{who.unit_code};
}

std::string lowerMediaType(std::string_view header) {
  std::string base(header.substr(0, header.find(';')));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base;
}

//! The request's @context: from the body (application/ld+json) or the Link header.
core::Result<std::shared_ptr<const TermMap>> requestTerms(const ApiServices& s, const Request& req,
                                                          const json* body) {
  const std::string type = lowerMediaType(req.header(net::http::field::content_type));
  if (body && type == "application/ld+json") {
    const json* obj = body->is_array() ? (body->empty() ? nullptr : &(*body)[0]) : body;
    if (!obj || !obj->is_object() || !obj->contains("@context")) {
      return core::makeError(core::Errc::kInvalidArgument,
                             "BadRequestData: application/ld+json bodies must carry @context");
    }
    return s.contexts->resolve((*obj)["@context"]);
  }
  if (body && body->is_object() && body->contains("@context")) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "BadRequestData: @context in an application/json body; use "
                           "application/ld+json or a Link header");
  }
  return s.contexts->resolveLink(req.header(net::http::field::link));
}

//! Parses a JSON body (object or array) after checking the media type.
core::Result<json> ldBody(const Request& req, bool array) {
  const std::string type = lowerMediaType(req.header(net::http::field::content_type));
  if (type != "application/json" && type != "application/ld+json") {
    return core::makeError(core::Errc::kUnsupportedMediaType,
                           "send application/json or application/ld+json");
  }
  const std::string& body = req.raw.body();
  if (body.empty())
    return core::makeError(core::Errc::kMalformedInput, "InvalidRequest: empty body");
  if (jsonDepth(body, 64) > 64) {
    return core::makeError(core::Errc::kMalformedInput, "InvalidRequest: JSON nested too deeply");
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return core::makeError(core::Errc::kMalformedInput, "InvalidRequest: malformed JSON");
  if (array ? !j.is_array() : !j.is_object()) {
    return core::makeError(
        core::Errc::kMalformedInput,
        array ? "InvalidRequest: expected a JSON array" : "InvalidRequest: expected a JSON object");
  }
  return j;
}

//! Sets the response representation: @context in the body for ld+json, else a Link header.
Response ldResponse(json body, const TermMap& terms, const Request& req, status st) {
  std::string accept(req.header(net::http::field::accept));
  const bool ld = accept.find("application/ld+json") != std::string::npos &&
                  accept.find("application/json") == std::string::npos;
  if (ld) {
    auto add = [&](json& e) { e["@context"] = terms.source(); };
    if (body.is_array()) {
      for (auto& e : body) add(e);
    } else {
      add(body);
    }
  }
  Response r = jsonResponse(body, st);
  r.content_type = ld ? "application/ld+json" : "application/json";
  if (!ld) {
    const std::string url =
        terms.linkUrl().empty() ? std::string(context::kCoreContextUrl) : terms.linkUrl();
    r.headers.emplace_back("Link", "<" + url +
                                       ">; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                                       "type=\"application/ld+json\"");
  }
  return r;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

//! Accept must allow JSON or JSON-LD (RFC 9110 §12.5.1); anything else is 406.
bool acceptable(const Request& req) {
  std::string accept(req.header(net::http::field::accept));
  if (accept.empty()) return true;
  for (char& c : accept) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* ok : {"*/*", "application/*", "application/json", "application/ld+json"}) {
    if (accept.find(ok) != std::string::npos) return true;
  }
  return false;
}

Response notAcceptable(const Request& req) {
  return ldError(status::not_acceptable, "NotAcceptable",
                 "this resource is served as application/json or application/ld+json", req);
}

Response noContent() {
  Response r;
  r.status = status::no_content;
  return r;
}

model::Actor actorOf(const Principal& who, const Request& req) {
  return auth::actorFor(who, req.client_ip, req.request_id);
}

//! An id as one path segment: everything but unreserved and sub-delimiter characters encoded.
std::string encodeSegment(std::string_view id) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || std::strchr("-._~:@!$&'()*+,;=", c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace ioc::api
