#include "storage/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/audit_entry.h"
#include "storage/sqlite/migrations.h"

namespace ioc::storage::sqlite {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using model::ApiKey;
using model::AuditEntry;
using model::Role;
using model::Session;
using model::User;

//! A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ioc_storage_test_XXXXXX").string();
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

//! A second, raw connection to the same database file: what an attacker or a careless operator
//! with file access would use.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
    if (db_) sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool ok() const { return db_ != nullptr; }

  //! sqlite3_exec; on failure returns the error text in *err.
  int exec(const char* sql, std::string* err = nullptr) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    if (err) *err = msg ? msg : "";
    sqlite3_free(msg);
    return rc;
  }

  //! First column of the first row as an integer; -1 when there is no row or on error.
  int64_t queryInt(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

//! A gate that holds the writer thread inside a job so that later submissions pile up in the
//! queue and are committed together in the next batch. Shared-owned by the blocking job.
class Gate {
 public:
  void markStarted() {
    {
      std::lock_guard lock(mu_);
      started_ = true;
    }
    cv_.notify_all();
  }
  void waitStarted() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return started_; });
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void waitOpen() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool open_ = false;
};

//! Blocks the store's writer until destroyed or release() is called; never leaves it stuck
//! even when an assertion returns early.
class BlockedWriter {
 public:
  explicit BlockedWriter(Store& store) : gate_(std::make_shared<Gate>()) {
    auto gate = gate_;
    store.submitWrite(
        [gate](WriteTx&) {
          gate->markStarted();
          gate->waitOpen();
          return Status::success();
        },
        nullptr);
    gate_->waitStarted();
  }
  ~BlockedWriter() { release(); }
  BlockedWriter(const BlockedWriter&) = delete;
  BlockedWriter& operator=(const BlockedWriter&) = delete;
  void release() { gate_->open(); }

 private:
  std::shared_ptr<Gate> gate_;
};

User makeUser(const std::string& name, Role role = Role::kOperator,
              const std::string& unit = "46") {
  User u;
  u.username = name;
  u.role = role;
  u.unit_code = unit;
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$fake$hash-for-" + name;
  u.created_at_ms = 1'700'000'000'000;
  u.updated_at_ms = 1'700'000'000'000;
  return u;
}

