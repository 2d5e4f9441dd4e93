#include "storage/sqlite/sqlite_store.h"

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/thread_name.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/series_store.h"

namespace ioc::storage::sqlite {

namespace {

using model::ApiKey;
using model::AuditEntry;
using model::Session;
using model::User;

constexpr const char* kUserColumns =
    "id, username, role, unit_code, password_hash, disabled, created_at_ms, updated_at_ms";

User userFromRow(const Stmt& s) {
  User u;
  u.id = s.int64(0);
  u.username = s.text(1);
  u.role = model::parseRole(s.text(2)).value_or(model::Role::kCitizen);
  u.unit_code = s.text(3);
  u.password_hash = s.text(4);
  u.disabled = s.int64(5) != 0;
  u.created_at_ms = s.int64(6);
  u.updated_at_ms = s.int64(7);
  return u;
}

ApiKey keyFromRow(const Stmt& s) {
  ApiKey k;
  k.id = s.int64(0);
  k.name = s.text(1);
  k.scope = model::parseScope(s.text(2)).value_or(model::KeyScope::kRead);
  k.unit_code = s.text(3);
  k.key_hash = s.text(4);
  k.prefix = s.text(5);
  k.revoked = s.int64(6) != 0;
  k.created_at_ms = s.int64(7);
  return k;
}

AuditEntry auditFromRow(const Stmt& s) {
  AuditEntry e;
  e.seq = s.int64(0);
  e.at_ms = s.int64(1);
  e.actor = s.text(2);
  e.role = s.text(3);
  e.unit = s.text(4);
  e.action = s.text(5);
  e.target = s.text(6);
  e.client = s.text(7);
  e.request_id = s.text(8);
  e.detail = s.text(9);
  e.prev_hash = s.text(10);
  e.hash = s.text(11);
  return e;
}

//! Runs a prepared query and collects every row through `map`.
template <typename T, typename Bind, typename Map>
Result<std::vector<T>> queryAll(Db& db, const char* sql, Bind bind, Map map) {
  std::vector<T> out;
  auto s = forEachRow(db, sql, bind, [&](const Stmt& row) {
    out.push_back(map(row));
    return true;
  });
  if (!s.ok()) return s.error();
  return out;
}

template <typename T, typename Bind, typename Map>
Result<std::optional<T>> queryOne(Db& db, const char* sql, Bind bind, Map map) {
  auto all = queryAll<T>(db, sql, bind, map);
  if (!all.ok()) return all.error();
  if (all->empty()) return std::optional<T>{};
  return std::optional<T>(std::move(all->front()));
}

//! WriteTx over the writer connection; lives for one batch.
//! Entity versions written by the jobs of one group commit, newest per id; empty = deleted.
using StagedEntities = std::unordered_map<std::string, std::function<model::EntityRecord()>>;

class SqliteWriteTx final : public WriteTx {
 public:
  //! Time-series changes are staged in `staged` and reach the series tail only on commit; entity
  //! versions are staged in `entities` and written once per id just before the commit.
  SqliteWriteTx(Db& db, SeriesStore& series, StagedSeries& staged, StagedEntities& entities)
      : db_(db), series_(series), staged_(staged), entities_(entities) {}

