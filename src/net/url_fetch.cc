#include "net/url_fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace ioc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::Errc;
using core::makeError;

core::Result<ParsedUrl> parseHttpUrl(const std::string& url) {
  ParsedUrl u;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    u.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return makeError(Errc::kInvalidArgument, "only http:// and https:// URLs can be fetched");
  }
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (const size_t hash = path.find('#'); hash != std::string_view::npos) {
    path = path.substr(0, hash);
  }
  if (authority.find('@') != std::string_view::npos) {
    return makeError(Errc::kInvalidArgument, "URLs with user information are not fetched");
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return makeError(Errc::kInvalidArgument, "bad IPv6 host");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return makeError(Errc::kInvalidArgument, "bad URL host");
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return makeError(Errc::kInvalidArgument, "URL without a host");
  for (char c : port) {
    if (c < '0' || c > '9') return makeError(Errc::kInvalidArgument, "bad URL port");
  }
  u.port = port.empty() ? (u.tls ? "443" : "80") : std::string(port);
  u.target = path.empty() ? "/" : std::string(path);
  if (u.target[0] == '?') u.target = "/" + u.target;
  return u;
}

namespace {

struct Outcome {
  bool done = false;
  std::optional<core::Error> error;
  unsigned status = 0;
  std::string body;
  std::string location;
};

std::string hostHeader(const ParsedUrl& u) {
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? "443" : "80")) h += ":" + u.port;
  return h;
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const ParsedUrl& u, const FetchOptions& o,
                               Outcome& out) {
  beast::error_code ec;
  http::request<http::string_body> req{http::string_to_verb(o.method), u.target, 11};
  req.set(http::field::host, hostHeader(u));
  req.set(http::field::user_agent, "cityioc");
  req.set(http::field::accept, o.accept);
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : o.headers) req.set(name, value);
  if (req.method() != http::verb::get) {
    req.body() = o.body;
    req.prepare_payload();
  }
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = makeError(Errc::kUnavailable, "sending the request failed: " + ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(o.max_bytes);
  const std::string too_large =
      "the document is larger than " + std::to_string(o.max_bytes) + " bytes";
  // The header first: a declared length above the limit is refused before any body is read.
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && parser.content_length() && *parser.content_length() > o.max_bytes) {
    out.error = makeError(Errc::kUnavailable, too_large);
    co_return;
  }
  if (!ec) {
    parser.body_limit(o.max_bytes);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec == http::error::body_limit || (!ec && parser.get().body().size() > o.max_bytes)) {
    out.error = makeError(Errc::kUnavailable, too_large);
    co_return;
  }
  if (ec) {
    out.error = makeError(Errc::kUnavailable, "reading the answer failed: " + ec.message());
    co_return;
  }
  auto res = parser.release();
  out.status = res.result_int();
  out.location = std::string(res[http::field::location]);
  out.body = std::move(res.body());
}

asio::awaitable<void> fetchOnce(ParsedUrl u, FetchOptions o,
                                std::chrono::steady_clock::time_point deadline, Outcome& out) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code ec;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(u.host, u.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = makeError(Errc::kUnavailable, "cannot resolve " + u.host + ": " + ec.message());
    out.done = true;
    co_return;
  }
  if (!u.tls) {
    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      out.error = makeError(Errc::kUnavailable,
                            "cannot connect to " + u.host + ":" + u.port + ": " + ec.message());
    } else {
      co_await exchange(stream, u, o, out);
    }
    out.done = true;
    co_return;
  }
  ssl::context tls(ssl::context::tls_client);
  if (o.ca_file.empty()) {
    tls.set_default_verify_paths();
  } else {
    tls.load_verify_file(o.ca_file, ec);
    if (ec) {
      out.error = makeError(Errc::kUnavailable, "cannot read " + o.ca_file + ": " + ec.message());
      out.done = true;
      co_return;
    }
  }
  tls.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
    out.error = makeError(Errc::kUnavailable, "TLS: cannot set the server name");
    out.done = true;
    co_return;
  }
  stream.set_verify_callback(ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_at(deadline);
  co_await beast::get_lowest_layer(stream).async_connect(
      endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = makeError(Errc::kUnavailable,
                          "cannot connect to " + u.host + ":" + u.port + ": " + ec.message());
    out.done = true;
    co_return;
  }
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = makeError(Errc::kUnavailable, "TLS handshake with " + u.host + ": " + ec.message());
    out.done = true;
    co_return;
  }
  co_await exchange(stream, u, o, out);
  out.done = true;
}

//! A redirect target relative to the URL it came from (absolute, "//host/…" or "/path").
std::string resolveLocation(const ParsedUrl& from, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return location;
  const std::string origin = std::string(from.tls ? "https://" : "http://") + hostHeader(from);
  if (location.starts_with("//")) return std::string(from.tls ? "https:" : "http:") + location;
  if (location.starts_with("/")) return origin + location;
  std::string base = from.target.substr(0, from.target.rfind('/') + 1);
  return origin + base + location;
}

}  // namespace

core::Result<std::string> fetchUrl(const std::string& url, const FetchOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::string current = url;
  for (int hop = 0; hop <= options.max_redirects; ++hop) {
    auto parsed = parseHttpUrl(current);
    if (!parsed.ok()) return parsed.error();
    Outcome out;
    {
      asio::io_context ioc;
      asio::co_spawn(ioc, fetchOnce(*parsed, options, deadline, out), asio::detached);
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left > std::chrono::steady_clock::duration::zero()) ioc.run_for(left);
      // Anything still pending (a slow resolver) is abandoned with the io_context.
    }
    if (!out.done) {
      return makeError(Errc::kUnavailable, "no answer from " + current + " within " +
                                               std::to_string(options.timeout.count()) + " ms");
    }
    if (out.error) {
      core::Error e = *out.error;
      e.message = current + ": " + e.message;
      return e;
    }
    if (out.status >= 200 && out.status < 300) return std::move(out.body);
    const bool redirect = out.status == 301 || out.status == 302 || out.status == 303 ||
                          out.status == 307 || out.status == 308;
    if (redirect && !out.location.empty()) {
      current = resolveLocation(*parsed, out.location);
      continue;
    }
    return makeError(Errc::kUnavailable, current + " answered HTTP " + std::to_string(out.status));
  }
  return makeError(Errc::kUnavailable,
                   url + ": more than " + std::to_string(options.max_redirects) + " redirects");
}

core::Result<std::string> sendRequest(const std::string& url, FetchOptions options) {
  if (http::string_to_verb(options.method) == http::verb::unknown || options.method == "GET") {
    return makeError(Errc::kInvalidArgument, "sendRequest needs a method with a body");
  }
  options.max_redirects = 0;
  return fetchUrl(url, options);
}

core::Status checkCaFile(const std::string& path) {
  ssl::context tls(ssl::context::tls_client);
  beast::error_code ec;
  tls.load_verify_file(path, ec);
  if (ec) {
    return makeError(Errc::kInvalidArgument,
                     "tls.ca_file: cannot load certificates from " + path + ": " + ec.message());
  }
  return core::Status::success();
}

core::Status postForStatus(const std::string& url, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers,
                           std::chrono::milliseconds timeout, const std::string& ca_file) {
  FetchOptions o;
  o.method = "POST";
  o.body = std::move(body);
  o.headers = std::move(headers);
  o.timeout = timeout;
  o.accept = "*/*";
  o.max_bytes = 64 * 1024;  // the answer is not used
  o.ca_file = ca_file;
  auto r = sendRequest(url, std::move(o));
  if (!r.ok()) return r.error();
  return core::Status::success();
}

}  // namespace ioc::net
