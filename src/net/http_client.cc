#include "net/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace ioc::net {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, beast::string_view(name.data(), name.size()))) return v;
  }
  return {};
}

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() {
  if (stream_) {
    beast::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

core::Status HttpClient::connect() {
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
  if (ec) return core::makeError(core::Errc::kUnavailable, "cannot resolve " + host_);
  stream_ = std::make_unique<beast::tcp_stream>(ioc_);
  stream_->expires_after(timeout_);
  stream_->connect(endpoints, ec);
  if (ec) {
    stream_.reset();
    return core::makeError(core::Errc::kUnavailable,
                           "cannot connect to " + host_ + ":" + std::to_string(port_));
  }
  return core::Status::success();
}

core::Result<ClientResponse> HttpClient::request(
    std::string_view method, std::string_view target, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  // One retry on a fresh connection: the server may have closed an idle keep-alive socket.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = stream_ != nullptr;
    if (!stream_) {
      if (auto s = connect(); !s.ok()) return s.error();
    }
    http::request<http::string_body> req(
        http::string_to_verb(beast::string_view(method.data(), method.size())), std::string(target),
        11);
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "cityioc");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    req.keep_alive(true);
    beast::error_code ec;
    stream_->expires_after(timeout_);
    http::write(*stream_, req, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (!ec) http::read(*stream_, buffer, parser, ec);
    if (ec) {
      stream_.reset();
      if (attempt == 0 && reused) continue;  // a fresh connection that fails is not stale
      return core::makeError(
          core::Errc::kUnavailable,
          "HTTP " + std::string(method) + " " + std::string(target) + ": " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) {
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    if (!res.keep_alive()) stream_.reset();
    return out;
  }
  return core::makeError(core::Errc::kUnavailable, "HTTP request failed");
}

}  // namespace ioc::net
