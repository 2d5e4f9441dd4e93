// AuthService and IdentityService against a real SqliteStore, a FakeClock and the real catalog of
// administrative units. argon2id is slow under ASan, so users are mostly inserted directly with
// one precomputed hash; only the IdentityService tests hash on purpose.
#include "auth/auth_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "auth/identity_service.h"
#include "auth/password.h"
#include "auth/tokens.h"
#include "core/clock.h"
#include "core/json.h"
#include "model/audit_entry.h"
#include "storage/sqlite/sqlite_store.h"
#include "units/catalog.h"

namespace ioc::auth {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using model::KeyScope;
using model::Role;
using storage::Status;
using storage::WriteTx;
using namespace std::chrono_literals;

const std::string kPassword = "Sông Hương 2025!";
const char* kBadLoginMessage = "invalid username or password";

const std::string& passwordHash() {
  static const std::string hash = [] {
    auto h = hashPassword(kPassword);
    EXPECT_TRUE(h.ok());
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

const units::UnitCatalog& catalog() {
  static const units::UnitCatalog* c = [] {
    auto loaded = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                               "/data/admin/vn34_units_2025_full.json");
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return new units::UnitCatalog(loaded.ok() ? std::move(loaded).value() : units::UnitCatalog());
  }();
  return *c;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ioc_auth_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_GT(catalog().size(), 0u);
    storage::sqlite::SqliteOptions o;
    o.path = dir_.file("ioc.db");
    auto opened = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    settings_.token_ttl_ms = 3600'000;
    settings_.max_failures_per_user = 3;
    settings_.max_failures_per_ip = 1000;
    settings_.failure_window_ms = 15 * 60'000;
    settings_.cache_recheck_ms = 30'000;
    makeServices();
  }

  void makeServices() {
    identity_.reset();
    auth_ = std::make_unique<AuthService>(*store_, clock_, settings_);
    identity_ = std::make_unique<IdentityService>(*store_, catalog(), clock_, auth_.get());
  }

  //! Inserts a user with kPassword without hashing again.
  int64_t addUser(const std::string& name, Role role = Role::kOperator,
                  const std::string& unit = "46", bool disabled = false) {
    model::User u;
    u.username = name;
    u.role = role;
    u.unit_code = unit;
    u.password_hash = passwordHash();
    u.disabled = disabled;
    u.created_at_ms = u.updated_at_ms = clock_.nowUnixMs();
    int64_t id = 0;
    Status s = store_->writeSync([&](WriteTx& tx) -> Status {
      auto r = tx.insertUser(u);
      if (!r.ok()) return r.error();
      id = *r;
      return Status::success();
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return id;
  }

  LoginResult mustLogin(const std::string& name, const std::string& client = "10.0.0.1") {
    auto r = auth_->login(name, kPassword, client, "req-login");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : LoginResult{};
  }

  std::vector<model::AuditEntry> audit() {
    auto entries = store_->listAudit(storage::AuditFilter{0, 10000});
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : std::vector<model::AuditEntry>{};
  }

  std::vector<std::string> auditActions() {
    std::vector<std::string> out;
    for (const auto& e : audit()) out.push_back(e.action);
    return out;
  }

  bool sessionRevoked(const std::string& token_hash) {
    auto s = store_->findSession(token_hash);
    EXPECT_TRUE(s.ok() && s->has_value());
    return s.ok() && s->has_value() && (*s)->revoked;
  }

  static void expectUnauthenticated(const core::Result<Principal>& r, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what << " was accepted";
    EXPECT_EQ(r.error().code, Errc::kUnauthenticated) << what;
  }

  TempDir dir_;
  core::FakeClock clock_;
  AuthSettings settings_;
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<IdentityService> identity_;
  const model::Actor root_{"root", "admin", "", "127.0.0.1", "req-root"};
};

// --- login -----------------------------------------------------------------------------------

TEST_F(AuthServiceTest, LoginReturnsTokenAndPrincipal) {
  const int64_t id = addUser("alice", Role::kOperator, "46");
  const int64_t now = clock_.nowUnixMs();
  auto r = auth_->login("alice", kPassword, "10.0.0.1", "req-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->token.size(), 46u);
  EXPECT_EQ(r->token.substr(0, 3), "cs_");
  EXPECT_EQ(r->expires_at_ms, now + settings_.token_ttl_ms);
  const Principal& p = r->principal;
  EXPECT_EQ(p.kind, Principal::Kind::kUser);
  EXPECT_EQ(p.id, id);
  EXPECT_EQ(p.name, "alice");
  EXPECT_EQ(p.role, Role::kOperator);
  EXPECT_FALSE(p.scope.has_value());
  EXPECT_EQ(p.unit_code, "46");
  EXPECT_EQ(p.token_hash, hashToken(r->token));

  // The store keeps the session under the token's hash, never the token.
  auto session = store_->findSession(hashToken(r->token));
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(session->has_value());
  EXPECT_EQ((*session)->user_id, id);
  EXPECT_EQ((*session)->expires_at_ms, r->expires_at_ms);
  EXPECT_EQ((*session)->client, "10.0.0.1");
  EXPECT_FALSE((*session)->revoked);
  auto by_token = store_->findSession(r->token);
  ASSERT_TRUE(by_token.ok());
  EXPECT_FALSE(by_token->has_value());

  auto entries = audit();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, "auth.login");
  EXPECT_EQ(entries[0].actor, "alice");
  EXPECT_EQ(entries[0].role, "operator");
  EXPECT_EQ(entries[0].unit, "46");
  EXPECT_EQ(entries[0].target, "user:" + std::to_string(id));
  EXPECT_EQ(entries[0].client, "10.0.0.1");
  EXPECT_EQ(entries[0].request_id, "req-1");
  EXPECT_EQ(entries[0].at_ms, now);
  EXPECT_EQ(entries[0].detail.find(r->token), std::string::npos);

  auto who = auth_->authenticate(r->token);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->id, id);
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(who->role, Role::kOperator);
  EXPECT_EQ(who->unit_code, "46");
  EXPECT_EQ(who->token_hash, hashToken(r->token));
  EXPECT_TRUE(who->has(Permission::kIngest));
  EXPECT_FALSE(who->has(Permission::kUsersManage));

  // Two logins, two different sessions.
  auto second = mustLogin("alice");
  EXPECT_NE(second.token, r->token);
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownUserLookTheSame) {
  addUser("bob");
  auto wrong = auth_->login("bob", "not the password", "10.0.0.2", "r");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::kUnauthenticated);
  EXPECT_EQ(wrong.error().message, kBadLoginMessage);
  EXPECT_EQ(wrong.error().retry_after_s, 0);

  auto unknown = auth_->login("nobody", kPassword, "10.0.0.2", "r");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kUnauthenticated);
  EXPECT_EQ(unknown.error().message, wrong.error().message);
  EXPECT_EQ(unknown.error().retry_after_s, 0);

