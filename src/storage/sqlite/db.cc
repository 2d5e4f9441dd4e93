#include "storage/sqlite/db.h"

#include "core/log.h"

namespace ioc::storage::sqlite {

core::Error storeError(sqlite3* db, const char* what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  core::logError("store error",
                 {{"op", what}, {"sqlite", db ? sqlite3_errmsg(db) : "no db"}, {"code", code}});
  if ((code & 0xff) == SQLITE_CONSTRAINT) {
    return core::makeError(core::Errc::kConflict, "conflicts with existing data");
  }
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return core::makeError(core::Errc::kUnavailable, "store busy");
  }
  return core::makeError(core::Errc::kInternal, "store failure");
}

Stmt& Stmt::bind(int idx, int64_t v) {
  sqlite3_bind_int64(stmt_, idx, v);
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view v) {
  sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bindBlob(int idx, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, idx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bindNull(int idx) {
  sqlite3_bind_null(stmt_, idx);
  return *this;
}

Stmt& Stmt::bindOpt(int idx, const std::optional<std::string>& v) {
  return v ? bind(idx, *v) : bindNull(idx);
}

core::Result<bool> Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return storeError(sqlite3_db_handle(stmt_), "step");
}

core::Status Stmt::run() {
  auto r = step();
  reset();
  if (!r.ok()) return r.error();
  return core::Status::success();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

core::Result<std::unique_ptr<Db>> Db::open(const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
    core::Error err = storeError(raw, "open");
    sqlite3_close(raw);
    return err;
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  // WAL lets readers run beside the single writer; synchronous=FULL makes every commit durable
  // before it returns, which is what lets us acknowledge a write.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    if (auto s = db->exec(pragma); !s.ok()) return s.error();
  }
  return db;
}

Db::~Db() {
  cache_.clear();
  sqlite3_close(db_);
}

core::Status Db::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return storeError(db_, "exec");
  }
  return core::Status::success();
}

core::Status Db::run(const char* sql) {
  auto st = prepare(sql);
  if (!st.ok()) return st.error();
  return (*st)->run();
}

core::Result<Stmt*> Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
    return storeError(db_, "prepare");
  }
  auto* stmt = new Stmt(raw);
  cache_.emplace(sql, std::unique_ptr<Stmt>(stmt));
  return stmt;
}

}  // namespace ioc::storage::sqlite