AuditEntry makeEntry(const std::string& action, const std::string& target, int64_t at_ms) {
  AuditEntry e;
  e.at_ms = at_ms;
  e.actor = "alice";
  e.role = "admin";
  e.unit = "";
  e.action = action;
  e.target = target;
  e.client = "10.0.0.1";
  e.request_id = "req-" + target;
  e.detail = R"({"k":"v"})";
  return e;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

//! A store error must never carry SQL, table names, SQLite's own messages or file paths.
void expectNoInternals(const core::Error& e, const std::string& path = "") {
  const std::string m = lower(e.message);
  EXPECT_FALSE(m.empty());
  for (const char* word : {"insert", "update ", "select", "delete", "where", "values", "unique",
                           "foreign key", "constraint", "sqlite", "users.", "sessions", "api_keys",
                           "audit_log", "no such table", ".db"}) {
    EXPECT_EQ(m.find(word), std::string::npos) << "message '" << e.message << "' leaks " << word;
  }
  if (!path.empty()) {
    EXPECT_EQ(e.message.find(path), std::string::npos) << e.message;
  }
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.file("ioc.db");
    reopen();
    ASSERT_NE(store_, nullptr);
  }

  //! Reopens with background writes waiting up to `interval` for company.
  void reopenWithInterval(std::chrono::milliseconds interval, size_t max_batch = 512) {
    SqliteOptions options;
    options.background_commit_interval = interval;
    options.max_batch = max_batch;
    reopen(std::move(options));
  }

  void reopen(SqliteOptions options = {}) {
    store_.reset();
    options.path = path_;
    auto opened = SqliteStore::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  int64_t insertUser(const User& u) {
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

  std::vector<User> allUsers() {
    UserFilter f;
    f.limit = 1'000'000;
    auto users = store_->listUsers(f);
    EXPECT_TRUE(users.ok());
    return users.ok() ? *users : std::vector<User>{};
  }

  std::vector<AuditEntry> allAudit() {
    AuditFilter f;
    f.limit = 1'000'000;
    auto entries = store_->listAudit(f);
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : std::vector<AuditEntry>{};
  }

  //! seq 1..n, genesis then links, and each hash recomputes.
  void expectIntactChain(const std::vector<AuditEntry>& entries) {
    std::string prev = model::kAuditGenesisHash;
    for (size_t i = 0; i < entries.size(); ++i) {
      const AuditEntry& e = entries[i];
      EXPECT_EQ(e.seq, static_cast<int64_t>(i + 1));
      EXPECT_EQ(e.prev_hash, prev) << "seq " << e.seq;
      EXPECT_EQ(e.hash, model::computeAuditHash(e)) << "seq " << e.seq;
      EXPECT_EQ(e.hash.size(), 64u);
      prev = e.hash;
    }
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

// --- open and migrations ---------------------------------------------------------------------

TEST_F(SqliteStoreTest, OpenAppliesEveryMigration) {
  EXPECT_GE(latestSchemaVersion(), 1);
  EXPECT_EQ(store_->schemaVersion(), latestSchemaVersion());
  EXPECT_TRUE(store_->ping().ok());
  EXPECT_TRUE(fs::exists(path_));
  RawDb raw(path_);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.queryInt("SELECT COUNT(*) FROM schema_migrations"), latestSchemaVersion());
  EXPECT_EQ(raw.queryInt("SELECT MAX(version) FROM schema_migrations"), latestSchemaVersion());
  for (const char* table : {"users", "sessions", "api_keys", "audit_log"}) {
    std::string sql =
        std::string("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='") + table +
        "'";
    EXPECT_EQ(raw.queryInt(sql.c_str()), 1) << table;
  }
}

TEST_F(SqliteStoreTest, ReopenIsIdempotentAndKeepsData) {
  const int64_t id = insertUser(makeUser("keeper"));
  for (int i = 0; i < 3; ++i) {
    reopen();
    ASSERT_NE(store_, nullptr);
    EXPECT_EQ(store_->schemaVersion(), latestSchemaVersion());
    EXPECT_TRUE(store_->ping().ok());
  }
  RawDb raw(path_);
  ASSERT_TRUE(raw.ok());
  // Each migration recorded once, not once per open.
  EXPECT_EQ(raw.queryInt("SELECT COUNT(*) FROM schema_migrations"), latestSchemaVersion());
  auto found = store_->findUserById(id);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "keeper");
}

TEST_F(SqliteStoreTest, DocumentsPutReplaceListDeleteByKind) {
  auto put = [&](std::string kind, std::string id, std::string doc, int64_t at) {
    return store_->writeSync([&](WriteTx& tx) {
      return tx.putDocument({std::move(kind), std::move(id), std::move(doc), at});
    });
  };
  ASSERT_TRUE(put("subscription", "urn:b", R"({"n":1})", 1).ok());
  ASSERT_TRUE(put("subscription", "urn:a", R"({"n":2})", 2).ok());
  ASSERT_TRUE(put("rule", "urn:a", R"({"r":1})", 3).ok());
  ASSERT_TRUE(put("subscription", "urn:b", R"({"n":3})", 4).ok());  // replaces
  auto subs = store_->listDocuments("subscription");
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 2u);
  EXPECT_EQ((*subs)[0].id, "urn:a");
  EXPECT_EQ((*subs)[1].id, "urn:b");
  EXPECT_EQ((*subs)[1].doc, R"({"n":3})");
  EXPECT_EQ((*subs)[1].updated_at_ms, 4);
  ASSERT_TRUE(
      store_->writeSync([](WriteTx& tx) { return tx.deleteDocument("subscription", "urn:a"); })
          .ok());
  reopen();
  subs = store_->listDocuments("subscription");
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].id, "urn:b");
  auto rules = store_->listDocuments("rule");
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].doc, R"({"r":1})");
}

TEST_F(SqliteStoreTest, OpenFailureDoesNotLeakPath) {
  const std::string bad = dir_.file("missing/deeper/ioc.db");
  SqliteOptions o;
  o.path = bad;
  auto opened = SqliteStore::open(o);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::kInternal);
  expectNoInternals(opened.error(), bad);
  EXPECT_EQ(opened.error().message.find("missing"), std::string::npos);
}

