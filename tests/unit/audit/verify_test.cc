#include "audit/verify.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/audit_entry.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::audit {
namespace {

namespace fs = std::filesystem;
using model::AuditEntry;
using storage::Status;
using storage::WriteTx;
using storage::sqlite::SqliteOptions;
using storage::sqlite::SqliteStore;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ioc_audit_test_XXXXXX").string();
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

//! Direct access to the database file, bypassing the store: how someone would tamper with it.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool ok() const { return db_ != nullptr; }
  //! Runs `sql` and returns "" on success, SQLite's error text otherwise.
  std::string exec(const std::string& sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
    std::string err = rc == SQLITE_OK ? "" : (msg ? msg : "error");
    sqlite3_free(msg);
    return err;
  }

 private:
  sqlite3* db_ = nullptr;
};

class VerifyTest : public ::testing::Test {
 protected:
  static constexpr int kEntries = 7;

  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.file("audit.db");
    open();
    ASSERT_NE(store_, nullptr);
    for (int i = 0; i < kEntries; ++i) {
      AuditEntry e;
      e.at_ms = 1'700'000'000'000 + i;
      e.actor = i % 2 ? "alice" : "key:gateway";
      e.role = i % 2 ? "admin" : "key:ingest";
      e.unit = "46";
      e.action = i % 2 ? "user.update" : "key.create";
      e.target = "user:" + std::to_string(i);
      e.client = "10.0.0." + std::to_string(i);
      e.request_id = "req" + std::to_string(i);
      e.detail = R"({"role":"operator"})";
      Status s = store_->writeSync([&](WriteTx& tx) -> Status {
        auto seq = tx.appendAudit(e);
        return seq.ok() ? Status::success() : Status(seq.error());
      });
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
    auto all = store_->listAudit(storage::AuditFilter{0, 1000});
    ASSERT_TRUE(all.ok());
    entries_ = *all;
    ASSERT_EQ(entries_.size(), static_cast<size_t>(kEntries));
  }

  void open() {
    store_.reset();
    SqliteOptions o;
    o.path = path_;
    auto opened = SqliteStore::open(o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  //! Closes the store, runs raw SQL against the file, reopens the store.
  void tamper(const std::vector<std::string>& statements) {
    store_.reset();
    {
      RawDb raw(path_);
      ASSERT_TRUE(raw.ok());
      for (const auto& sql : statements) ASSERT_EQ(raw.exec(sql), "") << sql;
    }
    open();
    ASSERT_NE(store_, nullptr);
  }

  VerifyReport verify() {
    auto report = verifyChain(*store_);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : VerifyReport{};
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::vector<AuditEntry> entries_;
};

TEST_F(VerifyTest, IntactChain) {
  VerifyReport r = verify();
  EXPECT_TRUE(r.intact);
  EXPECT_EQ(r.entries, kEntries);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_TRUE(r.problem.empty());
  EXPECT_EQ(r.head_hash, entries_.back().hash);
  EXPECT_EQ(r.head_hash.size(), 64u);
}

TEST_F(VerifyTest, EmptyLogIsIntact) {
  store_.reset();
  path_ = dir_.file("empty.db");
  open();
  ASSERT_NE(store_, nullptr);
  VerifyReport r = verify();
  EXPECT_TRUE(r.intact);
  EXPECT_EQ(r.entries, 0);
  EXPECT_EQ(r.head_hash, "");
}

TEST_F(VerifyTest, EditedDetailIsCaughtAtThatRow) {
  tamper({"DROP TRIGGER audit_log_no_update",
          "UPDATE audit_log SET detail='{\"role\":\"admin\"}' WHERE seq=4"});
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 4);
  EXPECT_EQ(r.entries, 3);  // the good entries before it
  EXPECT_NE(r.problem.find("edited"), std::string::npos) << r.problem;
}

TEST_F(VerifyTest, EditedActorOnFirstRowIsCaught) {
  tamper({"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor='mallory' WHERE seq=1"});
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 1);
  EXPECT_EQ(r.entries, 0);
}

TEST_F(VerifyTest, DeletedRowIsASequenceGap) {
  tamper({"DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq=3"});
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 4);  // the first row after the hole
  EXPECT_EQ(r.entries, 2);
  EXPECT_NE(r.problem.find("sequence gap"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("expected 3"), std::string::npos) << r.problem;
}

TEST_F(VerifyTest, DeletedAndRenumberedRowsBreakThePrevHashLink) {
  // Hiding the gap by renumbering the later rows still fails: the new row 3 links to the
  // deleted row's hash, not to row 2's.
  tamper({"DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_log_no_update",
          "DELETE FROM audit_log WHERE seq=3", "UPDATE audit_log SET seq=seq-1 WHERE seq>3"});
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 3);
  EXPECT_EQ(r.entries, 2);
}

TEST_F(VerifyTest, EditWithRecomputedHashIsCaughtAtTheNextRow) {
  // The forger edits row 4 and recomputes its hash so that the row is self-consistent.
  AuditEntry forged = entries_[3];
  ASSERT_EQ(forged.seq, 4);
  forged.detail = R"({"role":"citizen"})";
  forged.hash = model::computeAuditHash(forged);
  ASSERT_NE(forged.hash, entries_[3].hash);
  tamper({"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET detail='" + forged.detail +
                                                  "', hash='" + forged.hash + "' WHERE seq=4"});
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 5);
  EXPECT_EQ(r.entries, 4);
  EXPECT_NE(r.problem.find("prev_hash"), std::string::npos) << r.problem;
}

TEST_F(VerifyTest, RowReplacedAfterDroppingTheReplaceTriggerIsStillCaught) {
  // An attacker with file access can drop the triggers; the hash chain still exposes a replaced
  // row (with a recomputed hash) at the next row.
  AuditEntry forged = entries_[1];
  forged.actor = "mallory";
  forged.hash = model::computeAuditHash(forged);
  tamper({"DROP TRIGGER audit_log_no_replace",
          "REPLACE INTO audit_log(seq, at_ms, actor, role, unit, action, target, client, "
          "request_id, detail, prev_hash, hash) SELECT seq, at_ms, 'mallory', role, unit, action, "
          "target, client, request_id, detail, prev_hash, '" +
              forged.hash + "' FROM audit_log WHERE seq=2"});
  auto all = store_->listAudit(storage::AuditFilter{0, 1000});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kEntries));
  ASSERT_EQ((*all)[1].actor, "mallory");
  VerifyReport r = verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 3);
  EXPECT_NE(r.problem.find("prev_hash"), std::string::npos) << r.problem;
}

TEST_F(VerifyTest, HeadHashChangesWhenTheLogGrows) {
  const std::string before = verify().head_hash;
  AuditEntry e;
  e.actor = "cli";
  e.action = "user.create";
  e.detail = "{}";
  ASSERT_TRUE(store_
                  ->writeSync([&](WriteTx& tx) -> Status {
                    auto seq = tx.appendAudit(e);
                    return seq.ok() ? Status::success() : Status(seq.error());
                  })
                  .ok());
  VerifyReport r = verify();
  EXPECT_TRUE(r.intact);
  EXPECT_EQ(r.entries, kEntries + 1);
  EXPECT_NE(r.head_hash, before);
}

}  // namespace
}  // namespace ioc::audit
