#include "storage/sqlite/series_store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

namespace ioc::storage::sqlite {

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kRollupPeriods[] = {kDay, kHour, kMinute};  // coarsest first

//! Start of the period-aligned (UTC epoch) bucket holding `t`.
int64_t floorTo(int64_t t, int64_t period) {
  int64_t q = t / period;
  if (t % period < 0) --q;
  return q * period;
}

int64_t ceilTo(int64_t t, int64_t period) {
  int64_t f = floorTo(t, period);
  return f == t ? t : f + period;
}

//! The time of the n-th newest point in [begin, end) (n ≥ 1, at most the range's size).
int64_t nthNewest(std::vector<TimedValue>::const_iterator begin,
                  std::vector<TimedValue>::const_iterator end, size_t n) {
  std::vector<int64_t> times;
  times.reserve(static_cast<size_t>(end - begin));
  for (auto it = begin; it != end; ++it) times.push_back(it->at_ms);
  std::nth_element(times.begin(), times.begin() + static_cast<ptrdiff_t>(n - 1), times.end(),
                   std::greater<>());
  return times[n - 1];
}

// The log's packed rows hold the points of one write as (series id, time, value) triples, each
// 8 bytes little-endian: one row per write instead of one per point (point rows took ~30 % of
// the writer's time under telemetry). Rows written before had one point each in their own columns.
static_assert(std::endian::native == std::endian::little, "packed log rows are little-endian");
constexpr size_t kPackedPoint = 3 * sizeof(int64_t);

void packPoint(std::string& out, int64_t series_id, const model::Point& p) {
  char bytes[kPackedPoint];
  std::memcpy(bytes, &series_id, 8);
  std::memcpy(bytes + 8, &p.at_ms, 8);
  std::memcpy(bytes + 16, &p.value, 8);
  out.append(bytes, kPackedPoint);
}

template <typename Visit>
void unpackPoints(std::string_view packed, Visit visit) {
  for (size_t at = 0; at + kPackedPoint <= packed.size(); at += kPackedPoint) {
    int64_t series_id = 0, at_ms = 0;
    double value = 0;
    std::memcpy(&series_id, packed.data() + at, 8);
    std::memcpy(&at_ms, packed.data() + at + 8, 8);
    std::memcpy(&value, packed.data() + at + 16, 8);
    visit(series_id, TimedValue{at_ms, value});
  }
}

bool byTime(const TimedValue& a, const TimedValue& b) {
  return a.at_ms < b.at_ms;
}

//! Buckets keyed by start, merged from raw points and rollup rows alike.
class Buckets {
 public:
  explicit Buckets(int64_t period) : period_(period) {}
  void add(int64_t at, int64_t count, double sum, double min, double max) {
    AggregateBucket& b = map_[period_ > 0 ? floorTo(at, period_) : 0];
    if (b.count == 0) {
      b.min = min;
      b.max = max;
      b.start_ms = at;
    }
    b.count += count;
    b.sum += sum;
    b.min = std::min(b.min, min);
    b.max = std::max(b.max, max);
    if (period_ == 0) b.start_ms = std::min(b.start_ms, at);
  }
  void add(const TimedValue& p) { add(p.at_ms, 1, p.value, p.value, p.value); }
  std::vector<AggregateBucket> take() {
    std::vector<AggregateBucket> out;
    out.reserve(map_.size());
    for (auto& [start, b] : map_) {
      if (period_ > 0) b.start_ms = start;
      out.push_back(b);
    }
    return out;
  }

 private:
  int64_t period_;
  std::map<int64_t, AggregateBucket> map_;
};

}  // namespace

void StagedSeries::takeFrom(StagedSeries& other) {
  // A later job's deletions cancel what earlier jobs of the batch appended to those series
  // (committed() applies deletions first, then the appends that remain; a deleted series' id
  // may be given to a new series in the same batch).
  for (int64_t id : other.removed) dropAppends(id);
  appends.insert(appends.end(), other.appends.begin(), other.appends.end());
  removed.insert(removed.end(), other.removed.begin(), other.removed.end());
  other.clear();
}

void StagedSeries::dropAppends(int64_t series_id) {
  std::erase_if(appends, [series_id](const Append& a) { return a.series_id == series_id; });
}

