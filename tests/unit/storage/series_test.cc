// Time-series storage: the chunk codec, and the SQLite series store (log → tail → chunks and
// rollups) checked against brute-force answers computed from the raw points in the test.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "storage/series_chunk.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::storage {
namespace {

namespace fs = std::filesystem;
using sqlite::SqliteOptions;
using sqlite::SqliteStore;

constexpr int64_t kT0 = 1'772'352'000'000;  // 2026-03-01T08:00:00Z
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 86'400'000;

// ---------------------------------------------------------------------------------------------
// Chunk codec

TEST(SeriesChunk, RoundTripsAwkwardValuesAndTimes) {
  std::vector<TimedValue> points = {{kT0, 12.5},
                                    {kT0 + 60000, 12.5},
                                    {kT0 + 60000, -0.0},  // equal time, signed zero
                                    {kT0 - 5, 1e300},
                                    {INT64_MIN, -1e-300},
                                    {INT64_MAX, 0},
                                    {0, std::numeric_limits<double>::infinity()},
                                    {1, 42}};
  auto decoded = decodeChunk(encodeChunk(points));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ((*decoded)[i].at_ms, points[i].at_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>((*decoded)[i].value),
              std::bit_cast<uint64_t>(points[i].value))
        << i;
  }
}

TEST(SeriesChunk, SteadySensorCompressesWell) {
  std::vector<TimedValue> points;
  for (int i = 0; i < 512; ++i) points.push_back({kT0 + i * kMinute, i % 10 == 0 ? 21.5 : 21.0});
  const std::string data = encodeChunk(points);
  EXPECT_LT(data.size(), points.size() * 6) << "≈ 3 bytes of time + 1–3 bytes of value per point";
  auto decoded = decodeChunk(data);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, points);
}

TEST(SeriesChunk, EveryTruncationAndBadHeaderIsRejected) {
  std::vector<TimedValue> points;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    points.push_back({kT0 + static_cast<int64_t>(rng() % 1000000),
                      std::uniform_real_distribution<double>(-100, 100)(rng)});
  }
  const std::string data = encodeChunk(points);
  for (size_t n = 0; n < data.size(); ++n) {
    EXPECT_FALSE(decodeChunk(std::string_view(data).substr(0, n)).ok()) << n;
  }
  std::string extra = data + "x";
  EXPECT_FALSE(decodeChunk(extra).ok());
  std::string wrong_format = data;
  wrong_format[0] = 9;
  EXPECT_FALSE(decodeChunk(wrong_format).ok());
  EXPECT_FALSE(decodeChunk(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10)).ok());
}

// ---------------------------------------------------------------------------------------------
// The SQLite series store

class SeriesStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_series_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    open();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open(size_t compact_points = 1000000, size_t chunk_points = 64, size_t slice_series = 256) {
    SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    o.series.slice_series = slice_series;
    o.series.chunk_points = chunk_points;
    o.series.compact_points = compact_points;
    o.series.compact_interval = std::chrono::hours(1);
    auto s = SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void reopen(size_t compact_points = 1000000, size_t chunk_points = 64) {
    store_.reset();
    open(compact_points, chunk_points);
  }
  void append(const std::vector<model::Point>& points) {
    auto s = store_->writeSync([&](WriteTx& tx) { return tx.appendPoints(points); });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  int64_t count(const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_ + "/ioc.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  std::vector<model::Point> query(PointQuery q) {
    auto r = store_->queryPoints(q);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<model::Point>{};
  }

  std::string dir_;
  std::unique_ptr<SqliteStore> store_;
};

//! A minute-cadence series with gaps, out-of-order and duplicate-time points.
std::vector<model::Point> messySeries(const std::string& entity, const std::string& attr, int n,
                                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<model::Point> out;
  for (int i = 0; i < n; ++i) {
    int64_t at = kT0 + i * kMinute + static_cast<int64_t>(rng() % 50000);
    if (i % 97 == 0) at -= 3 * kHour;                           // late arrival
    if (i % 50 == 0) at = out.empty() ? at : out.back().at_ms;  // same instant twice
    out.push_back({entity, attr, at,
                   std::round(std::uniform_real_distribution<double>(0, 300)(rng) * 10) / 10});
  }
  return out;
}

std::vector<std::pair<int64_t, double>> pairs(const std::vector<model::Point>& ps) {
  std::vector<std::pair<int64_t, double>> out;
  for (const auto& p : ps) out.emplace_back(p.at_ms, p.value);
  return out;
}

std::vector<std::pair<int64_t, double>> sortedPairs(std::vector<model::Point> ps) {
  std::stable_sort(ps.begin(), ps.end(), [](const model::Point& a, const model::Point& b) {
    return a.at_ms != b.at_ms ? a.at_ms < b.at_ms : a.value < b.value;
  });
  return pairs(ps);
}

TEST_F(SeriesStoreTest, AnswersAreTheSameBeforeAndAfterCompactionAndReopen) {
  auto points = messySeries("urn:a", "pm25", 1500, 1);
  auto other = messySeries("urn:a", "no2", 300, 2);
  for (size_t i = 0; i < points.size(); i += 100) {
    append(std::vector<model::Point>(points.begin() + i,
                                     points.begin() + std::min(points.size(), i + 100)));
  }
  append(other);
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log"), 16) << "one log row per write";
  EXPECT_EQ(count("SELECT SUM(length(packed)) FROM points_log"), 1800 * 24);
  EXPECT_EQ(count("SELECT COUNT(*) FROM chunks"), 0);
  PointQuery all{"urn:a", "pm25"};
  const auto expected = sortedPairs(points);
  EXPECT_EQ(pairs(query(all)), expected) << "served from the in-memory tail";

  reopen(/*compact_points=*/1);  // the log is replayed into the tail, then compacted
  store_->flush();
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log"), 0);
  EXPECT_EQ(count("SELECT SUM(count) FROM chunks"), 1800);
  EXPECT_EQ(pairs(query(all)), expected) << "served from chunks";
  EXPECT_EQ(query(PointQuery{"urn:a", ""}).size(), 1800u);

  // Later points land in the tail again, on top of the chunks.
  auto more = messySeries("urn:a", "pm25", 10, 3);
  for (auto& p : more) p.at_ms += 30 * kDay;
  reopen();
  append(more);
  points.insert(points.end(), more.begin(), more.end());
  EXPECT_EQ(pairs(query(all)), sortedPairs(points));

  PointQuery last{"urn:a", "pm25"};
  last.last_n = 25;
  auto newest = query(last);
  auto sorted = sortedPairs(points);
  const std::vector<std::pair<int64_t, double>> newest_want(sorted.end() - 25, sorted.end());
  EXPECT_EQ(pairs(newest), newest_want);

  PointQuery window{"urn:a", "pm25", kT0 + 5 * kHour, kT0 + 9 * kHour};
  std::vector<model::Point> in_window;
  for (const auto& p : points) {
    if (p.at_ms >= window.from_ms && p.at_ms < window.to_ms) in_window.push_back(p);
  }
  EXPECT_EQ(pairs(query(window)), sortedPairs(in_window));
  window.limit = 7;
  EXPECT_EQ(query(window).size(), 7u);
}

// Compaction runs in slices of a few series between write batches; a crash between slices (a copy
// of the files taken while the store runs) loses nothing and compacts nothing twice.
TEST_F(SeriesStoreTest, SlicedCompactionSurvivesACrashBetweenSlices) {
  store_.reset();
  open(/*compact_points=*/1, /*chunk_points=*/64, /*slice_series=*/4);
  std::vector<model::Point> all;
  for (int round = 0; round < 3; ++round) {
    std::vector<model::Point> batch;
    for (int s = 0; s < 10; ++s) {
      auto part = messySeries("urn:s" + std::to_string(s), "pm25", 20, 10 * round + s);
      for (auto& p : part) p.at_ms += round * kDay;
      batch.insert(batch.end(), part.begin(), part.end());
    }
    append(batch);  // each write lets one slice (4 series) compact before it
    all.insert(all.end(), batch.begin(), batch.end());
  }
  const int64_t logged = count("SELECT COUNT(*) FROM points_log");
  const int64_t chunked = count("SELECT COALESCE(SUM(count), 0) FROM chunks");
  EXPECT_GT(chunked, 0) << "some slices ran";
  EXPECT_GT(logged, 0) << "not everything was compacted yet";
  EXPECT_LT(logged, 600);

  // The crash: the files as they are now, opened by a second store.
  const std::string copy = dir_ + "/crash";
  fs::create_directories(copy);
  for (const char* f : {"/ioc.db", "/ioc.db-wal"}) {
    std::error_code ec;
    fs::copy_file(dir_ + f, copy + f, ec);
  }
  SqliteOptions o;
  o.path = copy + "/ioc.db";
  o.series.chunk_points = 64;
  o.series.compact_interval = std::chrono::hours(1);
  auto crashed = SqliteStore::open(o);
  ASSERT_TRUE(crashed.ok()) << crashed.error().message;
  for (int s = 0; s < 10; ++s) {
    const std::string id = "urn:s" + std::to_string(s);
    std::vector<model::Point> want;
    for (const auto& p : all) {
      if (p.entity_id == id) want.push_back(p);
    }
    auto got = (*crashed)->queryPoints(PointQuery{id, "pm25"});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(pairs(*got), sortedPairs(want)) << id;
  }
  crashed->reset();
  // A clean stop compacts everything that is left.
  reopen();
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log"), 0);
  EXPECT_EQ(count("SELECT SUM(count) FROM chunks"), 600);
  EXPECT_EQ(count("SELECT COUNT(*) FROM series_compacted"), 0);
}

//! Brute force: buckets aligned to the epoch, from the raw points.
std::map<int64_t, AggregateBucket> bruteForce(const std::vector<model::Point>& points, int64_t from,
                                              int64_t to, int64_t period) {
  std::map<int64_t, AggregateBucket> out;
  for (const auto& p : points) {
    if (p.at_ms < from || p.at_ms >= to) continue;
    int64_t key = period ? (p.at_ms / period) * period : 0;
    auto [it, fresh] = out.try_emplace(key);
    AggregateBucket& b = it->second;
    if (fresh) {
      b.min = b.max = p.value;
      b.start_ms = period ? key : p.at_ms;
    }
    ++b.count;
    b.sum += p.value;
    b.min = std::min(b.min, p.value);
    b.max = std::max(b.max, p.value);
    if (!period) b.start_ms = std::min(b.start_ms, p.at_ms);
  }
  return out;
}

void expectSame(const std::vector<AggregateBucket>& got,
                const std::map<int64_t, AggregateBucket>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t i = 0;
  for (const auto& [key, w] : want) {
    const auto& g = got[i++];
    EXPECT_EQ(g.count, w.count) << what << " bucket " << key;
    EXPECT_NEAR(g.sum, w.sum, 1e-6 * std::max(1.0, std::abs(w.sum))) << what;
    EXPECT_EQ(g.min, w.min) << what;
    EXPECT_EQ(g.max, w.max) << what;
    if (key != 0) {
      EXPECT_EQ(g.start_ms, w.start_ms) << what;
    }
  }
}

TEST_F(SeriesStoreTest, AggregatesMatchBruteForceFromTailRollupsAndEdges) {
  auto points = messySeries("urn:b", "level", 3000, 4);  // ≈ 2 days of minutes
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> cases = {
      {INT64_MIN, INT64_MAX, 0},
      {INT64_MIN, INT64_MAX, kHour},
      {kT0 + 17 * kMinute + 123, kT0 + 30 * kHour + 7, kHour},  // unaligned edges
      {kT0 - 4 * kHour, kT0 + 2 * kDay, kDay},
      {kT0 + 1000, kT0 + 40 * kHour, 15 * kMinute},
      {kT0, kT0 + 20 * kHour, 45 * 1000},  // not a multiple of a rollup: all raw
      {kT0 + 5 * kHour, kT0 + 5 * kHour + 30 * kMinute, 0},
      {kT0 + 3 * kHour, kT0 + 2 * kHour, kHour},  // empty range
  };
  auto check = [&](const std::string& phase) {
    for (const auto& [from, to, period] : cases) {
      auto got = store_->aggregatePoints(AggregateQuery{"urn:b", "level", from, to, period});
      ASSERT_TRUE(got.ok()) << got.error().message;
      expectSame(*got, bruteForce(points, from, to, period),
                 phase + " period " + std::to_string(period) + " from " + std::to_string(from));
    }
  };
  append(std::vector<model::Point>(points.begin(), points.begin() + 2000));
  reopen(1);  // first 2000 compacted into rollups
  store_->flush();
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log"), 0);
  EXPECT_GT(count("SELECT COUNT(*) FROM rollups WHERE period_ms=3600000"), 20);
  reopen();
  append(std::vector<model::Point>(points.begin() + 2000, points.end()));  // the rest in the tail
  check("rollups + tail");
  reopen(1);
  store_->flush();
  check("rollups only");
  EXPECT_TRUE(store_->aggregatePoints(AggregateQuery{"urn:none", "x"})->empty());
}

TEST_F(SeriesStoreTest, DeletingAnEntityDropsItsHistoryEverywhere) {
  auto old_points = messySeries("urn:c", "v", 200, 5);
  append(old_points);
  reopen(1);
  store_->flush();
  append(messySeries("urn:c", "v", 10, 6));  // some in the tail too
  append(messySeries("urn:d", "v", 10, 7));
  ASSERT_TRUE(store_->writeSync([](WriteTx& tx) { return tx.deleteSeries("urn:c"); }).ok());
  EXPECT_TRUE(query(PointQuery{"urn:c", ""}).empty());
  EXPECT_TRUE(store_->aggregatePoints(AggregateQuery{"urn:c", "v"})->empty());
  EXPECT_EQ(query(PointQuery{"urn:d", ""}).size(), 10u);
  // A new entity with the same id starts with an empty history.
  append({{"urn:c", "v", kT0, 1.0}});
  EXPECT_EQ(query(PointQuery{"urn:c", "v"}).size(), 1u);
  reopen(1);
  store_->flush();
  EXPECT_EQ(query(PointQuery{"urn:c", "v"}).size(), 1u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM rollups r JOIN series s ON s.id = r.series_id "
                  "WHERE s.entity_id='urn:c' AND r.period_ms=86400000"),
            1);
}

