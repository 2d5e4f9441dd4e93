// HttpServer end to end: an in-process server on 127.0.0.1:0, talked to over raw sockets.
#include "net/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/json.h"
#include "net/static_files.h"
#include "net_test_util.h"

namespace ioc::net {
namespace {

using namespace ioc::net::testing;
using json = ioc::Json;

json parseJson(const std::string& body) {
  return json::parse(body, nullptr, false);
}

//! Checks the RFC 9457 shape every error shares.
void expectProblem(const ReadResult& r, int status, const std::string& slug) {
  SCOPED_TRACE("problem " + std::to_string(status) + " " + slug);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), status);
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  json j = parseJson(r.res.body());
  ASSERT_TRUE(j.is_object()) << r.res.body();
  EXPECT_EQ(j.value("type", ""), "urn:cityioc:problem:" + slug);
  EXPECT_EQ(j.value("status", 0), status);
  EXPECT_FALSE(j.value("title", "").empty());
  const std::string rid = j.value("request_id", "");
  EXPECT_FALSE(rid.empty());
  EXPECT_EQ(r.header("X-Request-Id"), rid);
}

Handler jsonHandler(std::string body) {
  return [body](RequestPtr, Responder r) { r.send(Response::json(http::status::ok, body)); };
}

//! Echoes what the server parsed out of the request.
Handler echoHandler() {
  return [](RequestPtr req, Responder r) {
    json j;
    j["path"] = req->path;
    j["query"] = req->query;
    j["rid"] = req->request_id;
    j["body"] = req->raw.body();
    j["method"] = std::string(http::to_string(req->raw.method()));
    j["client"] = req->client_ip;
    for (const auto& [k, v] : req->params) j["params"][k] = v;
    if (auto q = req->queryParam("q")) j["q"] = *q;
    r.send(Response::json(http::status::ok, j.dump()));
  };
}

void basicRoutes(Router& r) {
  r.add(http::verb::get, "/api/hello", jsonHandler("{\"hello\":\"world\"}"));
  r.add(http::verb::get, "/api/echo/{name}", echoHandler());
  r.add(http::verb::post, "/api/echo/{name}", echoHandler());
}

//! Splits raw bytes at the end of the first header block.
std::pair<std::string, std::string> splitHead(const std::string& raw) {
  size_t p = raw.find("\r\n\r\n");
  if (p == std::string::npos) return {raw, ""};
  return {raw.substr(0, p + 4), raw.substr(p + 4)};
}

TEST(Server, GetHandlerAnswersJson) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Server"), "cityioc");
  EXPECT_FALSE(r.header("X-Request-Id").empty());
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.res.body().size()));
  json j = parseJson(r.res.body());
  ASSERT_TRUE(j.is_object()) << r.res.body();
  EXPECT_EQ(j.value("hello", ""), "world");
}

TEST(Server, HandlerSeesDecodedPathParamsAndQuery) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), get("/api/echo/hello%20world?q=a+b%26c&z=1"));
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.status(), 200);
  json j = parseJson(r.res.body());
  ASSERT_TRUE(j.is_object()) << r.res.body();
  EXPECT_EQ(j["path"], "/api/echo/hello world");
  EXPECT_EQ(j["params"]["name"], "hello world");
  EXPECT_EQ(j["query"], "q=a+b%26c&z=1");
  EXPECT_EQ(j["q"], "a b&c");
  EXPECT_EQ(j["client"], "127.0.0.1");
  EXPECT_EQ(j["rid"], r.header("X-Request-Id"));
}

