// The live stream and staff notification channels through the real binary: WebSocket with header
// or in-band authentication, topic authorization, entity updates scoped by unit, SSE, and signed
// webhooks delivered to an HTTP receiver run by the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>

#include "integration/harness.h"
#include "integration/support.h"

namespace ioc::it {
namespace {

using json = ioc::Json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

//! Records the HTTP requests POSTed to it, answering 204.
class Receiver {
 public:
  struct Request {
    std::string target, body;
    std::map<std::string, std::string> headers;  // lower-case names
  };
  Receiver() {
    fd_ = listenLoopback(&port_);
    thread_ = std::thread([this] { loop(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<Request> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string raw;
    char buf[4096];
    std::optional<beast::http::request_parser<beast::http::string_body>> parser;
    while (true) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      raw.append(buf, static_cast<size_t>(n));
      parser.emplace();  // parse everything so far afresh: simple, and requests are small
      parser->eager(true);
      beast::error_code ec;
      parser->put(asio::buffer(raw), ec);
      if (parser->is_done()) break;
      if (ec && ec != beast::http::error::need_more) return;
    }
    Request r;
    auto& msg = parser->get();
    r.target = std::string(msg.target());
    r.body = msg.body();
    for (const auto& f : msg) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      r.headers[name] = std::string(f.value());
    }
    {
      std::lock_guard lock(mu_);
      received_.push_back(std::move(r));
    }
    const std::string answer = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    (void)!::write(c, answer.data(), answer.size());
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Request> received_;
};

std::string hmacHex(const std::string& key, const std::string& msg) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  std::string out;
  char hex[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

json station(const std::string& id, double pm25) {
  return {{"id", id},
          {"type", "AirQualityObserved"},
          {"pm25", {{"type", "Property"}, {"value", pm25}}},
          {"location",
           {{"type", "GeoProperty"},
            {"value", {{"type", "Point"}, {"coordinates", {107.59, 16.46}}}}}}};
}

class Stream : public testing::Test {
 protected:
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    addUserCli(server_.dataDir(), "op.hue", "op-hue-password", "operator", "46");
    addUserCli(server_.dataDir(), "op.danang", "op-danang-password", "operator", "48");
    addUserCli(server_.dataDir(), "dan.hue", "dan-hue-password", "citizen", "46");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    hue_ = login(port(), "op.hue", "op-hue-password");
    danang_ = login(port(), "op.danang", "op-danang-password");
    citizen_ = login(port(), "dan.hue", "dan-hue-password");
    ASSERT_FALSE(HasFailure());
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }

  HttpResponse createEntity(const json& e, const std::string& bearer) {
    RequestOptions o;
    o.bearer = bearer;
    o.body = e.dump();
    return request(port(), "POST", "/ngsi-ld/v1/entities", o);
  }

  ServerProcess server_;
  std::string admin_, hue_, danang_, citizen_;
};

TEST_F(Stream, EntityUpdatesReachSubscribersOfTheirUnitOnly) {
  WsClient hue;
  ASSERT_EQ(hue.connect(port(), "/api/v1/stream", hue_), 101u);
  hue.send({{"op", "subscribe"},
            {"topics", {"entities"}},
            {"filter", {{"types", {"AirQualityObserved"}}}}});
  auto ack = hue.read();
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["op"], "subscribed") << ack->dump();

  // In-band authentication, as browsers do.
  WsClient danang;
  ASSERT_EQ(danang.connect(port(), "/api/v1/stream"), 101u);
  danang.send({{"op", "subscribe"}, {"topics", {"entities"}}});
  auto refused = danang.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["code"], "unauthenticated") << refused->dump();
  danang.send({{"op", "auth"}, {"token", danang_}});
  auto authed = danang.read();
  ASSERT_TRUE(authed);
  EXPECT_EQ((*authed)["op"], "authenticated") << authed->dump();
  EXPECT_EQ((*authed)["unit"], "48");
  danang.send({{"op", "subscribe"}, {"topics", {"entities"}}});
  ASSERT_EQ(danang.read().value_or(json())["op"], "subscribed");

  const std::string id = "urn:ngsi-ld:AirQualityObserved:hue-stream-1";
  auto created = createEntity(station(id, 27.5), hue_);
  ASSERT_EQ(created.status, 201u) << created.describe();
  auto ev = hue.readUntil([&](const json& m) { return m.value("key", "") == id; });
  ASSERT_TRUE(ev) << "no entity event";
  EXPECT_EQ((*ev)["topic"], "entities");
  EXPECT_EQ((*ev)["type"], "AirQualityObserved");
  EXPECT_EQ((*ev)["data"]["attrs"]["pm25"], 27.5) << ev->dump();

  // An update sends only what changed.
  RequestOptions patch;
  patch.bearer = hue_;
  patch.body = json{{"pm25", {{"type", "Property"}, {"value", 80}}}}.dump();
  auto patched = request(port(), "PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", patch);
  ASSERT_EQ(patched.status, 204u) << patched.describe();
  auto upd = hue.readUntil([&](const json& m) { return m.value("key", "") == id; });
  ASSERT_TRUE(upd);
  EXPECT_EQ((*upd)["data"]["attrs"]["pm25"], 80) << upd->dump();
  EXPECT_FALSE((*upd)["data"]["attrs"].contains("location")) << upd->dump();

  // Đà Nẵng's operator saw none of it: its first message is the answer to this ping.
  danang.send({{"op", "ping"}});
  auto pong = danang.read();
  ASSERT_TRUE(pong);
  EXPECT_EQ((*pong)["op"], "pong") << pong->dump();