// --- users -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, UserInsertFindListUpdate) {
  User alice = makeUser("alice", Role::kAdmin, "");
  alice.created_at_ms = 111;
  alice.updated_at_ms = 222;
  const int64_t a = insertUser(alice);
  const int64_t b = insertUser(makeUser("bob", Role::kOperator, "46"));
  const int64_t c = insertUser(makeUser("carol", Role::kCitizen, "01"));
  EXPECT_GT(a, 0);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);

  auto by_name = store_->findUserByName("alice");
  ASSERT_TRUE(by_name.ok());
  ASSERT_TRUE(by_name->has_value());
  const User& got = **by_name;
  EXPECT_EQ(got.id, a);
  EXPECT_EQ(got.username, "alice");
  EXPECT_EQ(got.role, Role::kAdmin);
  EXPECT_EQ(got.unit_code, "");
  EXPECT_EQ(got.password_hash, alice.password_hash);
  EXPECT_FALSE(got.disabled);
  EXPECT_EQ(got.created_at_ms, 111);
  EXPECT_EQ(got.updated_at_ms, 222);

  auto by_id = store_->findUserById(b);
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->username, "bob");
  EXPECT_EQ((*by_id)->unit_code, "46");

  auto missing = store_->findUserByName("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto missing_id = store_->findUserById(9999);
  ASSERT_TRUE(missing_id.ok());
  EXPECT_FALSE(missing_id->has_value());

  // Listing: ordered by id, filtered by unit and role, paged after the filter.
  auto users = allUsers();
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].username, "alice");
  EXPECT_EQ(users[1].username, "bob");
  EXPECT_EQ(users[2].username, "carol");
  UserFilter in46;
  in46.unit_codes = {"46"};
  auto l46 = store_->listUsers(in46);
  ASSERT_TRUE(l46.ok());
  ASSERT_EQ(l46->size(), 1u);
  EXPECT_EQ((*l46)[0].username, "bob");
  UserFilter citizens;
  citizens.role = Role::kCitizen;
  auto lc = store_->listUsers(citizens);
  ASSERT_TRUE(lc.ok());
  ASSERT_EQ(lc->size(), 1u);
  EXPECT_EQ((*lc)[0].username, "carol");
  UserFilter page;
  page.limit = 1;
  page.offset = 1;
  auto lp = store_->listUsers(page);
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->size(), 1u);
  EXPECT_EQ((*lp)[0].username, "bob");

  // Update changes role, unit, hash, disabled and updated_at, never the username.
  User changed = **by_id;
  changed.username = "renamed";
  changed.role = Role::kSupervisor;
  changed.unit_code = "01";
  changed.password_hash = "new-hash";
  changed.disabled = true;
  changed.updated_at_ms = 999;
  Status s = store_->writeSync([&](WriteTx& tx) { return tx.updateUser(changed); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto after = store_->findUserById(b);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->username, "bob");
  EXPECT_EQ((*after)->role, Role::kSupervisor);
  EXPECT_EQ((*after)->unit_code, "01");
  EXPECT_EQ((*after)->password_hash, "new-hash");
  EXPECT_TRUE((*after)->disabled);
  EXPECT_EQ((*after)->updated_at_ms, 999);

  User ghost = makeUser("ghost");
  ghost.id = 424242;
  Status nf = store_->writeSync([&](WriteTx& tx) { return tx.updateUser(ghost); });
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.error().code, Errc::kNotFound);
}

TEST_F(SqliteStoreTest, DuplicateUsernameIsConflict) {
  insertUser(makeUser("dup"));
  Status s = store_->writeSync([](WriteTx& tx) -> Status {
    auto r = tx.insertUser(makeUser("dup", Role::kAdmin, ""));
    return r.ok() ? Status::success() : Status(r.error());
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kConflict);
  expectNoInternals(s.error(), path_);
  auto users = allUsers();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].role, Role::kOperator);  // the original, untouched
}

