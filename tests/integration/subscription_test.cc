// NGSI-LD subscriptions through the real binary (ETSI GS CIM 009 clauses 5.8 and 5.11): CRUD
// with every error type, notifications POSTed to an HTTP receiver run by the test (normalized and
// keyValues, attribute filtering, Link header or @context in the body, receiverInfo headers),
// delivery status and failures, MQTT notifications through a real Mosquitto, and persistence
// across a restart. Expectations come from the specification.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "integration/harness.h"
#include "unit/net/tls_receiver.h"

namespace ioc::it {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

constexpr const char* kErrors = "https://uri.etsi.org/ngsi-ld/errors/";
const std::string kBase = "/ngsi-ld/v1";
const std::string kSensor = "urn:ngsi-ld:Sensor:hue-1";

// ---------------------------------------------------------------------------------------------
// An HTTP receiver: accepts keep-alive connections on 127.0.0.1, records each request, answers
// with a fixed status.

struct Received {
  std::string target;
  Headers headers;
  std::string body;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return {};
  }
  ioc::Json parsed() const { return ioc::Json::parse(body, nullptr, false); }
};

class Receiver {
 public:
  Receiver() {
    fd_ = listenLoopback(&port_);
    thread_ = std::thread([this] { acceptLoop(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/notify") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> got() {
    std::lock_guard lock(mu_);
    return got_;
  }
  //! Waits until `n` requests arrived (bounded); all of them.
  std::vector<Received> waitFor(size_t n, std::chrono::milliseconds timeout = 15s) {
    eventually([&] { return got().size() >= n; }, timeout);
    return got();
  }

 private:
  void acceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) connections_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string buf;
    char chunk[8192];
    while (!stop_) {
      size_t head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = contentLength(buf.substr(0, head_end));
        if (buf.size() >= head_end + 4 + length) {
          record(buf.substr(0, head_end), buf.substr(head_end + 4, length));
          buf.erase(0, head_end + 4 + length);
          const char* ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          if (::send(c, ok, std::strlen(ok), MSG_NOSIGNAL) < 0) break;
          continue;
        }
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    ::close(c);
  }
  static size_t contentLength(const std::string& head) {
    std::string lower = head;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    size_t at = lower.find("content-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
  }
  void record(const std::string& head, std::string body) {
    Received r;
    std::istringstream in(head);
    std::string line;
    std::getline(in, line);
    size_t sp = line.find(' ');
    r.target = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
    }
    r.body = std::move(body);
    std::lock_guard lock(mu_);
    got_.push_back(std::move(r));
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;
  std::mutex mu_;
  std::vector<Received> got_;
};

// ---------------------------------------------------------------------------------------------
// Helpers

testing::AssertionResult isLdError(const HttpResponse& r, unsigned status,
                                   const std::string& type) {
  if (r.status != status) return testing::AssertionFailure() << "status: " << r.describe();
  if (!r.header("Content-Type").starts_with("application/json")) {
    return testing::AssertionFailure() << "content type: " << r.describe();
  }
  if (r.json().value("type", "") != kErrors + type) {
    return testing::AssertionFailure() << "type is not " << type << ": " << r.describe();
  }
  return testing::AssertionSuccess();
}

std::string addKey(const std::string& data_dir, const std::string& name, const std::string& scope,
                   const std::string& unit) {
  auto r =
      runCli({"key", "add", "--data", data_dir, "--name", name, "--scope", scope, "--unit", unit});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

json subscription(const std::string& uri, const json& extra = json::object()) {
  json s = {{"type", "Subscription"},
            {"entities", {{{"type", "Sensor"}}}},
            {"notification", {{"endpoint", {{"uri", uri}}}}}};
  for (const auto& [k, v] : extra.items()) s[k] = v;
  return s;
}

json sensor(double temperature, double humidity = 55) {
  return {{"id", kSensor},
          {"type", "Sensor"},
          {"temperature", {{"type", "Property"}, {"value", temperature}}},
          {"humidity", {{"type", "Property"}, {"value", humidity}}}};
}

class Subscriptions : public testing::Test {
 protected:
  void SetUp() override {
    key_ = addKey(server_.dataDir(), "hue-integration", "integration", "46");
    read_key_ = addKey(server_.dataDir(), "hue-reader", "read", "46");
    other_key_ = addKey(server_.dataDir(), "hanoi-integration", "integration", "01");
    ASSERT_TRUE(server_.start());
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& key = "",
                    const std::string& content_type = "application/json", Headers headers = {}) {
    RequestOptions o;
    o.bearer = key.empty() ? key_ : key;
    o.body = body;
    o.content_type = content_type;
    o.headers = std::move(headers);
    return request(port(), method, target, o);
  }
  //! Creates the subscription; its id (from Location).
  std::string create(const json& s, const std::string& key = "") {
    auto r = call("POST", kBase + "/subscriptions", s.dump(), key);
    EXPECT_EQ(r.status, 201u) << r.describe();
    const std::string prefix = kBase + "/subscriptions/";
    std::string location = r.header("Location");
    EXPECT_EQ(location.rfind(prefix, 0), 0u) << location;
    return location.size() > prefix.size() ? location.substr(prefix.size()) : "";
  }
  json fetch(const std::string& id) {
    auto r = call("GET", kBase + "/subscriptions/" + id);
    EXPECT_EQ(r.status, 200u) << r.describe();
    return r.json();
  }
  //! Creates the entity, or appends (overwrites) its attributes. Single-entity routes: batch
  //! upserts with a change listener are hit by a broker bug reported separately.
  void upsert(const json& entity) {
    const std::string id = entity["id"];
    if (call("GET", kBase + "/entities/" + id).status == 404) {
      auto r = call("POST", kBase + "/entities", entity.dump());
      ASSERT_EQ(r.status, 201u) << r.describe();
      return;
    }
    json attrs = entity;
    attrs.erase("id");
    attrs.erase("type");
    auto r = call("POST", kBase + "/entities/" + id + "/attrs", attrs.dump());
    ASSERT_EQ(r.status, 204u) << r.describe();
  }

  ServerProcess server_{{}, {{"CITYIOC_SUBSCRIPTIONS_RETRY_BACKOFF_MS", "10"}}};
  std::string key_, read_key_, other_key_;
};

// ---------------------------------------------------------------------------------------------

TEST_F(Subscriptions, CrudAndErrors) {
  const std::string sub_id = "urn:ngsi-ld:Subscription:crud";
  json s = subscription("http://127.0.0.1:9/x", {{"id", sub_id},
                                                 {"subscriptionName", "heat"},
                                                 {"watchedAttributes", {"temperature"}},
                                                 {"q", "temperature>30"},
                                                 {"throttling", 5}});
  EXPECT_EQ(create(s), sub_id);
  auto dup = call("POST", kBase + "/subscriptions", s.dump());
  EXPECT_TRUE(isLdError(dup, 409, "AlreadyExists"));

  json got = fetch(sub_id);
  EXPECT_EQ(got["id"], sub_id);
  EXPECT_EQ(got["type"], "Subscription");
  EXPECT_EQ(got["subscriptionName"], "heat");
  EXPECT_EQ(got["watchedAttributes"], json({"temperature"}));
  EXPECT_EQ(got["entities"][0]["type"], "Sensor");
  EXPECT_EQ(got["status"], "active");
  EXPECT_EQ(got["isActive"], true);
  EXPECT_EQ(got["notification"]["timesSent"], 0);

  // A generated id, listing, paging and counting.
  std::string generated = create(subscription("http://127.0.0.1:9/y"));
  EXPECT_EQ(generated.rfind("urn:ngsi-ld:Subscription:", 0), 0u) << generated;
  auto list = call("GET", kBase + "/subscriptions?count=true&limit=1");
  ASSERT_EQ(list.status, 200u) << list.describe();
  EXPECT_EQ(list.header("NGSILD-Results-Count"), "2");
  EXPECT_EQ(list.json().size(), 1u);
  EXPECT_NE(list.header("Link").find("json-ld#context"), std::string::npos);
  auto ld_list = call("GET", kBase + "/subscriptions", "", "", "application/json",
                      {{"Accept", "application/ld+json"}});
  EXPECT_TRUE(ld_list.json()[0].contains("@context")) << ld_list.describe();
  // Another province's key sees none of them, and cannot touch them.
  auto other = call("GET", kBase + "/subscriptions?count=true", "", other_key_);
  EXPECT_EQ(other.header("NGSILD-Results-Count"), "0");
  EXPECT_TRUE(isLdError(call("GET", kBase + "/subscriptions/" + sub_id, "", other_key_), 404,
                        "ResourceNotFound"));

  // PATCH changes only what it names.
  auto patch = call("PATCH", kBase + "/subscriptions/" + sub_id,
                    json{{"isActive", false}, {"description", "paused for repairs"}}.dump());
  EXPECT_EQ(patch.status, 204u) << patch.describe();
  got = fetch(sub_id);
  EXPECT_EQ(got["status"], "paused");
  EXPECT_EQ(got["description"], "paused for repairs");
  EXPECT_EQ(got["q"], "temperature>30");
  EXPECT_TRUE(isLdError(
      call("PATCH", kBase + "/subscriptions/" + sub_id, json{{"timeInterval", 10}}.dump()), 400,
      "BadRequestData"));  // watchedAttributes are set
  EXPECT_TRUE(isLdError(call("PATCH", kBase + "/subscriptions/urn:ngsi-ld:Subscription:none",
                             json{{"isActive", true}}.dump()),
                        404, "ResourceNotFound"));

  // Errors.
  EXPECT_TRUE(
      isLdError(call("POST", kBase + "/subscriptions", "{not json"), 400, "InvalidRequest"));
  for (const json& bad :
       {subscription("mqtts://example.org/x"),
        subscription("http://h/x", {{"watchedAttributes", {"a"}}, {"timeInterval", 5}}),
        subscription("http://h/x", {{"q", "temperature>>"}}),
        subscription("http://h/x", {{"x", 1}}),
        json{{"type", "Subscription"}, {"notification", {{"endpoint", {{"uri", "http://h"}}}}}},
        subscription("http://h/" + std::string(3000, 'a'))}) {
    auto r = call("POST", kBase + "/subscriptions", bad.dump());
    EXPECT_TRUE(isLdError(r, 400, "BadRequestData")) << bad.dump().substr(0, 200);
  }
  EXPECT_TRUE(isLdError(call("GET", kBase + "/subscriptions/not-a-uri"), 400, "BadRequestData"));
  EXPECT_TRUE(isLdError(call("GET", kBase + "/subscriptions/urn:ngsi-ld:Subscription:none"), 404,
                        "ResourceNotFound"));
  json with_ctx = subscription("http://h/x");
  with_ctx["@context"] = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
  EXPECT_TRUE(isLdError(call("POST", kBase + "/subscriptions", with_ctx.dump()), 400,
                        "BadRequestData"));  // @context needs application/ld+json
  EXPECT_EQ(
      call("POST", kBase + "/subscriptions", with_ctx.dump(), "", "application/ld+json").status,
      201u);
  // The read scope may not manage subscriptions (they make the server call URLs).
  EXPECT_EQ(call("GET", kBase + "/subscriptions", "", read_key_).status, 403u);

  EXPECT_EQ(call("DELETE", kBase + "/subscriptions/" + sub_id).status, 204u);
  EXPECT_TRUE(
      isLdError(call("DELETE", kBase + "/subscriptions/" + sub_id), 404, "ResourceNotFound"));
}

TEST_F(Subscriptions, HttpNotificationsNormalizedAndKeyValues) {
  Receiver normalized, key_values;
  const std::string a = create(
      subscription(normalized.url(),
                   {{"notification",
                     {{"attributes", {"temperature"}},
                      {"endpoint",
                       {{"uri", normalized.url("/hook?x=1")},
                        {"receiverInfo", {{{"key", "X-Api-Token"}, {"value", "s3cret"}}}}}}}}}));
  const std::string b = create(subscription(
      key_values.url(),
      {{"watchedAttributes", {"humidity"}},
       {"notification",
        {{"format", "keyValues"},
         {"endpoint", {{"uri", key_values.url()}, {"accept", "application/ld+json"}}}}}}));

  upsert(sensor(21.5));
  auto got = normalized.waitFor(1);
  ASSERT_EQ(got.size(), 1u) << server_.stderrText();
  const Received& n = got[0];
  EXPECT_EQ(n.target, "/hook?x=1");
  EXPECT_TRUE(n.header("Content-Type").starts_with("application/json"));
  EXPECT_NE(n.header("Link").find("rel=\"http://www.w3.org/ns/json-ld#context\""),
            std::string::npos)
      << n.header("Link");
  EXPECT_EQ(n.header("X-Api-Token"), "s3cret");
  json body = n.parsed();
  EXPECT_EQ(body["type"], "Notification");
  EXPECT_EQ(body["subscriptionId"], a);
  EXPECT_EQ(body["id"].get<std::string>().rfind("urn:ngsi-ld:Notification:", 0), 0u);
  EXPECT_TRUE(body.contains("notifiedAt"));
  EXPECT_FALSE(body.contains("@context"));
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["id"], kSensor);
  EXPECT_EQ(body["data"][0]["type"], "Sensor");
  EXPECT_EQ(body["data"][0]["temperature"]["type"], "Property");
  EXPECT_EQ(body["data"][0]["temperature"]["value"], 21.5);
  EXPECT_FALSE(body["data"][0].contains("humidity")) << "notification.attributes filters";

  auto kv = key_values.waitFor(1);
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_TRUE(kv[0].header("Content-Type").starts_with("application/ld+json"));
  EXPECT_TRUE(kv[0].header("Link").empty());
  json kvb = kv[0].parsed();
  EXPECT_TRUE(kvb.contains("@context"));
  EXPECT_EQ(kvb["subscriptionId"], b);
  EXPECT_EQ(kvb["data"][0]["temperature"], 21.5);
  EXPECT_EQ(kvb["data"][0]["humidity"], 55);

  // A change to temperature only: the humidity watcher stays silent, the other hears it.
  json temperature_only = sensor(23.0);
  temperature_only.erase("humidity");
  upsert(temperature_only);
  ASSERT_EQ(normalized.waitFor(2).size(), 2u);
  EXPECT_EQ(normalized.got()[1].parsed()["data"][0]["temperature"]["value"], 23.0);
  upsert(sensor(23.0, 60));
  ASSERT_EQ(key_values.waitFor(2).size(), 2u);
  EXPECT_EQ(key_values.got()[1].parsed()["data"][0]["humidity"], 60);
  EXPECT_EQ(key_values.got().size(), 2u);

  // Status members.
  ASSERT_TRUE(eventually([&] { return fetch(a)["notification"].value("timesSent", 0) >= 2; }, 5s));
  json status = fetch(a)["notification"];
  EXPECT_EQ(status["status"], "ok");
  EXPECT_EQ(status["timesFailed"], 0);
  EXPECT_TRUE(status.contains("lastSuccess"));
  EXPECT_TRUE(status.contains("lastNotification"));
  std::string metrics = get(port(), "/metrics").body;
  EXPECT_GE(sample(metrics, "ngsild_notifications_total{result=\"sent\"}"), 4) << metrics;
  EXPECT_GE(sample(metrics, "ngsild_notification_latency_seconds_count"), 4) << metrics;
}

TEST_F(Subscriptions, FailingEndpointIsReportedAndDoesNotBlockIngest) {
  uint16_t closed = 0;
  {
    Receiver r;  // bound, then closed: nothing listens on the port any more
    closed = r.port();
  }
  ASSERT_TRUE(connectRefused(closed));
  const std::string id = create(subscription("http://127.0.0.1:" + std::to_string(closed) + "/x"));
  for (int i = 0; i < 3; ++i) upsert(sensor(20 + i));  // each answered without waiting
  ASSERT_TRUE(
      eventually([&] { return fetch(id)["notification"].value("timesFailed", 0) >= 3; }, 10s))
      << fetch(id).dump();
  json n = fetch(id)["notification"];
  EXPECT_EQ(n["status"], "failed");
  EXPECT_TRUE(n.contains("lastFailure"));
  EXPECT_FALSE(n.contains("lastSuccess"));
  ASSERT_TRUE(eventually(
      [&] {
        return sample(get(port(), "/metrics").body,
                      "ngsild_notifications_total{result=\"failed\"}") >= 1;
      },
      10s));
}

TEST(SubscriptionsTls, HttpsEndpointsGetVerifiedDeliveries) {
  // A receiver with a certificate made here: a server told to trust it (tls.ca_file) delivers;
  // a server with only the system's CAs refuses the receiver and reports the failure.
  const fs::path dir = fs::temp_directory_path() / ("ioc_subs_tls_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), pem_key = (dir / "key.pem").string();
  testing_tls::makeCertificate(cert, pem_key);
  testing_tls::TlsReceiver receiver(cert, pem_key, 204, 2);
  const std::string uri = "https://localhost:" + std::to_string(receiver.port()) + "/notify";
  auto deliver = [&](ServerProcess& server) {
    const std::string key = addKey(server.dataDir(), "hue-integration", "integration", "46");
    EXPECT_TRUE(server.start());
    RequestOptions o;
    o.bearer = key;
    o.content_type = "application/json";
    o.body = subscription(uri).dump();
    auto created = request(server.port(), "POST", kBase + "/subscriptions", o);
    EXPECT_EQ(created.status, 201u) << created.describe();
    o.body = sensor(24.5).dump();
    EXPECT_EQ(request(server.port(), "POST", kBase + "/entities", o).status, 201u);
    o.body.clear();
    const std::string sub = created.header("Location");
    json status;
    eventually(
        [&] {
          status = request(server.port(), "GET", sub, o).json()["notification"];
          return status.value("timesSent", 0) >= 1;
        },
        10s);
    return status;
  };

  ServerProcess trusting{{}, {{"CITYIOC_TLS_CA_FILE", cert}}};
  json ok = deliver(trusting);
  ASSERT_TRUE(eventually([&] { return receiver.received() >= 1; }, 10s)) << ok.dump();
  EXPECT_EQ(ok["status"], "ok") << ok.dump();
  const auto req = receiver.requests()[0];
  EXPECT_EQ(req.target(), "/notify");
  json body = json::parse(req.body(), nullptr, false);
  EXPECT_EQ(body["type"], "Notification");
  ASSERT_EQ(body["data"].size(), 1u) << req.body();
  EXPECT_EQ(body["data"][0]["id"], kSensor);
  EXPECT_EQ(body["data"][0]["temperature"]["value"], 24.5);

  ServerProcess system_cas{{}, {{"CITYIOC_SUBSCRIPTIONS_MAX_ATTEMPTS", "1"}}};
  json refused = deliver(system_cas);
  EXPECT_EQ(refused["status"], "failed") << refused.dump();
  EXPECT_TRUE(refused.contains("lastFailure"));
  EXPECT_EQ(receiver.received(), 1u) << "nothing reached a receiver the server cannot verify";

  // A CA file that holds no certificate stops the server at start with the setting's name.
  std::ofstream(dir / "empty.pem") << "not a certificate\n";
  ServerProcess misconfigured{{}, {{"CITYIOC_TLS_CA_FILE", (dir / "empty.pem").string()}}};
  EXPECT_FALSE(misconfigured.start());
  EXPECT_NE(misconfigured.stderrText().find("tls.ca_file"), std::string::npos)
      << misconfigured.stderrText();
  for (auto* s : {&trusting, &system_cas}) EXPECT_EQ(s->terminate(), 0) << s->stderrText();
  fs::remove_all(dir);
}

TEST_F(Subscriptions, SurviveARestartWithTheirStatus) {
  Receiver receiver;
  const std::string id = create(subscription(receiver.url(), {{"description", "durable"}}));
  upsert(sensor(20));
  ASSERT_EQ(receiver.waitFor(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return fetch(id)["notification"].value("timesSent", 0) == 1; }, 5s));
  ASSERT_EQ(server_.terminate(), 0) << server_.stderrText();
  ASSERT_TRUE(server_.restart());
  json got = fetch(id);
  EXPECT_EQ(got["description"], "durable");
  EXPECT_EQ(got["notification"]["timesSent"], 1) << "status saved at shutdown";
  upsert(sensor(25));
  ASSERT_EQ(receiver.waitFor(2).size(), 2u);
  EXPECT_EQ(receiver.got()[1].parsed()["subscriptionId"], id);
}

// ---------------------------------------------------------------------------------------------
// MQTT

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kMosquittoSub = "/usr/bin/mosquitto_sub";

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = ::open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (log >= 0) ::close(log);
  return pid;
}

void reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, &status, WNOHANG);
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(Subscriptions, MqttNotificationsThroughMosquitto) {
  if (!fs::exists(kMosquitto) || !fs::exists(kMosquittoSub)) {
    GTEST_SKIP() << "mosquitto and mosquitto-clients are not installed (scripts/deps)";
  }
  TempDir dir;
  uint16_t mqtt_port = 0;
  {
    Receiver r;  // a free port
    mqtt_port = r.port();
  }
  {
    std::ofstream conf(dir.path() + "/mosquitto.conf");
    conf << "listener " << mqtt_port << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
  }
  pid_t broker =
      spawn({kMosquitto, "-c", dir.path() + "/mosquitto.conf"}, dir.path() + "/mosquitto.log");
  ASSERT_TRUE(eventually([&] { return !connectRefused(mqtt_port); }, 10s))
      << readText(dir.path() + "/mosquitto.log");
  const std::string out = dir.path() + "/sub.out";
  pid_t sub = spawn({kMosquittoSub, "-h", "127.0.0.1", "-p", std::to_string(mqtt_port), "-t",
                     "city/alerts", "-q", "1", "-C", "1"},
                    out);
  const std::string id = create(
      subscription("mqtt://127.0.0.1:" + std::to_string(mqtt_port) + "/city/alerts",
                   {{"notification",
                     {{"format", "keyValues"},
                      {"endpoint",
                       {{"uri", "mqtt://127.0.0.1:" + std::to_string(mqtt_port) + "/city/alerts"},
                        {"notifierInfo", {{{"key", "MQTT-QoS"}, {"value", "1"}}}},
                        {"receiverInfo", {{{"key", "X-Site"}, {"value", "hue"}}}}}}}}}));
  // mosquitto_sub subscribes asynchronously: change the entity until a message arrives.
  double t = 30;
  bool arrived = eventually(
      [&] {
        upsert(sensor(t += 1));
        return !readText(out).empty();
      },
      15s);
  reap(sub);
  reap(broker);
  ASSERT_TRUE(arrived) << server_.stderrText();
  json msg = json::parse(readText(out), nullptr, false);
  ASSERT_TRUE(msg.is_object()) << readText(out);
  EXPECT_EQ(msg["metadata"]["Content-Type"], "application/json");
  EXPECT_NE(msg["metadata"].value("Link", "").find("json-ld#context"), std::string::npos);
  EXPECT_EQ(msg["metadata"]["X-Site"], "hue");
  EXPECT_EQ(msg["body"]["type"], "Notification");
  EXPECT_EQ(msg["body"]["subscriptionId"], id);
  EXPECT_EQ(msg["body"]["data"][0]["id"], kSensor);
  EXPECT_TRUE(msg["body"]["data"][0]["temperature"].is_number());
}

}  // namespace
}  // namespace ioc::it
