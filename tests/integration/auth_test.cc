// Sign-in, sessions and their failure modes, against the real binary.
#include <regex>
#include <set>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

class Auth : public testing::Test {
 protected:
  //! An admin created with the CLI on the data directory, then the server started with `env`.
  void startWith(Env env) {
    server_.emplace(std::vector<std::string>{}, std::move(env));
    addUserCli(server_->dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override {
    if (server_ && server_->running()) {
      ASSERT_TRUE(server_->alive());
      EXPECT_EQ(get(port(), "/healthz").status, 200u) << "server unhealthy at the end";
      EXPECT_EQ(server_->terminate(), 0) << server_->stderrText();
    }
  }
  uint16_t port() const { return server_->port(); }
  HttpResponse loginRaw(const json& body) { return postJson(port(), "/api/v1/auth/login", body); }

  std::optional<ServerProcess> server_;
};

TEST_F(Auth, LoginReturnsATokenAndMeShowsRoleAndPermissions) {
  ASSERT_NO_FATAL_FAILURE(startWith({}));
  auto r = loginRaw({{"username", kAdminUser}, {"password", kAdminPassword}});
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_TRUE(j["token"].is_string());
  const std::string token = j["token"];
  EXPECT_GE(token.size(), 20u);
  EXPECT_EQ(j.value("token_type", ""), "Bearer");
  ASSERT_TRUE(j["expires_at"].is_string()) << r.body;
  EXPECT_TRUE(std::regex_match(j["expires_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << j["expires_at"];

  auto me = get(port(), "/api/v1/auth/me", token);
  ASSERT_EQ(me.status, 200u) << me.describe();
  auto mj = me.json();
  EXPECT_EQ(mj.value("kind", ""), "user");
  EXPECT_EQ(mj.value("name", ""), kAdminUser);
  EXPECT_EQ(mj.value("role", ""), "admin");
  EXPECT_TRUE(mj["unit_code"].is_null());
  std::set<std::string> perms;
  for (const auto& p : mj["permissions"]) perms.insert(p.get<std::string>());
  for (const char* p : {"authenticated", "units:read", "users:read", "users:manage", "keys:manage",
                        "audit:read", "ingest", "context:read"}) {
    EXPECT_TRUE(perms.count(p)) << "admin lacks " << p << " in " << me.body;
  }
  EXPECT_FALSE(perms.count("public")) << me.body;
  // The scheme name is case-insensitive (RFC 9110).
  RequestOptions lower;
  lower.headers = {{"Authorization", "bearer " + token}};
  EXPECT_EQ(request(port(), "GET", "/api/v1/auth/me", lower).status, 200u);
}

TEST_F(Auth, WrongPasswordAndUnknownUserAreTheSame401) {
  ASSERT_NO_FATAL_FAILURE(startWith({}));
  auto wrong = loginRaw({{"username", kAdminUser}, {"password", "not-the-password"}});
  EXPECT_EQ(wrong.status, 401u) << wrong.describe();
  EXPECT_TRUE(wrong.isProblem());
  EXPECT_EQ(wrong.json().value("type", ""), "urn:cityioc:problem:unauthenticated");
  auto unknown = loginRaw({{"username", "nobody.here"}, {"password", "not-the-password"}});
  EXPECT_EQ(unknown.status, 401u) << unknown.describe();
  EXPECT_TRUE(unknown.isProblem());
  // No user enumeration: the same words either way.
  EXPECT_EQ(wrong.json().value("detail", "?"), unknown.json().value("detail", "!"))
      << wrong.body << " vs " << unknown.body;
  EXPECT_EQ(wrong.json().value("title", "?"), unknown.json().value("title", "!"));
}

TEST_F(Auth, BadRequestsAreProblemsNotCrashes) {
  ASSERT_NO_FATAL_FAILURE(startWith({}));
  // Missing fields.
  for (const json& body :
       {json::object(), json{{"username", kAdminUser}}, json{{"password", kAdminPassword}}}) {
    auto r = loginRaw(body);
    EXPECT_EQ(r.status, 422u) << body.dump() << " → " << r.describe();
    EXPECT_TRUE(r.isProblem()) << body.dump();
  }
  // Wrong types.
  auto typed = loginRaw({{"username", 42}, {"password", kAdminPassword}});
  EXPECT_EQ(typed.status, 422u) << typed.describe();
  EXPECT_TRUE(typed.isProblem());

  // Malformed JSON.
  for (const char* text : {"{\"username\": ", "not json", "[1,2]", "{\"a\":1}}"}) {
    RequestOptions o;
    o.body = text;
    auto r = request(port(), "POST", "/api/v1/auth/login", o);
    EXPECT_TRUE(r.status == 400u || r.status == 422u) << text << " → " << r.describe();
    EXPECT_TRUE(r.isProblem()) << text;
  }
  // Deep nesting is refused before parsing.
  {
    RequestOptions o;
    o.body = std::string(100, '[') + std::string(100, ']');
    auto r = request(port(), "POST", "/api/v1/auth/login", o);
    EXPECT_TRUE(r.status == 400u || r.status == 422u) << r.describe();
    EXPECT_TRUE(r.isProblem());
  }
  // Wrong or missing content type.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
    RequestOptions o;
    o.content_type = type;
    o.body = json({{"username", kAdminUser}, {"password", kAdminPassword}}).dump();
    auto r = request(port(), "POST", "/api/v1/auth/login", o);
    EXPECT_TRUE(r.status == 415u || r.status == 422u) << "'" << type << "' → " << r.describe();
    EXPECT_TRUE(r.isProblem()) << type;
  }
  // Empty body, declared as JSON.
  RequestOptions no_body;
  no_body.headers = {{"Content-Type", "application/json"}};
  auto empty = request(port(), "POST", "/api/v1/auth/login", no_body);
  EXPECT_TRUE(empty.status == 400u || empty.status == 422u) << empty.describe();
  EXPECT_TRUE(empty.isProblem());
  EXPECT_EQ(get(port(), "/healthz").status, 200u);
}

TEST_F(Auth, MissingOrBadCredentialsAre401) {
  ASSERT_NO_FATAL_FAILURE(startWith({}));
  auto none = get(port(), "/api/v1/auth/me");
  EXPECT_EQ(none.status, 401u) << none.describe();
  EXPECT_TRUE(none.isProblem());
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer");
  for (const char* auth : {"Bearer garbage", "Bearer cs_notarealtoken", "Bearer ck_notarealkey",
                           "Basic YWRtaW46YWRtaW4=", "Bearer"}) {
    RequestOptions o;
    o.headers = {{"Authorization", auth}};
    auto r = request(port(), "GET", "/api/v1/auth/me", o);
    EXPECT_EQ(r.status, 401u) << auth << " → " << r.describe();
    EXPECT_TRUE(r.isProblem()) << auth;
  }
}

TEST_F(Auth, RepeatedFailuresAreRateLimitedEvenWithTheRightPassword) {
  Env env = {{"CITYIOC_AUTH_LOGIN_MAX_FAILURES_PER_USER", "3"}};
  server_.emplace(std::vector<std::string>{}, env);
  addUserCli(server_->dataDir(), kAdminUser, kAdminPassword, "admin");
  addUserCli(server_->dataDir(), "other.admin", "other-password-1", "admin");
  ASSERT_TRUE(server_->start());
  for (int i = 0; i < 3; ++i) {
    auto r = loginRaw({{"username", kAdminUser}, {"password", "wrong-password"}});
    EXPECT_EQ(r.status, 401u) << "attempt " << i + 1 << ": " << r.describe();
  }
  auto limited = loginRaw({{"username", kAdminUser}, {"password", kAdminPassword}});
  EXPECT_EQ(limited.status, 429u) << limited.describe();
  EXPECT_TRUE(limited.isProblem());
  EXPECT_EQ(limited.json().value("type", ""), "urn:cityioc:problem:too-many-requests");
  ASSERT_TRUE(limited.hasHeader("Retry-After")) << limited.describe();
  const int retry = std::atoi(limited.header("Retry-After").c_str());
  EXPECT_GT(retry, 0) << limited.header("Retry-After");
  EXPECT_LE(retry, 900) << "longer than the failure window";
  // Another account from the same client is not locked out.
  EXPECT_FALSE(login(port(), "other.admin", "other-password-1").empty());
}

TEST_F(Auth, TokensExpire) {
  ASSERT_NO_FATAL_FAILURE(startWith({{"CITYIOC_AUTH_TOKEN_TTL_S", "2"}}));
  const auto issued = std::chrono::steady_clock::now();
  std::string token = login(port(), kAdminUser, kAdminPassword);
  ASSERT_FALSE(token.empty());
  auto fresh = get(port(), "/api/v1/auth/me", token);
  if (std::chrono::steady_clock::now() - issued < 1500ms) {
    EXPECT_EQ(fresh.status, 200u) << fresh.describe();
  }
  std::this_thread::sleep_until(issued + 3s);
  auto stale = get(port(), "/api/v1/auth/me", token);
  EXPECT_EQ(stale.status, 401u) << "a 2 s token still works after 3 s: " << stale.describe();
  EXPECT_TRUE(stale.isProblem());
}

TEST_F(Auth, LogoutRevokesOnlyThatSession) {
  ASSERT_NO_FATAL_FAILURE(startWith({}));
  std::string a = login(port(), kAdminUser, kAdminPassword);
  std::string b = login(port(), kAdminUser, kAdminPassword);
  ASSERT_FALSE(a.empty());
  ASSERT_NE(a, b);
  EXPECT_EQ(get(port(), "/api/v1/auth/me", a).status, 200u);  // now in the credential cache
  RequestOptions o;
  o.bearer = a;
  auto out = request(port(), "POST", "/api/v1/auth/logout", o);
  EXPECT_EQ(out.status, 204u) << out.describe();
  EXPECT_TRUE(out.body.empty()) << out.body;
  auto after = get(port(), "/api/v1/auth/me", a);
  EXPECT_EQ(after.status, 401u) << after.describe();
  EXPECT_TRUE(after.isProblem());
  EXPECT_EQ(request(port(), "POST", "/api/v1/auth/logout", o).status, 401u);
  EXPECT_EQ(get(port(), "/api/v1/auth/me", b).status, 200u) << "the other session survives";
}

}  // namespace
}  // namespace ioc::it