SeriesStore::SeriesStore(SeriesOptions options)
    : options_(options), last_compaction_(std::chrono::steady_clock::now()) {}

Status SeriesStore::loadTail(Db& db) {
  std::unique_lock lock(mu_);
  // A series' points at or below its compacted row are in chunks; points of series deleted
  // since are skipped (a packed row outlives them).
  std::unordered_map<int64_t, int64_t> compacted;
  std::unordered_set<int64_t> live;
  auto s = forEachRow(
      db, "SELECT series_id, upto_rowid FROM series_compacted", [](Stmt&) {},
      [&](const Stmt& row) { return compacted.emplace(row.int64(0), row.int64(1)), true; });
  if (s.ok()) {
    s = forEachRow(
        db, "SELECT id FROM series", [](Stmt&) {},
        [&](const Stmt& row) { return live.insert(row.int64(0)), true; });
  }
  if (!s.ok()) return s;
  auto keep = [&](int64_t rowid, int64_t id, TimedValue point) {
    if (!live.count(id)) return;
    if (auto c = compacted.find(id); c != compacted.end() && rowid <= c->second) return;
    tail_[id].push_back(point);
    auto [span, fresh] = spans_.try_emplace(id, LogSpan{rowid, rowid});
    span->second.last = rowid;
    ++tail_points_;
  };
  return forEachRow(
      db, "SELECT rowid, series_id, at_ms, value, packed FROM points_log ORDER BY rowid",
      [](Stmt&) {},
      [&](const Stmt& row) {
        const int64_t rowid = row.int64(0);
        if (row.isNull(4)) {
          keep(rowid, row.int64(1), {row.int64(2), row.real(3)});
        } else {
          unpackPoints(row.blob(4), [&](int64_t id, TimedValue p) { keep(rowid, id, p); });
        }
        return true;
      });
}

Result<int64_t> SeriesStore::seriesId(Db& db, const std::string& entity, const std::string& attr) {
  auto& of_entity = ids_[entity];
  auto at =
      std::lower_bound(of_entity.begin(), of_entity.end(), attr,
                       [](const auto& known, const std::string& a) { return *known.first < a; });
  if (at != of_entity.end() && *at->first == attr) return at->second;
  auto find = db.prepare("SELECT id FROM series WHERE entity_id=?1 AND attribute=?2");
  if (!find.ok()) return find.error();
  (*find)->bind(1, entity).bind(2, attr);
  auto row = (*find)->step();
  int64_t id = row.ok() && *row ? (*find)->int64(0) : 0;
  (*find)->reset();
  if (!row.ok()) return row.error();
  if (id == 0) {
    auto ins = db.prepare("INSERT INTO series(entity_id, attribute) VALUES(?1, ?2)");
    if (!ins.ok()) return ins.error();
    if (auto s = (*ins)->bind(1, entity).bind(2, attr).run(); !s.ok()) return s.error();
    id = db.lastInsertId();
  }
  of_entity.emplace(at, &*attributes_.insert(attr).first, id);
  return id;
}

Status SeriesStore::append(Db& db, const std::vector<model::Point>& points, StagedSeries& staged) {
  if (points.empty()) return Status::success();
  auto ins =
      db.prepare("INSERT INTO points_log(series_id, at_ms, value, packed) VALUES(0, 0, 0, ?1)");
  if (!ins.ok()) return ins.error();
  std::string packed;
  packed.reserve(points.size() * kPackedPoint);
  const size_t first = staged.appends.size();
  for (const auto& p : points) {
    auto id = seriesId(db, p.entity_id, p.attribute);
    if (!id.ok()) return id.error();
    packPoint(packed, *id, p);
    staged.appends.push_back({*id, {p.at_ms, p.value}, 0});
  }
  if (auto s = (*ins)->bindBlob(1, packed).run(); !s.ok()) return s;
  const int64_t rowid = db.lastInsertId();
  for (size_t i = first; i < staged.appends.size(); ++i) staged.appends[i].rowid = rowid;
  return Status::success();
}

