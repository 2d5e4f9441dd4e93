#pragma once
// Thin RAII wrappers over sqlite3: a connection with a cache of prepared statements. SQL text is
// always constant; values go through bind(), never through string concatenation.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

namespace ioc::storage::sqlite {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int idx, int64_t v);
  Stmt& bind(int idx, std::string_view v);
  Stmt& bindBlob(int idx, std::string_view bytes);
  Stmt& bindNull(int idx);
  Stmt& bindOpt(int idx, const std::optional<std::string>& v);
  //! SQLITE_ROW → true, SQLITE_DONE → false, anything else → error.
  core::Result<bool> step();
  core::Status run();  //!< step to completion, expect no rows
  void reset();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  Stmt& bind(int idx, double v) {
    sqlite3_bind_double(stmt_, idx, v);
    return *this;
  }
  std::string text(int col) const;
  //! Valid until the next step() or reset().
  std::string_view blob(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    return {static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_;
};

//! One connection. Not thread-safe: used by one thread at a time.
class Db {
 public:
  static core::Result<std::unique_ptr<Db>> open(const std::string& path, int busy_timeout_ms);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  core::Status exec(const char* sql);  //!< constant SQL only (pragmas, DDL, BEGIN/COMMIT)
  //! One constant statement run from the prepared cache: for statements run for every write
  //! (savepoints, BEGIN/COMMIT), which exec() would parse each time.
  core::Status run(const char* sql);
  //! Returns a reset statement from the cache, prepared on first use.
  core::Result<Stmt*> prepare(const char* sql);
  int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

//! Runs a prepared query, calling `on_row` for each row until it returns false; the statement is
//! reset whatever happens, so it can be reused from the cache.
template <typename Bind, typename OnRow>
core::Status forEachRow(Db& db, const char* sql, Bind bind, OnRow on_row) {
  auto stmt = db.prepare(sql);
  if (!stmt.ok()) return stmt.error();
  Stmt& s = **stmt;
  bind(s);
  while (true) {
    auto row = s.step();
    if (!row.ok()) {
      s.reset();
      return row.error();
    }
    if (!*row || !on_row(s)) break;
  }
  s.reset();
  return core::Status::success();
}

//! Store errors never carry SQL text or paths to clients; the detail is logged here instead.
core::Error storeError(sqlite3* db, const char* what);

}  // namespace ioc::storage::sqlite
