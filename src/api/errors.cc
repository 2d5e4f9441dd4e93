#include "api/errors.h"

namespace ioc::api {

using net::http::status;

status statusFor(core::Errc code) {
  switch (code) {
    case core::Errc::kInvalidArgument:
      return status::unprocessable_entity;
    case core::Errc::kMalformedInput:
      return status::bad_request;
    case core::Errc::kUnsupportedMediaType:
      return status::unsupported_media_type;
    case core::Errc::kNotFound:
      return status::not_found;
    case core::Errc::kAlreadyExists:
      return status::conflict;
    case core::Errc::kUnauthenticated:
      return status::unauthorized;
    case core::Errc::kForbidden:
      return status::forbidden;
    case core::Errc::kConflict:
      return status::conflict;
    case core::Errc::kTooManyRequests:
      return status::too_many_requests;
    case core::Errc::kPayloadTooLarge:
      return status::payload_too_large;
    case core::Errc::kUnavailable:
      return status::service_unavailable;
    case core::Errc::kInternal:
      return status::internal_server_error;
  }
  return status::internal_server_error;
}

net::Response errorResponse(const core::Error& error, const net::Request& req) {
  const status st = statusFor(error.code);
  // Internal errors never echo their message: it may name files or SQL (it is logged instead).
  const std::string_view detail =
      st == status::internal_server_error ? std::string_view() : std::string_view(error.message);
  std::string_view slug =
      error.code == core::Errc::kAlreadyExists ? "already-exists" : net::defaultProblemSlug(st);
  auto r = net::problemResponse(st, slug, "", detail, req.path, req.request_id);
  if (error.retry_after_s > 0)
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  if (st == status::unauthorized) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

net::Response problem(status st, std::string_view detail, const net::Request& req) {
  auto r =
      net::problemResponse(st, net::defaultProblemSlug(st), "", detail, req.path, req.request_id);
  if (st == status::unauthorized) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace ioc::api