  auto cased = auth_->login("BOB", kPassword, "10.0.0.2", "r");
  ASSERT_FALSE(cased.ok());
  EXPECT_EQ(cased.error().message, wrong.error().message);

  for (const auto& e : audit()) EXPECT_NE(e.action, "auth.login");
}

TEST_F(AuthServiceTest, DisabledUserCannotLogIn) {
  addUser("dora", Role::kLeader, "01", /*disabled=*/true);
  auto r = auth_->login("dora", kPassword, "10.0.0.3", "r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
  EXPECT_EQ(r.error().message, kBadLoginMessage);  // no hint that the account exists
  EXPECT_TRUE(audit().empty());
}

TEST_F(AuthServiceTest, PerUserLimitThenLiftedAfterTheWindow) {
  addUser("carol");
  addUser("alice");
  const int64_t t0 = clock_.nowUnixMs();
  for (int i = 0; i < settings_.max_failures_per_user; ++i) {
    // A different client each time: the limit follows the account, not the address.
    auto r = auth_->login("carol", "wrong password!", "10.0.1." + std::to_string(i), "r");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
    clock_.advance(1s);
  }
  // Now even the right password is refused, before any verification.
  auto limited = auth_->login("carol", kPassword, "10.0.9.9", "r");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, Errc::kTooManyRequests);
  EXPECT_GT(limited.error().retry_after_s, 0);
  // The window started with the first failure, 3 s ago.
  EXPECT_EQ(limited.error().retry_after_s, settings_.failure_window_ms / 1000 - 3);

  // Other accounts are unaffected.
  mustLogin("alice", "10.0.9.9");

  // Still limited one second before the window ends, free once it has.
  clock_.set(t0 + settings_.failure_window_ms - 1000);
  auto still = auth_->login("carol", kPassword, "10.0.9.9", "r");
  ASSERT_FALSE(still.ok());
  EXPECT_EQ(still.error().code, Errc::kTooManyRequests);
  EXPECT_EQ(still.error().retry_after_s, 1);
  clock_.set(t0 + settings_.failure_window_ms);
  auto lifted = auth_->login("carol", kPassword, "10.0.9.9", "r");
  EXPECT_TRUE(lifted.ok()) << lifted.error().message;
}

