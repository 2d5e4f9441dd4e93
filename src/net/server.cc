#include "net/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "core/log.h"
#include "core/thread_name.h"
#include "net/problem.h"
#include "net/websocket.h"
#include "obs/metrics.h"

namespace ioc::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class HttpSession;

//! Sessions of one io_context, so that stop() can reach the idle ones.
struct ContextSessions {
  std::mutex mu;
  std::unordered_set<HttpSession*> sessions;
};

struct HttpServer::Shared {
  const Router& router;
  ServerLimits limits;
  bool access_log;
  std::atomic<bool> draining{false};
  std::atomic<int> open_connections{0};  //!< HTTP and upgraded WebSocket connections
  std::atomic<int> in_flight{0};
  std::mutex websockets_mu;
  std::vector<std::weak_ptr<WebSocketSession>> websockets;  //!< closed by stop()
  std::vector<std::weak_ptr<ResponseStream>> streams;       //!< closed by stop()
  std::vector<std::unique_ptr<ContextSessions>> per_context;
  obs::CounterFamily& requests;
  obs::HistogramFamily& latency;
  obs::Counter& rejected;
  std::string id_prefix;

  Shared(const Router& r, const ServerOptions& o)
      : router(r),
        limits(o.limits),
        access_log(o.access_log),
        requests(obs::defaultRegistry().counter("http_requests_total",
                                                "HTTP requests by method, route and status",
                                                {"method", "route", "status"})),
        latency(obs::defaultRegistry().histogram("http_request_duration_seconds",
                                                 "Time from a complete request to its response",
                                                 {"route"})),
        rejected(obs::defaultRegistry()
                     .counter("http_connections_rejected_total",
                              "Connections refused because max_connections was reached", {})
                     .with({})) {}
};

namespace {

bool isValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string newRequestId(const std::string& prefix) {
  static std::atomic<uint64_t> counter{0};
  char buf[32];
  snprintf(buf, sizeof buf, "%012llx",
           static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
  return prefix + buf;
}

std::string routeLabel(const Request& req) {
  return req.route ? req.route->pattern
                   : (req.raw.method() == http::verb::get ? "static" : "unmatched");
}

//! The socket of a streaming response after its headers: chunks written in order, a read loop
//! that notices the client leaving. Lives on its connection's io_context.
class SocketStream final : public ResponseStream,
                           public std::enable_shared_from_this<SocketStream> {
 public:
  SocketStream(tcp::socket socket, std::shared_ptr<StreamCallbacks> callbacks,
               std::shared_ptr<HttpServer::Shared> shared)
      : socket_(std::move(socket)), cb_(std::move(callbacks)), shared_(std::move(shared)) {
    shared_->open_connections.fetch_add(1);
  }
  ~SocketStream() override { shared_->open_connections.fetch_sub(1); }

  //! On the socket's executor: sends `head`, then hands the stream to on_start.
  void start(std::string head) {
    queue_.emplace_back(std::move(head), false);
    writeNext();
    readLoop();
    if (auto on_start = cb_->on_start) on_start(shared_from_this());
  }
  void write(std::string chunk, bool report) override {
    asio::dispatch(socket_.get_executor(),
                   [self = shared_from_this(), chunk = std::move(chunk), report]() mutable {
                     if (self->finished_) return;
                     if (self->queue_.size() >= self->cb_->max_queued) return self->finish();
                     self->queue_.emplace_back(std::move(chunk), report);
                     if (!self->writing_) self->writeNext();
                   });
  }
  void close() override {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->finish(); });
  }