// One log row holds the points of several series; deleting one of them leaves the row, and its
// id, the highest, is given to the next new series: neither may bring the old points back.
TEST_F(SeriesStoreTest, ADeletedSeriesInASharedLogRowStaysDeletedAfterReplay) {
  append(
      {{"urn:keep", "v", kT0, 1.0}, {"urn:gone", "v", kT0, 2.0}, {"urn:gone", "v", kT0 + 1, 3.0}});
  ASSERT_TRUE(store_->writeSync([](WriteTx& tx) { return tx.deleteSeries("urn:gone"); }).ok());
  append({{"urn:new", "v", kT0 + 2, 4.0}});
  EXPECT_EQ(count("SELECT id FROM series WHERE entity_id='urn:new'"),
            count("SELECT series_id FROM series_compacted"))
      << "the new series took the deleted one's id";
  reopen();  // the log is replayed into the tail, nothing compacted
  EXPECT_EQ(pairs(query(PointQuery{"urn:keep", ""})),
            (std::vector<std::pair<int64_t, double>>{{kT0, 1.0}}));
  EXPECT_TRUE(query(PointQuery{"urn:gone", ""}).empty());
  EXPECT_EQ(pairs(query(PointQuery{"urn:new", ""})),
            (std::vector<std::pair<int64_t, double>>{{kT0 + 2, 4.0}}));
  reopen(1);  // compacted: the same answers from chunks
  store_->flush();
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log"), 0);
  EXPECT_EQ(count("SELECT SUM(count) FROM chunks"), 2);
  EXPECT_EQ(query(PointQuery{"urn:new", ""}).size(), 1u);
}