TEST(Server, PostBodyReachesHandler) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(),
                     "POST /api/echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
                     "hello there");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.status(), 200);
  EXPECT_EQ(parseJson(r.res.body())["body"], "hello there");
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer ts;
  std::atomic<int> calls{0};
  ts.router().add(http::verb::get, "/n", [&calls](RequestPtr, Responder r) {
    int n = ++calls;
    r.send(Response::json(http::status::ok, std::to_string(n)));
  });
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_FALSE(c.send(get("/n")));
    auto r = c.read();
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << r.error();
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.res.body(), std::to_string(i));
    EXPECT_TRUE(r.res.keep_alive());
  }
  EXPECT_EQ(ts.server().openConnections(), 1);
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  TestServer ts;
  // The first answer comes late from another thread; the second is immediate. Order must hold.
  ts.router().add(http::verb::get, "/slow", [&ts](RequestPtr, Responder r) {
    ts.threads().spawn([r = std::move(r)]() mutable {
      std::this_thread::sleep_for(50ms);
      r.send(Response::json(http::status::ok, "\"first\""));
    });
  });
  ts.router().add(http::verb::get, "/fast", jsonHandler("\"second\""));
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/slow") + get("/fast") + get("/nope")));
  auto a = c.read();
  auto b = c.read();
  auto n = c.read();
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(a.res.body(), "\"first\"");
  EXPECT_EQ(b.res.body(), "\"second\"");
  expectProblem(n, 404, "not-found");
  EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
}

TEST(Server, UnknownRouteIs404ProblemJson) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), get("/no/such/thing"));
  expectProblem(r, 404, "not-found");
  json j = parseJson(r.res.body());
  EXPECT_EQ(j.value("instance", ""), "/no/such/thing");
}

TEST(Server, UnknownRouteForPostIs404EvenWithFallback) {
  TestServer ts;
  basicRoutes(ts.router());
  std::atomic<int> fallback_calls{0};
  ts.router().setFallback([&](RequestPtr, Responder r) {
    ++fallback_calls;
    r.send(Response::json(http::status::ok, "{}"));
  });
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), "POST /nothing HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  expectProblem(r, 404, "not-found");
  auto g = roundTrip(ts.port(), get("/nothing"));
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g.status(), 200);
  EXPECT_EQ(fallback_calls.load(), 1);
}

TEST(Server, WrongMethodIs405WithAllow) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), "DELETE /api/hello HTTP/1.1\r\nHost: a\r\n\r\n");
  expectProblem(r, 405, "method-not-allowed");
  EXPECT_EQ(r.header("Allow"), "GET, HEAD");
  auto r2 =
      roundTrip(ts.port(), "PUT /api/echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  expectProblem(r2, 405, "method-not-allowed");
  EXPECT_NE(r2.header("Allow").find("GET"), std::string::npos) << r2.header("Allow");
  EXPECT_NE(r2.header("Allow").find("POST"), std::string::npos) << r2.header("Allow");
}

TEST(Server, ValidClientRequestIdIsEchoed) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  for (std::string id : {std::string("abc-123_X.y:z"), std::string(64, 'a')}) {
    auto r = roundTrip(ts.port(), get("/api/echo/x", "X-Request-Id: " + id + "\r\n"));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.header("X-Request-Id"), id);
    EXPECT_EQ(parseJson(r.res.body())["rid"], id);
  }
  // Errors carry the client's id too.
  auto nf = roundTrip(ts.port(), get("/missing", "X-Request-Id: trace-42\r\n"));
  expectProblem(nf, 404, "not-found");
  EXPECT_EQ(nf.header("X-Request-Id"), "trace-42");
}

TEST(Server, InvalidClientRequestIdIsReplaced) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  for (std::string bad :
       {std::string(65, 'a'), std::string("has space"), std::string("a/b"), std::string("quote\"d"),
        std::string("\xC3\xA9t\xC3\xA9"), std::string("semi;colon")}) {
    SCOPED_TRACE(bad);
    auto r = roundTrip(ts.port(), get("/api/echo/x", "X-Request-Id: " + bad + "\r\n"));
    ASSERT_TRUE(r.ok()) << r.error();
    const std::string got = r.header("X-Request-Id");
    EXPECT_NE(got, bad);
    EXPECT_FALSE(got.empty());
    EXPECT_LE(got.size(), 64u);
    EXPECT_EQ(got.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_.:"),
              std::string::npos)
        << got;
    EXPECT_EQ(parseJson(r.res.body())["rid"], got);
  }
}

