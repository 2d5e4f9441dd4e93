// The users API as an admin: validation, conflicts, disabling and the audit trail it leaves.
#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

class Users : public testing::Test {
 protected:
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(get(port(), "/healthz").status, 200u) << "server unhealthy at the end";
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }
  HttpResponse create(const json& body, const Headers& headers = {}) {
    RequestOptions o;
    o.bearer = admin_;
    o.body = body.dump();
    o.headers = headers;
    return request(port(), "POST", "/api/v1/users", o);
  }

  ServerProcess server_;
  std::string admin_;
};

const json kAlice = {{"username", "alice.op"},
                     {"password", "alice-password-1"},
                     {"role", "operator"},
                     {"unit_code", "46"}};

TEST_F(Users, CreateValidateDisableAndAudit) {
  auto created = create(kAlice, {{"X-Request-Id", "it-create-alice"}});
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_EQ(created.header("X-Request-Id"), "it-create-alice");
  auto cj = created.json();
  const int64_t id = cj.value("id", int64_t{0});
  ASSERT_GT(id, 0) << created.body;
  EXPECT_EQ(created.header("Location"), "/api/v1/users/" + std::to_string(id));
  EXPECT_EQ(cj.value("username", ""), "alice.op");
  EXPECT_EQ(cj.value("role", ""), "operator");
  EXPECT_EQ(cj.value("unit_code", ""), "46");
  EXPECT_EQ(cj.value("disabled", true), false);
  EXPECT_EQ(created.body.find("password"), std::string::npos) << "leaks the hash: " << created.body;
  auto fetched = get(port(), created.header("Location"), admin_);
  ASSERT_EQ(fetched.status, 200u) << fetched.describe();
  EXPECT_EQ(fetched.json().value("username", ""), "alice.op");

  // Conflicts and validation.
  auto dup = create(kAlice);
  EXPECT_EQ(dup.status, 409u) << dup.describe();
  EXPECT_TRUE(dup.isProblem());
  EXPECT_EQ(dup.json().value("type", ""), "urn:cityioc:problem:already-exists") << dup.body;

  auto expect422 = [&](json body, const std::string& why, const std::string& detail_has) {
    auto r = create(body);
    EXPECT_EQ(r.status, 422u) << why << ": " << r.describe();
    EXPECT_TRUE(r.isProblem()) << why;
    EXPECT_EQ(r.json().value("type", ""), "urn:cityioc:problem:validation-failed") << why;
    EXPECT_NE(r.json().value("detail", "").find(detail_has), std::string::npos)
        << why << ": " << r.body;
  };
  json bob = {{"username", "bob.op"},
              {"password", "bob-password-1"},
              {"role", "operator"},
              {"unit_code", "46"}};
  json b = bob;
  b["role"] = "mayor";
  expect422(b, "bad role", "mayor");
  b = bob;
  b["is_admin"] = true;
  expect422(b, "unknown field", "is_admin");
  b = bob;
  b.erase("unit_code");
  expect422(b, "no unit for an operator", "unit");
  b = bob;
  b["unit_code"] = "99999";
  expect422(b, "unknown unit", "99999");
  b = bob;
  b["password"] = "short";
  expect422(b, "short password", "10");
  b = bob;
  b["username"] = "Bob Smith";
  expect422(b, "bad username", "username");
  b = bob;
  b["role"] = 7;
  expect422(b, "role not a string", "role");
  // None of those created anything.
  auto list = get(port(), "/api/v1/users", admin_);
  ASSERT_EQ(list.status, 200u) << list.describe();
  EXPECT_EQ(list.json().value("total", 0), 2) << list.body;

  // Disabling a user ends the session it already has.
  const std::string alice = login(port(), "alice.op", "alice-password-1");
  ASSERT_FALSE(alice.empty());
  ASSERT_EQ(get(port(), "/api/v1/auth/me", alice).status, 200u);
  RequestOptions patch;
  patch.bearer = admin_;
  patch.body = json({{"disabled", true}}).dump();
  auto disabled = request(port(), "PATCH", "/api/v1/users/" + std::to_string(id), patch);
  ASSERT_EQ(disabled.status, 200u) << disabled.describe();
  EXPECT_EQ(disabled.json().value("disabled", false), true);
  const std::string patch_rid = disabled.header("X-Request-Id");
  ASSERT_FALSE(patch_rid.empty());
  auto stale = get(port(), "/api/v1/auth/me", alice);
  EXPECT_EQ(stale.status, 401u) << "a disabled user's token still works: " << stale.describe();
  auto relogin = postJson(port(), "/api/v1/auth/login",
                          {{"username", "alice.op"}, {"password", "alice-password-1"}});
  EXPECT_EQ(relogin.status, 401u) << relogin.describe();

  // An admin cannot lock itself out; unknown users and fields are refused.
  auto me = get(port(), "/api/v1/auth/me", admin_);
  patch.body = json({{"disabled", true}}).dump();
  auto self = request(port(), "PATCH",
                      "/api/v1/users/" + std::to_string(me.json().value("id", int64_t{0})), patch);
  EXPECT_EQ(self.status, 422u) << self.describe();
  auto ghost = request(port(), "PATCH", "/api/v1/users/9999", patch);
  EXPECT_EQ(ghost.status, 404u) << ghost.describe();
  EXPECT_TRUE(ghost.isProblem());
  patch.body = json({{"username", "renamed"}}).dump();
  auto rename = request(port(), "PATCH", "/api/v1/users/" + std::to_string(id), patch);
  EXPECT_EQ(rename.status, 422u) << rename.describe();

  // The audit log names the admin and the request that made each change.
  auto audit = get(port(), "/api/v1/audit?limit=1000", admin_);
  ASSERT_EQ(audit.status, 200u) << audit.describe();
  const std::string target = "user:" + std::to_string(id);
  int creates = 0;
  int updates = 0;
  for (const auto& e : audit.jsonField("items")) {
    if (e.value("target", "") != target) continue;
    if (e["action"] == "user.create") {
      ++creates;
      EXPECT_EQ(e.value("actor", ""), kAdminUser) << e.dump();
      EXPECT_EQ(e.value("role", ""), "admin") << e.dump();
      EXPECT_EQ(e.value("request_id", ""), "it-create-alice") << e.dump();
      EXPECT_EQ(e.value("client", ""), "127.0.0.1") << e.dump();
      EXPECT_EQ(e["detail"].value("username", ""), "alice.op") << e.dump();
      EXPECT_EQ(e.dump().find("alice-password-1"), std::string::npos) << "password in the log";
    } else if (e["action"] == "user.update") {
      ++updates;
      EXPECT_EQ(e.value("actor", ""), kAdminUser) << e.dump();
      EXPECT_EQ(e.value("request_id", ""), patch_rid) << e.dump();
      EXPECT_EQ(e["detail"].value("disabled", false), true) << e.dump();
    }
  }
  EXPECT_EQ(creates, 1) << audit.body;
  EXPECT_EQ(updates, 1) << "refused changes must not be audited as done: " << audit.body;
  auto verify = get(port(), "/api/v1/audit/verify", admin_);
  ASSERT_EQ(verify.status, 200u) << verify.describe();
  EXPECT_EQ(verify.json().value("intact", false), true) << verify.body;
}

TEST_F(Users, ChangingARoleEndsSessionsAndTakesEffect) {
  auto created = create(kAlice);
  ASSERT_EQ(created.status, 201u) << created.describe();
  const std::string path = created.header("Location");
  std::string alice = login(port(), "alice.op", "alice-password-1");
  ASSERT_FALSE(alice.empty());
  EXPECT_EQ(get(port(), "/api/v1/users", alice).status, 403u) << "operators cannot list users";
  RequestOptions patch;
  patch.bearer = admin_;
  patch.body = json({{"role", "supervisor"}}).dump();
  auto r = request(port(), "PATCH", path, patch);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json().value("role", ""), "supervisor");
  EXPECT_EQ(get(port(), "/api/v1/auth/me", alice).status, 401u) << "old session survived";
  alice = login(port(), "alice.op", "alice-password-1");
  ASSERT_FALSE(alice.empty());
  auto list = get(port(), "/api/v1/users", alice);
  EXPECT_EQ(list.status, 200u) << list.describe();
}

}  // namespace
}  // namespace ioc::it