 private:
  void writeNext() {
    if (queue_.empty() || finished_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front().first),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec || self->finished_) return self->finish();
                        const bool report = self->queue_.front().second;
                        self->queue_.pop_front();
                        if (report) {
                          if (auto on_written = self->cb_->on_written) on_written();
                        }
                        self->writeNext();
                      });
  }
  void readLoop() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->finish();
                              self->readLoop();  // a streaming client has nothing to say
                            });
  }
  void finish() {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    auto on_close = std::move(cb_->on_close);
    // Breaks cycles through captured shared_ptrs.
    cb_->on_close = nullptr;
    cb_->on_written = nullptr;
    cb_->on_start = nullptr;
    if (on_close) on_close();
  }

  tcp::socket socket_;
  std::shared_ptr<StreamCallbacks> cb_;
  std::shared_ptr<HttpServer::Shared> shared_;
  std::deque<std::pair<std::string, bool>> queue_;
  bool writing_ = false;
  bool finished_ = false;
  std::array<char, 512> scratch_{};
};

}  // namespace

//! One HTTP connection. Lives on one io_context; every member is touched only from it.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared, size_t context)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(std::move(shared)),
        context_(context) {
    shared_->open_connections.fetch_add(1);
    error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    client_ip_ = ec ? "unknown" : ep.address().to_string();
  }

  ~HttpSession() {
    auto& cs = *shared_->per_context[context_];
    {
      std::lock_guard lock(cs.mu);
      cs.sessions.erase(this);
    }
    shared_->open_connections.fetch_sub(1);
  }

  void start() {
    {
      auto& cs = *shared_->per_context[context_];
      std::lock_guard lock(cs.mu);
      cs.sessions.insert(this);
    }
    waitForRequest();
  }

  //! Shutdown: an idle connection closes now; a busy one closes after its response.
  void drain() {
    if (state_ == State::kIdle) closeNow();
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  void arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen = ++timer_gen_](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void waitForRequest() {
    if (shared_->draining.load()) return closeNow();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
    // The route's limit is applied after the header; until then Content-Length is not judged.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (buffer_.size() > 0) return readHeader();  // pipelined bytes already here
    state_ = State::kIdle;
    arm(shared_->limits.idle_timeout);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (ec || self->shared_->draining.load()) return self->closeNow();
      self->readHeader();
    });
  }

  void readHeader() {
    state_ = State::kReading;
    arm(shared_->limits.read_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(error_code ec) {
    if (ec) return onReadError(ec);
    auto& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    size_t qpos = target.find('?');
    path_ = percentDecode(target.substr(0, qpos), false);
    match_ = shared_->router.match(req.method(), target.substr(0, qpos));
    if (match_.route && match_.route->websocket && boost::beast::websocket::is_upgrade(req)) {
      disarm();
      return upgrade();
    }
    size_t limit = shared_->limits.max_body_bytes;
    if (match_.route && match_.route->options.max_body_bytes) {
      limit = match_.route->options.max_body_bytes;
    }
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return sendError(http::status::payload_too_large,
                       "the request body exceeds " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    if (boost::beast::iequals(req[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(socket_, asio::buffer(kContinue),
                               [self = shared_from_this()](error_code ec, size_t) {
                                 if (ec) return self->closeNow();
                                 self->readBody();
                               });
    }
    readBody();
  }

  void readBody() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->onReadError(ec);
                       self->disarm();
                       self->dispatchRequest();
                     });
  }

  void onReadError(error_code ec) {
    disarm();
    if (timed_out_ && state_ == State::kReading) {
      return sendError(http::status::request_timeout, "the request did not arrive in time");
    }
    if (ec == http::error::header_limit) {
      return sendError(
          http::status::request_header_fields_too_large,
          "request headers exceed " + std::to_string(shared_->limits.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return sendError(http::status::payload_too_large, "the request body is too large");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == http::error::partial_message) {
      return closeNow();
    }
    sendError(http::status::bad_request, "malformed HTTP request");
  }

  void dispatchRequest() {
    state_ = State::kHandling;
    auto req = std::make_shared<Request>();
    req->raw = parser_->release();
    fillRequest(*req);
    current_ = req;
    shared_->in_flight.fetch_add(1);
    Responder responder([self = shared_from_this()](Response&& r) mutable {
      auto session = std::move(self);
      auto* raw = session.get();
      asio::dispatch(raw->socket_.get_executor(),
                     [session = std::move(session), r = std::move(r)]() mutable {
                       session->shared_->in_flight.fetch_sub(1);
                       session->writeResponse(std::move(r));
                     });
    });
    const auto method = req->raw.method();
    if (match_.route && match_.route->websocket && !match_.route->handler) {
      Response r = problemResponse(http::status::upgrade_required, "upgrade-required", "",
                                   "this path speaks WebSocket only", req->path, req->request_id);
      r.headers.emplace_back("Upgrade", "websocket");
      return responder.send(std::move(r));
    }
    if (match_.route) return invoke(match_.route->handler, std::move(req), std::move(responder));
    if (match_.path_known) {
      Response r = problemResponse(http::status::method_not_allowed, "method-not-allowed", "",
                                   "allowed: " + match_.allow, req->path, req->request_id);
      r.headers.emplace_back("Allow", match_.allow);
      return responder.send(std::move(r));
    }
    if ((method == http::verb::get || method == http::verb::head) && shared_->router.fallback()) {
      return invoke(shared_->router.fallback(), std::move(req), std::move(responder));
    }
    responder.send(problemResponse(http::status::not_found, "not-found", "",
                                   "no route for " + req->path, req->path, req->request_id));
  }

  //! Nothing escapes an Asio handler: a throwing handler drops its Responder, which answers 500.
  static void invoke(const Handler& handler, RequestPtr req, Responder responder) {
    const std::string rid = req->request_id;
    try {
      handler(std::move(req), std::move(responder));
    } catch (const std::exception& e) {
      core::logError("handler threw", {{"rid", rid}, {"error", e.what()}});
    } catch (...) {
      core::logError("handler threw", {{"rid", rid}, {"error", "unknown"}});
    }
  }

  void fillRequest(Request& req) {
    std::string_view target(req.raw.target().data(), req.raw.target().size());
    size_t qpos = target.find('?');
    req.path = std::move(path_);
    if (qpos != std::string_view::npos) req.query = std::string(target.substr(qpos + 1));
    req.params = std::move(match_.params);
    req.route = match_.route;
    req.client_ip = client_ip_;
    req.started = std::chrono::steady_clock::now();
    auto given_field = req.raw["X-Request-Id"];
    std::string_view given(given_field.data(), given_field.size());
    req.request_id =
        isValidRequestId(given) ? std::string(given) : newRequestId(shared_->id_prefix);
  }

  void writeResponse(Response&& r) {
    if (state_ == State::kClosed) return;
    if (r.stream) return startStream(std::move(r));
    if (r.body.empty() && static_cast<unsigned>(r.status) >= 400) {
      r = problemResponse(r.status, defaultProblemSlug(r.status), "", "",
                          current_ ? current_->path : "", current_ ? current_->request_id : "");
    }
    state_ = State::kWriting;
    const bool keep = current_ && current_->raw.keep_alive() && !r.close &&
                      !shared_->draining.load() && !closing_;
    res_.emplace(r.status, 11);
    res_->set(http::field::server, "cityioc");
    if (!r.content_type.empty() && !r.body.empty()) {
      res_->set(http::field::content_type, r.content_type);
    }
    if (current_) res_->set("X-Request-Id", current_->request_id);
    for (auto& [k, v] : r.headers) res_->set(k, v);
    res_->keep_alive(keep);
    const unsigned code = static_cast<unsigned>(r.status);
    const bool no_body_status = code < 200 || code == 204 || code == 304;
    if (no_body_status) {
      // RFC 9110 §6.4.1: these never carry content, nor a Content-Length of their own.
    } else if (r.head_only || (current_ && current_->raw.method() == http::verb::head)) {
      res_->content_length(r.body.size());
    } else {
      res_->body() = std::move(r.body);
      res_->prepare_payload();
    }
    recordMetrics(*res_);
    arm(shared_->limits.write_timeout);
    http::async_write(socket_, *res_, [self = shared_from_this(), keep](error_code ec, size_t) {
      self->disarm();
      if (ec) return self->closeNow();
      self->current_.reset();
      self->res_.reset();
      if (!keep) return self->lingeringClose();
      self->waitForRequest();
    });
  }

  //! A streaming response: headers now, then the socket belongs to a SocketStream.
  void startStream(Response&& r) {
    state_ = State::kClosed;
    disarm();
    std::string head = "HTTP/1.1 " + std::to_string(static_cast<unsigned>(r.status)) + " " +
                       std::string(http::obsolete_reason(r.status)) + "\r\nServer: cityioc\r\n";
    if (!r.content_type.empty()) head += "Content-Type: " + r.content_type + "\r\n";
    if (current_) head += "X-Request-Id: " + current_->request_id + "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";
    if (current_ && shared_->access_log) {
      core::logInfo("stream", {{"rid", current_->request_id},
                               {"client", client_ip_},
                               {"path", current_->path},
                               {"status", static_cast<int>(r.status)}});
    }
    auto stream = std::make_shared<SocketStream>(std::move(socket_), r.stream, shared_);
    {
      std::lock_guard lock(shared_->websockets_mu);
      auto& list = shared_->streams;
      list.erase(std::remove_if(list.begin(), list.end(), [](auto& w) { return w.expired(); }),
                 list.end());
      list.push_back(stream);
    }
    current_.reset();
    stream->start(std::move(head));
    if (shared_->draining.load()) stream->close();
  }

  void recordMetrics(const http::response<http::string_body>& res) {
    if (!current_) return;
    const std::string route = routeLabel(*current_);
    const std::string status = std::to_string(res.result_int());
    const auto method = http::to_string(current_->raw.method());
    shared_->requests.with({std::string_view(method.data(), method.size()), route, status}).inc();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - current_->started).count();
    shared_->latency.with({route}).observe(secs);
    if (shared_->access_log) {
      core::logInfo("request", {{"rid", current_->request_id},
                                {"client", client_ip_},
                                {"method", std::string_view(method.data(), method.size())},
                                {"path", current_->path},
                                {"route", route},
                                {"status", static_cast<int>(res.result_int())},
                                {"bytes", static_cast<int64_t>(res.body().size())},
                                {"ms", secs * 1000.0}});
    }
  }

  //! Errors found before a handler runs: answer, then close (the stream may be out of sync).
  void sendError(http::status status, std::string detail) {
    closing_ = true;
    if (!current_) {
      current_ = std::make_shared<Request>();
      if (parser_ && parser_->is_header_done()) current_->raw = parser_->get();
      current_->path = path_;
      current_->client_ip = client_ip_;
      current_->request_id = newRequestId(shared_->id_prefix);
      current_->started = std::chrono::steady_clock::now();
    }
    Response r = problemResponse(status, defaultProblemSlug(status), "", detail, current_->path,
                                 current_->request_id);
    r.close = true;
    writeResponse(std::move(r));
  }

  //! Half-close and drain what the client still sends, so it reads our answer instead of a
  //! reset (the 413 case: it may still be uploading).
  void lingeringClose() {
    state_ = State::kClosed;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return closeNow();
    arm(std::chrono::milliseconds(1000));
    drainInput();
  }

  void drainInput() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->closeNow();
                              self->drainInput();
                            });
  }

  void closeNow() {
    state_ = State::kClosed;
    disarm();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  void upgrade() {
    state_ = State::kClosed;
    auto req = std::make_shared<Request>();
    req->raw = parser_->release();
    fillRequest(*req);
    auto ws = std::make_shared<WebSocketSession>(std::move(socket_), std::move(buffer_));
    // The WebSocket counts as an open connection until it is destroyed, so stop() waits for it.
    shared_->open_connections.fetch_add(1);
    ws->setOnDestroy([shared = shared_] { shared->open_connections.fetch_sub(1); });
    {
      std::lock_guard lock(shared_->websockets_mu);
      auto& list = shared_->websockets;
      list.erase(std::remove_if(list.begin(), list.end(), [](auto& w) { return w.expired(); }),
                 list.end());
      list.push_back(ws);
    }
    if (shared_->draining.load()) ws->close();
    match_.route->websocket(req, ws);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  bool closing_ = false;
  std::shared_ptr<HttpServer::Shared> shared_;
  size_t context_;
  std::string client_ip_;
  State state_ = State::kIdle;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string path_;
  Router::Match match_;
  RequestPtr current_;
  std::optional<http::response<http::string_body>> res_;
  std::array<char, 4096> scratch_{};
};

HttpServer::HttpServer(ServerOptions options, const Router& router)
    : options_(std::move(options)), shared_(std::make_shared<Shared>(router, options_)) {
  int n = options_.io_threads > 0
              ? options_.io_threads
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    shared_->per_context.push_back(std::make_unique<ContextSessions>());
  }
  char prefix[16];
  snprintf(prefix, sizeof prefix, "%08x-", static_cast<unsigned>(std::random_device{}()));
  shared_->id_prefix = prefix;
}