  Result<int64_t> insertUser(const User& u) override {
    auto st = db_.prepare(
        "INSERT INTO users(username, role, unit_code, password_hash, disabled, created_at_ms, "
        "updated_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.ok()) return st.error();
    auto s = (*st)
                 ->bind(1, u.username)
                 .bind(2, model::roleName(u.role))
                 .bind(3, u.unit_code)
                 .bind(4, u.password_hash)
                 .bind(5, int64_t{u.disabled})
                 .bind(6, u.created_at_ms)
                 .bind(7, u.updated_at_ms)
                 .run();
    if (!s.ok()) return s.error();
    return db_.lastInsertId();
  }

  Status updateUser(const User& u) override {
    auto st = db_.prepare(
        "UPDATE users SET role=?2, unit_code=?3, password_hash=?4, disabled=?5, updated_at_ms=?6 "
        "WHERE id=?1");
    if (!st.ok()) return st.error();
    auto s = (*st)
                 ->bind(1, u.id)
                 .bind(2, model::roleName(u.role))
                 .bind(3, u.unit_code)
                 .bind(4, u.password_hash)
                 .bind(5, int64_t{u.disabled})
                 .bind(6, u.updated_at_ms)
                 .run();
    if (!s.ok()) return s;
    if (db_.changes() == 0) return core::makeError(core::Errc::kNotFound, "no such user");
    return Status::success();
  }

  Status insertSession(const Session& se) override {
    auto st = db_.prepare(
        "INSERT INTO sessions(token_hash, user_id, created_at_ms, expires_at_ms, revoked, client) "
        "VALUES(?1, ?2, ?3, ?4, 0, ?5)");
    if (!st.ok()) return st.error();
    return (*st)
        ->bind(1, se.token_hash)
        .bind(2, se.user_id)
        .bind(3, se.created_at_ms)
        .bind(4, se.expires_at_ms)
        .bind(5, se.client)
        .run();
  }

  Status revokeSession(const std::string& token_hash) override {
    auto st = db_.prepare("UPDATE sessions SET revoked=1 WHERE token_hash=?1");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, token_hash).run();
  }

  Status revokeUserSessions(int64_t user_id) override {
    auto st = db_.prepare("UPDATE sessions SET revoked=1 WHERE user_id=?1 AND revoked=0");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, user_id).run();
  }

  Result<int64_t> insertApiKey(const ApiKey& k) override {
    auto st = db_.prepare(
        "INSERT INTO api_keys(name, scope, unit_code, key_hash, prefix, revoked, created_at_ms) "
        "VALUES(?1, ?2, ?3, ?4, ?5, 0, ?6)");
    if (!st.ok()) return st.error();
    auto s = (*st)
                 ->bind(1, k.name)
                 .bind(2, model::scopeName(k.scope))
                 .bind(3, k.unit_code)
                 .bind(4, k.key_hash)
                 .bind(5, k.prefix)
                 .bind(6, k.created_at_ms)
                 .run();
    if (!s.ok()) return s.error();
    return db_.lastInsertId();
  }

  Status revokeApiKey(int64_t id) override {
    auto st = db_.prepare("UPDATE api_keys SET revoked=1 WHERE id=?1");
    if (!st.ok()) return st.error();
    if (auto s = (*st)->bind(1, id).run(); !s.ok()) return s;
    if (db_.changes() == 0) return core::makeError(core::Errc::kNotFound, "no such key");
    return Status::success();
  }