TEST_F(SqliteStoreTest, JobErrorIsReturnedAndItsWritesRolledBack) {
  Status s = store_->writeSync([](WriteTx& tx) -> Status {
    auto r = tx.insertUser(makeUser("half-done"));
    if (!r.ok()) return r.error();
    return core::makeError(Errc::kInvalidArgument, "changed my mind");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.error().message, "changed my mind");
  auto found = store_->findUserByName("half-done");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

// A batch of jobs from several threads, committed together; one fails half-way. Only that job is
// rolled back (including its first insert and its audit entry); the others commit.
TEST_F(SqliteStoreTest, FailingJobRollsBackAloneInsideGroupCommit) {
  std::atomic<int> commits{0};
  SqliteOptions options;
  options.on_commit = [&commits](size_t, double) { commits.fetch_add(1); };
  reopen(std::move(options));
  ASSERT_NE(store_, nullptr);
  insertUser(makeUser("taken", Role::kLeader, "01"));
  store_->flush();

  constexpr int kJobs = 6;
  constexpr int kBad = 3;
  std::vector<Status> results(kJobs, core::makeError(Errc::kInternal, "not run"));
  std::vector<int> seen_commit(kJobs, -1);
  std::atomic<int> done_count{0};
  {
    BlockedWriter blocked(*store_);
    std::vector<std::thread> threads;
    for (int i = 0; i < kJobs; ++i) {
      threads.emplace_back([&, i] {
        store_->submitWrite(
            [&, i](WriteTx& tx) -> Status {
              seen_commit[i] = commits.load();
              if (i == kBad) {
                // Writes something, appends to the chain, then hits the unique constraint.
                auto first = tx.insertUser(makeUser("partial-" + std::to_string(i)));
                if (!first.ok()) return first.error();
                auto seq = tx.appendAudit(makeEntry("user.create", "bad", 1));
                if (!seq.ok()) return seq.error();
                auto dup = tx.insertUser(makeUser("taken"));
                return dup.ok() ? Status::success() : Status(dup.error());
              }
              auto id = tx.insertUser(makeUser("user-" + std::to_string(i)));
              if (!id.ok()) return id.error();
              auto seq = tx.appendAudit(makeEntry("user.create", "user:" + std::to_string(*id), 2));
              return seq.ok() ? Status::success() : Status(seq.error());
            },
            [&, i](Status s) {
              results[i] = std::move(s);
              done_count.fetch_add(1);
            });
      });
    }
    for (auto& t : threads) t.join();
    // The writer is still held: every job is queued, none has run.
    EXPECT_EQ(store_->writeQueueDepth(), static_cast<size_t>(kJobs));
    EXPECT_EQ(done_count.load(), 0);
    blocked.release();
  }
  store_->flush();
  ASSERT_EQ(done_count.load(), kJobs);

  // All six ran in the same transaction (no commit happened between them).
  for (int i = 1; i < kJobs; ++i) EXPECT_EQ(seen_commit[i], seen_commit[0]) << "job " << i;

  for (int i = 0; i < kJobs; ++i) {
    if (i == kBad) {
      ASSERT_FALSE(results[i].ok());
      EXPECT_EQ(results[i].error().code, Errc::kConflict);
      expectNoInternals(results[i].error(), path_);
    } else {
      EXPECT_TRUE(results[i].ok()) << "job " << i << ": " << results[i].error().message;
      auto u = store_->findUserByName("user-" + std::to_string(i));
      ASSERT_TRUE(u.ok());
      EXPECT_TRUE(u->has_value()) << "user-" << i << " missing";
    }
  }
  auto partial = store_->findUserByName("partial-" + std::to_string(kBad));
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value()) << "the failing job's first insert was not rolled back";
  EXPECT_EQ(allUsers().size(), static_cast<size_t>(kJobs));  // "taken" + 5 good ones

  // The audit chain has exactly the good jobs' entries, contiguous and linked.
  auto entries = allAudit();
  EXPECT_EQ(entries.size(), static_cast<size_t>(kJobs - 1));
  for (const auto& e : entries) EXPECT_NE(e.target, "bad");
  expectIntactChain(entries);
}

// --- sessions --------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, SessionsInsertFindRevoke) {
  const int64_t u1 = insertUser(makeUser("sess-one"));
  const int64_t u2 = insertUser(makeUser("sess-two"));
  Status s = store_->writeSync([&](WriteTx& tx) -> Status {
    for (auto [hash, user] : {std::pair{"h1a", u1}, std::pair{"h1b", u1}, std::pair{"h2", u2}}) {
      Session se{hash, user, 100, 200, false, "10.1.1.1"};
      if (auto r = tx.insertSession(se); !r.ok()) return r;
    }
    return Status::success();
  });
  ASSERT_TRUE(s.ok()) << s.error().message;

  auto found = store_->findSession("h1a");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->token_hash, "h1a");
  EXPECT_EQ((*found)->user_id, u1);
  EXPECT_EQ((*found)->created_at_ms, 100);
  EXPECT_EQ((*found)->expires_at_ms, 200);
  EXPECT_FALSE((*found)->revoked);
  EXPECT_EQ((*found)->client, "10.1.1.1");

  auto none = store_->findSession("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto revoked = [&](const char* hash) {
    auto r = store_->findSession(hash);
    EXPECT_TRUE(r.ok() && r->has_value()) << hash;
    return r.ok() && r->has_value() && (*r)->revoked;
  };

  ASSERT_TRUE(store_->writeSync([](WriteTx& tx) { return tx.revokeSession("h1a"); }).ok());
  EXPECT_TRUE(revoked("h1a"));
  EXPECT_FALSE(revoked("h1b"));
  EXPECT_FALSE(revoked("h2"));

  ASSERT_TRUE(store_->writeSync([&](WriteTx& tx) { return tx.revokeUserSessions(u1); }).ok());
  EXPECT_TRUE(revoked("h1a"));
  EXPECT_TRUE(revoked("h1b"));
  EXPECT_FALSE(revoked("h2")) << "another user's session was revoked";

  // Duplicate token hash and an unknown user are both constraint violations.
  Status dup = store_->writeSync([&](WriteTx& tx) {
    return tx.insertSession(Session{"h2", u2, 1, 2, false, ""});
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::kConflict);
  expectNoInternals(dup.error(), path_);
  Status orphan = store_->writeSync([](WriteTx& tx) {
    return tx.insertSession(Session{"orphan", 777777, 1, 2, false, ""});
  });
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code, Errc::kConflict);
  expectNoInternals(orphan.error(), path_);
  auto o = store_->findSession("orphan");
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->has_value());
}

