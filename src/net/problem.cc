#include "net/problem.h"

#include "core/log.h"

namespace ioc::net {

std::string_view defaultProblemSlug(http::status status) {
  switch (status) {
    case http::status::bad_request:
      return "bad-request";
    case http::status::unauthorized:
      return "unauthenticated";
    case http::status::forbidden:
      return "forbidden";
    case http::status::not_found:
      return "not-found";
    case http::status::method_not_allowed:
      return "method-not-allowed";
    case http::status::request_timeout:
      return "request-timeout";
    case http::status::conflict:
      return "conflict";
    case http::status::payload_too_large:
      return "payload-too-large";
    case http::status::unsupported_media_type:
      return "unsupported-media-type";
    case http::status::unprocessable_entity:
      return "validation-failed";
    case http::status::too_many_requests:
      return "too-many-requests";
    case http::status::request_header_fields_too_large:
      return "header-too-large";
    case http::status::service_unavailable:
      return "unavailable";
    default:
      return "internal-error";
  }
}

Response problemResponse(http::status status, std::string_view slug, std::string_view title,
                         std::string_view detail, std::string_view instance,
                         std::string_view request_id) {
  if (title.empty()) {
    auto reason = http::obsolete_reason(status);
    title = std::string_view(reason.data(), reason.size());
  }
  std::string body = "{\"type\":\"urn:cityioc:problem:";
  core::appendJsonEscaped(body, slug);
  body += "\",\"title\":\"";
  core::appendJsonEscaped(body, title);
  body += "\",\"status\":";
  body += std::to_string(static_cast<unsigned>(status));
  if (!detail.empty()) {
    body += ",\"detail\":\"";
    core::appendJsonEscaped(body, detail);
    body += '"';
  }
  if (!instance.empty()) {
    body += ",\"instance\":\"";
    core::appendJsonEscaped(body, instance);
    body += '"';
  }
  body += ",\"request_id\":\"";
  core::appendJsonEscaped(body, request_id);
  body += "\"}";
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = std::move(body);
  return r;
}

}  // namespace ioc::net