TEST(Server, GeneratedRequestIdsAreUnique) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto a = roundTrip(ts.port(), get("/api/hello"));
  auto b = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
}

TEST(Server, OversizedHeaderIs431AndCloses) {
  TestServer ts;
  ts.limits().max_header_bytes = 1024;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/api/hello", "X-Big: " + std::string(4000, 'b') + "\r\n")));
  auto r = c.read();
  expectProblem(r, 431, "header-too-large");
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_TRUE(c.waitClosed(3s)) << "connection left open after 431";
}

TEST(Server, HeaderJustUnderTheLimitIsAccepted) {
  TestServer ts;
  ts.limits().max_header_bytes = 1024;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), get("/api/hello", "X-Big: " + std::string(700, 'b') + "\r\n"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
}

struct UploadRoute {
  std::atomic<int> calls{0};
  std::string last_body;
  void add(Router& router, size_t limit) {
    router.add(
        http::verb::post, "/upload",
        [this](RequestPtr req, Responder r) {
          last_body = req->raw.body();
          ++calls;
          r.send(Response::json(http::status::ok, std::to_string(req->raw.body().size())));
        },
        RouteOptions{limit});
  }
};

TEST(Server, ContentLengthOverRouteLimitIs413WithoutReadingTheBody) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 16);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  // Only the header is sent: the answer must come without the server waiting for the body.
  ASSERT_FALSE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"));
  auto r = c.read(3s);
  expectProblem(r, 413, "payload-too-large");
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_EQ(up.calls.load(), 0);
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, BodyWithinRouteLimitIsAccepted) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 16);
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(),
                     "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n"
                     "0123456789abcdef");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.res.body(), "16");
}

TEST(Server, ServerDefaultBodyLimitAppliesWithoutRouteOption) {
  TestServer ts;
  ts.limits().max_body_bytes = 32;
  UploadRoute up;
  up.add(ts.router(), 0);
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 33\r\n\r\n" +
                                    std::string(33, 'x'));
  expectProblem(r, 413, "payload-too-large");
  EXPECT_EQ(up.calls.load(), 0);
}

TEST(Server, RouteLimitMayBeLargerThanServerDefault) {
  TestServer ts;
  ts.limits().max_body_bytes = 8;
  UploadRoute up;
  up.add(ts.router(), 1000);
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n" +
                                    std::string(500, 'x'));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.res.body(), "500");
}

std::string chunked(const std::string& body, size_t chunk) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += chunk) {
    std::string part = body.substr(i, chunk);
    char len[16];
    snprintf(len, sizeof len, "%zx", part.size());
    out += len;
    out += "\r\n" + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

TEST(Server, ChunkedBodyWithinLimitIsAssembled) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 64);
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(),
                     "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         chunked("abcdefghijklmnopqrstuvwxyz", 5));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(up.last_body, "abcdefghijklmnopqrstuvwxyz");
}

TEST(Server, ChunkedBodyOverLimitIs413) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 64);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      chunked(std::string(200, 'z'), 40)));
  auto r = c.read();
  expectProblem(r, 413, "payload-too-large");
  EXPECT_EQ(up.calls.load(), 0);
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, MalformedRequestLineIs400) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  for (std::string bad :
       {std::string("HELLO\r\n\r\n"), std::string("GET /api/hello HTTP/x.y\r\nHost: a\r\n\r\n"),
        std::string("GET\r\n\r\n"), std::string("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")}) {
    SCOPED_TRACE(bad);
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    ASSERT_FALSE(c.send(bad));
    auto r = c.read(3s);
    expectProblem(r, 400, "bad-request");
    EXPECT_TRUE(c.waitClosed(3s));
  }
  auto ok = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok.status(), 200);
}