  Result<int64_t> appendAudit(AuditEntry e) override {
    // The batch holds the write lock (BEGIN IMMEDIATE), so the tail read here is the real tail
    // even when another process (the CLI) appends to the same file; later entries of the same
    // transaction chain on from the one before (no read per entry).
    if (!audit_tail_) {
      auto tail = queryOne<std::pair<int64_t, std::string>>(
          db_, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [](Stmt&) {},
          [](const Stmt& s) { return std::make_pair(s.int64(0), s.text(1)); });
      if (!tail.ok()) return tail.error();
      audit_tail_ = tail->value_or(std::make_pair(int64_t{0}, model::kAuditGenesisHash));
    }
    e.seq = audit_tail_->first + 1;
    e.prev_hash = audit_tail_->second;
    e.hash = model::computeAuditHash(e);
    auto st = db_.prepare(
        "INSERT INTO audit_log(seq, at_ms, actor, role, unit, action, target, client, request_id, "
        "detail, prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st.ok()) return st.error();
    auto s = (*st)
                 ->bind(1, e.seq)
                 .bind(2, e.at_ms)
                 .bind(3, e.actor)
                 .bind(4, e.role)
                 .bind(5, e.unit)
                 .bind(6, e.action)
                 .bind(7, e.target)
                 .bind(8, e.client)
                 .bind(9, e.request_id)
                 .bind(10, e.detail)
                 .bind(11, e.prev_hash)
                 .bind(12, e.hash)
                 .run();
    if (!s.ok()) {
      audit_tail_.reset();
      return s.error();
    }
    audit_tail_ = std::make_pair(e.seq, e.hash);
    return e.seq;
  }

  //! After a job's savepoint is rolled back: what it appended is gone.
  void forgetAuditTail() { audit_tail_.reset(); }

  Status upsertEntity(const model::EntityRecord& r) override {
    return stageEntity(r.id, [r] { return r; });
  }

  Status deleteEntity(const std::string& id) override { return stageEntity(id, {}); }

  Status stageEntity(const std::string& id, std::function<model::EntityRecord()> record) override {
    entities_[id] = std::move(record);
    return Status::success();
  }

  //! Writes the newest staged version of each entity: an entity updated by many jobs of one
  //! group commit is serialized and written once.
  Status flushEntities(StagedEntities& staged) {
    for (auto& [id, record] : staged) {
      Status s = record ? writeEntity(record()) : eraseEntity(id);
      if (!s.ok()) return s;
    }
    staged.clear();
    return Status::success();
  }

 private:
  Status writeEntity(const model::EntityRecord& r) {
    auto st = db_.prepare(
        "INSERT INTO entities(id, type, unit_code, doc, created_at_ms, modified_at_ms) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET type=excluded.type, "
        "doc=excluded.doc, modified_at_ms=excluded.modified_at_ms");
    if (!st.ok()) return st.error();
    return (*st)
        ->bind(1, r.id)
        .bind(2, r.type)
        .bind(3, r.unit_code)
        .bind(4, r.doc)
        .bind(5, r.created_at_ms)
        .bind(6, r.modified_at_ms)
        .run();
  }

  Status eraseEntity(const std::string& id) {
    auto st = db_.prepare("DELETE FROM entities WHERE id=?1");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, id).run();
  }

 public:
  Status upsertDevice(const model::Device& d) override {
    auto st = db_.prepare(
        "INSERT INTO devices(apikey, device_id, entity_id, entity_type, unit_code, mapping, "
        "created_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(apikey, device_id) DO "
        "UPDATE SET entity_id=excluded.entity_id, entity_type=excluded.entity_type, "
        "mapping=excluded.mapping");
    if (!st.ok()) return st.error();
    return (*st)
        ->bind(1, d.apikey)
        .bind(2, d.device_id)
        .bind(3, d.entity_id)
        .bind(4, d.entity_type)
        .bind(5, d.unit_code)
        .bind(6, d.mapping)
        .bind(7, d.created_at_ms)
        .run();
  }

  Status deleteDevice(const std::string& apikey, const std::string& device_id) override {
    auto st = db_.prepare("DELETE FROM devices WHERE apikey=?1 AND device_id=?2");
    if (!st.ok()) return st.error();
    if (auto s = (*st)->bind(1, apikey).bind(2, device_id).run(); !s.ok()) return s;
    if (db_.changes() == 0) return core::makeError(core::Errc::kNotFound, "no such device");
    return Status::success();
  }

  Status appendPoints(const std::vector<model::Point>& points) override {
    return series_.append(db_, points, staged_);
  }

  Status deleteSeries(const std::string& entity_id) override {
    return series_.removeEntity(db_, entity_id, staged_);
  }

  Status applyRetention(const RetentionPolicy& policy, int64_t now_ms) override {
    return series_.applyRetention(db_, policy, now_ms);
  }

  Status upsertContext(const model::HostedContext& c) override {
    auto st = db_.prepare(
        "INSERT OR REPLACE INTO jsonld_contexts(id, url, document, created_at_ms) "
        "VALUES(?1, ?2, ?3, ?4)");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, c.id).bind(2, c.url).bind(3, c.document).bind(4, c.created_at_ms).run();
  }