// --- API keys --------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ApiKeysInsertFindListRevoke) {
  ApiKey k1;
  k1.name = "camera gateway";
  k1.scope = model::KeyScope::kIngest;
  k1.unit_code = "46";
  k1.key_hash = std::string(64, 'a');
  k1.prefix = "ck_abcdefg";
  k1.created_at_ms = 5;
  ApiKey k2 = k1;
  k2.name = "dashboard";
  k2.scope = model::KeyScope::kRead;
  k2.unit_code = "";
  k2.key_hash = std::string(64, 'b');
  int64_t id1 = 0;
  int64_t id2 = 0;
  Status s = store_->writeSync([&](WriteTx& tx) -> Status {
    auto r1 = tx.insertApiKey(k1);
    if (!r1.ok()) return r1.error();
    auto r2 = tx.insertApiKey(k2);
    if (!r2.ok()) return r2.error();
    id1 = *r1;
    id2 = *r2;
    return Status::success();
  });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(id1, 0);
  EXPECT_NE(id1, id2);

  auto found = store_->findApiKeyByHash(k1.key_hash);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, id1);
  EXPECT_EQ((*found)->name, "camera gateway");
  EXPECT_EQ((*found)->scope, model::KeyScope::kIngest);
  EXPECT_EQ((*found)->unit_code, "46");
  EXPECT_EQ((*found)->prefix, "ck_abcdefg");
  EXPECT_EQ((*found)->created_at_ms, 5);
  EXPECT_FALSE((*found)->revoked);
  auto none = store_->findApiKeyByHash(std::string(64, 'c'));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto list = store_->listApiKeys();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, id1);
  EXPECT_EQ((*list)[1].id, id2);
  EXPECT_EQ((*list)[1].scope, model::KeyScope::kRead);

  ASSERT_TRUE(store_->writeSync([&](WriteTx& tx) { return tx.revokeApiKey(id1); }).ok());
  auto after = store_->findApiKeyByHash(k1.key_hash);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_TRUE((*after)->revoked);
  auto other = store_->findApiKeyByHash(k2.key_hash);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_FALSE((*other)->revoked);

  Status unknown = store_->writeSync([](WriteTx& tx) { return tx.revokeApiKey(987654); });
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  expectNoInternals(unknown.error());

  Status dup = store_->writeSync([&](WriteTx& tx) -> Status {
    auto r = tx.insertApiKey(k2);
    return r.ok() ? Status::success() : Status(r.error());
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::kConflict);
  expectNoInternals(dup.error(), path_);
}

// --- audit log -------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, AuditAppendBuildsAHashChain) {
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = makeEntry("user.update", "user:" + std::to_string(i), 1000 + i);
    e.seq = 77;  // the store assigns seq, prev_hash and hash itself
    e.prev_hash = "forged";
    e.hash = "forged";
    Status s = store_->writeSync([&](WriteTx& tx) -> Status {
      auto seq = tx.appendAudit(e);
      if (!seq.ok()) return seq.error();
      seqs.push_back(*seq);
      return Status::success();
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  auto entries = allAudit();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].prev_hash, model::kAuditGenesisHash);
  expectIntactChain(entries);
  for (int i = 0; i < 5; ++i) {
    const AuditEntry& e = entries[static_cast<size_t>(i)];
    EXPECT_EQ(e.at_ms, 1000 + i);
    EXPECT_EQ(e.actor, "alice");
    EXPECT_EQ(e.role, "admin");
    EXPECT_EQ(e.action, "user.update");
    EXPECT_EQ(e.target, "user:" + std::to_string(i));
    EXPECT_EQ(e.client, "10.0.0.1");
    EXPECT_EQ(e.detail, R"({"k":"v"})");
  }
  // Changing any field changes the hash.
  AuditEntry edited = entries[2];
  edited.detail = R"({"k":"w"})";
  EXPECT_NE(model::computeAuditHash(edited), entries[2].hash);

  AuditFilter f;
  f.after_seq = 2;
  f.limit = 2;
  auto page = store_->listAudit(f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[1].seq, 4);

  AuditFilter newest;
  newest.newest_first = true;
  newest.limit = 2;
  auto latest = store_->listAudit(newest);
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].seq, 5);
  EXPECT_EQ((*latest)[1].seq, 4);
  newest.before_seq = 4;
  newest.limit = 10;
  auto older = store_->listAudit(newest);
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->size(), 3u);
  EXPECT_EQ((*older)[0].seq, 3);
  EXPECT_EQ((*older)[2].seq, 1);

  std::vector<int64_t> scanned;
  ASSERT_TRUE(store_
                  ->scanAudit([&](const AuditEntry& e) {
                    scanned.push_back(e.seq);
                    return e.seq < 3;  // stop after the third
                  })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(SqliteStoreTest, AuditLogRejectsUpdateAndDelete) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->writeSync([&](WriteTx& tx) -> Status {
                      auto seq = tx.appendAudit(makeEntry("auth.login", "user:1", i));
                      return seq.ok() ? Status::success() : Status(seq.error());
                    })
                    .ok());
  }
  const std::string before = allAudit()[1].detail;
  RawDb raw(path_);
  ASSERT_TRUE(raw.ok());
  std::string err;
  EXPECT_NE(raw.exec("UPDATE audit_log SET detail='{\"k\":\"tampered\"}' WHERE seq=2", &err),
            SQLITE_OK);
  EXPECT_NE(err.find("append-only"), std::string::npos) << err;
  EXPECT_NE(raw.exec("UPDATE audit_log SET hash='00' WHERE seq=3", &err), SQLITE_OK);
  EXPECT_NE(raw.exec("DELETE FROM audit_log WHERE seq=2", &err), SQLITE_OK);
  EXPECT_NE(err.find("append-only"), std::string::npos) << err;
  EXPECT_NE(raw.exec("DELETE FROM audit_log", &err), SQLITE_OK);
  EXPECT_EQ(raw.queryInt("SELECT COUNT(*) FROM audit_log"), 3);
  auto entries = allAudit();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].detail, before);
  expectIntactChain(entries);
}