int HttpServer::openConnections() const {
  return shared_->open_connections.load();
}
int HttpServer::inFlightRequests() const {
  return shared_->in_flight.load();
}

HttpServer::~HttpServer() {
  stop(std::chrono::milliseconds(0));
}

core::Status HttpServer::start() {
  error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    tcp::resolver resolver(*contexts_[0]);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec || results.empty()) {
      return core::makeError(core::Errc::kInvalidArgument, "cannot resolve " + options_.host);
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::makeError(core::Errc::kUnavailable, "cannot listen on " + options_.host + ":" +
                                                         std::to_string(options_.port) + ": " +
                                                         ec.message());
  }
  bound_port_ = acceptor_->local_endpoint().port();
  accept();
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] {
      core::nameThisThread("ioc-http");
      auto guard = asio::make_work_guard(*c);
      c->run();
    });
  }
  return core::Status::success();
}

void HttpServer::accept() {
  size_t target = next_context_++ % contexts_.size();
  acceptor_->async_accept(*contexts_[target], [this, target](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (ec) {
      core::logWarn("accept failed", {{"error", ec.message()}});
    } else if (shared_->open_connections.load() >= shared_->limits.max_connections) {
      shared_->rejected.inc();
      // Answer 503 on the socket's own context and close; the server stays up.
      auto sock = std::make_shared<tcp::socket>(std::move(socket));
      static const std::string kBusy = [] {
        const std::string body =
            "{\"type\":\"urn:cityioc:problem:unavailable\",\"title\":\"Service Unavailable\","
            "\"status\":503,\"detail\":\"too many connections\"}";
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
               "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
      }();
      asio::async_write(*sock, asio::buffer(kBusy), [sock](error_code, size_t) {
        error_code ignored;
        sock->shutdown(tcp::socket::shutdown_both, ignored);
        sock->close(ignored);
      });
    } else {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<HttpSession>(std::move(socket), shared_, target);
      asio::post(*contexts_[target], [session] { session->start(); });
    }
    accept();
  });
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_ && !threads_.empty()) {
    // The acceptor belongs to context 0: close it there, and wait, so the port is released now.
    std::promise<void> closed;
    asio::post(*contexts_[0], [this, &closed] {
      error_code ec;
      acceptor_->close(ec);
      closed.set_value();
    });
    closed.get_future().wait();
  } else if (acceptor_) {
    error_code ec;
    acceptor_->close(ec);
  }
  shared_->draining.store(true);
  {
    std::lock_guard lock(shared_->websockets_mu);
    for (auto& weak : shared_->websockets) {
      if (auto ws = weak.lock()) ws->close();
    }
    for (auto& weak : shared_->streams) {
      if (auto s = weak.lock()) s->close();
    }
  }
  for (size_t i = 0; i < contexts_.size(); ++i) {
    asio::post(*contexts_[i], [cs = shared_->per_context[i].get()] {
      std::vector<HttpSession*> sessions;
      {
        std::lock_guard lock(cs->mu);
        sessions.assign(cs->sessions.begin(), cs->sessions.end());
      }
      for (auto* s : sessions) s->drain();
    });
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (shared_->open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace ioc::net