TEST(Server, SlowClientGets408ThenClose) {
  TestServer ts;  // read_timeout 300 ms
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send("GET /api/hello HTTP/1.1\r\nHost: a\r\n"));  // no blank line
  auto r = c.read(5s);
  expectProblem(r, 408, "request-timeout");
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, SlowBodyGets408) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 1000);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
  auto r = c.read(5s);
  expectProblem(r, 408, "request-timeout");
  EXPECT_EQ(up.calls.load(), 0);
}

TEST(Server, IdleKeepAliveConnectionIsClosedWithoutResponse) {
  TestServer ts;  // idle_timeout 500 ms
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/api/hello")));
  auto r = c.read();
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r.res.keep_alive());
  std::string extra;
  EXPECT_TRUE(c.waitClosed(5s, &extra)) << "idle connection not closed";
  EXPECT_EQ(extra, "") << "idle close must not send a response";
  EXPECT_TRUE(eventually([&] { return ts.server().openConnections() == 0; }));
}

TEST(Server, SilentNewConnectionIsClosedAfterIdleTimeout) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  std::string extra;
  EXPECT_TRUE(c.waitClosed(5s, &extra));
  EXPECT_EQ(extra, "");
}

TEST(Server, KeepAliveSurvivesShortPauses) {
  TestServer ts;  // idle 500 ms
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(c.send(get("/api/hello")));
    auto r = c.read();
    ASSERT_TRUE(r.ok()) << i << ": " << r.error();
    std::this_thread::sleep_for(150ms);
  }
}

TEST(Server, ClientThatDoesNotReadIsDroppedAfterWriteTimeout) {
  ServerLimits limits = fastLimits();
  limits.write_timeout = 300ms;
  limits.idle_timeout = 10s;
  TestServer ts(limits);
  std::atomic<bool> answered{false};
  ts.router().add(http::verb::get, "/big", [&answered](RequestPtr, Responder r) {
    r.send(Response::json(http::status::ok, std::string(32 * 1024 * 1024, 'x')));
    answered = true;
  });
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/big")));
  // The client never reads; the response cannot fit in the socket buffers.
  ASSERT_TRUE(eventually([&] { return answered.load(); }));
  EXPECT_EQ(ts.server().openConnections(), 1);
  EXPECT_TRUE(eventually([&] { return ts.server().openConnections() == 0; }, 10s))
      << "stalled response never timed out";
  auto r = c.read(5s);
  EXPECT_FALSE(r.ok()) << "a truncated response must not parse as complete: status " << r.status()
                       << ", " << r.res.body().size() << " bytes, Content-Length "
                       << r.header("Content-Length") << ", pending " << c.pending().size();
  auto ok = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok.status(), 200);
}

