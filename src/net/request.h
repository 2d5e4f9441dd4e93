#pragma once
// What a handler sees of an HTTP exchange, and how it answers (possibly from another thread).
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ioc::net {

namespace http = boost::beast::http;
using RawRequest = http::request<http::string_body>;

struct Route;

struct Request {
  RawRequest raw;
  std::string path;   //!< percent-decoded path, without the query
  std::string query;  //!< raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> params;  //!< from {name} segments
  std::string request_id;
  std::string client_ip;
  const Route* route = nullptr;
  std::chrono::steady_clock::time_point started;

  std::string_view param(std::string_view name) const;
  //! First value of a query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> queryParam(std::string_view name) const;
  std::string_view header(http::field f) const;
};

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;      //!< close the connection after sending
  bool head_only = false;  //!< answer to HEAD: send Content-Length but no body

  static Response json(http::status status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
};

//! One-shot answer channel for a request. Move-only; send() may be called from any thread.
//! A Responder dropped without sending answers 500, so a lost request never hangs a client.
class Responder {
 public:
  using SendFn = std::function<void(Response&&)>;
  explicit Responder(SendFn fn) : fn_(std::move(fn)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void send(Response&& response);

 private:
  SendFn fn_;
};

using RequestPtr = std::shared_ptr<Request>;
using Handler = std::function<void(RequestPtr, Responder)>;

std::string percentDecode(std::string_view in, bool plus_is_space);

}  // namespace ioc::net
