// WebSocket routes: handshake, echo, sends from other threads, slow readers, shutdown.
#include "net/websocket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "net/server.h"
#include "net_test_util.h"

namespace ioc::net {
namespace {

using namespace ioc::net::testing;

//! The server side of the tests: keeps the sessions the handler accepted.
struct Hub {
  std::mutex mu;
  std::vector<std::shared_ptr<WebSocketSession>> sessions;
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> messages{0};
  size_t max_queued = 0;  //!< 0 = leave the default

  std::shared_ptr<WebSocketSession> at(size_t i) {
    std::lock_guard lock(mu);
    return i < sessions.size() ? sessions[i] : nullptr;
  }
  size_t size() {
    std::lock_guard lock(mu);
    return sessions.size();
  }
  void clear() {
    std::lock_guard lock(mu);
    sessions.clear();
  }
};

//! Registers "/ws" (echo) and "/api/ping" on `ts`, and makes the server drop the hub's sessions
//! before it goes away (a session must not outlive its io_context).
void echoRoutes(TestServer& ts, Hub& hub) {
  ts.router().addWebSocket("/ws", [&hub](RequestPtr req, std::shared_ptr<WebSocketSession> ws) {
    std::weak_ptr<WebSocketSession> weak = ws;
    if (hub.max_queued) ws->setMaxQueued(hub.max_queued);
    ws->accept(
        req->raw,
        [weak, &hub](std::string msg) {
          ++hub.messages;
          if (auto s = weak.lock()) s->send("echo:" + msg);
        },
        [&hub] { ++hub.closed; });
    {
      std::lock_guard lock(hub.mu);
      hub.sessions.push_back(ws);
    }
    ++hub.opened;
  });
  ts.router().add(http::verb::get, "/api/ping", [](RequestPtr, Responder r) {
    r.send(Response::json(http::status::ok, "{\"pong\":true}"));
  });
  ts.addCleanup([&hub] { hub.clear(); });
}

TEST(WebSocket, EchoesTextMessages) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  auto ec = c.connect(ts.port(), "/ws");
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.handshakeResponse().result_int(), 101u);
  EXPECT_EQ(c.handshakeResponse()[http::field::server], "cityioc");
  for (std::string msg :
       {std::string("hello"), std::string(), std::string("second"), std::string(20000, 'x')}) {
    ASSERT_FALSE(c.write(msg));
    auto got = c.read();
    ASSERT_TRUE(got.has_value()) << c.lastError().message();
    EXPECT_EQ(*got, "echo:" + msg);
  }
  EXPECT_EQ(hub.messages.load(), 4);
  EXPECT_EQ(hub.closed.load(), 0);
}

TEST(WebSocket, ManyMessagesKeepTheirOrder) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  ASSERT_FALSE(c.connect(ts.port(), "/ws"));
  for (int i = 0; i < 50; ++i) ASSERT_FALSE(c.write(std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    auto got = c.read();
    ASSERT_TRUE(got.has_value()) << i << ": " << c.lastError().message();
    EXPECT_EQ(*got, "echo:" + std::to_string(i));
  }
}

TEST(WebSocket, ClientCloseRunsOnClose) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  {
    WsClient c;
    ASSERT_FALSE(c.connect(ts.port(), "/ws"));
    ASSERT_FALSE(c.write("hi"));
    ASSERT_TRUE(c.read().has_value());
    error_code ec;
    c.stream().close(beast::websocket::close_code::normal, ec);
  }
  EXPECT_TRUE(eventually([&] { return hub.closed.load() == 1; })) << hub.closed.load();
  // A dropped TCP connection (no close frame) also ends the session.
  {
    WsClient c;
    ASSERT_FALSE(c.connect(ts.port(), "/ws"));
    ASSERT_TRUE(eventually([&] { return hub.opened.load() == 2; }));
  }
  EXPECT_TRUE(eventually([&] { return hub.closed.load() == 2; })) << hub.closed.load();
}

TEST(WebSocket, SeveralClientsAreIndependent) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient a;
  WsClient b;
  ASSERT_FALSE(a.connect(ts.port(), "/ws"));
  ASSERT_FALSE(b.connect(ts.port(), "/ws"));
  ASSERT_FALSE(a.write("from-a"));
  ASSERT_FALSE(b.write("from-b"));
  EXPECT_EQ(b.read().value_or("<none>"), "echo:from-b");
  EXPECT_EQ(a.read().value_or("<none>"), "echo:from-a");
}