Status SeriesStore::removeEntity(Db& db, const std::string& entity_id, StagedSeries& staged) {
  auto ids = seriesOf(db, entity_id, "");
  if (!ids.ok()) return ids.error();
  static constexpr const char* kDeletes[] = {
      "DELETE FROM chunks WHERE series_id=?1", "DELETE FROM rollups WHERE series_id=?1",
      // Log rows keep its points (one-point rows of older logs too, without a scan of the log
      // for them): they count as compacted, so a replay skips them even if the id is given
      // again.
      "INSERT INTO series_compacted(series_id, upto_rowid) "
      "VALUES(?1, (SELECT COALESCE(MAX(rowid), 0) FROM points_log)) "
      "ON CONFLICT(series_id) DO UPDATE SET upto_rowid=excluded.upto_rowid",
      "DELETE FROM series WHERE id=?1"};
  for (const auto& ref : *ids) {
    for (const char* sql : kDeletes) {
      auto st = db.prepare(sql);
      if (!st.ok()) return st.error();
      if (auto s = (*st)->bind(1, ref.id).run(); !s.ok()) return s;
    }
    staged.dropAppends(ref.id);  // appended earlier in this job
    staged.removed.push_back(ref.id);
  }
  ids_.erase(entity_id);  // every series of the entity went
  return Status::success();
}

void SeriesStore::committed(const StagedSeries& staged) {
  if (staged.appends.empty() && staged.removed.empty()) return;
  std::unique_lock lock(mu_);
  // Deletions first: the appends left in `staged` all came after them (see takeFrom).
  for (int64_t id : staged.removed) {
    spans_.erase(id);
    auto it = tail_.find(id);
    if (it == tail_.end()) continue;
    tail_points_ -= it->second.size();
    tail_.erase(it);
  }
  for (const auto& a : staged.appends) {
    tail_[a.series_id].push_back(a.point);
    auto [span, fresh] = spans_.try_emplace(a.series_id, LogSpan{a.rowid, a.rowid});
    span->second.last = a.rowid;
  }
  tail_points_ += staged.appends.size();
}

void SeriesStore::rolledBack() {
  ids_.clear();
}

bool SeriesStore::compactionDue() const {
  std::shared_lock lock(mu_);
  if (tail_points_ == 0) return false;
  return in_round_ || tail_points_ >= options_.compact_points ||
         std::chrono::steady_clock::now() - last_compaction_ >= options_.compact_interval;
}

size_t SeriesStore::tailPoints() const {
  std::shared_lock lock(mu_);
  return tail_points_;
}

Status SeriesStore::compact(Db& db) {
  if (spans_.empty()) {
    in_round_ = false;
    return Status::success();
  }
  if (!in_round_) {
    in_round_ = true;
    round_upto_ = 0;
    for (const auto& [id, span] : spans_) round_upto_ = std::max(round_upto_, span.last);
  }
  // The slice: the series pending longest, so the log can be cut behind them.
  std::vector<std::pair<int64_t, int64_t>> order;  // first rowid, series
  order.reserve(spans_.size());
  for (const auto& [id, span] : spans_) {
    if (span.first <= round_upto_) order.emplace_back(span.first, id);
  }
  const size_t n = std::min(order.size(), std::max<size_t>(1, options_.slice_series));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end());
  order.resize(n);
  Status result = compactSlice(db, order);
  bool left = false;
  for (const auto& [id, span] : spans_) left = left || span.first <= round_upto_;
  if (!left) {
    in_round_ = false;
    last_compaction_ = std::chrono::steady_clock::now();
  }
  return result;
}

Status SeriesStore::compactAll(Db& db) {
  in_round_ = false;
  do {
    if (auto s = compact(db); !s.ok()) return s;
  } while (in_round_);
  return Status::success();
}

