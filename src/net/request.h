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

//! The body of a streaming response (Server-Sent Events), written chunk by chunk after the
//! headers; the connection closes when either side ends it. Thread-safe: any thread may write.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  //! Queues a chunk; `report` = call the on_written callback once it is written. A stream with
  //! more than its limit of chunks waiting is closed (a reader that does not keep up).
  virtual void write(std::string chunk, bool report = true) = 0;
  virtual void close() = 0;
};
using StreamStart = std::function<void(std::shared_ptr<ResponseStream>)>;
struct StreamCallbacks {
  StreamStart on_start;              //!< headers sent: the stream is ready for writes
  std::function<void()> on_written;  //!< a reported chunk was written
  std::function<void()> on_close;    //!< the connection ended, for any reason (once)
  size_t max_queued = 256;
};

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;      //!< close the connection after sending
  bool head_only = false;  //!< answer to HEAD: send Content-Length but no body
  //! Set: a streaming response (no Content-Length, Connection: close); `body` is ignored.
  std::shared_ptr<StreamCallbacks> stream;

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