TEST_F(AuthServiceTest, PerClientLimit) {
  settings_.max_failures_per_ip = 2;
  makeServices();
  addUser("alice");
  for (const char* name : {"ghost1", "ghost2"}) {
    auto r = auth_->login(name, kPassword, "203.0.113.7", "r");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
  }
  auto limited = auth_->login("alice", kPassword, "203.0.113.7", "r");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, Errc::kTooManyRequests);
  EXPECT_GT(limited.error().retry_after_s, 0);
  mustLogin("alice", "198.51.100.1");  // another address is unaffected
}

TEST_F(AuthServiceTest, SuccessfulLoginResetsTheUserCounter) {
  settings_.max_failures_per_user = 2;
  makeServices();
  addUser("eve");
  for (int round = 0; round < 2; ++round) {
    auto bad = auth_->login("eve", "wrong password!", "10.0.0.5", "r");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::kUnauthenticated) << "round " << round;
    mustLogin("eve", "10.0.0.5");
  }
}

// --- bearer credentials ----------------------------------------------------------------------

TEST_F(AuthServiceTest, SessionExpires) {
  addUser("alice");
  auto login = mustLogin("alice");
  ASSERT_TRUE(auth_->authenticate(login.token).ok());
  clock_.advance(std::chrono::milliseconds(settings_.token_ttl_ms - 1));
  auto before = auth_->authenticate(login.token);
  EXPECT_TRUE(before.ok()) << before.error().message;
  clock_.advance(1ms);
  expectUnauthenticated(auth_->authenticate(login.token), "expired token");
  expectUnauthenticated(auth_->authenticate(login.token), "expired token, asked again");
}

TEST_F(AuthServiceTest, LogoutRevokesTheToken) {
  const int64_t id = addUser("alice");
  auto login = mustLogin("alice");
  auto other = mustLogin("alice");
  auto who = auth_->authenticate(login.token);  // now cached
  ASSERT_TRUE(who.ok());
  ASSERT_TRUE(auth_->logout(*who, "10.0.0.1", "req-out").ok());
  expectUnauthenticated(auth_->authenticate(login.token), "logged-out token");
  EXPECT_TRUE(sessionRevoked(hashToken(login.token)));
  // Only that session ends.
  EXPECT_TRUE(auth_->authenticate(other.token).ok());
  EXPECT_FALSE(sessionRevoked(hashToken(other.token)));

  auto entries = audit();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().action, "auth.logout");
  EXPECT_EQ(entries.back().actor, "alice");
  EXPECT_EQ(entries.back().target, "user:" + std::to_string(id));
  EXPECT_EQ(entries.back().request_id, "req-out");
}

