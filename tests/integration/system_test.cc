// Health, request limits, graceful shutdown, crash durability and audit tamper evidence, against
// the real binary.
#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <regex>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

//! The value of the first sample line `name` (exact, no labels) in a Prometheus text body.
std::optional<double> sample(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return std::nullopt;
}

void expectHealthy(uint16_t port) {
  auto r = get(port, "/healthz");
  EXPECT_EQ(r.status, 200u) << "server not healthy: " << r.describe();
}

TEST(Health, HealthzReadyzAndMetrics) {
  ServerProcess server;
  addUserCli(server.dataDir(), kAdminUser, kAdminPassword, "admin");
  ASSERT_TRUE(server.start());
  const uint16_t port = server.port();

  auto h = get(port, "/healthz");
  EXPECT_EQ(h.status, 200u) << h.describe();
  EXPECT_TRUE(h.header("Content-Type").starts_with("application/json")) << h.describe();
  EXPECT_EQ(h.json(), json({{"status", "ok"}})) << h.body;
  EXPECT_FALSE(h.header("X-Request-Id").empty());

  auto ready = get(port, "/readyz");
  ASSERT_EQ(ready.status, 200u) << ready.describe();
  auto rj = ready.json();
  ASSERT_TRUE(rj.is_object()) << ready.body;
  EXPECT_EQ(rj.value("status", ""), "ready");
  ASSERT_TRUE(rj.contains("schema_version") && rj["schema_version"].is_number_integer())
      << ready.body;
  EXPECT_GE(rj["schema_version"].get<int>(), 1);
  EXPECT_GT(rj.value("units", 0), 3000) << "the unit catalogue should be loaded";

  // One durable write, so that the commit histogram has an observation.
  ASSERT_FALSE(login(port, kAdminUser, kAdminPassword).empty());

  auto m = get(port, "/metrics");
  ASSERT_EQ(m.status, 200u) << m.describe();
  EXPECT_TRUE(m.header("Content-Type").starts_with("text/plain")) << m.header("Content-Type");
  const std::string& text = m.body;
  EXPECT_NE(text.find("# TYPE http_requests_total counter"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(
      text,
      std::regex(R"re(http_requests_total\{[^}]*route="/healthz"[^}]*status="200"[^}]*\} 1)re")))
      << text;
  EXPECT_NE(text.find("# TYPE store_commit_duration_seconds histogram"), std::string::npos);
  auto commits = sample(text, "store_commit_duration_seconds_count");
  ASSERT_TRUE(commits.has_value()) << text;
  EXPECT_GE(*commits, 1.0) << "the login was a durable write";
  // The request latency histogram, with buckets and +Inf.
  EXPECT_NE(text.find("# TYPE http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      text,
      std::regex(R"re(http_request_duration_seconds_bucket\{route="/readyz",le="\+Inf"\} 1)re")))
      << text;
  EXPECT_TRUE(std::regex_search(
      text,
      std::regex(R"re(http_request_duration_seconds_count\{route="/api/v1/auth/login"\} 1)re")))
      << text;

  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

// ---------------------------------------------------------------------------------------------
// Limits

class Limits : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({}, {{"CITYIOC_SERVER_MAX_HEADER_BYTES", "2048"},
                                     {"CITYIOC_SERVER_READ_TIMEOUT_MS", "500"}});
    auto started = server_->start();
    if (!started) {
      start_error_ = started.message();
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    if (server_ && server_->alive()) {
      auto code = server_->terminate();
      EXPECT_EQ(code, 0) << server_->stderrText();
    }
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << start_error_; }
  void TearDown() override {
    if (server_) {
      ASSERT_TRUE(server_->alive());
      expectHealthy(server_->port());
    }
  }
  uint16_t port() const { return server_->port(); }

  static ServerProcess* server_;
  static std::string start_error_;
};
ServerProcess* Limits::server_ = nullptr;
std::string Limits::start_error_;

TEST_F(Limits, HeadersLargerThanTheLimitAre431) {
  RequestOptions o;
  o.headers = {{"X-Padding", std::string(4000, 'a')}};
  auto r = request(port(), "GET", "/healthz", o);
  EXPECT_EQ(r.status, 431u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  EXPECT_EQ(r.json().value("type", ""), "urn:cityioc:problem:header-too-large");
  // Just under the limit is fine.
  o.headers = {{"X-Padding", std::string(1500, 'a')}};
  EXPECT_EQ(request(port(), "GET", "/healthz", o).status, 200u);
}

TEST_F(Limits, LoginBodyOverItsRouteLimitIs413) {
  // POST /api/v1/auth/login accepts 16 KiB; the server default (1 MiB) must not apply.
  RequestOptions o;
  o.body = json({{"username", "admin"}, {"password", std::string(17 * 1024, 'p')}}).dump();
  auto r = request(port(), "POST", "/api/v1/auth/login", o);
  EXPECT_EQ(r.status, 413u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  EXPECT_EQ(r.json().value("type", ""), "urn:cityioc:problem:payload-too-large");
}

TEST_F(Limits, ChunkedBodyOverTheRouteLimitIs413) {
  // No Content-Length to judge up front: the limit must hold while the body streams in.
  RawConnection c(port());
  std::string chunk(8 * 1024, 'x');
  std::string req =
      "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  char size_line[32];
  snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 3; ++i) req += size_line + chunk + "\r\n";
  req += "0\r\n\r\n";
  c.send(req);
  auto r = c.readResponse(10s);
  ASSERT_TRUE(r.has_value()) << "no response";
  EXPECT_EQ(r->status, 413u) << r->describe();
  EXPECT_TRUE(r->isProblem());
}

TEST_F(Limits, SlowClientGets408) {
  RawConnection c(port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHo"));
  auto r = c.readResponse(10s);
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.has_value()) << "no response to a stalled request";
  EXPECT_EQ(r->status, 408u) << r->describe();
  EXPECT_TRUE(r->isProblem());
  EXPECT_GE(waited, 400ms) << "answered before the read timeout";
  EXPECT_LT(waited, 5s);
  EXPECT_TRUE(c.waitClosed(3s)) << "the connection should be closed after a 408";
}

TEST_F(Limits, UnknownRouteIs404Problem) {
  for (const char* method : {"GET", "POST"}) {
    auto r = request(port(), method, "/api/v1/no-such-thing");
    EXPECT_EQ(r.status, 404u) << method << " " << r.describe();
    EXPECT_TRUE(r.isProblem()) << method;
    EXPECT_EQ(r.json().value("type", ""), "urn:cityioc:problem:not-found");
  }
}

TEST_F(Limits, WrongMethodIs405WithAllow) {
  auto r = request(port(), "DELETE", "/healthz");
  EXPECT_EQ(r.status, 405u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  EXPECT_NE(r.header("Allow").find("GET"), std::string::npos) << "Allow: " << r.header("Allow");

  auto users = request(port(), "PUT", "/api/v1/users/1");
  EXPECT_EQ(users.status, 405u) << users.describe();
  EXPECT_NE(users.header("Allow").find("GET"), std::string::npos) << users.header("Allow");
  EXPECT_NE(users.header("Allow").find("PATCH"), std::string::npos) << users.header("Allow");
}

TEST_F(Limits, GarbageIs400AndTheServerSurvives) {
  RawConnection c(port());
  ASSERT_TRUE(c.send("\x01\x02\x03 NOT HTTP\r\n\r\n"));
  auto r = c.readResponse(10s);
  ASSERT_TRUE(r.has_value()) << "no response";
  EXPECT_EQ(r->status, 400u) << r->describe();
  EXPECT_TRUE(r->isProblem());
}

TEST(LimitsWebUi, UnknownApiRouteIs404EvenWithAWebUi) {
  // With a web UI, unknown extension-less paths get index.html (single-page app routes). An
  // unknown API path must still be a 404 problem, not 200 text/html.
  TempDir web;
  std::ofstream(web.path() + "/index.html") << "<!doctype html><title>CityIOC</title>";
  ServerProcess server({"--web-root", web.path()});
  ASSERT_TRUE(server.start());
  auto page = get(server.port(), "/map");
  EXPECT_EQ(page.status, 200u) << page.describe();
  EXPECT_TRUE(page.header("Content-Type").starts_with("text/html")) << page.describe();
  auto api = get(server.port(), "/api/v1/no-such-thing");
  EXPECT_EQ(api.status, 404u) << api.describe();
  EXPECT_TRUE(api.isProblem());
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown

TEST(Shutdown, RequestInFlightIsAnsweredThenTheProcessExits0) {
  ServerProcess server({}, {{"CITYIOC_LOG_ACCESS", "true"}});
  addUserCli(server.dataDir(), kAdminUser, kAdminPassword, "admin");
  ASSERT_TRUE(server.start());
  const uint16_t port = server.port();

  const std::string body = json({{"username", kAdminUser}, {"password", kAdminPassword}}).dump();
  const size_t half = body.size() / 2;
  RawConnection c(port);
  ASSERT_TRUE(
      c.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
             "Content-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, half)));
  // Wait until the server holds our connection (besides the one asking), then give it a moment
  // to parse the headers: the request is now in flight, waiting for the rest of its body.
  EXPECT_TRUE(eventually(
      [&] {
        auto n = sample(get(port, "/metrics").body, "http_connections_open");
        return n && *n >= 2;
      },
      10s));
  std::this_thread::sleep_for(100ms);
  server.signal(SIGTERM);
  // Shutdown has begun once the listener is gone.
  EXPECT_TRUE(eventually([&] { return connectRefused(port); }, 10s))
      << "the listener was not closed after SIGTERM";
  ASSERT_TRUE(server.alive()) << "exited with a request in flight";
  ASSERT_TRUE(c.send(body.substr(half)));
  auto r = c.readResponse(20s);
  ASSERT_TRUE(r.has_value()) << "the in-flight request got no response\n" << server.stderrText();
  EXPECT_TRUE(r->status == 200u || r->status == 401u) << r->describe();
  EXPECT_EQ(r->status, 200u) << "the password was right: " << r->describe();
  EXPECT_TRUE(r->json().contains("token")) << r->body;
  EXPECT_EQ(r->header("Connection"), "close");
  c.close();

  auto code = server.waitExit(10s);
  ASSERT_TRUE(code.has_value()) << "still running 10 s after the last response";
  EXPECT_EQ(*code, 0) << server.stderrText();
  EXPECT_TRUE(connectRefused(port));
  // The log confirms the order: shutdown began, then the login was answered.
  const std::string log = server.stderrText();
  const size_t shutting = log.find("\"shutting down\"");
  const size_t answered = log.find("\"path\":\"/api/v1/auth/login\"");
  ASSERT_NE(shutting, std::string::npos) << log;
  ASSERT_NE(answered, std::string::npos) << log;
  EXPECT_LT(shutting, answered) << log;
}

TEST(Shutdown, SigintIsGracefulToo) {
  ServerProcess server;
  ASSERT_TRUE(server.start());
  expectHealthy(server.port());
  EXPECT_EQ(server.terminate(SIGINT), 0) << server.stderrText();
}

// ---------------------------------------------------------------------------------------------
// Durability

TEST(Durability, AcknowledgedWritesSurviveKill9) {
  ServerProcess server;
  addUserCli(server.dataDir(), kAdminUser, kAdminPassword, "admin");
  ASSERT_TRUE(server.start());
  std::string token = login(server.port(), kAdminUser, kAdminPassword);
  ASSERT_FALSE(token.empty());
  auto created = postJson(server.port(), "/api/v1/users",
                          {{"username", "durable.op"},
                           {"password", "durable-password-1"},
                           {"role", "operator"},
                           {"unit_code", "46"}},
                          token);
  ASSERT_EQ(created.status, 201u) << created.describe();
  const int64_t id = created.json().value("id", int64_t{0});
  const std::string rid = created.header("X-Request-Id");
  server.kill9();  // no flush, no shutdown

  ASSERT_TRUE(server.restart());
  // The acknowledged login (a session row) survived: the same token still works.
  auto me = get(server.port(), "/api/v1/auth/me", token);
  EXPECT_EQ(me.status, 200u) << me.describe();
  auto user = get(server.port(), "/api/v1/users/" + std::to_string(id), token);
  ASSERT_EQ(user.status, 200u) << user.describe();
  EXPECT_EQ(user.json().value("username", ""), "durable.op");

  auto audit = get(server.port(), "/api/v1/audit?limit=1000", token);
  ASSERT_EQ(audit.status, 200u) << audit.describe();
  bool found_create = false;
  bool found_login = false;
  for (const auto& e : audit.jsonField("items")) {
    if (e["action"] == "user.create" && e["target"] == "user:" + std::to_string(id)) {
      found_create = true;
      EXPECT_EQ(e["actor"], kAdminUser);
      EXPECT_EQ(e["request_id"], rid);
    }
    found_login = found_login || e["action"] == "auth.login";
  }
  EXPECT_TRUE(found_create) << audit.body;
  EXPECT_TRUE(found_login) << audit.body;
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();

  auto verify = runCli({"audit", "verify", "--data", server.dataDir()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("intact"), std::string::npos) << verify.out;
}

// ---------------------------------------------------------------------------------------------
// Audit tamper evidence

//! sqlite3_exec; "" on success, else the error message.
std::string execSql(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = rc == SQLITE_OK ? "" : (err ? err : "error " + std::to_string(rc));
  sqlite3_free(err);
  return message;
}

TEST(AuditTamper, EditedEntryIsDetectedAndTheTriggerBlocksEdits) {
  ServerProcess server;
  addUserCli(server.dataDir(), kAdminUser, kAdminPassword, "admin");  // seq 1
  ASSERT_TRUE(server.start());
  // seq 2–4: the default SOP templates installed at the first start (audited like any change)
  std::string token = login(server.port(), kAdminUser, kAdminPassword);  // seq 5
  ASSERT_FALSE(token.empty());
  auto created = postJson(server.port(), "/api/v1/users",
                          {{"username", "tamper.op"},
                           {"password", "tamper-password-1"},
                           {"role", "operator"},
                           {"unit_code", "46"}},
                          token);  // seq 6
  ASSERT_EQ(created.status, 201u) << created.describe();
  ASSERT_EQ(server.terminate(), 0) << server.stderrText();

  auto before = runCli({"audit", "verify", "--data", server.dataDir()});
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_NE(before.out.find("6 entries"), std::string::npos) << before.out;

  sqlite3* db = nullptr;
  const std::string path = server.dataDir() + "/cityioc.db";
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  sqlite3_busy_timeout(db, 5000);
  // The append-only triggers refuse edits and deletions.
  std::string err = execSql(db, "UPDATE audit_log SET detail='{\"role\":\"admin\"}' WHERE seq=2");
  EXPECT_NE(err, "") << "UPDATE of the audit log succeeded with the trigger in place";
  EXPECT_NE(err.find("append-only"), std::string::npos) << err;
  err = execSql(db, "DELETE FROM audit_log WHERE seq=3");
  EXPECT_NE(err.find("append-only"), std::string::npos) << err;
  // Someone with file access drops the trigger and edits history.
  ASSERT_EQ(execSql(db, "DROP TRIGGER audit_log_no_update"), "");
  ASSERT_EQ(execSql(db, "UPDATE audit_log SET detail='{\"role\":\"admin\"}' WHERE seq=2"), "");
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);

  auto after = runCli({"audit", "verify", "--data", server.dataDir()});
  EXPECT_EQ(after.exit_code, 1) << after.out << after.err;
  EXPECT_NE(after.out.find("seq 2"), std::string::npos) << after.out;

  // The running server reports it too.
  ASSERT_TRUE(server.restart());
  token = login(server.port(), kAdminUser, kAdminPassword);
  auto v = get(server.port(), "/api/v1/audit/verify", token);
  ASSERT_EQ(v.status, 200u) << v.describe();
  EXPECT_EQ(v.json().value("intact", true), false) << v.body;
  EXPECT_EQ(v.json().value("first_bad_seq", 0), 2) << v.body;
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

}  // namespace
}  // namespace ioc::it