Status SeriesStore::compactSlice(Db& db, const std::vector<std::pair<int64_t, int64_t>>& slice) {
  // Only this thread changes the tail, so reading it here needs no lock.
  std::vector<std::pair<int64_t, std::vector<TimedValue>>> work;
  for (const auto& [first, id] : slice) work.emplace_back(id, tail_.at(id));
  // Log rows below the oldest row still pending after this slice are no longer needed.
  int64_t keep_from = INT64_MAX;
  std::unordered_set<int64_t> in_slice;
  for (const auto& [first, id] : slice) in_slice.insert(id);
  for (const auto& [id, span] : spans_) {
    if (!in_slice.count(id)) keep_from = std::min(keep_from, span.first);
  }
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Status result = Status::success();
  auto mark = db.prepare(
      "INSERT INTO series_compacted(series_id, upto_rowid) VALUES(?1, ?2) "
      "ON CONFLICT(series_id) DO UPDATE SET upto_rowid=excluded.upto_rowid");
  if (!mark.ok()) result = mark.error();
  for (auto& [id, points] : work) {
    if (!result.ok()) break;
    result = compactSeries(db, id, points);
    if (result.ok()) result = (*mark)->bind(1, id).bind(2, spans_.at(id).last).run();
  }
  for (const char* sql : {"DELETE FROM points_log WHERE rowid < ?1",
                          "DELETE FROM series_compacted WHERE upto_rowid < ?1"}) {
    if (!result.ok()) break;
    auto cut = db.prepare(sql);
    result = cut.ok() ? (*cut)->bind(1, keep_from).run() : Status(cut.error());
  }
  if (!result.ok()) {
    (void)db.exec("ROLLBACK");
    return result;
  }
  std::unique_lock lock(mu_);
  if (auto s = db.exec("COMMIT"); !s.ok()) {
    (void)db.exec("ROLLBACK");
    return s;
  }
  for (const auto& [id, points] : work) {
    tail_points_ -= tail_.at(id).size();
    tail_.erase(id);
    spans_.erase(id);
  }
  return Status::success();
}

Status SeriesStore::compactSeries(Db& db, int64_t series_id, std::vector<TimedValue>& points) {
  std::stable_sort(points.begin(), points.end(), byTime);
  if (auto s = writeRollups(db, series_id, points); !s.ok()) return s;
  return writeChunks(db, series_id, points);
}

Status SeriesStore::writeRollups(Db& db, int64_t series_id, const std::vector<TimedValue>& points) {
  auto up = db.prepare(
      "INSERT INTO rollups(series_id, period_ms, bucket_ms, count, sum, min, max) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(series_id, period_ms, bucket_ms) DO UPDATE "
      "SET count=count+excluded.count, sum=sum+excluded.sum, min=MIN(min, excluded.min), "
      "max=MAX(max, excluded.max)");
  if (!up.ok()) return up.error();
  for (int64_t period : kRollupPeriods) {
    Buckets buckets(period);
    for (const auto& p : points) buckets.add(p);
    for (const auto& b : buckets.take()) {
      auto s = (*up)
                   ->bind(1, series_id)
                   .bind(2, period)
                   .bind(3, b.start_ms)
                   .bind(4, b.count)
                   .bind(5, b.sum)
                   .bind(6, b.min)
                   .bind(7, b.max)
                   .run();
      if (!s.ok()) return s;
    }
  }
  return Status::success();
}

