#include "net/websocket.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace ioc::net {

namespace websocket = boost::beast::websocket;
using boost::system::error_code;

WebSocketSession::WebSocketSession(boost::asio::ip::tcp::socket socket,
                                   boost::beast::flat_buffer buffer)
    : ws_(std::move(socket)), buffer_(std::move(buffer)) {}

WebSocketSession::~WebSocketSession() {
  if (on_destroy_) on_destroy_();
}

void WebSocketSession::accept(const RawRequest& req, MessageFn on_message, CloseFn on_close) {
  on_message_ = std::move(on_message);
  on_close_ = std::move(on_close);
  ws_.set_option(websocket::stream_base::timeout::suggested(boost::beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "cityioc"); }));
  ws_.read_message_max(64 * 1024);
  ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
    if (ec) return self->finish();
    self->open_ = true;
    self->readLoop();
    if (!self->queue_.empty()) self->writeNext();
  });
}

void WebSocketSession::reject(Response response) {
  auto res = std::make_shared<http::response<http::string_body>>(response.status, 11);
  res->set(http::field::server, "cityioc");
  if (!response.body.empty()) res->set(http::field::content_type, response.content_type);
  for (auto& [k, v] : response.headers) res->set(k, v);
  res->keep_alive(false);
  res->body() = std::move(response.body);
  res->prepare_payload();
  http::async_write(ws_.next_layer(), *res, [self = shared_from_this(), res](error_code, size_t) {
    error_code ec;
    self->ws_.next_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    self->ws_.next_layer().close(ec);
    self->finish();
  });
}

void WebSocketSession::readLoop() {
  buffer_.consume(buffer_.size());
  ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, size_t) {
    if (ec) return self->finish();
    // A copy: the callback may close the session, which clears on_message_ under it.
    if (auto on_message = self->on_message_) {
      on_message(boost::beast::buffers_to_string(self->buffer_.data()));
    }
    if (!self->finished_) self->readLoop();
  });
}

void WebSocketSession::send(std::string text) {
  boost::asio::dispatch(ws_.get_executor(),
                        [self = shared_from_this(), text = std::move(text)]() mutable {
                          if (self->finished_) return;
                          if (self->queue_.size() >= self->max_queued_) return self->close();
                          self->queue_.push_back(std::move(text));
                          if (self->open_ && !self->writing_) self->writeNext();
                        });
}

void WebSocketSession::writeNext() {
  if (queue_.empty() || finished_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(queue_.front()),
                  [self = shared_from_this()](error_code ec, size_t) {
                    if (ec || self->finished_) return self->finish();
                    self->queue_.pop_front();
                    if (auto on_written = self->on_written_) on_written();
                    self->writeNext();
                  });
}

void WebSocketSession::close() {
  boost::asio::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    if (self->finished_) return;
    error_code ec;
    boost::beast::get_lowest_layer(self->ws_).close(ec);
    self->finish();
  });
}

void WebSocketSession::finish() {
  if (finished_) return;
  finished_ = true;
  open_ = false;
  queue_.clear();
  if (on_close_) on_close_();
  on_close_ = nullptr;
  on_message_ = nullptr;  // breaks cycles through captured shared_ptrs
  on_written_ = nullptr;
}

}  // namespace ioc::net
