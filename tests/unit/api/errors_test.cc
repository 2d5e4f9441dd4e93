#include "api/errors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json.h"

namespace ioc::api {
namespace {

using core::Errc;
using net::http::status;
using json = ioc::Json;

constexpr Errc kAllErrc[] = {
    Errc::kInvalidArgument, Errc::kMalformedInput, Errc::kUnsupportedMediaType,
    Errc::kNotFound,        Errc::kAlreadyExists,  Errc::kUnauthenticated,
    Errc::kForbidden,       Errc::kConflict,       Errc::kTooManyRequests,
    Errc::kPayloadTooLarge, Errc::kUnavailable,    Errc::kInternal};

net::Request makeRequest() {
  net::Request req;
  req.path = "/api/v1/users/7";
  req.request_id = "0123456789abcdef";
  return req;
}

std::string headerValue(const net::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

size_t headerCount(const net::Response& r, const std::string& name) {
  size_t n = 0;
  for (const auto& h : r.headers) n += h.first == name ? 1 : 0;
  return n;
}

json bodyOf(const net::Response& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

TEST(StatusFor, EveryErrc) {
  const std::vector<std::pair<Errc, status>> expected = {
      {Errc::kInvalidArgument, status::unprocessable_entity},
      {Errc::kMalformedInput, status::bad_request},
      {Errc::kUnsupportedMediaType, status::unsupported_media_type},
      {Errc::kNotFound, status::not_found},
      {Errc::kAlreadyExists, status::conflict},
      {Errc::kUnauthenticated, status::unauthorized},
      {Errc::kForbidden, status::forbidden},
      {Errc::kConflict, status::conflict},
      {Errc::kTooManyRequests, status::too_many_requests},
      {Errc::kPayloadTooLarge, status::payload_too_large},
      {Errc::kUnavailable, status::service_unavailable},
      {Errc::kInternal, status::internal_server_error},
  };
  ASSERT_EQ(expected.size(), std::size(kAllErrc));
  for (const auto& [code, st] : expected) {
    EXPECT_EQ(statusFor(code), st) << core::errcName(code);
  }
}

TEST(ErrorResponse, ProblemJsonShapeForEveryErrc) {
  const net::Request req = makeRequest();
  for (Errc code : kAllErrc) {
    const net::Response r = errorResponse(core::makeError(code, "something specific"), req);
    SCOPED_TRACE(core::errcName(code));
    EXPECT_EQ(r.status, statusFor(code));
    EXPECT_EQ(r.content_type, "application/problem+json");
    json j = bodyOf(r);
    ASSERT_TRUE(j.is_object());
    ASSERT_TRUE(j["type"].is_string());
    EXPECT_EQ(j["type"].get<std::string>().rfind("urn:cityioc:problem:", 0), 0u) << j["type"];
    EXPECT_GT(j["type"].get<std::string>().size(), std::string("urn:cityioc:problem:").size());
    ASSERT_TRUE(j["title"].is_string());
    EXPECT_FALSE(j["title"].get<std::string>().empty());
    EXPECT_EQ(j["status"], static_cast<unsigned>(statusFor(code)));
    EXPECT_EQ(j["request_id"], "0123456789abcdef");
    EXPECT_EQ(j["instance"], "/api/v1/users/7");
    if (code == Errc::kInternal) {
      EXPECT_FALSE(j.contains("detail"));
    } else {
      EXPECT_EQ(j["detail"], "something specific");
    }
  }
}

TEST(ErrorResponse, SpecificTypesAndTitles) {
  const net::Request req = makeRequest();
  auto type = [&](Errc code) {
    return bodyOf(errorResponse(core::makeError(code, "x"), req))["type"].get<std::string>();
  };
  EXPECT_EQ(type(Errc::kInvalidArgument), "urn:cityioc:problem:validation-failed");
  EXPECT_EQ(type(Errc::kMalformedInput), "urn:cityioc:problem:bad-request");
  EXPECT_EQ(type(Errc::kUnsupportedMediaType), "urn:cityioc:problem:unsupported-media-type");
  EXPECT_EQ(type(Errc::kNotFound), "urn:cityioc:problem:not-found");
  EXPECT_EQ(type(Errc::kAlreadyExists), "urn:cityioc:problem:already-exists");
  EXPECT_EQ(type(Errc::kConflict), "urn:cityioc:problem:conflict");
  EXPECT_EQ(type(Errc::kUnauthenticated), "urn:cityioc:problem:unauthenticated");
  EXPECT_EQ(type(Errc::kForbidden), "urn:cityioc:problem:forbidden");
  EXPECT_EQ(type(Errc::kTooManyRequests), "urn:cityioc:problem:too-many-requests");
  EXPECT_EQ(type(Errc::kPayloadTooLarge), "urn:cityioc:problem:payload-too-large");
  EXPECT_EQ(type(Errc::kUnavailable), "urn:cityioc:problem:unavailable");
  EXPECT_EQ(type(Errc::kInternal), "urn:cityioc:problem:internal-error");
  EXPECT_EQ(bodyOf(errorResponse(core::makeError(Errc::kNotFound, "x"), req))["title"],
            "Not Found");
}

// KNOWN BUG (fails under ASan until fixed): in src/api/errors.cc errorResponse,
//   std::string_view detail = st == status::internal_server_error ? "" : error.message;
// the conditional's operands are const char[1] and const std::string, so its type is std::string:
// a temporary copy of the message that dies at the end of the statement. `detail` dangles, and
// problemResponse then copies freed memory into the body (heap-use-after-free under ASan; stale
// heap bytes in a release build). Every non-internal error response goes through it.
TEST(ErrorResponse, DetailIsCopiedFromLiveMemory) {
  const net::Request req = makeRequest();
  const std::string message =
      "unit_code must be one of the 3,355 administrative unit codes, not 'nowhere'";
  const net::Response r = errorResponse(core::makeError(Errc::kInvalidArgument, message), req);
  EXPECT_EQ(bodyOf(r)["detail"], message);
}

TEST(ErrorResponse, InternalMessageIsNeverEchoed) {
  const net::Request req = makeRequest();
  const std::string secret =
      "sqlite: UNIQUE constraint failed: users.username in /var/lib/cityioc/ioc.db";
  const net::Response r = errorResponse(core::makeError(Errc::kInternal, secret), req);
  EXPECT_EQ(r.status, status::internal_server_error);
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("/var/lib"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("users.username"), std::string::npos) << r.body;
  for (const auto& [k, v] : r.headers) EXPECT_EQ(v.find("sqlite"), std::string::npos) << k;
}

TEST(ErrorResponse, RetryAfter) {
  const net::Request req = makeRequest();
  auto limited = errorResponse(core::makeError(Errc::kTooManyRequests, "slow down", 42), req);
  EXPECT_EQ(limited.status, status::too_many_requests);
  EXPECT_EQ(headerValue(limited, "Retry-After"), "42");
  EXPECT_EQ(headerCount(limited, "Retry-After"), 1u);
  auto busy = errorResponse(core::makeError(Errc::kUnavailable, "store busy", 5), req);
  EXPECT_EQ(busy.status, status::service_unavailable);
  EXPECT_EQ(headerValue(busy, "Retry-After"), "5");
  auto no_hint = errorResponse(core::makeError(Errc::kTooManyRequests, "slow down"), req);
  EXPECT_EQ(headerCount(no_hint, "Retry-After"), 0u);
  auto plain = errorResponse(core::makeError(Errc::kNotFound, "nope"), req);
  EXPECT_EQ(headerCount(plain, "Retry-After"), 0u);
}

TEST(ErrorResponse, WwwAuthenticateOnlyOn401) {
  const net::Request req = makeRequest();
  for (Errc code : kAllErrc) {
    auto r = errorResponse(core::makeError(code, "x"), req);
    if (code == Errc::kUnauthenticated) {
      EXPECT_EQ(headerValue(r, "WWW-Authenticate"), "Bearer");
      EXPECT_EQ(headerCount(r, "WWW-Authenticate"), 1u);
    } else {
      EXPECT_EQ(headerCount(r, "WWW-Authenticate"), 0u) << core::errcName(code);
    }
  }
}

TEST(ErrorResponse, EscapesWhatItEchoes) {
  net::Request req = makeRequest();
  req.path = "/api/v1/units/\"x\"\\";
  req.request_id = "id\"with\nnewline";
  const std::string detail = "unknown field \"}, \"status\": 200, \"x\":\"\x01";
  auto r = errorResponse(core::makeError(Errc::kInvalidArgument, detail), req);
  json j = bodyOf(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["detail"], detail);
  EXPECT_EQ(j["status"], 422);
  EXPECT_EQ(j["instance"], req.path);
  EXPECT_EQ(j["request_id"], req.request_id);
}

TEST(Problem, DirectProblems) {
  const net::Request req = makeRequest();
  auto r = problem(status::unauthorized, "sign in first", req);
  EXPECT_EQ(r.status, status::unauthorized);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(headerValue(r, "WWW-Authenticate"), "Bearer");
  json j = bodyOf(r);
  EXPECT_EQ(j["type"], "urn:cityioc:problem:unauthenticated");
  EXPECT_EQ(j["detail"], "sign in first");
  EXPECT_EQ(j["request_id"], "0123456789abcdef");

  auto nf = problem(status::not_found, "", req);
  EXPECT_EQ(headerCount(nf, "WWW-Authenticate"), 0u);
  json k = bodyOf(nf);
  EXPECT_EQ(k["type"], "urn:cityioc:problem:not-found");
  EXPECT_FALSE(k.contains("detail"));  // empty detail is left out
  EXPECT_EQ(k["status"], 404);
}

}  // namespace
}  // namespace ioc::api
