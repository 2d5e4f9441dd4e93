#pragma once
// Time series in SQLite, laid out for appends. A durable write appends its points to
// `points_log`, a rowid table without secondary indexes (SQLite appends ~1M such rows/s), and to
// an in-memory tail of the same points. Every few seconds (or when the tail grows large) the
// writer compacts the tail: each series' points go into compressed chunks (series_chunk.h) and
// into the 1 min / 1 h / 1 day rollups. Readers combine chunks, rollups and the tail, so answers
// are exact and include every acknowledged point.
//
// Slices. Compaction costs about one chunk rewrite and a few rollup upserts per series, and the
// writer does nothing else meanwhile: compacting 5,000 series at once stalled every write for
// ~140 ms. So a round is done in slices of at most `slice_series` series (oldest first), one
// transaction each, between write batches. A slice records, per series, the last log row it
// compacted (`series_compacted`, so a restart does not compact a row twice) and deletes the log
// rows below the oldest row still pending in any series (a rowid range: cheap).
//
// Threads: the writer thread calls the mutating functions; readers call query()/aggregate() with
// their own connection. A shared mutex makes "chunks + tail" one consistent view: compaction holds
// it exclusively only across its COMMIT and the tail update.
#include <chrono>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
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
  size_t slice_series = 256;  //!< series per compaction transaction
};

//! What a write job did to the tail; applied to memory only once its transaction commits.
struct StagedSeries {
  struct Append {
    int64_t series_id;
    TimedValue point;
    int64_t rowid;  //!< its row in points_log
  };
  std::vector<Append> appends;
  std::vector<int64_t> removed;  //!< series deleted with their whole history
  void clear() {
    appends.clear();
    removed.clear();
  }
  void takeFrom(StagedSeries& other);
  //! Forgets the appends to a series deleted after them.
  void dropAppends(int64_t series_id);
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
  //! Compacts one slice in its own transaction on the writer connection.
  Status compact(Db& db);
  //! Compacts everything (a clean stop leaves no log to replay).
  Status compactAll(Db& db);

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
  //! One transaction: these (first rowid, series) compacted, the log cut behind what is left.
  Status compactSlice(Db& db, const std::vector<std::pair<int64_t, int64_t>>& slice);
  Status compactSeries(Db& db, int64_t series_id, std::vector<TimedValue>& points);
  Status writeChunks(Db& db, int64_t series_id, std::vector<TimedValue>& points);
  Status writeRollups(Db& db, int64_t series_id, const std::vector<TimedValue>& points);

  SeriesOptions options_;
  //! entity → its (attribute, series id), sorted by attribute: found without building a key per
  //! point, and ~150 bytes per series (a hash map per entity took ~450); writer only.
  std::unordered_map<std::string, std::vector<std::pair<const std::string*, int64_t>>> ids_;
  //! Attribute names, held once (a city has few): ids_ points into it. Writer only.
  std::unordered_set<std::string> attributes_;
  mutable std::shared_mutex mu_;
  std::unordered_map<int64_t, std::vector<TimedValue>> tail_;
  size_t tail_points_ = 0;
  // Writer thread only.
  struct LogSpan {
    int64_t first = 0, last = 0;  //!< rowids of the series' oldest and newest pending log rows
  };
  std::unordered_map<int64_t, LogSpan> spans_;  //!< series in the tail
  bool in_round_ = false;
  int64_t round_upto_ = 0;  //!< the round compacts series with rows up to here
  std::chrono::steady_clock::time_point last_compaction_;
};

}  // namespace ioc::storage::sqlite
