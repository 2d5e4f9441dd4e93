#pragma once
// The storage contract. Domain code sees only these interfaces; src/app/ picks the backend
// (SQLite today, PostgreSQL later) and nothing else names it.
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/audit_entry.h"
#include "model/device.h"
#include "model/entity_record.h"
#include "model/identity.h"

namespace ioc::storage {

using core::Result;
using core::Status;

//! How long time series are kept. Coarse rollups (1 h, 1 day) are kept for ever: they are small
//! and answer the long-range questions.
struct RetentionPolicy {
  int64_t raw_days = 0;                                  //!< 0 = keep raw points for ever
  std::map<std::string, int64_t> raw_days_by_attribute;  //!< expanded name → days (0 = for ever)
  int64_t minute_rollup_days = 0;                        //!< 0 = for ever
};

//! Write operations, valid only inside a write job. Every job runs in its own savepoint inside a
//! group-committed transaction: a failing job rolls back alone, the others still commit.
class WriteTx {
 public:
  virtual ~WriteTx() = default;
  virtual Result<int64_t> insertUser(const model::User& user) = 0;
  virtual Status updateUser(const model::User& user) = 0;
  virtual Status insertSession(const model::Session& session) = 0;
  virtual Status revokeSession(const std::string& token_hash) = 0;
  virtual Status revokeUserSessions(int64_t user_id) = 0;
  virtual Result<int64_t> insertApiKey(const model::ApiKey& key) = 0;
  virtual Status revokeApiKey(int64_t id) = 0;
  //! Appends to the hash chain: fills seq, prev_hash and hash; returns seq.
  virtual Result<int64_t> appendAudit(model::AuditEntry entry) = 0;
  virtual Status upsertEntity(const model::EntityRecord& entity) = 0;
  virtual Status deleteEntity(const std::string& id) = 0;
  //! Writes an entity version serialized only when needed: a store may keep only the last
  //! version of an id written within one group commit. An empty `record` deletes the entity.
  virtual Status stageEntity(const std::string& id, std::function<model::EntityRecord()> record) {
    return record ? upsertEntity(record()) : deleteEntity(id);
  }
  virtual Status upsertDevice(const model::Device& device) = 0;
  virtual Status deleteDevice(const std::string& apikey, const std::string& device_id) = 0;
  //! Appends time-series points (append-only; no read-modify-write).
  virtual Status appendPoints(const std::vector<model::Point>& points) = 0;
  //! Removes an entity's whole history (with the entity: a later entity with the same id, maybe
  //! of another unit, must not inherit it).
  virtual Status deleteSeries(const std::string& entity_id) = 0;
  virtual Status upsertContext(const model::HostedContext& context) = 0;
  virtual Status deleteContext(const std::string& id) = 0;
  //! Inserts or replaces the document (kind, id).
  virtual Status putDocument(const model::StoredDocument& document) = 0;
  virtual Status deleteDocument(const std::string& kind, const std::string& id) = 0;
  //! Drops raw points and fine rollups older than the policy allows (chunk granularity).
  virtual Status applyRetention(const RetentionPolicy& policy, int64_t now_ms) = 0;
};

struct PointQuery {
  std::string entity_id;
  std::string attribute;        //!< expanded; "" = every attribute
  int64_t from_ms = INT64_MIN;  //!< inclusive
  int64_t to_ms = INT64_MAX;    //!< exclusive
  size_t last_n = 0;            //!< 0 = all (oldest first); N = the newest N (still oldest first)
  size_t limit = 100000;
};

//! Aggregates of one series: per period-aligned bucket (UTC epoch), or one bucket for the whole
//! range when period_ms is 0.
struct AggregateQuery {
  std::string entity_id;
  std::string attribute;  //!< expanded
  int64_t from_ms = INT64_MIN;
  int64_t to_ms = INT64_MAX;
  int64_t period_ms = 0;
};

struct AggregateBucket {
  int64_t start_ms = 0;  //!< bucket start; for period 0, the first point's time
  int64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
};

struct UserFilter {
  std::vector<std::string> unit_codes;  //!< empty = any unit
  std::optional<model::Role> role;
  size_t limit = 100;
  size_t offset = 0;
};

struct AuditFilter {
  int64_t after_seq = 0;
  size_t limit = 100;
  //! Newest first, below before_seq (0 = from the newest): how consoles page backwards.
  bool newest_first = false;
  int64_t before_seq = 0;
};

//! Callback for verify-style scans; return false to stop.
using AuditVisitor = std::function<bool(const model::AuditEntry&)>;

//! A store: reads may run on any thread concurrently; writes go through one writer that
//! group-commits them. Lifecycle: open() → migrations → use → flush()/close on destruction.
class Store {
 public:
  using WriteJob = std::function<Status(WriteTx&)>;
  //! Called once the job's transaction is durable (or failed); runs on the writer thread, so it
  //! must only hand the result on (post to an executor, fulfil a promise).
  using WriteDone = std::function<void(Status)>;

  //! How soon a write must be committed.
  enum class Urgency {
    kAwaited,  //!< someone waits for it (a response): committed as soon as the writer is free
    //! Nobody waits (MQTT readings, which libmosquitto acknowledges before we see them): may wait
    //! for company up to the store's background commit interval, so that several readings of an
    //! entity share one write of its row.
    kBackground,
  };

  virtual ~Store() = default;

  virtual void submitWrite(WriteJob job, WriteDone done, Urgency urgency) = 0;
  void submitWrite(WriteJob job, WriteDone done) {
    submitWrite(std::move(job), std::move(done), Urgency::kAwaited);
  }
  //! Blocks until the job is durable. For the CLI and tests, not for I/O threads.
  Status writeSync(WriteJob job);
  //! Waits until every write submitted so far is committed.
  virtual void flush() = 0;

  virtual Result<std::optional<model::User>> findUserByName(const std::string& username) = 0;
  virtual Result<std::optional<model::User>> findUserById(int64_t id) = 0;
  virtual Result<std::vector<model::User>> listUsers(const UserFilter& filter) = 0;
  virtual Result<std::optional<model::Session>> findSession(const std::string& token_hash) = 0;
  virtual Result<std::optional<model::ApiKey>> findApiKeyByHash(const std::string& key_hash) = 0;
  virtual Result<std::vector<model::ApiKey>> listApiKeys() = 0;
  virtual Result<std::vector<model::AuditEntry>> listAudit(const AuditFilter& filter) = 0;
  virtual Status scanAudit(const AuditVisitor& visit) = 0;
  //! Every stored entity, in no particular order (start-up loading); return false to stop.
  virtual Status scanEntities(const std::function<bool(model::EntityRecord&&)>& visit) = 0;
  virtual Result<std::vector<model::Device>> listDevices() = 0;
  virtual Result<std::vector<model::HostedContext>> listContexts() = 0;
  //! Every document of one kind, ordered by id.
  virtual Result<std::vector<model::StoredDocument>> listDocuments(const std::string& kind) = 0;
  virtual Result<std::vector<model::Point>> queryPoints(const PointQuery& query) = 0;
  //! Answers from rollups where the period allows, from raw points at the edges: months of
  //! minute data aggregate in milliseconds. Buckets in time order, empty ones left out.
  virtual Result<std::vector<AggregateBucket>> aggregatePoints(const AggregateQuery& query) = 0;

  //! Readiness: the store answers a trivial query and its schema is current.
  virtual Status ping() = 0;
  virtual int schemaVersion() = 0;
  virtual size_t writeQueueDepth() const = 0;
};

}  // namespace ioc::storage
