#include "storage/sqlite/migrations.h"

#include <chrono>

#include "core/log.h"

namespace ioc::storage::sqlite {

namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: a released migration is never edited, later changes come as new versions.
constexpr Migration kMigrations[] = {
    {1, "identity and audit", R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  unit_code TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL);
CREATE TABLE sessions(
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  client TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE TABLE api_keys(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL,
  unit_code TEXT NOT NULL DEFAULT '',
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL);
CREATE TABLE audit_log(
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  unit TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  client TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
  WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
)sql"},
    {2, "context entities", R"sql(
CREATE TABLE entities(
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  unit_code TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  modified_at_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
    {3, "devices and time series", R"sql(
CREATE TABLE devices(
  apikey TEXT NOT NULL,
  device_id TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  unit_code TEXT NOT NULL DEFAULT '',
  mapping TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY(apikey, device_id)) WITHOUT ROWID;
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  entity_id TEXT NOT NULL,
  attribute TEXT NOT NULL,
  UNIQUE(entity_id, attribute));
CREATE TABLE points(
  series_id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  value REAL NOT NULL);
CREATE INDEX points_by_series_time ON points(series_id, at_ms);
)sql"},
    {4, "hosted JSON-LD contexts", R"sql(
CREATE TABLE jsonld_contexts(
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
    {5, "documents (subscriptions, rules, templates)", R"sql(
CREATE TABLE documents(
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  doc TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY(kind, id)) WITHOUT ROWID;
)sql"},
    {6, "append-friendly time series: log, chunks, rollups", R"sql(
CREATE TABLE points_log(
  series_id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  value REAL NOT NULL);
INSERT INTO points_log(series_id, at_ms, value)
  SELECT series_id, at_ms, value FROM points ORDER BY rowid;
DROP TABLE points;
CREATE TABLE chunks(
  series_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX chunks_by_series_end ON chunks(series_id, end_ms);
CREATE TABLE rollups(
  series_id INTEGER NOT NULL,
  period_ms INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  sum REAL NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  PRIMARY KEY(series_id, period_ms, bucket_ms)) WITHOUT ROWID;
)sql"},
    {7, "time-series compaction in slices: what each series has compacted", R"sql(
CREATE TABLE series_compacted(
  series_id INTEGER PRIMARY KEY,
  upto_rowid INTEGER NOT NULL);
)sql"},
    {8, "time-series log: one row per write, its points packed", R"sql(
ALTER TABLE points_log ADD COLUMN packed BLOB;
)sql"},
};

core::Status ensureMigrationTable(Db& db) {
  return db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations("
      "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)");
}

core::Status applyOne(Db& db, const Migration& m) {
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto current = currentSchemaVersion(db);
  if (!current.ok()) {
    (void)db.exec("ROLLBACK");
    return current.error();
  }
  if (*current >= m.version) return db.exec("COMMIT");  // another process got there first
  if (auto s = db.exec(m.sql); !s.ok()) {
    (void)db.exec("ROLLBACK");
    return s;
  }
  auto ins =
      db.prepare("INSERT INTO schema_migrations(version, name, applied_at_ms) VALUES(?1, ?2, ?3)");
  if (!ins.ok()) {
    (void)db.exec("ROLLBACK");
    return ins.error();
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  if (auto s = (*ins)->bind(1, int64_t{m.version}).bind(2, m.name).bind(3, now).run(); !s.ok()) {
    (void)db.exec("ROLLBACK");
    return s;
  }
  if (auto s = db.exec("COMMIT"); !s.ok()) return s;
  core::logInfo("schema migrated", {{"version", m.version}, {"name", m.name}});
  return core::Status::success();
}

}  // namespace

int latestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

core::Result<int> currentSchemaVersion(Db& db) {
  auto stmt = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!stmt.ok()) return stmt.error();
  auto row = (*stmt)->step();
  int version = row.ok() && *row ? static_cast<int>((*stmt)->int64(0)) : 0;
  (*stmt)->reset();
  if (!row.ok()) return row.error();
  return version;
}

core::Status migrate(Db& db) {
  if (auto s = ensureMigrationTable(db); !s.ok()) return s;
  for (const Migration& m : kMigrations) {
    if (auto s = applyOne(db, m); !s.ok()) return s;
  }
  return core::Status::success();
}

}  // namespace ioc::storage::sqlite