TEST_F(AuthServiceTest, GarbageCredentialsAreRejected) {
  addUser("alice");
  auto login = mustLogin("alice");
  const std::string& t = login.token;
  const std::vector<std::string> garbage = {
      "",
      "cs",
      "cs_",
      "ck_",
      "xx_" + t.substr(3),
      "Bearer " + t,
      "CS_" + t.substr(3),
      "ck_" + t.substr(3),  // a session secret presented as a key
      t + "x",
      t.substr(0, t.size() - 1),
      " " + t,
      generateToken(kSessionPrefix),  // well-formed, never issued
      generateToken(kKeyPrefix),
      std::string(10000, 'A'),
      "cs_" + std::string(5000, '\0'),
  };
  for (const auto& g : garbage) {
    expectUnauthenticated(auth_->authenticate(g), "'" + g.substr(0, 60) + "'");
  }
  EXPECT_TRUE(auth_->authenticate(t).ok());  // the real one still works
}

TEST_F(AuthServiceTest, RevocationByAnotherProcessBitesWithinTheRecheckInterval) {
  addUser("alice");
  auto login = mustLogin("alice");
  ASSERT_TRUE(auth_->authenticate(login.token).ok());
  // The CLI revokes directly in the store; this process's cache does not know.
  ASSERT_TRUE(
      store_->writeSync([&](WriteTx& tx) { return tx.revokeSession(hashToken(login.token)); })
          .ok());
  clock_.advance(std::chrono::milliseconds(settings_.cache_recheck_ms));
  expectUnauthenticated(auth_->authenticate(login.token), "token revoked elsewhere");
}

// --- API keys --------------------------------------------------------------------------------

TEST_F(AuthServiceTest, ApiKeyAuthenticatesWithItsScope) {
  auto created = identity_->createKey({"camera gateway", KeyScope::kIngest, "46"}, root_);
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string secret = created->secret;
  EXPECT_EQ(secret.size(), 46u);
  EXPECT_EQ(secret.substr(0, 3), "ck_");
  EXPECT_GT(created->key.id, 0);
  EXPECT_EQ(created->key.prefix, secret.substr(0, 10));
  EXPECT_EQ(created->key.key_hash, hashToken(secret));
  EXPECT_EQ(created->key.scope, KeyScope::kIngest);
  auto stored = store_->listApiKeys();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].key_hash, hashToken(secret));
  EXPECT_NE((*stored)[0].key_hash, secret);

  auto who = auth_->authenticate(secret);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->kind, Principal::Kind::kApiKey);
  EXPECT_EQ(who->id, created->key.id);
  EXPECT_EQ(who->name, "camera gateway");
  EXPECT_EQ(who->scope, KeyScope::kIngest);
  EXPECT_FALSE(who->role.has_value());
  EXPECT_EQ(who->unit_code, "46");
  EXPECT_EQ(who->actorName(), "key:camera gateway");
  EXPECT_TRUE(who->has(Permission::kIngest));
  EXPECT_FALSE(who->has(Permission::kContextRead));
  EXPECT_FALSE(who->has(Permission::kUsersManage));

  auto reader = identity_->createKey({"dashboard", KeyScope::kRead, ""}, root_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto rp = auth_->authenticate(reader->secret);
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(rp->scope, KeyScope::kRead);
  EXPECT_TRUE(rp->has(Permission::kContextRead));
  EXPECT_FALSE(rp->has(Permission::kIngest));

  // Keys cannot log out.
  auto out = auth_->logout(*who, "10.0.0.1", "r");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::kInvalidArgument);

  // Revoked: refused at once (this process's cache is dropped); the other key still works.
  ASSERT_TRUE(identity_->revokeKey(created->key.id, root_).ok());
  expectUnauthenticated(auth_->authenticate(secret), "revoked key");
  EXPECT_TRUE(auth_->authenticate(reader->secret).ok());

  auto unknown = identity_->revokeKey(987654, root_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
}