//! Tops up the series' newest chunk while it has room, then starts new ones. Points are sorted.
Status SeriesStore::writeChunks(Db& db, int64_t series_id, std::vector<TimedValue>& points) {
  auto head = db.prepare(
      "SELECT rowid, count, data FROM chunks WHERE series_id=?1 ORDER BY end_ms DESC LIMIT 1");
  if (!head.ok()) return head.error();
  (*head)->bind(1, series_id);
  auto row = (*head)->step();
  if (!row.ok()) {
    (*head)->reset();
    return row.error();
  }
  int64_t head_rowid = 0;
  std::vector<TimedValue> merged;
  if (*row && static_cast<size_t>((*head)->int64(1)) < options_.chunk_points) {
    head_rowid = (*head)->int64(0);
    auto decoded = decodeChunk((*head)->blob(2));
    if (!decoded.ok()) {
      (*head)->reset();
      return decoded.error();
    }
    merged = std::move(*decoded);
  }
  (*head)->reset();
  merged.insert(merged.end(), points.begin(), points.end());
  std::stable_sort(merged.begin(), merged.end(), byTime);

  auto update = db.prepare(
      "UPDATE chunks SET start_ms=?2, end_ms=?3, count=?4, data=?5 "
      "WHERE rowid=?1");
  auto insert = db.prepare(
      "INSERT INTO chunks(series_id, start_ms, end_ms, count, data) VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!update.ok()) return update.error();
  if (!insert.ok()) return insert.error();
  for (size_t begin = 0; begin < merged.size(); begin += options_.chunk_points) {
    const size_t end = std::min(merged.size(), begin + options_.chunk_points);
    std::span<const TimedValue> part(merged.data() + begin, end - begin);
    const std::string data = encodeChunk(part);
    const auto count = static_cast<int64_t>(part.size());
    Status s = Status::success();
    if (begin == 0 && head_rowid != 0) {
      s = (*update)
              ->bind(1, head_rowid)
              .bind(2, part.front().at_ms)
              .bind(3, part.back().at_ms)
              .bind(4, count)
              .bindBlob(5, data)
              .run();
    } else {
      s = (*insert)
              ->bind(1, series_id)
              .bind(2, part.front().at_ms)
              .bind(3, part.back().at_ms)
              .bind(4, count)
              .bindBlob(5, data)
              .run();
    }
    if (!s.ok()) return s;
  }
  return Status::success();
}

Status SeriesStore::applyRetention(Db& db, const RetentionPolicy& policy, int64_t now_ms) {
  std::vector<std::pair<int64_t, int64_t>> cutoffs;  // series → drop chunks ending before
  auto listed = forEachRow(
      db, "SELECT id, attribute FROM series", [](Stmt&) {},
      [&](const Stmt& row) {
        auto it = policy.raw_days_by_attribute.find(row.text(1));
        const int64_t days =
            it != policy.raw_days_by_attribute.end() ? it->second : policy.raw_days;
        if (days > 0) cutoffs.emplace_back(row.int64(0), now_ms - days * kDay);
        return true;
      });
  if (!listed.ok()) return listed;
  auto drop = db.prepare("DELETE FROM chunks WHERE series_id=?1 AND end_ms < ?2");
  if (!drop.ok()) return drop.error();
  for (const auto& [id, cutoff] : cutoffs) {
    if (auto s = (*drop)->bind(1, id).bind(2, cutoff).run(); !s.ok()) return s;
  }
  if (policy.minute_rollup_days <= 0) return Status::success();
  auto minutes = db.prepare("DELETE FROM rollups WHERE period_ms=?1 AND bucket_ms < ?2");
  if (!minutes.ok()) return minutes.error();
  return (*minutes)->bind(1, kMinute).bind(2, now_ms - policy.minute_rollup_days * kDay).run();
}

Result<std::vector<SeriesStore::SeriesRef>> SeriesStore::seriesOf(Db& reader,
                                                                  const std::string& entity,
                                                                  const std::string& attr) const {
  std::vector<SeriesRef> out;
  auto s = forEachRow(
      reader, "SELECT id, attribute FROM series WHERE entity_id=?1 AND (?2 = '' OR attribute=?2)",
      [&](Stmt& st) { st.bind(1, entity).bind(2, attr); },
      [&](const Stmt& row) {
        out.push_back({row.int64(0), row.text(1)});
        return true;
      });
  if (!s.ok()) return s.error();
  return out;
}

Status SeriesStore::collect(Db& reader, int64_t series_id, int64_t from, int64_t to, size_t last_n,
                            std::vector<TimedValue>& out) const {
  const size_t first = out.size();
  if (auto t = tail_.find(series_id); t != tail_.end()) {
    for (const auto& p : t->second) {
      if (p.at_ms >= from && p.at_ms < to) out.push_back(p);
    }
  }
  // Newest chunks first, so lastN stops early: once N points are in hand, a chunk ending before
  // the N-th newest of them cannot contribute.
  int64_t nth_newest = INT64_MIN;
  Status decoded = Status::success();
  auto s = forEachRow(
      reader,
      "SELECT end_ms, data FROM chunks WHERE series_id=?1 AND end_ms >= ?2 AND start_ms < ?3 "
      "ORDER BY end_ms DESC",
      [&](Stmt& st) { st.bind(1, series_id).bind(2, from).bind(3, to); },
      [&](const Stmt& row) {
        if (last_n > 0 && row.int64(0) < nth_newest) return false;
        auto points = decodeChunk(row.blob(1));
        if (!points.ok()) {
          decoded = points.error();
          return false;
        }
        for (const auto& p : *points) {
          if (p.at_ms >= from && p.at_ms < to) out.push_back(p);
        }
        if (last_n > 0 && out.size() - first >= last_n) {
          nth_newest = nthNewest(out.begin() + static_cast<ptrdiff_t>(first), out.end(), last_n);
        }
        return true;
      });
  return s.ok() ? decoded : s;
}

Result<std::vector<model::Point>> SeriesStore::query(Db& reader, const PointQuery& q) const {
  std::shared_lock lock(mu_);
  auto refs = seriesOf(reader, q.entity_id, q.attribute);
  if (!refs.ok()) return refs.error();
  struct Tagged {
    TimedValue p;
    size_t series;
  };
  std::vector<Tagged> all;
  std::vector<TimedValue> one;
  for (size_t i = 0; i < refs->size(); ++i) {
    one.clear();
    if (auto s = collect(reader, (*refs)[i].id, q.from_ms, q.to_ms, q.last_n, one); !s.ok()) {
      return s.error();
    }
    for (const auto& p : one) all.push_back({p, i});
  }
  lock.unlock();
  std::stable_sort(all.begin(), all.end(), [](const Tagged& a, const Tagged& b) {
    // Ties (two readings at one instant) in a fixed order, whatever the layout.
    if (a.p.at_ms != b.p.at_ms) return a.p.at_ms < b.p.at_ms;
    if (a.series != b.series) return a.series < b.series;
    return a.p.value < b.p.value;
  });
  size_t begin = 0, end = all.size();
  if (q.last_n > 0) {
    const size_t keep = std::min({q.last_n, q.limit, all.size()});
    begin = all.size() - keep;
  } else {
    end = std::min(all.size(), q.limit);
  }
  std::vector<model::Point> out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    out.push_back({q.entity_id, (*refs)[all[i].series].attribute, all[i].p.at_ms, all[i].p.value});
  }
  return out;
}

