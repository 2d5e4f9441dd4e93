#pragma once
// A small blocking HTTP/1.1 client with keep-alive and a deadline per request: for the demo
// simulator and, later, notifications. Not thread-safe: one client per thread.
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ioc::net {

struct ClientResponse {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();

  core::Result<ClientResponse> request(
      std::string_view method, std::string_view target, std::string body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  core::Status connect();

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::beast::tcp_stream> stream_;
};

}  // namespace ioc::net