TEST_F(AuthServiceTest, KeyRevokedWithoutTheCacheBitesAfterRecheck) {
  IdentityService cli(*store_, catalog(), clock_, nullptr);  // the CLI has no cache to drop
  auto created = cli.createKey({"sensor", KeyScope::kIntegration, "01"}, root_);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(auth_->authenticate(created->secret).ok());
  ASSERT_TRUE(cli.revokeKey(created->key.id, root_).ok());
  clock_.advance(std::chrono::milliseconds(settings_.cache_recheck_ms));
  expectUnauthenticated(auth_->authenticate(created->secret), "key revoked by the CLI");
}

TEST_F(AuthServiceTest, CreateKeyValidation) {
  for (const NewKey& bad :
       {NewKey{"", KeyScope::kRead, ""}, NewKey{"line\nbreak", KeyScope::kRead, ""},
        NewKey{"bell\a", KeyScope::kRead, ""}, NewKey{std::string(101, 'k'), KeyScope::kRead, ""},
        NewKey{"ok name", KeyScope::kRead, "99999"}}) {
    auto r = identity_->createKey(bad, root_);
    ASSERT_FALSE(r.ok()) << bad.name;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << bad.name;
  }
  auto list = store_->listApiKeys();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_TRUE(audit().empty());
  EXPECT_TRUE(identity_->createKey({std::string(100, 'k'), KeyScope::kRead, "19753"}, root_).ok());
}

// --- identity changes ------------------------------------------------------------------------

TEST_F(AuthServiceTest, CreateUserValidation) {
  auto expectInvalid = [&](const NewUser& in, const std::string& why) {
    auto r = identity_->createUser(in, root_);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << why << ": " << r.error().message;
  };
  for (const std::string& name :
       {std::string(""), std::string("ab"), std::string("Alice"), std::string("bad name"),
        std::string("-lead"), std::string(".dot"), std::string("ü-user"), std::string(65, 'a')}) {
    expectInvalid({name, kPassword, Role::kOperator, "46"}, "username '" + name + "'");
  }
  expectInvalid({"valid.name", kPassword, Role::kOperator, "99999"}, "unknown unit");
  expectInvalid({"valid.name", kPassword, Role::kOperator, ""}, "operator without unit");
  expectInvalid({"valid.name", kPassword, Role::kCitizen, ""}, "citizen without unit");
  expectInvalid({"valid.name", "short", Role::kOperator, "46"}, "weak password");
  EXPECT_TRUE(audit().empty());

  const std::string commune = "19753";  // Phú Xuân, in Huế
  ASSERT_NE(catalog().find(commune), nullptr);
  auto op = identity_->createUser({"hue.operator-1", kPassword, Role::kOperator, commune}, root_);
  ASSERT_TRUE(op.ok()) << op.error().message;
  EXPECT_GT(op->id, 0);
  EXPECT_EQ(op->unit_code, commune);
  auto stored = store_->findUserByName("hue.operator-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->id, op->id);
  EXPECT_EQ((*stored)->role, Role::kOperator);
  EXPECT_EQ((*stored)->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ((*stored)->password_hash.find(kPassword), std::string::npos);

  auto admin = identity_->createUser({"national.admin", kPassword, Role::kAdmin, ""}, root_);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_EQ(admin->unit_code, "");

  auto dup = identity_->createUser({"hue.operator-1", kPassword, Role::kCitizen, "46"}, root_);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::kAlreadyExists);
  auto still = store_->findUserByName("hue.operator-1");
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->role, Role::kOperator);

  EXPECT_EQ(auditActions(), (std::vector<std::string>{"user.create", "user.create"}));
  // The created account can sign in.
  auto login = auth_->login("hue.operator-1", kPassword, "10.0.0.1", "r");
  EXPECT_TRUE(login.ok());
}