Result<std::vector<AggregateBucket>> SeriesStore::aggregate(Db& reader,
                                                            const AggregateQuery& q) const {
  Buckets buckets(q.period_ms);
  std::shared_lock lock(mu_);
  auto refs = seriesOf(reader, q.entity_id, q.attribute);
  if (!refs.ok()) return refs.error();
  if (refs->empty() || q.from_ms >= q.to_ms) return std::vector<AggregateBucket>{};
  const int64_t id = refs->front().id;
  // The coarsest rollup that tiles the requested period; [a, b) is the part it covers whole.
  int64_t rollup = 0;
  for (int64_t r : kRollupPeriods) {
    if (q.period_ms == 0 || q.period_ms % r == 0) {
      rollup = r;
      break;
    }
  }
  int64_t a = q.to_ms, b = q.to_ms;  // empty: everything from raw points
  if (rollup > 0) {
    a = q.from_ms == INT64_MIN ? INT64_MIN : ceilTo(q.from_ms, rollup);
    b = q.to_ms == INT64_MAX ? INT64_MAX : floorTo(q.to_ms, rollup);
    if (a >= b) a = b = q.to_ms;
  }
  std::vector<TimedValue> raw;
  if (auto s = collect(reader, id, q.from_ms, a, 0, raw); !s.ok()) return s.error();
  if (b < q.to_ms) {
    if (auto s = collect(reader, id, b, q.to_ms, 0, raw); !s.ok()) return s.error();
  }
  for (const auto& p : raw) buckets.add(p);
  if (a < b) {
    if (auto t = tail_.find(id); t != tail_.end()) {
      for (const auto& p : t->second) {
        if (p.at_ms >= a && p.at_ms < b) buckets.add(p);
      }
    }
    auto s = forEachRow(
        reader,
        "SELECT bucket_ms, count, sum, min, max FROM rollups WHERE series_id=?1 AND "
        "period_ms=?2 AND bucket_ms >= ?3 AND bucket_ms < ?4",
        [&](Stmt& st) { st.bind(1, id).bind(2, rollup).bind(3, a).bind(4, b); },
        [&](const Stmt& row) {
          buckets.add(row.int64(0), row.int64(1), row.real(2), row.real(3), row.real(4));
          return true;
        });
    if (!s.ok()) return s.error();
  }
  return buckets.take();
}

}  // namespace ioc::storage::sqlite