// KNOWN BUG (fails until fixed): the append-only triggers in src/storage/sqlite/migrations.cc
// (audit_log_no_update / audit_log_no_delete) cover UPDATE and DELETE only. INSERT OR REPLACE
// (or REPLACE INTO) removes the conflicting row through conflict resolution, which fires no DELETE
// trigger unless recursive_triggers is on, so any row can be rewritten in place with the
// triggers still installed. A BEFORE INSERT trigger rejecting an existing seq would close it.
TEST_F(SqliteStoreTest, AuditLogRejectsInsertOrReplace) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->writeSync([&](WriteTx& tx) -> Status {
                      auto seq = tx.appendAudit(makeEntry("auth.login", "user:1", i));
                      return seq.ok() ? Status::success() : Status(seq.error());
                    })
                    .ok());
  }
  const std::string before = allAudit()[1].detail;
  RawDb raw(path_);
  ASSERT_TRUE(raw.ok());
  std::string err;
  EXPECT_NE(raw.exec("INSERT OR REPLACE INTO audit_log(seq, at_ms, actor, role, unit, action, "
                     "target, client, request_id, detail, prev_hash, hash) "
                     "SELECT seq, at_ms, actor, role, unit, action, target, client, request_id, "
                     "'{\"forged\":true}', prev_hash, hash FROM audit_log WHERE seq=2",
                     &err),
            SQLITE_OK)
      << "INSERT OR REPLACE rewrote an audit row despite the append-only triggers";
  EXPECT_NE(raw.exec("REPLACE INTO audit_log(seq, at_ms, actor, role, unit, action, target, "
                     "client, request_id, detail, prev_hash, hash) "
                     "VALUES(3, 0, 'x', 'x', 'x', 'x', 'x', 'x', 'x', '{}', 'x', 'x')",
                     &err),
            SQLITE_OK)
      << "REPLACE INTO rewrote an audit row despite the append-only triggers";
  auto entries = allAudit();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].detail, before);
  EXPECT_EQ(entries[2].actor, "alice");
}

// --- durability and concurrency --------------------------------------------------------------

TEST_F(SqliteStoreTest, AcknowledgedWritesSurviveReopen) {
  const int64_t id = insertUser(makeUser("durable", Role::kAgencyStaff, "01"));
  ASSERT_TRUE(store_
                  ->writeSync([&](WriteTx& tx) -> Status {
                    if (auto s = tx.insertSession(Session{"tok", id, 1, 2, false, "c"}); !s.ok()) {
                      return s;
                    }
                    auto seq = tx.appendAudit(makeEntry("user.create", "user:durable", 3));
                    return seq.ok() ? Status::success() : Status(seq.error());
                  })
                  .ok());
  store_.reset();  // close: the writer drains and checkpoints

  {
    RawDb raw(path_);  // a different connection sees it in the main file
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw.queryInt("SELECT COUNT(*) FROM users WHERE username='durable'"), 1);
  }
  reopen();
  ASSERT_NE(store_, nullptr);
  auto u = store_->findUserByName("durable");
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(u->has_value());
  EXPECT_EQ((*u)->role, Role::kAgencyStaff);
  auto se = store_->findSession("tok");
  ASSERT_TRUE(se.ok());
  EXPECT_TRUE(se->has_value());
  auto entries = allAudit();
  ASSERT_EQ(entries.size(), 1u);
  expectIntactChain(entries);
}