TEST(WebSocket, SendFromAnotherThread) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  ASSERT_FALSE(c.connect(ts.port(), "/ws"));
  ASSERT_TRUE(eventually([&] { return hub.size() == 1; }));
  auto session = hub.at(0);
  ASSERT_NE(session, nullptr);
  std::thread producer([session] {
    for (int i = 0; i < 20; ++i) session->send("push-" + std::to_string(i));
  });
  producer.join();
  session.reset();
  for (int i = 0; i < 20; ++i) {
    auto got = c.read();
    ASSERT_TRUE(got.has_value()) << i << ": " << c.lastError().message();
    EXPECT_EQ(*got, "push-" + std::to_string(i));
  }
}

TEST(WebSocket, ServerCloseEndsTheClientAndRunsOnClose) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  ASSERT_FALSE(c.connect(ts.port(), "/ws"));
  ASSERT_TRUE(eventually([&] { return hub.size() == 1; }));
  hub.at(0)->close();
  EXPECT_FALSE(c.read(3s).has_value());
  EXPECT_NE(c.lastError(), asio::error::timed_out) << "client never saw the close";
  EXPECT_TRUE(eventually([&] { return hub.closed.load() == 1; }));
  // Sends after the close are dropped quietly.
  hub.at(0)->send("late");
}

TEST(WebSocket, SlowReaderIsDisconnectedAndOthersAreServed) {
  Hub hub;
  hub.max_queued = 8;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient slow;
  ASSERT_FALSE(slow.connect(ts.port(), "/ws", /*rcvbuf=*/4096));
  ASSERT_TRUE(eventually([&] { return hub.size() == 1; }));
  auto session = hub.at(0);

  // The client never reads; push until the server gives up on it (or a generous cap).
  const std::string chunk(64 * 1024, 'p');
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  int sent = 0;
  while (hub.closed.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    session->send(chunk);
    ++sent;
    std::this_thread::sleep_for(1ms);
  }
  session.reset();
  ASSERT_EQ(hub.closed.load(), 1) << "slow reader still connected after " << sent << " messages";

  // The slow client, reading at last, gets what was on the wire and then the end.
  int received = 0;
  while (slow.read(5s).has_value()) ++received;
  EXPECT_NE(slow.lastError(), asio::error::timed_out)
      << "connection of the slow reader did not end (" << received << " messages read)";
  EXPECT_LT(received, sent);

  WsClient other;
  ASSERT_FALSE(other.connect(ts.port(), "/ws"));
  ASSERT_FALSE(other.write("still there?"));
  EXPECT_EQ(other.read().value_or("<none>"), "echo:still there?");
  auto http = roundTrip(ts.port(), get("/api/ping"));
  ASSERT_TRUE(http.ok()) << http.error();
  EXPECT_EQ(http.status(), 200);
}

TEST(WebSocket, UpgradeOnAnUnknownPathIs404) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  auto ec = c.connect(ts.port(), "/not-ws");
  EXPECT_TRUE(ec);
  EXPECT_EQ(c.handshakeResponse().result_int(), 404u);
  EXPECT_EQ(hub.opened.load(), 0);
}

// A plain GET (no Upgrade header) on a WebSocket route: the route has no HTTP handler, and the
// server calls the empty std::function anyway (server.cc dispatchRequest), which throws
// std::bad_function_call on an I/O thread and terminates the process. Expected: a 4xx answer.
TEST(WebSocketDeathTest, PlainGetOnWebSocketPathIsAnsweredNotFatal) {
  runIsolated([] {
    Hub hub;
    TestServer ts;
    echoRoutes(ts, hub);
    if (!ts.start()) return false;
    auto r = roundTrip(ts.port(), get("/ws"), 3s);
    if (!r.ok()) {
      std::fprintf(stderr, "no response: %s\n", r.error().c_str());
      return false;
    }
    if (r.status() < 400 || r.status() >= 500) {
      std::fprintf(stderr, "status %d, want 4xx\n", r.status());
      return false;
    }
    auto head = roundTrip(ts.port(), "HEAD /ws HTTP/1.1\r\nHost: a\r\n\r\n", 3s, true);
    if (!head.ok() || head.status() < 400) {
      std::fprintf(stderr, "HEAD /ws: %s %d\n", head.error().c_str(), head.status());
      return false;
    }
    auto ping = roundTrip(ts.port(), get("/api/ping"), 3s);
    if (!ping.ok() || ping.status() != 200) {
      std::fprintf(stderr, "server did not survive: %s\n", ping.error().c_str());
      return false;
    }
    return true;
  });
}