  auto metrics = get(port(), "/metrics");
  EXPECT_NE(metrics.body.find("stream_clients 2"), std::string::npos);
  EXPECT_NE(metrics.body.find("stream_messages_sent_total"), std::string::npos);
}

TEST_F(Stream, TopicsNeedTheirPermissionAndCredentialsAreChecked) {
  WsClient citizen;
  ASSERT_EQ(citizen.connect(port(), "/api/v1/stream", citizen_), 101u);
  citizen.send({{"op", "subscribe"}, {"topics", {"alerts"}}});
  auto m = citizen.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["op"], "error");
  EXPECT_EQ((*m)["code"], "forbidden");
  EXPECT_EQ((*m)["topic"], "alerts");
  EXPECT_NE((*m)["message"].get<std::string>().find("alerts:read"), std::string::npos);
  citizen.send({{"op", "subscribe"}, {"topics", {"notifications"}}});
  EXPECT_EQ(citizen.read().value_or(json())["op"], "subscribed");

  // Bad credentials on the upgrade request are answered like any route's, before upgrading.
  WsClient bad;
  EXPECT_NE(bad.connect(port(), "/api/v1/stream", "not-a-token"), 101u);
  RequestOptions upgrade;
  upgrade.bearer = "not-a-token";
  upgrade.headers = {{"Connection", "Upgrade"},
                     {"Upgrade", "websocket"},
                     {"Sec-WebSocket-Version", "13"},
                     {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  auto rejected = request(port(), "GET", "/api/v1/stream", upgrade);
  EXPECT_EQ(rejected.status, 401u) << rejected.describe();
  EXPECT_TRUE(rejected.isProblem());

  // A plain GET is authorized like any route, then told to upgrade.
  EXPECT_EQ(get(port(), "/api/v1/stream").status, 401u);
  EXPECT_EQ(get(port(), "/api/v1/stream", hue_).status, 426u);
}

//! Reads from `fd` until `needle` has arrived or `timeout` passes; everything read.
std::string readUntil(int fd, const std::string& needle, std::chrono::milliseconds timeout) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int connectTo(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(Stream, ServerSentEventsCarryEntityUpdates) {
  EXPECT_EQ(get(port(), "/api/v1/stream/sse?topics=entities").status, 401u);
  EXPECT_EQ(get(port(), "/api/v1/stream/sse", hue_).status, 400u);
  EXPECT_EQ(get(port(), "/api/v1/stream/sse?topics=alerts", citizen_).status, 403u);

  int fd = connectTo(port());
  ASSERT_GE(fd, 0);
  const std::string req =
      "GET /api/v1/stream/sse?topics=entities&types=AirQualityObserved HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer " +
      hue_ + "\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string head = readUntil(fd, "event: subscribed", 10s);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;

  const std::string id = "urn:ngsi-ld:AirQualityObserved:hue-sse-1";
  ASSERT_EQ(createEntity(station(id, 12), hue_).status, 201u);
  std::string body = readUntil(fd, id, 10s);
  EXPECT_NE(body.find("event: entities\n"), std::string::npos) << body;
  EXPECT_NE(body.find("id: "), std::string::npos) << body;
  EXPECT_NE(body.find("data: {"), std::string::npos) << body;
  EXPECT_NE(body.find(id), std::string::npos) << body;
  ::close(fd);
}

TEST_F(Stream, WebhookTestNotificationIsSigned) {
  Receiver receiver;
  auto created =
      postJson(port(), "/api/v1/webhooks",
               {{"url", "http://127.0.0.1:" + std::to_string(receiver.port()) + "/ioc-hook"},
                {"min_severity", "Severe"},
                {"description", "Trực ban"}},
               admin_);
  ASSERT_EQ(created.status, 201u) << created.describe();
  const std::string id = created.json().value("id", "");
  const std::string secret = created.json().value("secret", "");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(secret.size(), 64u);

  auto listed = get(port(), "/api/v1/webhooks", admin_);
  ASSERT_EQ(listed.status, 200u);
  ASSERT_EQ(listed.jsonField("items").size(), 1u);
  EXPECT_FALSE(listed.jsonField("items")[0].contains("secret"));
  // Other units' staff do not see it; operators may not configure channels at all.
  EXPECT_EQ(get(port(), "/api/v1/webhooks", hue_).status, 403u);

  auto test = postJson(port(), "/api/v1/webhooks/" + id + "/test", json::object(), admin_);
  ASSERT_EQ(test.status, 202u) << test.describe();
  ASSERT_TRUE(eventually([&] { return !receiver.received().empty(); }, 10s));
  auto r = receiver.received()[0];
  EXPECT_EQ(r.target, "/ioc-hook");
  EXPECT_EQ(r.headers["x-cityioc-event"], "webhook.test");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const std::string ts = r.headers["x-cityioc-timestamp"];
  EXPECT_NEAR(std::stoll(ts), std::time(nullptr), 60);
  EXPECT_EQ(r.headers["x-cityioc-signature"], "sha256=" + hmacHex(secret, ts + "." + r.body));
  auto body = json::parse(r.body, nullptr, false);
  EXPECT_EQ(body["event"], "webhook.test");
  EXPECT_EQ(body["data"]["channel"], id);

  RequestOptions del;
  del.bearer = admin_;
  EXPECT_EQ(request(port(), "DELETE", "/api/v1/webhooks/" + id, del).status, 204u);
  EXPECT_EQ(get(port(), "/api/v1/webhooks", admin_).jsonField("items").size(), 0u);
}

}  // namespace
}  // namespace ioc::it