  Status deleteContext(const std::string& id) override {
    auto st = db_.prepare("DELETE FROM jsonld_contexts WHERE id=?1");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, id).run();
  }

  Status putDocument(const model::StoredDocument& d) override {
    auto st = db_.prepare(
        "INSERT OR REPLACE INTO documents(kind, id, doc, updated_at_ms) VALUES(?1, ?2, ?3, ?4)");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, d.kind).bind(2, d.id).bind(3, d.doc).bind(4, d.updated_at_ms).run();
  }

  Status deleteDocument(const std::string& kind, const std::string& id) override {
    auto st = db_.prepare("DELETE FROM documents WHERE kind=?1 AND id=?2");
    if (!st.ok()) return st.error();
    return (*st)->bind(1, kind).bind(2, id).run();
  }

 private:
  Db& db_;
  SeriesStore& series_;
  StagedSeries& staged_;
  StagedEntities& entities_;
  std::optional<std::pair<int64_t, std::string>> audit_tail_;  //!< (seq, hash) of the last entry
};

}  // namespace

//! A borrowed read connection, returned to the pool on destruction.
class SqliteStore::ReadLease {
 public:
  ReadLease(SqliteStore* store, std::unique_ptr<Db> db) : store_(store), db_(std::move(db)) {}
  ReadLease(ReadLease&&) = default;
  ~ReadLease() {
    if (db_) store_->giveBack(std::move(db_));
  }
  Db& operator*() { return *db_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<Db> db_;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(SqliteOptions options) {
  auto db = Db::open(options.path, options.busy_timeout_ms);
  if (!db.ok()) return db.error();
  if (auto s = migrate(**db); !s.ok()) return s.error();
  // Checkpoint every 32 MB of WAL instead of SQLite's 4 MB: a checkpoint copies each page once,
  // and under telemetry the same entity pages are rewritten by every commit (checkpointing fell
  // from 3.6 % to 1.2 % of the server's CPU samples; the WAL file grows to ~32 MB).
  if (auto s = (*db)->exec("PRAGMA wal_autocheckpoint=8192"); !s.ok()) return s.error();
  // A 16 MB page cache (SQLite's default is 2 MB) for the one writer: it rewrites the same
  // entity pages every commit and was reading them back from the file (pread 5.6 % of the CPU
  // samples).
  if (auto s = (*db)->exec("PRAGMA cache_size=-16384"); !s.ok()) return s.error();
  auto series = std::make_unique<SeriesStore>(options.series);
  if (auto s = series->loadTail(**db); !s.ok()) return s.error();
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(options), std::move(*db), std::move(series)));
}

SqliteStore::SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer,
                         std::unique_ptr<SeriesStore> series)
    : options_(std::move(options)), writer_db_(std::move(writer)), series_(std::move(series)) {
  writer_ = std::thread([this] {
    core::nameThisThread("ioc-writer");
    writerLoop();
  });
  disposer_ = std::thread([this] {
    core::nameThisThread("ioc-disposer");
    disposerLoop();
  });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_.join();  // the loop drains the queue before it exits: nothing submitted is dropped
  {
    std::lock_guard lock(spent_mu_);
    spent_stop_ = true;
  }
  spent_cv_.notify_one();
  disposer_.join();
  if (auto s = series_->compactAll(*writer_db_); !s.ok()) {  // no log to replay after a clean stop
    core::logWarn("time-series compaction failed at shutdown; the log is replayed at start",
                  {{"error", s.error().message}});
  }
  (void)writer_db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

void SqliteStore::submitWrite(WriteJob job, WriteDone done, Urgency urgency) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(Pending{std::move(job), std::move(done), urgency, now});
    if (urgency == Urgency::kAwaited) ++awaited_queued_;
  }
  queue_cv_.notify_one();
}

void SqliteStore::flush() {
  (void)writeSync([](WriteTx&) { return Status::success(); });
}