TEST(Server, MaxConnectionsRejectsWith503AndRecovers) {
  ServerLimits limits = fastLimits();
  limits.idle_timeout = 10s;  // the two held connections must stay open on their own
  limits.max_connections = 2;
  TestServer ts(limits);
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  {
    RawClient c1(ts.port());
    RawClient c2(ts.port());
    for (RawClient* c : {&c1, &c2}) {
      ASSERT_TRUE(c->connected());
      ASSERT_FALSE(c->send(get("/api/hello")));
      auto r = c->read();
      ASSERT_TRUE(r.ok()) << r.error();
      ASSERT_EQ(r.status(), 200);
    }
    ASSERT_TRUE(eventually([&] { return ts.server().openConnections() == 2; }));

    RawClient c3(ts.port());
    ASSERT_TRUE(c3.connected());
    std::string raw;
    EXPECT_TRUE(c3.waitClosed(3s, &raw)) << "rejected connection not closed";
    EXPECT_EQ(raw.rfind("HTTP/1.1 503", 0), 0u) << raw;
    // The rejection must be a well-formed response: the parser gets all of it before EOF.
    http::response_parser<http::string_body> p;
    error_code ec;
    // put() stops after the header; feed the rest until the message is complete.
    size_t used = 0;
    while (!ec && !p.is_done() && used < raw.size()) {
      used += p.put(asio::buffer(raw.data() + used, raw.size() - used), ec);
    }
    if (ec == http::error::need_more) ec = {};
    if (!ec && !p.is_done()) p.put_eof(ec);
    EXPECT_FALSE(ec) << ec.message() << " while parsing the 503: Content-Length is "
                     << (p.is_header_done() ? std::string(p.get()[http::field::content_length])
                                            : std::string("?"))
                     << ", body is " << splitHead(raw).second.size() << " bytes";
    if (p.is_header_done()) {
      EXPECT_EQ(p.get().result_int(), 503u);
      EXPECT_EQ(p.get()[http::field::content_type], "application/problem+json");
    }
    json j = parseJson(splitHead(raw).second);
    ASSERT_TRUE(j.is_object()) << raw;
    EXPECT_EQ(j.value("type", ""), "urn:cityioc:problem:unavailable");
    EXPECT_EQ(j.value("status", 0), 503);

    // Held connections keep working.
    ASSERT_FALSE(c1.send(get("/api/hello")));
    auto again = c1.read();
    ASSERT_TRUE(again.ok()) << again.error();
    EXPECT_EQ(again.status(), 200);
  }
  ASSERT_TRUE(eventually([&] { return ts.server().openConnections() == 0; }))
      << ts.server().openConnections();
  auto r = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
}

TEST(Server, HandlerMayAnswerFromAnotherThread) {
  TestServer ts;
  ts.router().add(http::verb::get, "/async", [&ts](RequestPtr req, Responder r) {
    ts.threads().spawn([req, r = std::move(r)]() mutable {
      std::this_thread::sleep_for(20ms);
      r.send(Response::json(http::status::ok, "\"" + req->path + "\""));
    });
  });
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(c.send(get("/async")));
    auto r = c.read();
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.res.body(), "\"/async\"");
  }
  EXPECT_TRUE(eventually([&] { return ts.server().inFlightRequests() == 0; }));
}

TEST(Server, HandlerMayAnswerFromADetachedThread) {
  // Declared before the server: the cleanup below uses them while the server is destroyed.
  std::promise<void> done;
  auto finished = done.get_future();
  TestServer ts;
  // Wait for the detached thread before the server goes away, whatever the test outcome.
  ts.addCleanup([&finished] { finished.wait_for(5s); });
  ts.router().add(http::verb::get, "/detached", [&done](RequestPtr, Responder r) {
    std::thread([r = std::move(r), &done]() mutable {
      std::this_thread::sleep_for(30ms);
      r.send(Response::json(http::status::accepted, "{\"queued\":true}"));
      done.set_value_at_thread_exit();
    }).detach();
  });
  ASSERT_TRUE(ts.start());
  auto r = roundTrip(ts.port(), get("/detached"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 202);
  EXPECT_EQ(parseJson(r.res.body()).value("queued", false), true);
}

TEST(Server, DroppedResponderYields500Problem) {
  TestServer ts;
  ts.router().add(http::verb::get, "/drop", [](RequestPtr, Responder) {});
  ts.router().add(http::verb::get, "/drop-later", [&ts](RequestPtr, Responder r) {
    ts.threads().spawn([r = std::move(r)]() mutable {
      std::this_thread::sleep_for(20ms);
      Responder gone = std::move(r);
    });
  });
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  for (const char* path : {"/drop", "/drop-later"}) {
    SCOPED_TRACE(path);
    ASSERT_FALSE(c.send(get(path)));
    auto r = c.read();
    expectProblem(r, 500, "internal-error");
  }
  EXPECT_TRUE(eventually([&] { return ts.server().inFlightRequests() == 0; }));
}

TEST(Server, ErrorStatusWithEmptyBodyBecomesProblem) {
  TestServer ts;
  ts.router().add(http::verb::get, "/forbidden", [](RequestPtr, Responder r) {
    r.send(Response::json(http::status::forbidden, ""));
  });
  ASSERT_TRUE(ts.start());
  expectProblem(roundTrip(ts.port(), get("/forbidden")), 403, "forbidden");
}

TEST(Server, ResponseCloseFlagClosesTheConnection) {
  TestServer ts;
  ts.router().add(http::verb::get, "/bye", [](RequestPtr, Responder r) {
    Response res = Response::json(http::status::ok, "{}");
    res.close = true;
    res.headers.emplace_back("X-Extra", "yes");
    r.send(std::move(res));
  });
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/bye")));
  auto r = c.read();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_EQ(r.header("X-Extra"), "yes");
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, ClientConnectionCloseIsHonoured) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/api/hello", "Connection: close\r\n")));
  auto r = c.read();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, Http10WithoutKeepAliveIsClosed) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send("GET /api/hello HTTP/1.0\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_TRUE(c.waitClosed(3s));
}