// max_queued 1 and two sends in a row on the session's own thread: the second send finds the
// first still queued and closes the session, which clears the queue; the first write then
// completes successfully (it went out before the close) and its handler pops the now empty
// deque (websocket.cc writeNext: pop_front without checking finished_) - a double free of the
// message string, caught by ASan.
TEST(WebSocketDeathTest, OverflowWhileAWriteCompletesIsNotFatal) {
  runIsolated([] {
    std::atomic<int> closed{0};
    TestServer ts;
    ts.router().addWebSocket(
        "/ws", [&closed](RequestPtr req, std::shared_ptr<WebSocketSession> ws) {
          std::weak_ptr<WebSocketSession> weak = ws;
          ws->setMaxQueued(1);
          ws->accept(
              req->raw,
              [weak](std::string) {
                auto s = weak.lock();
                if (!s) return;
                s->send(std::string(200, 'a'));  // goes out at once
                s->send(std::string(200, 'b'));  // over the limit: the session closes
              },
              [&closed] { ++closed; });
        });
    if (!ts.start()) return false;
    WsClient c;
    if (c.connect(ts.port(), "/ws")) return false;
    if (c.write("go")) return false;
    while (c.read(3s)) {
    }
    if (c.lastError() == asio::error::timed_out) {
      std::fprintf(stderr, "connection not closed\n");
      return false;
    }
    if (!eventually([&] { return closed.load() == 1; })) {
      std::fprintf(stderr, "on_close not called\n");
      return false;
    }
    // Let the pending write completion run before tearing down.
    std::this_thread::sleep_for(200ms);
    return true;
  });
}

// close() from inside on_message: finish() resets on_message_ while that very std::function is
// executing (websocket.cc readLoop → on_message_ → close → finish → on_message_ = nullptr), so
// the callback's captures are destroyed under it. Using a capture after close() is then a
// use-after-free, caught by ASan.
TEST(WebSocketDeathTest, CloseFromInsideOnMessageIsSafe) {
  runIsolated([] {
    auto handled = std::make_shared<std::atomic<int>>(0);
    TestServer ts;
    ts.router().addWebSocket("/ws",
                             [handled](RequestPtr req, std::shared_ptr<WebSocketSession> ws) {
                               std::weak_ptr<WebSocketSession> weak = ws;
                               auto note = std::make_shared<std::string>("bye");
                               ws->accept(
                                   req->raw,
                                   [weak, note, handled](std::string msg) {
                                     if (auto s = weak.lock()) s->close();
                                     // Still inside the callback: its captures must be alive.
                                     if (note->size() == 3) ++*handled;
                                   },
                                   [] {});
                             });
    if (!ts.start()) return false;
    WsClient c;
    if (c.connect(ts.port(), "/ws")) return false;
    if (c.write("close me")) return false;
    c.read(3s);
    if (!eventually([&] { return handled->load() == 1; })) {
      std::fprintf(stderr, "callback did not finish\n");
      return false;
    }
    return true;
  });
}

// HttpServer::stop() drains HTTP connections only: upgraded sessions are neither closed nor
// finished, so on_close never runs, the client stays connected until the server object is
// destroyed, and an application that keeps sessions (a broadcast hub) still holds them after the
// io_contexts are gone.
TEST(WebSocket, StopClosesWebSocketSessions) {
  Hub hub;
  TestServer ts;
  echoRoutes(ts, hub);
  ASSERT_TRUE(ts.start());
  WsClient c;
  ASSERT_FALSE(c.connect(ts.port(), "/ws"));
  ASSERT_FALSE(c.write("x"));
  ASSERT_TRUE(c.read().has_value());
  ts.server().stop(1s);
  EXPECT_EQ(hub.closed.load(), 1) << "on_close did not run during stop()";
  // After stop() the threads are gone; dropping the sessions here is still safe because the
  // io_contexts exist until the server is destroyed.
  hub.clear();
  EXPECT_FALSE(c.read(2s).has_value());
  EXPECT_NE(c.lastError(), asio::error::timed_out) << "client still connected after stop()";
}

}  // namespace
}  // namespace ioc::net
