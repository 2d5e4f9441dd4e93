#pragma once
// One-shot HTTP(S) request with a hard deadline and a size limit: GET of a small document
// (JSON-LD @contexts), POST of a signed webhook. TLS verifies the peer and its host name.
// Blocking: call it from worker threads or the CLI, never from an I/O thread.
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ioc::net {

struct FetchOptions {
  std::chrono::milliseconds timeout{5000};  //!< for the whole fetch, redirects included
  size_t max_bytes = 1024 * 1024;           //!< body limit
  int max_redirects = 3;
  std::string accept = "application/ld+json, application/json;q=0.9, */*;q=0.1";
  std::string method = "GET";
  std::string body;  //!< sent with its Content-Length (not for GET)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;  //!< trusted CAs (PEM) instead of the system's; tests, private PKI
};

struct ParsedUrl {
  bool tls = false;
  std::string host;  //!< without brackets for IPv6
  std::string port;
  std::string target;  //!< path and query, at least "/"
};
//! http:// and https:// URLs only; kInvalidArgument otherwise.
core::Result<ParsedUrl> parseHttpUrl(const std::string& url);

//! The body of a 2xx answer, following up to max_redirects redirects. Errors are kUnavailable
//! (unreachable, timeout, non-2xx status, TLS failure, body above max_bytes) or kInvalidArgument
//! (not an http/https URL).
core::Result<std::string> fetchUrl(const std::string& url, const FetchOptions& options);

//! fetchUrl with a request body: `method` must not be GET; redirects are not followed (a
//! redirected POST is an error, so a signed body never lands somewhere else).
core::Result<std::string> sendRequest(const std::string& url, FetchOptions options);

//! kInvalidArgument unless `path` holds at least one PEM certificate (checked at start-up, so a
//! wrong tls.ca_file stops the server instead of failing every delivery).
core::Status checkCaFile(const std::string& path);

//! A POST whose answer matters only by its status (webhooks, notifications): 2xx = delivered.
//! `ca_file` as in FetchOptions.
core::Status postForStatus(const std::string& url, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers,
                           std::chrono::milliseconds timeout, const std::string& ca_file = "");

}  // namespace ioc::net
