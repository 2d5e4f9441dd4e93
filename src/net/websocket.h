#pragma once
// A server-side WebSocket connection, handed over by HttpServer after an Upgrade request.
// Threads: lives on its connection's io_context; send() and close() may be called from any thread.
// A client that does not keep up (more than max_queued messages waiting) is disconnected, so one
// slow reader never holds memory or slows the producers.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "net/request.h"

namespace ioc::net {

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  using MessageFn = std::function<void(std::string)>;
  using CloseFn = std::function<void()>;

  WebSocketSession(boost::asio::ip::tcp::socket socket, boost::beast::flat_buffer buffer);

  //! Completes the handshake for `req`; then each text message goes to on_message, and on_close
  //! runs once when the connection ends for any reason.
  void accept(const RawRequest& req, MessageFn on_message, CloseFn on_close);
  void send(std::string text);
  //! Instead of accept(): answers the Upgrade request with `response` (401, 403 …) and closes.
  void reject(Response response);
  void close();
  void setMaxQueued(size_t n) { max_queued_ = n; }
  //! Runs on the session's thread after each message is written (flow control for producers
  //! that keep their own queue, e.g. the live stream's coalescing).
  void setOnWritten(std::function<void()> fn) { on_written_ = std::move(fn); }
  //! Runs when the session object is destroyed (the server's connection accounting).
  void setOnDestroy(std::function<void()> fn) { on_destroy_ = std::move(fn); }
  ~WebSocketSession();

 private:
  void readLoop();
  void writeNext();
  void finish();

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t max_queued_ = 1024;
  bool writing_ = false;
  bool open_ = false;
  bool finished_ = false;
  MessageFn on_message_;
  CloseFn on_close_;
  std::function<void()> on_written_;
  std::function<void()> on_destroy_;
};

}  // namespace ioc::net