TEST_F(AuthServiceTest, RoleChangeEndsTheUsersSessions) {
  const int64_t id = addUser("erin", Role::kOperator, "46");
  addUser("frank", Role::kOperator, "46");
  auto login = mustLogin("erin");
  auto frank = mustLogin("frank");
  ASSERT_TRUE(auth_->authenticate(login.token).ok());  // cached

  UserPatch patch;
  patch.role = Role::kSupervisor;
  auto updated = identity_->updateUser(id, patch, root_);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->role, Role::kSupervisor);
  EXPECT_EQ(updated->unit_code, "46");

  expectUnauthenticated(auth_->authenticate(login.token), "token issued before the role change");
  EXPECT_TRUE(sessionRevoked(hashToken(login.token)));
  EXPECT_TRUE(auth_->authenticate(frank.token).ok()) << "another user's session ended";
  EXPECT_FALSE(sessionRevoked(hashToken(frank.token)));

  auto again = mustLogin("erin");
  EXPECT_EQ(again.principal.role, Role::kSupervisor);
  auto who = auth_->authenticate(again.token);
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->has(Permission::kUsersRead));
}

TEST_F(AuthServiceTest, DisablingEndsSessionsAndBlocksLogin) {
  const int64_t id = addUser("gina", Role::kAgencyStaff, "01");
  auto login = mustLogin("gina");

  UserPatch noop;
  noop.disabled = false;  // already enabled: nothing about sign-in changes
  ASSERT_TRUE(identity_->updateUser(id, noop, root_).ok());
  EXPECT_TRUE(auth_->authenticate(login.token).ok());

  UserPatch disable;
  disable.disabled = true;
  auto updated = identity_->updateUser(id, disable, root_);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->disabled);
  expectUnauthenticated(auth_->authenticate(login.token), "disabled user's token");
  auto r = auth_->login("gina", kPassword, "10.0.0.1", "r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnauthenticated);
}

TEST_F(AuthServiceTest, PasswordChangeEndsSessionsAndIsNotAudited) {
  const int64_t id = addUser("hana");
  auto login = mustLogin("hana");
  const std::string new_password = "a brand new passphrase";
  UserPatch patch;
  patch.password = new_password;
  ASSERT_TRUE(identity_->updateUser(id, patch, root_).ok());
  expectUnauthenticated(auth_->authenticate(login.token), "token from before the change");
  EXPECT_FALSE(auth_->login("hana", kPassword, "10.0.0.1", "r").ok());
  EXPECT_TRUE(auth_->login("hana", new_password, "10.0.0.1", "r").ok());
  auto entries = audit();
  ASSERT_FALSE(entries.empty());
  bool found = false;
  for (const auto& e : entries) {
    EXPECT_EQ(e.detail.find(new_password), std::string::npos);
    EXPECT_EQ(e.detail.find("$argon2id$"), std::string::npos);
    if (e.action == "user.update") {
      found = true;
      EXPECT_EQ(ioc::Json::parse(e.detail).value("password", ""), "changed");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AuthServiceTest, UpdateUserValidation) {
  const int64_t admin = addUser("ivan", Role::kAdmin, "");
  UserPatch to_operator;
  to_operator.role = Role::kOperator;  // an operator needs a unit, ivan has none
  auto r1 = identity_->updateUser(admin, to_operator, root_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, Errc::kInvalidArgument);

  UserPatch bad_unit;
  bad_unit.unit_code = "99999";
  auto r2 = identity_->updateUser(admin, bad_unit, root_);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::kInvalidArgument);

  auto r3 = identity_->updateUser(424242, to_operator, root_);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, Errc::kNotFound);

  UserPatch weak;
  weak.password = "short";
  auto r4 = identity_->updateUser(admin, weak, root_);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, Errc::kInvalidArgument);

  auto stored = store_->findUserById(admin);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->role, Role::kAdmin);
  EXPECT_EQ((*stored)->password_hash, passwordHash());
  EXPECT_TRUE(audit().empty());
}

