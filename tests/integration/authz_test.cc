// Authorization: every route × every role and key scope (plus anonymous), and unit scoping.
#include <map>
#include <set>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

const std::vector<std::string> kRoles = {"admin",    "leader",       "supervisor",
                                         "operator", "agency_staff", "citizen"};
const std::vector<std::string> kScopes = {"ingest", "read", "integration"};

//! Who may use a permission. Written from the policy, not from src/auth/permissions.cc, so that a
//! change to either shows up here.
struct Grant {
  bool anonymous = false;
  std::set<std::string> roles;
  std::set<std::string> scopes;
};
const std::set<std::string> kAllRoles(kRoles.begin(), kRoles.end());
const std::set<std::string> kAllScopes(kScopes.begin(), kScopes.end());
const std::map<std::string, Grant> kPolicy = {
    {"public", {true, kAllRoles, kAllScopes}},
    {"authenticated", {false, kAllRoles, kAllScopes}},
    {"units:read", {false, kAllRoles, kAllScopes}},
    {"context:read",
     {false,
      {"admin", "leader", "supervisor", "operator", "agency_staff"},
      {"read", "integration"}}},
    {"users:read", {false, {"admin", "supervisor"}, {}}},
    {"users:manage", {false, {"admin"}, {}}},
    {"keys:manage", {false, {"admin"}, {}}},
    {"audit:read", {false, {"admin"}, {}}},
    {"ingest", {false, {"admin", "operator"}, {"ingest", "integration"}}},
    {"subscriptions:manage", {false, {"admin", "supervisor", "operator"}, {"integration"}}},
    {"settings:manage", {false, {"admin"}, {}}},
    {"alerts:read",
     {false,
      {"admin", "leader", "supervisor", "operator", "agency_staff"},
      {"read", "integration"}}},
    {"alerts:manage", {false, {"admin", "supervisor", "operator"}, {}}},
    {"rules:manage", {false, {"admin", "supervisor"}, {}}},
    {"incidents:read",
     {false,
      {"admin", "leader", "supervisor", "operator", "agency_staff"},
      {"read", "integration"}}},
    {"incidents:manage",
     {false, {"admin", "supervisor", "operator", "agency_staff"}, {"integration"}}},
    {"operations:configure", {false, {"admin", "supervisor"}, {}}},
    {"reports:read",
     {false,
      {"admin", "leader", "supervisor", "operator", "agency_staff"},
      {"read", "integration"}}},
    {"reports:manage",
     {false, {"admin", "supervisor", "operator", "agency_staff"}, {"integration"}}},
    {"reports:moderate", {false, {"admin", "supervisor"}, {}}},
    {"reports:identity", {false, {"admin", "supervisor"}, {}}},
};

struct Principal {
  std::string label;  // "anonymous", "role:operator", "key:read"
  std::string bearer;
  std::string role;   // set for users
  std::string scope;  // set for keys
};

bool granted(const Grant& g, const Principal& p) {
  if (!p.role.empty()) return g.roles.count(p.role) > 0;
  if (!p.scope.empty()) return g.scopes.count(p.scope) > 0;
  return g.anonymous;
}

std::string substitute(std::string path) {
  for (auto [param, value] : {std::pair{"{code}", "46"}, std::pair{"{id}", "1"}}) {
    for (size_t at = path.find(param); at != std::string::npos; at = path.find(param)) {
      path.replace(at, std::string(param).size(), value);
    }
  }
  return path;
}

struct Route {
  std::string method, path, permission;
};

std::vector<Route> listRoutes() {
  auto r = runCli({"routes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_array()) << r.out;
  std::vector<Route> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    out.push_back({e.value("method", ""), e.value("path", ""), e.value("permission", "")});
    EXPECT_FALSE(e.value("summary", "").empty()) << e.dump();
  }
  return out;
}

//! A server with a CLI-made admin, one user per other role (unit 46) and one key per scope.
class Authz : public testing::Test {
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
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }

  int64_t createUser(const std::string& username, const std::string& role,
                     const std::string& unit) {
    json body = {{"username", username}, {"password", username + "-password"}, {"role", role}};
    if (!unit.empty()) body["unit_code"] = unit;
    auto r = postJson(port(), "/api/v1/users", body, admin_);
    EXPECT_EQ(r.status, 201u) << username << ": " << r.describe();
    return r.json().value("id", int64_t{0});
  }
  std::string createKey(const std::string& name, const std::string& scope,
                        const std::string& unit) {
    auto r = postJson(port(), "/api/v1/keys",
                      {{"name", name}, {"scope", scope}, {"unit_code", unit}}, admin_);
    EXPECT_EQ(r.status, 201u) << name << ": " << r.describe();
    return r.json().value("key", "");
  }

  ServerProcess server_;
  std::string admin_;
};