// Deleted and written again within one commit (the series id is given again): the new points
// are served at once and after a restart, the old ones neither.
TEST_F(SeriesStoreTest, ASeriesDeletedAndWrittenAgainInOneCommitKeepsOnlyTheNewPoints) {
  append({{"urn:other", "v", kT0, 9.0}});
  auto s = store_->writeSync([](WriteTx& tx) {
    if (auto a = tx.appendPoints({{"urn:x", "v", kT0, 1.0}}); !a.ok()) return a;
    if (auto d = tx.deleteSeries("urn:x"); !d.ok()) return d;
    return tx.appendPoints({{"urn:x", "v", kT0 + 5, 2.0}});
  });
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::vector<std::pair<int64_t, double>> want{{kT0 + 5, 2.0}};
  EXPECT_EQ(pairs(query(PointQuery{"urn:x", ""})), want);
  reopen();
  EXPECT_EQ(pairs(query(PointQuery{"urn:x", ""})), want);
  EXPECT_EQ(query(PointQuery{"urn:other", ""}).size(), 1u);
}

// Logs written before points were packed (one point per row) are still read.
TEST_F(SeriesStoreTest, OnePointRowsOfOlderLogsAreReplayed) {
  append({{"urn:old", "v", kT0, 1.0}});
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/ioc.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO points_log(series_id, at_ms, value) "
                         "SELECT id, 1767225600000, 7.5 FROM series WHERE entity_id='urn:old'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  open();
  EXPECT_EQ(pairs(query(PointQuery{"urn:old", "v"})),
            (std::vector<std::pair<int64_t, double>>{{1767225600000, 7.5}, {kT0, 1.0}}));
  // Deleted, the old-format row stays in the log but is not replayed (nor given to a new series).
  ASSERT_TRUE(store_->writeSync([](WriteTx& tx) { return tx.deleteSeries("urn:old"); }).ok());
  append({{"urn:later", "v", kT0 + 9, 3.0}});
  EXPECT_EQ(count("SELECT COUNT(*) FROM points_log WHERE packed IS NULL"), 1);
  reopen();
  EXPECT_TRUE(query(PointQuery{"urn:old", ""}).empty());
  EXPECT_EQ(pairs(query(PointQuery{"urn:later", ""})),
            (std::vector<std::pair<int64_t, double>>{{kT0 + 9, 3.0}}));
}