TEST(Server, GracefulStopFinishesInFlightAndClosesIdle) {
  ServerLimits limits = fastLimits();
  limits.idle_timeout = 10s;  // idle connections must be closed by stop(), not by the timer
  TestServer ts(limits);
  basicRoutes(ts.router());
  std::atomic<int> slow_started{0};
  ts.router().add(http::verb::get, "/slow", [&](RequestPtr, Responder r) {
    ++slow_started;
    ts.threads().spawn([r = std::move(r)]() mutable {
      std::this_thread::sleep_for(300ms);
      r.send(Response::json(http::status::ok, "{\"done\":true}"));
    });
  });
  ASSERT_TRUE(ts.start());

  RawClient idle(ts.port());
  ASSERT_TRUE(idle.connected());
  ASSERT_FALSE(idle.send(get("/api/hello")));
  ASSERT_TRUE(idle.read().ok());

  RawClient busy(ts.port());
  ASSERT_TRUE(busy.connected());
  ASSERT_FALSE(busy.send(get("/slow")));
  ASSERT_TRUE(eventually([&] { return slow_started.load() == 1; }));
  ASSERT_EQ(ts.server().inFlightRequests(), 1);

  std::atomic<bool> stop_returned{false};
  std::chrono::steady_clock::duration stop_took{};
  std::thread stopper([&] {
    auto t0 = std::chrono::steady_clock::now();
    ts.server().stop(5s);
    stop_took = std::chrono::steady_clock::now() - t0;
    stop_returned = true;
  });

  auto r = busy.read(5s);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_EQ(parseJson(r.res.body()).value("done", false), true);

  std::string idle_bytes;
  EXPECT_TRUE(idle.waitClosed(3s, &idle_bytes)) << "idle keep-alive connection not closed";
  EXPECT_EQ(idle_bytes, "");

  // While stop() is still draining, the listener is already closed.
  RawClient during(ts.port());
  EXPECT_FALSE(during.connected()) << "connection accepted while stopping";

  stopper.join();
  EXPECT_TRUE(stop_returned.load());
  EXPECT_LT(stop_took, 4500ms) << "stop() waited for the whole grace period";
  EXPECT_EQ(ts.server().openConnections(), 0);

  RawClient after(ts.port());
  EXPECT_FALSE(after.connected()) << "connection accepted after stop()";
}

// stop() posts the acceptor's close to I/O context 0 and then stops that context; with no
// connection to wait for, the context can stop before the close ever runs, and the port keeps
// listening (the kernel completes handshakes nobody will serve) until the server is destroyed.
TEST(Server, StopWithoutConnectionsClosesTheListener) {
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    TestServer ts;
    basicRoutes(ts.router());
    ASSERT_TRUE(ts.start());
    ts.server().stop(0ms);
    RawClient c(ts.port());
    EXPECT_FALSE(c.connected()) << "the port still accepts connections after stop()";
  }
}

