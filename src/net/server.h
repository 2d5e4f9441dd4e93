#pragma once
// The HTTP/1.1 + WebSocket server.
// Threads: N I/O threads, each running its own io_context; a connection lives on one context for
// its whole life, so its state needs no locks. Handlers run on that I/O thread and must not
// block: slow work goes to a worker pool and answers through the Responder.
// Lifecycle: construct → start() (binds, spawns threads) → stop() (drains) → destroy.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "net/router.h"

namespace ioc::net {

struct ServerLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10000};  //!< a whole request must arrive within this
  std::chrono::milliseconds idle_timeout{60000};  //!< keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  int max_connections = 10000;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  //!< 0 = any free port (see boundPort())
  int io_threads = 0;    //!< 0 = one per core
  ServerLimits limits;
  bool access_log = true;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router);
  ~HttpServer();

  core::Status start();
  uint16_t boundPort() const { return bound_port_; }
  //! Stops accepting, lets in-flight requests finish (up to `grace`), closes idle connections,
  //! then stops the I/O threads.
  void stop(std::chrono::milliseconds grace);
  int openConnections() const;
  int inFlightRequests() const;

  struct Shared;  // state the connections share with the server

 private:
  void accept();

  ServerOptions options_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  size_t next_context_ = 0;
  uint16_t bound_port_ = 0;
  bool stopped_ = false;
};

}  // namespace ioc::net
