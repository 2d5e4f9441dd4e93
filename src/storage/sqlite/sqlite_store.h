#pragma once
// SQLite backend of the Store contract.
// Threads: one writer thread owns the write connection and group-commits queued jobs; reads
// borrow a connection from a small pool and may run on any thread.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "storage/sqlite/db.h"
#include "storage/sqlite/series_store.h"
#include "storage/store.h"

namespace ioc::storage::sqlite {

struct SqliteOptions {
  std::string path;  //!< database file
  int busy_timeout_ms = 5000;
  size_t max_batch = 512;  //!< jobs per group commit
  //! Longest a kBackground write waits for the next group commit (when no awaited write or full
  //! batch brings it forward); also the most of them a crash can lose. 0 = commit at once.
  std::chrono::milliseconds background_commit_interval{0};
  //! Observes each commit: batch size and seconds spent (for metrics). Runs on the writer thread.
  std::function<void(size_t, double)> on_commit;
  //! Observes each time-series compaction: tail points compacted and seconds spent (the writer
  //! is busy meanwhile, so this is also how long writes waited). Runs on the writer thread.
  std::function<void(size_t, double)> on_compaction;
  SeriesOptions series;
};

class SqliteStore final : public Store {
 public:
  //! Opens (creating if needed) and migrates the database, then starts the writer thread.
  static Result<std::unique_ptr<SqliteStore>> open(SqliteOptions options);
  ~SqliteStore() override;

  using Store::submitWrite;
  void submitWrite(WriteJob job, WriteDone done, Urgency urgency) override;
  void flush() override;

  Result<std::optional<model::User>> findUserByName(const std::string& username) override;
  Result<std::optional<model::User>> findUserById(int64_t id) override;
  Result<std::vector<model::User>> listUsers(const UserFilter& filter) override;
  Result<std::optional<model::Session>> findSession(const std::string& token_hash) override;
  Result<std::optional<model::ApiKey>> findApiKeyByHash(const std::string& key_hash) override;
  Result<std::vector<model::ApiKey>> listApiKeys() override;
  Result<std::vector<model::AuditEntry>> listAudit(const AuditFilter& filter) override;
  Status scanAudit(const AuditVisitor& visit) override;
  Status scanEntities(const std::function<bool(model::EntityRecord&&)>& visit) override;
  Result<std::vector<model::Device>> listDevices() override;
  Result<std::vector<model::HostedContext>> listContexts() override;
  Result<std::vector<model::StoredDocument>> listDocuments(const std::string& kind) override;
  Result<std::vector<model::Point>> queryPoints(const PointQuery& query) override;
  Result<std::vector<AggregateBucket>> aggregatePoints(const AggregateQuery& query) override;
  Status ping() override;
  int schemaVersion() override;
  size_t writeQueueDepth() const override;

 private:
  struct Pending {
    WriteJob job;
    WriteDone done;
    Urgency urgency = Urgency::kAwaited;
    std::chrono::steady_clock::time_point queued_at;
  };
  class ReadLease;

  SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer,
              std::unique_ptr<SeriesStore> series);
  void compactSeries();
  void writerLoop();
  //! With only background jobs queued, waits (lock held) until the oldest is due, an awaited job
  //! arrives, the batch is full or the store stops.
  void lingerForCompany(std::unique_lock<std::mutex>& lock);
  void commitBatch(std::deque<Pending>& batch);
  void dispose(std::deque<Pending> batch);
  void disposerLoop();
  Result<ReadLease> borrowReader();
  void giveBack(std::unique_ptr<Db> db);

  SqliteOptions options_;
  std::unique_ptr<Db> writer_db_;
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  size_t awaited_queued_ = 0;  //!< kAwaited jobs in queue_
  bool stopping_ = false;
  std::thread writer_;
  // Finished jobs are destroyed on their own thread: releasing what they hold (replaced entity
  // versions, JSON trees) was a fifth of the writer's time, and the writer is the one serial
  // stage of every write.
  std::mutex spent_mu_;
  std::condition_variable spent_cv_;
  std::vector<std::deque<Pending>> spent_;
  bool spent_stop_ = false;
  std::thread disposer_;

  std::unique_ptr<SeriesStore> series_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Db>> idle_readers_;
};

}  // namespace ioc::storage::sqlite