size_t SqliteStore::writeQueueDepth() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void SqliteStore::compactSeries() {
  const size_t points = series_->tailPoints();
  const auto start = std::chrono::steady_clock::now();
  Status s = series_->compact(*writer_db_);
  if (options_.on_compaction) {
    options_.on_compaction(
        points, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (!s.ok()) {
    core::logWarn("time-series compaction failed; the points stay in the log",
                  {{"error", s.error().message}});
  }
}

void SqliteStore::writerLoop() {
  std::unique_lock lock(queue_mu_);
  while (true) {
    // Compaction runs between batches, so a flush() after a write also waits for it.
    if (series_->compactionDue()) {
      lock.unlock();
      compactSeries();
      lock.lock();
    }
    queue_cv_.wait_for(lock, options_.series.compact_interval,
                       [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;  // drained
      continue;
    }
    lingerForCompany(lock);
    std::deque<Pending> batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      if (queue_.front().urgency == Urgency::kAwaited) --awaited_queued_;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    commitBatch(batch);
    dispose(std::move(batch));
    lock.lock();
  }
}

void SqliteStore::lingerForCompany(std::unique_lock<std::mutex>& lock) {
  // Every commit rewrites the rows of the entities it touches: a device reporting every 20 ms
  // costs one row write per commit, so fewer commits write fewer rows for the same readings.
  const auto ready = [this] {
    return stopping_ || awaited_queued_ > 0 || queue_.size() >= options_.max_batch;
  };
  if (options_.background_commit_interval.count() <= 0 || ready()) return;
  queue_cv_.wait_until(lock, queue_.front().queued_at + options_.background_commit_interval, ready);
}

void SqliteStore::dispose(std::deque<Pending> batch) {
  constexpr size_t kMaxSpent = 64;  // beyond that the writer frees its own: memory stays bounded
  std::unique_lock lock(spent_mu_);
  if (spent_.size() >= kMaxSpent) {
    lock.unlock();
    return;  // `batch` is destroyed here
  }
  spent_.push_back(std::move(batch));
  lock.unlock();
  spent_cv_.notify_one();
}

void SqliteStore::disposerLoop() {
  std::unique_lock lock(spent_mu_);
  while (true) {
    spent_cv_.wait(lock, [this] { return spent_stop_ || !spent_.empty(); });
    if (spent_.empty()) return;  // stopping, and nothing left
    std::vector<std::deque<Pending>> done;
    done.swap(spent_);
    lock.unlock();
    done.clear();
    lock.lock();
  }
}

void SqliteStore::commitBatch(std::deque<Pending>& batch) {
  auto start = std::chrono::steady_clock::now();
  std::vector<Status> results(batch.size());
  StagedSeries batch_series;  // what committed jobs added to or removed from time series
  StagedEntities batch_entities;
  Status begun = writer_db_->run("BEGIN IMMEDIATE");
  if (begun.ok()) {
    StagedSeries job_series;
    StagedEntities job_entities;
    SqliteWriteTx tx(*writer_db_, *series_, job_series, job_entities);
    for (size_t i = 0; i < batch.size(); ++i) {
      // A savepoint per job: one bad job rolls back alone and the rest of the batch commits.
      if (auto s = writer_db_->run("SAVEPOINT job"); !s.ok()) {
        results[i] = s;
        continue;
      }
      results[i] = batch[i].job(tx);
      if (sqlite3_get_autocommit(writer_db_->raw())) {
        // SQLite rolled the whole transaction back by itself (I/O error, disk full): nothing in
        // this batch was stored, so nothing may be reported as durable.
        begun = core::makeError(core::Errc::kUnavailable, "store write failed");
        break;
      }
      if (!results[i].ok()) {
        (void)writer_db_->run("ROLLBACK TO job");
        tx.forgetAuditTail();
        job_series.clear();
        job_entities.clear();
      } else {
        batch_series.takeFrom(job_series);
        for (auto& [id, record] : job_entities) batch_entities[id] = std::move(record);
        job_entities.clear();
      }
      (void)writer_db_->run("RELEASE job");
    }
    if (begun.ok()) begun = tx.flushEntities(batch_entities);
    bool durable = false;
    if (!begun.ok()) {
      (void)writer_db_->exec("ROLLBACK");
      for (auto& r : results) r = begun;
    } else if (Status committed = writer_db_->run("COMMIT"); !committed.ok()) {
      (void)writer_db_->exec("ROLLBACK");
      for (auto& r : results) r = committed;
    } else {
      durable = true;
    }
    bool any_failed = !durable;
    for (const auto& r : results) any_failed = any_failed || !r.ok();
    if (any_failed) series_->rolledBack();  // ids of rolled-back series rows may be cached
    if (durable) series_->committed(batch_series);
  } else {
    for (auto& r : results) r = begun;
  }
  if (options_.on_commit) {
    options_.on_commit(
        batch.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].done) batch[i].done(results[i]);
  }
}

Result<SqliteStore::ReadLease> SqliteStore::borrowReader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReadLease(this, std::move(db));
    }
  }
  auto db = Db::open(options_.path, options_.busy_timeout_ms);
  if (!db.ok()) return db.error();
  return ReadLease(this, std::move(*db));
}