TEST(Server, SurvivesClientDisconnectingMidRequest) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 1000);
  basicRoutes(ts.router());
  std::atomic<int> late_sent{0};
  ts.router().add(http::verb::get, "/late", [&](RequestPtr, Responder r) {
    ts.threads().spawn([&late_sent, r = std::move(r)]() mutable {
      std::this_thread::sleep_for(100ms);
      r.send(Response::json(http::status::ok, "{}"));
      ++late_sent;
    });
  });
  ASSERT_TRUE(ts.start());
  {
    RawClient half_header(ts.port());
    ASSERT_TRUE(half_header.connected());
    ASSERT_FALSE(half_header.send("GET /api/hel"));
  }
  {
    RawClient half_body(ts.port());
    ASSERT_TRUE(half_body.connected());
    ASSERT_FALSE(
        half_body.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab"));
  }
  {
    RawClient gone_before_answer(ts.port());
    ASSERT_TRUE(gone_before_answer.connected());
    ASSERT_FALSE(gone_before_answer.send(get("/late")));
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(eventually([&] { return late_sent.load() == 1; }));
  EXPECT_EQ(up.calls.load(), 0);
  auto r = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_TRUE(eventually([&] { return ts.server().openConnections() == 0; }))
      << ts.server().openConnections();
  EXPECT_EQ(ts.server().inFlightRequests(), 0);
}

TEST(Server, SurvivesGarbageBytes) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  std::string garbage;
  std::mt19937 rng(12345);
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>(rng() & 0xff);
  for (std::string bytes : {garbage, std::string("\0\0\0\0\r\n\r\n", 8),
                            std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    c.send(bytes);  // the server may close before it has all of it
    auto r = c.read(3s);
    if (r.ok()) {
      EXPECT_EQ(r.status(), 400);
    } else {
      EXPECT_FALSE(r.timed_out) << "garbage connection neither answered nor closed";
    }
    EXPECT_TRUE(c.waitClosed(3s));
  }
  auto r = roundTrip(ts.port(), get("/api/hello"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
}

TEST(Server, HeadOnStaticFileHasContentLengthButNoBody) {
  TempDir dir;
  dir.write("hello.txt", "hello world");
  TestServer ts;
  ts.router().setFallback(StaticFiles(dir.path()));
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send("HEAD /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto head = c.read(5s, /*head=*/true);
  ASSERT_TRUE(head.ok()) << head.error();
  EXPECT_EQ(head.status(), 200);
  EXPECT_EQ(head.header("Content-Length"), "11");
  EXPECT_EQ(head.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_TRUE(head.res.body().empty());
  // Had a body been sent, it would now sit in front of the next response.
  ASSERT_FALSE(c.send(get("/hello.txt")));
  auto body = c.read();
  ASSERT_TRUE(body.ok()) << body.error() << " (pending: " << c.pending() << ")";
  EXPECT_EQ(body.status(), 200);
  EXPECT_EQ(body.res.body(), "hello world");
}

// RFC 9110 §9.3.2: the server MUST NOT send content in a response to HEAD. The router lets HEAD
// reach GET handlers, and every handler answers with its body, so the server itself has to drop
// it (only StaticFiles sets Response::head_only).
TEST(Server, HeadOnJsonRouteSendsNoBody) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_FALSE(c.send("HEAD /api/hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  std::string raw;
  EXPECT_TRUE(c.waitClosed(3s, &raw));
  auto [head, body] = splitHead(raw);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(head.find("Content-Length: 17"), std::string::npos) << head;
  EXPECT_EQ(body, "") << "a HEAD response carried a body";
}

TEST(Server, HeadOnUnknownPathSendsNoBody) {
  TestServer ts;
  basicRoutes(ts.router());
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_FALSE(c.send("HEAD /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  std::string raw;
  EXPECT_TRUE(c.waitClosed(3s, &raw));
  auto [head, body] = splitHead(raw);
  EXPECT_EQ(head.rfind("HTTP/1.1 404", 0), 0u) << raw;
  EXPECT_EQ(body, "") << "a HEAD response carried a body";
}

TEST(Server, Expect100ContinueGetsInterimThenFinal) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 100);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read(2s);
  ASSERT_TRUE(interim.ok()) << interim.error();
  EXPECT_EQ(interim.status(), 100);
  ASSERT_FALSE(c.send("hello"));
  auto final_res = c.read();
  ASSERT_TRUE(final_res.ok()) << final_res.error();
  EXPECT_EQ(final_res.status(), 200);
  EXPECT_EQ(up.last_body, "hello");
}

TEST(Server, Expect100ContinueOverLimitGets413WithoutInterim) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 100);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(
      c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto r = c.read(2s);
  expectProblem(r, 413, "payload-too-large");
  EXPECT_EQ(up.calls.load(), 0);
}

// RFC 9110 §10.1.1: "The Expect field value is case-insensitive." A client sending
// "100-Continue" waits for the interim response before sending its body.
TEST(Server, Expect100ContinueIsCaseInsensitive) {
  TestServer ts;
  UploadRoute up;
  up.add(ts.router(), 100);
  ASSERT_TRUE(ts.start());
  RawClient c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n"));
  auto interim = c.read(2s);
  ASSERT_TRUE(interim.ok()) << interim.error();
  EXPECT_EQ(interim.status(), 100) << "expected 100 Continue, got " << interim.status();
}

TEST(Server, StartFailsOnAPortInUse) {
  TestServer first;
  basicRoutes(first.router());
  ASSERT_TRUE(first.start());
  Router router;
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = first.port();
  o.io_threads = 1;
  o.access_log = false;
  HttpServer second(o, router);
  // SO_REUSEADDR does not allow two listeners on one port.
  EXPECT_FALSE(second.start().ok());
}

// A handler that throws runs on an I/O thread with nothing to catch the exception
// (server.cc dispatchRequest calls route->handler bare), so std::terminate takes the whole
// server down. Expected: the request is answered 500 (the Responder is dropped during unwinding)
// and the server keeps serving.
TEST(ServerDeathTest, ThrowingHandlerIsAnswered500NotFatal) {
  runIsolated([] {
    TestServer ts;
    basicRoutes(ts.router());
    ts.router().add(http::verb::get, "/throws",
                    [](RequestPtr, Responder) { throw std::runtime_error("handler bug"); });
    if (!ts.start()) return false;
    auto r = roundTrip(ts.port(), get("/throws"), 3s);
    if (!r.ok() || r.status() != 500) {
      std::fprintf(stderr, "GET /throws: %s %d\n", r.error().c_str(), r.status());
      return false;
    }
    auto ok = roundTrip(ts.port(), get("/api/hello"), 3s);
    if (!ok.ok() || ok.status() != 200) {
      std::fprintf(stderr, "server did not survive: %s\n", ok.error().c_str());
      return false;
    }
    return true;
  });
}

// Response{204, body "{}"}: writeResponse calls prepare_payload(), which throws
// std::invalid_argument for a 1xx/204/304 with a body; the exception escapes on the I/O thread
// and terminates the process. Expected: the body is dropped (or a 500 sent), server survives.
TEST(ServerDeathTest, NoContentWithBodyIsNotFatal) {
  runIsolated([] {
    TestServer ts;
    basicRoutes(ts.router());
    ts.router().add(http::verb::delete_, "/thing", [](RequestPtr, Responder r) {
      r.send(Response::json(http::status::no_content, "{}"));
    });
    if (!ts.start()) return false;
    auto r = roundTrip(ts.port(), "DELETE /thing HTTP/1.1\r\nHost: a\r\n\r\n", 3s);
    if (!r.ok()) {
      std::fprintf(stderr, "DELETE /thing: %s\n", r.error().c_str());
      return false;
    }
    auto ok = roundTrip(ts.port(), get("/api/hello"), 3s);
    if (!ok.ok() || ok.status() != 200) {
      std::fprintf(stderr, "server did not survive: %s\n", ok.error().c_str());
      return false;
    }
    return true;
  });
}

}  // namespace
}  // namespace ioc::net