TEST_F(AuthServiceTest, EveryIdentityChangeIsAudited) {
  auto user = identity_->createUser({"kim", kPassword, Role::kOperator, "46"}, root_);
  ASSERT_TRUE(user.ok()) << user.error().message;
  clock_.advance(1s);
  auto login = mustLogin("kim", "10.9.9.9");
  auto who = auth_->authenticate(login.token);
  ASSERT_TRUE(who.ok());
  clock_.advance(1s);
  ASSERT_TRUE(auth_->logout(*who, "10.9.9.9", "req-logout").ok());
  clock_.advance(1s);
  auto key = identity_->createKey({"feed", KeyScope::kIngest, "46"}, root_);
  ASSERT_TRUE(key.ok());
  clock_.advance(1s);
  ASSERT_TRUE(identity_->revokeKey(key->key.id, root_).ok());
  clock_.advance(1s);
  UserPatch patch;
  patch.role = Role::kLeader;
  ASSERT_TRUE(identity_->updateUser(user->id, patch, root_).ok());

  auto entries = audit();
  ASSERT_EQ(entries.size(), 6u);
  const std::vector<std::string> actions = {"user.create", "auth.login", "auth.logout",
                                            "key.create",  "key.revoke", "user.update"};
  EXPECT_EQ(auditActions(), actions);
  const std::string user_target = "user:" + std::to_string(user->id);
  const std::string key_target = "key:" + std::to_string(key->key.id);
  const std::vector<std::string> actors = {"root", "kim", "kim", "root", "root", "root"};
  const std::vector<std::string> targets = {user_target, user_target, user_target,
                                            key_target,  key_target,  user_target};
  std::string prev = model::kAuditGenesisHash;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    EXPECT_EQ(e.actor, actors[i]) << e.action;
    EXPECT_EQ(e.target, targets[i]) << e.action;
    EXPECT_EQ(e.at_ms, entries[0].at_ms + static_cast<int64_t>(i) * 1000) << e.action;
    EXPECT_EQ(e.prev_hash, prev);
    EXPECT_EQ(e.hash, model::computeAuditHash(e));
    prev = e.hash;
    // Never a secret in the log.
    EXPECT_EQ(e.detail.find(kPassword), std::string::npos) << e.action;
    EXPECT_EQ(e.detail.find("$argon2id$"), std::string::npos) << e.action;
    EXPECT_EQ(e.detail.find(login.token), std::string::npos) << e.action;
    EXPECT_EQ(e.detail.find(key->secret), std::string::npos) << e.action;
    EXPECT_FALSE(ioc::Json::parse(e.detail, nullptr, false).is_discarded()) << e.detail;
  }
  EXPECT_EQ(entries[0].role, "admin");
  EXPECT_EQ(entries[0].client, "127.0.0.1");
  EXPECT_EQ(entries[1].role, "operator");
  EXPECT_EQ(entries[1].client, "10.9.9.9");
  EXPECT_EQ(entries[2].request_id, "req-logout");

  auto created = ioc::Json::parse(entries[0].detail);
  EXPECT_EQ(created.value("username", ""), "kim");
  EXPECT_EQ(created.value("role", ""), "operator");
  EXPECT_EQ(created.value("unit_code", ""), "46");
  auto key_detail = ioc::Json::parse(entries[3].detail);
  EXPECT_EQ(key_detail.value("name", ""), "feed");
  EXPECT_EQ(key_detail.value("scope", ""), "ingest");
  EXPECT_EQ(key_detail.value("prefix", ""), key->key.prefix);
  auto updated = ioc::Json::parse(entries[5].detail);
  EXPECT_EQ(updated.value("role", ""), "leader");
}

}  // namespace
}  // namespace ioc::auth