void SqliteStore::giveBack(std::unique_ptr<Db> db) {
  std::lock_guard lock(readers_mu_);
  idle_readers_.push_back(std::move(db));
}

Result<std::optional<User>> SqliteStore::findUserByName(const std::string& username) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  static const std::string sql =
      std::string("SELECT ") + kUserColumns + " FROM users WHERE username=?1";
  return queryOne<User>(
      **lease, sql.c_str(), [&](Stmt& s) { s.bind(1, username); }, userFromRow);
}

Result<std::optional<User>> SqliteStore::findUserById(int64_t id) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  static const std::string sql = std::string("SELECT ") + kUserColumns + " FROM users WHERE id=?1";
  return queryOne<User>(
      **lease, sql.c_str(), [&](Stmt& s) { s.bind(1, id); }, userFromRow);
}

Result<std::vector<User>> SqliteStore::listUsers(const UserFilter& f) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  // Unit filtering is done here rather than in SQL so the statement stays constant; the list of
  // users is small (staff accounts), and paging applies after the filter.
  static const std::string sql = std::string("SELECT ") + kUserColumns + " FROM users ORDER BY id";
  auto all = queryAll<User>(
      **lease, sql.c_str(), [](Stmt&) {}, userFromRow);
  if (!all.ok()) return all.error();
  std::vector<User> out;
  size_t skipped = 0;
  for (auto& u : *all) {
    if (f.role && u.role != *f.role) continue;
    if (!f.unit_codes.empty() &&
        std::find(f.unit_codes.begin(), f.unit_codes.end(), u.unit_code) == f.unit_codes.end()) {
      continue;
    }
    if (skipped++ < f.offset) continue;
    if (out.size() >= f.limit) break;
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::optional<Session>> SqliteStore::findSession(const std::string& token_hash) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryOne<Session>(
      **lease,
      "SELECT token_hash, user_id, created_at_ms, expires_at_ms, revoked, client FROM sessions "
      "WHERE token_hash=?1",
      [&](Stmt& s) { s.bind(1, token_hash); },
      [](const Stmt& s) {
        Session se;
        se.token_hash = s.text(0);
        se.user_id = s.int64(1);
        se.created_at_ms = s.int64(2);
        se.expires_at_ms = s.int64(3);
        se.revoked = s.int64(4) != 0;
        se.client = s.text(5);
        return se;
      });
}

Result<std::optional<ApiKey>> SqliteStore::findApiKeyByHash(const std::string& key_hash) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryOne<ApiKey>(
      **lease,
      "SELECT id, name, scope, unit_code, key_hash, prefix, revoked, created_at_ms FROM api_keys "
      "WHERE key_hash=?1",
      [&](Stmt& s) { s.bind(1, key_hash); }, keyFromRow);
}

Result<std::vector<ApiKey>> SqliteStore::listApiKeys() {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryAll<ApiKey>(
      **lease,
      "SELECT id, name, scope, unit_code, key_hash, prefix, revoked, created_at_ms FROM api_keys "
      "ORDER BY id",
      [](Stmt&) {}, keyFromRow);
}

