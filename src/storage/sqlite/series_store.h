#pragma once
// Time series in SQLite, laid out for appends. A durable write appends its points to
// `points_log`, a rowid table without secondary indexes (SQLite appends ~1M such rows/s), and to
// an in-memory tail of the same points. Every few seconds (or when the tail grows large) the
// writer compacts the tail in one transaction: each series' points go into compressed chunks
// (series_chunk.h) and into the 1 min / 1 h / 1 day rollups, and the log is emptied. Readers
// combine chunks, rollups and the tail, so answers are exact and include every acknowledged point.
//
// Threads: the writer thread calls the mutating functions; readers call query()/aggregate() with
// their own connection. A shared mutex makes "chunks + tail" one consistent view: compaction holds
// it exclusively only across its COMMIT and the tail reset.
#include <chrono>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/device.h"
#include "storage/series_chunk.h"
#include "storage/sqlite/db.h"
#include "storage/store.h"

namespace ioc::storage::sqlite {

struct SeriesOptions {
  size_t chunk_points = 512;       //!< points per chunk before a new one starts
  size_t compact_points = 100000;  //!< tail size that triggers a compaction
  std::chrono::milliseconds compact_interval{10000};
};

//! What a write job did to the tail; applied to memory only once its transaction commits.
struct StagedSeries {
  struct Append {
    int64_t series_id;
    TimedValue point;
  };
  std::vector<Append> appends;
  std::vector<int64_t> removed;  //!< series deleted with their whole history
  void clear() {
    appends.clear();
    removed.clear();
  }
  void takeFrom(StagedSeries& other);
};

class SeriesStore {
 public:
  explicit SeriesStore(SeriesOptions options = {});

  // Writer thread.
  Status loadTail(Db& db);
  Status append(Db& db, const std::vector<model::Point>& points, StagedSeries& staged);
  Status removeEntity(Db& db, const std::string& entity_id, StagedSeries& staged);
  Status applyRetention(Db& db, const RetentionPolicy& policy, int64_t now_ms);
  void committed(const StagedSeries& staged);
  void rolledBack();  //!< series ids created by the failed transaction may be cached
  bool compactionDue() const;
  //! Runs its own transaction on the writer connection.
  Status compact(Db& db);

  // Any thread.
  Result<std::vector<model::Point>> query(Db& reader, const PointQuery& q) const;
  Result<std::vector<AggregateBucket>> aggregate(Db& reader, const AggregateQuery& q) const;
  size_t tailPoints() const;

 private:
  struct SeriesRef {
    int64_t id;
    std::string attribute;
  };
  Result<int64_t> seriesId(Db& db, const std::string& entity, const std::string& attr);
  Result<std::vector<SeriesRef>> seriesOf(Db& reader, const std::string& entity,
                                          const std::string& attr) const;
  //! Chunk and tail points of one series in [from, to); with last_n, at least its newest last_n.
  Status collect(Db& reader, int64_t series_id, int64_t from, int64_t to, size_t last_n,
                 std::vector<TimedValue>& out) const;
  Status compactSeries(Db& db, int64_t series_id, std::vector<TimedValue>& points);
  Status writeChunks(Db& db, int64_t series_id, std::vector<TimedValue>& points);
  Status writeRollups(Db& db, int64_t series_id, const std::vector<TimedValue>& points);

  SeriesOptions options_;
  std::unordered_map<std::string, int64_t> ids_;  //!< writer thread only
  mutable std::shared_mutex mu_;
  std::unordered_map<int64_t, std::vector<TimedValue>> tail_;
  size_t tail_points_ = 0;
  std::chrono::steady_clock::time_point last_compaction_;
};

}  // namespace ioc::storage::sqlite