TEST_F(Authz, EveryRouteForEveryRoleAndScope) {
  auto routes = listRoutes();
  ASSERT_GE(routes.size(), 17u);

  // Key 1 is a sacrificial one: DELETE /api/v1/keys/{id} becomes DELETE /api/v1/keys/1.
  ASSERT_FALSE(createKey("sacrificial", "read", "46").empty());
  std::vector<Principal> principals = {{"anonymous", "", "", ""},
                                       {"role:admin", admin_, "admin", ""}};
  for (const auto& role : kRoles) {
    if (role == "admin") continue;
    std::string name = "walk." + role;
    std::replace(name.begin(), name.end(), '_', '-');
    createUser(name, role, "46");
    principals.push_back({"role:" + role, login(port(), name, name + "-password"), role, ""});
  }
  for (const auto& scope : kScopes) {
    principals.push_back({"key:" + scope, createKey("walk-" + scope, scope, "46"), "", scope});
  }
  ASSERT_FALSE(HasFailure());

  size_t checked = 0;
  std::vector<Route> logout_routes;
  for (const auto& route : routes) {
    auto policy = kPolicy.find(route.permission);
    if (policy == kPolicy.end()) {
      ADD_FAILURE() << route.method << " " << route.path << " needs \"" << route.permission
                    << "\", which this test's policy table does not know: classify it";
      continue;
    }
    if (route.path == "/api/v1/auth/logout") {  // last, so that tokens stay valid meanwhile
      logout_routes.push_back(route);
      continue;
    }
    for (const auto& p : principals) {
      RequestOptions o;
      o.bearer = p.bearer;
      if (route.method == "POST" || route.method == "PATCH" || route.method == "PUT") o.body = "{}";
      auto r = request(port(), route.method, substitute(route.path), o);
      const std::string what = p.label + " " + route.method + " " + route.path + " (" +
                               route.permission + ") → " + r.describe();
      if (p.bearer.empty() && route.permission != "public") {
        EXPECT_EQ(r.status, 401u) << what;
        EXPECT_TRUE(r.isProblem()) << what;
      } else if (!granted(policy->second, p)) {
        EXPECT_EQ(r.status, 403u) << what;
        EXPECT_TRUE(r.isProblem()) << what;
      } else {
        EXPECT_NE(r.status, 401u) << what;
        EXPECT_NE(r.status, 403u) << what;
        EXPECT_LT(r.status, 500u) << what;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, (routes.size() - 1) * principals.size());

  // /auth/me lists exactly what the table grants.
  for (const auto& p : principals) {
    if (p.bearer.empty()) continue;
    auto me = get(port(), "/api/v1/auth/me", p.bearer);
    ASSERT_EQ(me.status, 200u) << p.label << ": " << me.describe();
    std::set<std::string> listed;
    for (const auto& perm : me.jsonField("permissions")) listed.insert(perm.get<std::string>());
    std::set<std::string> expected;
    for (const auto& [perm, grant] : kPolicy) {
      if (perm != "public" && granted(grant, p)) expected.insert(perm);
    }
    EXPECT_EQ(listed, expected) << p.label << ": " << me.body;
  }

  ASSERT_EQ(logout_routes.size(), 1u);
  for (const auto& p : principals) {
    RequestOptions o;
    o.bearer = p.bearer;
    o.body = "{}";
    auto r = request(port(), "POST", "/api/v1/auth/logout", o);
    const std::string what = p.label + " POST /api/v1/auth/logout → " + r.describe();
    if (p.bearer.empty()) {
      EXPECT_EQ(r.status, 401u) << what;
    } else {
      EXPECT_NE(r.status, 401u) << what;
      EXPECT_NE(r.status, 403u) << what;
      EXPECT_LT(r.status, 500u) << what;
      if (!p.role.empty()) {
        EXPECT_EQ(r.status, 204u) << what;
      }
    }
  }
}

std::set<std::string> codes(const HttpResponse& r) {
  std::set<std::string> out;
  for (const auto& u : r.jsonField("items")) out.insert(u.value("code", ""));
  return out;
}

TEST_F(Authz, UnitScopeLimitsWhatAUserSees) {
  createUser("op.hue", "operator", "46");
  createUser("sup.hue", "supervisor", "46");
  createUser("staff.thuanhoa", "agency_staff", "19789");
  const int64_t hanoi_id = createUser("op.hanoi", "operator", "01");
  createUser("citizen.badinh", "citizen", "00004");
  ASSERT_FALSE(HasFailure());
  const std::string op = login(port(), "op.hue", "op.hue-password");
  const std::string sup = login(port(), "sup.hue", "sup.hue-password");
  ASSERT_FALSE(op.empty());
  ASSERT_FALSE(sup.empty());

  // Own province and a ward in it: visible. Other provinces and their wards: as if absent.
  auto hue = get(port(), "/api/v1/units/46", op);
  ASSERT_EQ(hue.status, 200u) << hue.describe();
  bool has_ward = false;
  for (const auto& c : hue.jsonField("children")) has_ward = has_ward || c["code"] == "19789";
  EXPECT_TRUE(has_ward) << "Thuận Hoá should be a child of Huế";
  EXPECT_EQ(get(port(), "/api/v1/units/19789", op).status, 200u);
  for (const char* code : {"01", "00004"}) {
    auto r = get(port(), std::string("/api/v1/units/") + code, op);
    EXPECT_EQ(r.status, 404u) << code << ": " << r.describe();
    EXPECT_TRUE(r.isProblem());
  }
  // Search folds diacritics either way they are written (Hoá / Hóa).
  for (const char* q : {"thuan hoa", "Thuận Hóa", "Thuận Hoá", "THUAN HOA"}) {
    auto r = get(port(), "/api/v1/units?q=" + urlEncode(q), op);
    ASSERT_EQ(r.status, 200u) << q << ": " << r.describe();
    auto found = codes(r);
    EXPECT_TRUE(found.count("19789")) << q << " → " << r.body;
    for (const auto& u : r.jsonField("items")) {
      EXPECT_TRUE(u["code"] == "46" || u["parent_code"] == "46") << "out of scope: " << u.dump();
    }
  }
  auto provinces = get(port(), "/api/v1/units?level=province", op);
  ASSERT_EQ(provinces.status, 200u) << provinces.describe();
  EXPECT_EQ(codes(provinces), std::set<std::string>{"46"});
  EXPECT_EQ(provinces.json().value("total", 0), 1);

  // The admin sees the whole country.
  EXPECT_EQ(get(port(), "/api/v1/units/01", admin_).status, 200u);
  EXPECT_EQ(get(port(), "/api/v1/units/00004", admin_).status, 200u);
  auto all_provinces = get(port(), "/api/v1/units?level=province", admin_);
  EXPECT_EQ(all_provinces.json().value("total", 0), 34) << all_provinces.body;
  auto admin_search = get(port(), "/api/v1/units?q=" + urlEncode("Thuận Hóa"), admin_);
  EXPECT_TRUE(codes(admin_search).count("19789")) << admin_search.body;

  // A supervisor lists only the users of its unit and below.
  auto users = get(port(), "/api/v1/users", sup);
  ASSERT_EQ(users.status, 200u) << users.describe();
  std::set<std::string> names;
  for (const auto& u : users.jsonField("items")) names.insert(u.value("username", ""));
  EXPECT_EQ(names, (std::set<std::string>{"op.hue", "sup.hue", "staff.thuanhoa"})) << users.body;
  EXPECT_EQ(users.json().value("total", 0), 3);
  auto hidden = get(port(), "/api/v1/users/" + std::to_string(hanoi_id), sup);
  EXPECT_EQ(hidden.status, 404u) << hidden.describe();
  auto admin_users = get(port(), "/api/v1/users", admin_);
  EXPECT_EQ(admin_users.json().value("total", 0), 6) << admin_users.body;
  EXPECT_EQ(get(port(), "/api/v1/users/" + std::to_string(hanoi_id), admin_).status, 200u);
}

}  // namespace
}  // namespace ioc::it