Result<std::vector<AuditEntry>> SqliteStore::listAudit(const AuditFilter& f) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  if (f.newest_first) {
    return queryAll<AuditEntry>(
        **lease,
        "SELECT seq, at_ms, actor, role, unit, action, target, client, request_id, detail, "
        "prev_hash, hash FROM audit_log WHERE seq > ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        [&](Stmt& s) {
          s.bind(1, f.after_seq)
              .bind(2, f.before_seq > 0 ? f.before_seq : INT64_MAX)
              .bind(3, static_cast<int64_t>(f.limit));
        },
        auditFromRow);
  }
  return queryAll<AuditEntry>(
      **lease,
      "SELECT seq, at_ms, actor, role, unit, action, target, client, request_id, detail, "
      "prev_hash, hash FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
      [&](Stmt& s) { s.bind(1, f.after_seq).bind(2, static_cast<int64_t>(f.limit)); },
      auditFromRow);
}

Status SqliteStore::scanAudit(const AuditVisitor& visit) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return forEachRow(
      **lease,
      "SELECT seq, at_ms, actor, role, unit, action, target, client, request_id, detail, "
      "prev_hash, hash FROM audit_log ORDER BY seq",
      [](Stmt&) {}, [&](const Stmt& row) { return visit(auditFromRow(row)); });
}

Status SqliteStore::scanEntities(const std::function<bool(model::EntityRecord&&)>& visit) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return forEachRow(
      **lease, "SELECT id, type, unit_code, doc, created_at_ms, modified_at_ms FROM entities",
      [](Stmt&) {},
      [&](const Stmt& row) {
        return visit(model::EntityRecord{row.text(0), row.text(1), row.text(2), row.text(3),
                                         row.int64(4), row.int64(5)});
      });
}

Result<std::vector<model::Device>> SqliteStore::listDevices() {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryAll<model::Device>(
      **lease,
      "SELECT device_id, apikey, entity_id, entity_type, unit_code, mapping, created_at_ms "
      "FROM devices ORDER BY apikey, device_id",
      [](Stmt&) {},
      [](const Stmt& s) {
        return model::Device{s.text(0), s.text(1), s.text(2), s.text(3),
                             s.text(4), s.text(5), s.int64(6)};
      });
}

Result<std::vector<model::StoredDocument>> SqliteStore::listDocuments(const std::string& kind) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryAll<model::StoredDocument>(
      **lease, "SELECT kind, id, doc, updated_at_ms FROM documents WHERE kind=?1 ORDER BY id",
      [&](Stmt& st) { st.bind(1, kind); },
      [](const Stmt& s) {
        return model::StoredDocument{s.text(0), s.text(1), s.text(2), s.int64(3)};
      });
}

Result<std::vector<model::HostedContext>> SqliteStore::listContexts() {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return queryAll<model::HostedContext>(
      **lease,
      "SELECT id, url, document, created_at_ms FROM jsonld_contexts ORDER BY created_at_ms",
      [](Stmt&) {},
      [](const Stmt& s) {
        return model::HostedContext{s.text(0), s.text(1), s.text(2), s.int64(3)};
      });
}

Result<std::vector<model::Point>> SqliteStore::queryPoints(const PointQuery& q) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return series_->query(**lease, q);
}

Result<std::vector<AggregateBucket>> SqliteStore::aggregatePoints(const AggregateQuery& q) {
  auto lease = borrowReader();
  if (!lease.ok()) return lease.error();
  return series_->aggregate(**lease, q);
}

Status SqliteStore::ping() {
  auto version = schemaVersion();
  if (version < latestSchemaVersion()) {
    return core::makeError(core::Errc::kUnavailable, "schema not migrated");
  }
  return Status::success();
}

int SqliteStore::schemaVersion() {
  auto lease = borrowReader();
  if (!lease.ok()) return -1;
  auto v = currentSchemaVersion(**lease);
  return v.ok() ? *v : -1;
}

}  // namespace ioc::storage::sqlite