TEST_F(SeriesStoreTest, AFailedJobLeavesNoPointsBehind) {
  auto s = store_->writeSync([](WriteTx& tx) {
    if (auto a = tx.appendPoints({{"urn:e", "v", kT0, 1.0}}); !a.ok()) return a;
    return core::Status(core::makeError(core::Errc::kInvalidArgument, "no"));
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(query(PointQuery{"urn:e", ""}).empty());
  append({{"urn:e", "v", kT0 + 1, 2.0}});
  EXPECT_EQ(pairs(query(PointQuery{"urn:e", ""})),
            (std::vector<std::pair<int64_t, double>>{{kT0 + 1, 2.0}}));
}

TEST_F(SeriesStoreTest, RetentionDropsOldChunksPerAttributeAndOldMinuteRollups) {
  std::vector<model::Point> points;
  for (int day = 0; day < 10; ++day) {
    points.push_back({"urn:f", "short", kT0 + day * kDay, 1.0 * day});
    points.push_back({"urn:f", "long", kT0 + day * kDay, 1.0 * day});
  }
  reopen(1, /*chunk_points=*/1);  // one chunk per point: retention is exact
  append(points);
  store_->flush();
  ASSERT_EQ(count("SELECT COUNT(*) FROM chunks"), 20);
  const int64_t now = kT0 + 10 * kDay;
  const int64_t minute_cutoff = now - 5 * kDay;
  const std::string old_minutes =
      "SELECT COUNT(*) FROM rollups WHERE period_ms=60000 AND bucket_ms < " +
      std::to_string(minute_cutoff);
  ASSERT_EQ(count(old_minutes.c_str()), 10);  // days 0–4 of both attributes
  RetentionPolicy policy;
  policy.raw_days = 3;
  policy.raw_days_by_attribute["long"] = 365;
  policy.minute_rollup_days = 5;
  ASSERT_TRUE(store_->writeSync([&](WriteTx& tx) { return tx.applyRetention(policy, now); }).ok());
  std::vector<std::pair<int64_t, double>> want;
  for (int day = 7; day < 10; ++day) want.emplace_back(kT0 + day * kDay, 1.0 * day);
  EXPECT_EQ(pairs(query(PointQuery{"urn:f", "short"})), want);
  EXPECT_EQ(query(PointQuery{"urn:f", "long"}).size(), 10u);
  EXPECT_EQ(count(old_minutes.c_str()), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM rollups WHERE period_ms=60000"), 10);
  EXPECT_EQ(count("SELECT COUNT(*) FROM rollups WHERE period_ms=86400000"), 20)
      << "day rollups are kept for ever";
  auto whole = store_->aggregatePoints(AggregateQuery{"urn:f", "short", INT64_MIN, INT64_MAX, 0});
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ((*whole)[0].count, 10) << "long-range aggregates still see the dropped days";
}

}  // namespace
}  // namespace ioc::storage