TEST_F(SqliteStoreTest, DestructionDrainsQueuedWrites) {
  constexpr int kWrites = 50;
  std::atomic<int> ok_count{0};
  {
    BlockedWriter blocked(*store_);
    for (int i = 0; i < kWrites; ++i) {
      store_->submitWrite(
          [i](WriteTx& tx) -> Status {
            auto r = tx.insertUser(makeUser("queued-" + std::to_string(i)));
            return r.ok() ? Status::success() : Status(r.error());
          },
          [&ok_count](Status s) {
            if (s.ok()) ok_count.fetch_add(1);
          });
    }
    EXPECT_EQ(store_->writeQueueDepth(), static_cast<size_t>(kWrites));
  }
  store_.reset();  // nothing submitted is dropped
  EXPECT_EQ(ok_count.load(), kWrites);
  reopen();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(allUsers().size(), static_cast<size_t>(kWrites));
}

TEST_F(SqliteStoreTest, ManyConcurrentWritersAllAcknowledgedAndPresent) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = "w" + std::to_string(t) + "-" + std::to_string(i);
        auto job = [name](WriteTx& tx) -> Status {
          auto id = tx.insertUser(makeUser(name));
          if (!id.ok()) return id.error();
          auto seq = tx.appendAudit(makeEntry("user.create", name, 1));
          return seq.ok() ? Status::success() : Status(seq.error());
        };
        if (i % 50 == 0) {  // some callers wait, the rest fire and forget
          Status s = store_->writeSync(job);
          (s.ok() ? acked : failed).fetch_add(1);
        } else {
          store_->submitWrite(job, [&](Status s) { (s.ok() ? acked : failed).fetch_add(1); });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  store_->flush();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  EXPECT_EQ(store_->writeQueueDepth(), 0u);

  auto users = allUsers();
  EXPECT_EQ(users.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> names;
  for (const auto& u : users) names.insert(u.username);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_TRUE(names.count("w" + std::to_string(t) + "-" + std::to_string(i)));
    }
  }
  auto entries = allAudit();
  EXPECT_EQ(entries.size(), static_cast<size_t>(kThreads * kPerThread));
  expectIntactChain(entries);
}

TEST_F(SqliteStoreTest, WriteQueueDepthCountsPendingJobs) {
  EXPECT_EQ(store_->writeQueueDepth(), 0u);
  {
    BlockedWriter blocked(*store_);
    EXPECT_EQ(store_->writeQueueDepth(), 0u);  // the running job is no longer queued
    for (int i = 0; i < 7; ++i) {
      store_->submitWrite([](WriteTx&) { return Status::success(); }, nullptr);
      EXPECT_EQ(store_->writeQueueDepth(), static_cast<size_t>(i + 1));
    }
  }
  store_->flush();
  EXPECT_EQ(store_->writeQueueDepth(), 0u);
}

// --- background writes wait for company -------------------------------------------------------

//! Counts finished jobs and their results; waits for a number of them.
class Completions {
 public:
  Store::WriteDone callback() {
    return [this](Status s) {
      std::lock_guard lock(mu_);
      ++done_;
      if (s.ok()) ++ok_;
      cv_.notify_all();
    };
  }
  bool waitFor(int n, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_ >= n; });
  }
  int ok() {
    std::lock_guard lock(mu_);
    return ok_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
  int ok_ = 0;
};

Store::WriteJob insertJob(const std::string& name) {
  return [name](WriteTx& tx) -> Status {
    auto r = tx.insertUser(makeUser(name));
    return r.ok() ? Status::success() : Status(r.error());
  };
}

//! Background writes inserting users `prefix`0 … `prefix`(n-1).
void submitBackground(Store& store, const std::string& prefix, int n, Completions& done) {
  for (int i = 0; i < n; ++i) {
    store.submitWrite(insertJob(prefix + std::to_string(i)), done.callback(),
                      Store::Urgency::kBackground);
  }
}

TEST_F(SqliteStoreTest, BackgroundWritesWaitForTheIntervalOrAnAwaitedWrite) {
  std::mutex mu;
  std::vector<size_t> batches;  // jobs per commit
  SqliteOptions options;
  options.background_commit_interval = std::chrono::hours(1);  // only something else commits
  options.on_commit = [&](size_t n, double) {
    std::lock_guard lock(mu);
    batches.push_back(n);
  };
  reopen(std::move(options));
  ASSERT_NE(store_, nullptr);
  Completions done;
  submitBackground(*store_, "bg-", 3, done);
  // The writer is free, yet nothing is committed: the jobs wait for company.
  EXPECT_FALSE(done.waitFor(1, std::chrono::seconds(1)));
  EXPECT_EQ(store_->writeQueueDepth(), 3u);
  // An awaited write takes them along in its commit.
  insertUser(makeUser("awaited"));
  ASSERT_TRUE(done.waitFor(3));
  EXPECT_EQ(done.ok(), 3);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(batches, std::vector<size_t>{4});
  }
  EXPECT_EQ(allUsers().size(), 4u);
}

TEST_F(SqliteStoreTest, BackgroundWritesAreCommittedWhenDueOrTheBatchIsFull) {
  reopenWithInterval(std::chrono::milliseconds(50));
  ASSERT_NE(store_, nullptr);
  Completions due;
  submitBackground(*store_, "alone-", 1, due);
  EXPECT_TRUE(due.waitFor(1));  // nothing else comes: committed once due
  EXPECT_EQ(due.ok(), 1);

  reopenWithInterval(std::chrono::hours(1), /*max_batch=*/4);
  ASSERT_NE(store_, nullptr);
  Completions full;
  submitBackground(*store_, "full-", 4, full);
  EXPECT_TRUE(full.waitFor(4));  // a full batch does not wait
  EXPECT_EQ(full.ok(), 4);
  EXPECT_EQ(allUsers().size(), 5u);
}

TEST_F(SqliteStoreTest, ACleanStopCommitsWaitingBackgroundWrites) {
  reopenWithInterval(std::chrono::hours(1));
  ASSERT_NE(store_, nullptr);
  Completions done;
  submitBackground(*store_, "pending-", 1, done);
  store_.reset();  // would hang for an hour if the stop waited for the interval
  EXPECT_EQ(done.ok(), 1);
  reopen();
  ASSERT_NE(store_, nullptr);
  auto users = allUsers();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].username, "pending-0");
}

TEST_F(SqliteStoreTest, ConcurrentReadersWhileWriting) {
  insertUser(makeUser("reader-target"));
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      do {  // at least one read per thread, however the threads are scheduled
        auto u = store_->findUserByName("reader-target");
        if (!u.ok() || !u->has_value()) bad_reads.fetch_add(1);
        reads.fetch_add(1);
      } while (!stop.load());
    });
  }
  for (int i = 0; i < 60; ++i) insertUser(makeUser("bg-" + std::to_string(i)));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GE(reads.load(), 3);
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(allUsers().size(), 61u);
}

// --- entity versions staged per group commit ---------------------------------------------------

TEST_F(SqliteStoreTest, StagedEntityVersionsWriteOnlyTheNewestAndHonourFailedJobs) {
  auto version = [](std::string id, std::string doc, int* serialized) {
    return [id = std::move(id), doc = std::move(doc), serialized] {
      ++*serialized;
      return model::EntityRecord{id, "T", "46", doc, 1, 2};
    };
  };
  int serialized = 0;
  // One job writes three versions of one id: only the last is serialized and stored.
  ASSERT_TRUE(
      store_
          ->writeSync([&](WriteTx& tx) {
            EXPECT_TRUE(tx.stageEntity("urn:a", version("urn:a", "{\"v\":1}", &serialized)).ok());
            EXPECT_TRUE(tx.upsertEntity({"urn:b", "T", "46", "{\"v\":9}", 1, 2}).ok());
            EXPECT_TRUE(tx.stageEntity("urn:a", version("urn:a", "{\"v\":2}", &serialized)).ok());
            return tx.stageEntity("urn:a", version("urn:a", "{\"v\":3}", &serialized));
          })
          .ok());
  EXPECT_EQ(serialized, 1);
  // A failing job's versions and deletes are dropped with its savepoint.
  EXPECT_FALSE(store_
                   ->writeSync([&](WriteTx& tx) {
                     EXPECT_TRUE(tx.deleteEntity("urn:b").ok());
                     EXPECT_TRUE(
                         tx.stageEntity("urn:a", version("urn:a", "{\"v\":4}", &serialized)).ok());
                     return Status(core::makeError(core::Errc::kConflict, "job fails"));
                   })
                   .ok());
  EXPECT_EQ(serialized, 1);
  // A delete staged after an upsert wins.
  ASSERT_TRUE(store_
                  ->writeSync([&](WriteTx& tx) {
                    EXPECT_TRUE(tx.upsertEntity({"urn:c", "T", "46", "{}", 1, 2}).ok());
                    return tx.deleteEntity("urn:c");
                  })
                  .ok());
  reopen();
  std::map<std::string, std::string> docs;
  ASSERT_TRUE(store_
                  ->scanEntities([&](model::EntityRecord&& r) {
                    docs[r.id] = r.doc;
                    return true;
                  })
                  .ok());
  EXPECT_EQ(docs,
            (std::map<std::string, std::string>{{"urn:a", "{\"v\":3}"}, {"urn:b", "{\"v\":9}"}}));
}

}  // namespace
}  // namespace ioc::storage::sqlite
