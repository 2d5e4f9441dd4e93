// The context broker over a real SQLite store: CRUD, batches, telemetry ingest, queries, unit
// scoping, durability across a reopen, time-series points and audit entries.
#include "context/broker.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::context {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using json = ioc::Json;

const std::string kNs = "https://uri.etsi.org/ngsi-ld/";
const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr int64_t kT0 = 1'772'352'000'000;  // 2026-03-01T08:00:00Z
constexpr int64_t kHour = 3'600'000;

std::string v(const std::string& term) {
  return kVocab + term;
}
json prop(const json& value) {
  return {{"type", "Property"}, {"value", value}};
}
json propAt(const json& value, const std::string& at) {
  return {{"type", "Property"}, {"value", value}, {"observedAt", at}};
}
json point(double lon, double lat) {
  return {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {lon, lat}}}}};
}

//! EntityQuery built member by member.
struct Q {
  EntityQuery q;
  Q() { q.count = true; }  // most cases check the total
  Q& noCount() {
    q.count = false;
    return *this;
  }
  Q& types(std::vector<std::string> t) {
    q.types = std::move(t);
    return *this;
  }
  Q& ids(std::vector<std::string> i) {
    q.ids = std::move(i);
    return *this;
  }
  Q& id_pattern(std::string p) {
    q.id_pattern = std::move(p);
    return *this;
  }
  Q& q_(std::shared_ptr<const ngsild::Query> query) {
    q.q = std::move(query);
    return *this;
  }
  Q& geo(GeoFilter g) {
    q.geo = std::move(g);
    return *this;
  }
  Q& attrs(std::unordered_set<std::string> a) {
    q.attrs = std::move(a);
    return *this;
  }
  Q& limit(size_t n) {
    q.limit = n;
    return *this;
  }
  Q& offset(size_t n) {
    q.offset = n;
    return *this;
  }
  operator const EntityQuery&() const { return q; }  // NOLINT(google-explicit-constructor)
};

const Visibility kHue{"46"};
const Visibility kHanoi{"01"};
const Visibility kNational{""};
const Visibility kWard{"19789"};  // Phường Thuận Hoá, in Huế

const units::UnitCatalog& catalog() {
  static const units::UnitCatalog c = [] {
    auto loaded =
        units::UnitCatalog::loadFile(IOC_SOURCE_DIR "/data/admin/vn34_units_2025_full.json");
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      return units::UnitCatalog();
    }
    return std::move(*loaded);
  }();
  return c;
}

class BrokerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_broker_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ASSERT_GT(catalog().size(), 0u);
    ASSERT_NO_FATAL_FAILURE(open());
  }
  void TearDown() override {
    broker_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open() {
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    broker_ = std::make_unique<Broker>(*store_, catalog(), clock_);
    auto loaded = broker_->load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }
  //! Destroys the broker and the store, then opens both again on the same files.
  void reopen() {
    broker_.reset();
    store_.reset();
    ASSERT_NO_FATAL_FAILURE(open());
  }

  Entity parse(const json& body) {
    auto e = parseEntity(body, *TermMap::core(), clock_.nowUnixMs());
    EXPECT_TRUE(e.ok()) << body.dump() << ": " << (e.ok() ? "" : e.error().message);
    return e.ok() ? *e : Entity{};
  }
  json attrs(const json& body) {
    auto a = parseAttributes(body, *TermMap::core(), clock_.nowUnixMs());
    EXPECT_TRUE(a.ok()) << body.dump();
    return a.ok() ? *a : json::object();
  }
  void mustCreate(const json& body, const Visibility& who = kHue) {
    auto s = broker_->create(parse(body), who, actor_);
    ASSERT_TRUE(s.ok()) << body.dump() << ": " << s.error().message;
  }
  //! The points of one attribute (expanded name), oldest first.
  std::vector<model::Point> points(const std::string& id, const std::string& attr = "") {
    storage::PointQuery q;
    q.entity_id = id;
    q.attribute = attr;
    auto r = store_->queryPoints(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<model::Point>{};
  }
  static std::vector<std::pair<int64_t, double>> series(const std::vector<model::Point>& ps) {
    std::vector<std::pair<int64_t, double>> out;
    for (const auto& p : ps) out.emplace_back(p.at_ms, p.value);
    return out;
  }
  std::vector<model::AuditEntry> audit() {
    storage::AuditFilter f;
    f.limit = 1000;
    auto r = store_->listAudit(f);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<model::AuditEntry>{};
  }
  std::vector<std::string> ids(const QueryPage& page) {
    std::vector<std::string> out;
    for (const auto& e : page.items) out.push_back(e->id);
    return out;
  }
  core::Status ingest(std::vector<Observation> obs, const Visibility& who = kHue) {
    std::promise<core::Status> done;
    auto f = done.get_future();
    broker_->ingest(std::move(obs), who, [&done](core::Status s) { done.set_value(std::move(s)); });
    return f.get();
  }
  Observation reading(const std::string& id, const json& body) {
    return Observation{id, v("Sensor"), attrs(body)};
  }

  std::string dir_;
  core::FakeClock clock_{kT0};
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  std::unique_ptr<Broker> broker_;
  model::Actor actor_{"key:test", "integration", "46", "127.0.0.1", "req-1"};
};

const std::string kA = "urn:ngsi-ld:AirQualityObserved:a";
const std::string kB = "urn:ngsi-ld:AirQualityObserved:b";
const std::string kC = "urn:ngsi-ld:AirQualityObserved:c";

// ---------------------------------------------------------------------------------------------
// Create, get, visibility

TEST_F(BrokerTest, CreateAndGetWithUnitScoping) {
  mustCreate({{"id", kA}, {"type", "AirQualityObserved"}, {"pm25", prop(10)}}, kHue);
  EXPECT_EQ(broker_->size(), 1u);
  auto e = broker_->get(kA, kHue);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->unit_code, "46") << "the entity belongs to the creator's unit";
  EXPECT_EQ(e->created_at_ms, kT0);
  EXPECT_EQ(e->doc[v("pm25")]["value"], 10);
  EXPECT_TRUE(broker_->get(kA, kNational)) << "the national view sees everything";
  EXPECT_FALSE(broker_->get(kA, kHanoi)) << "another province must not see it";
  EXPECT_FALSE(broker_->get(kA, kWard)) << "a ward does not see province-level entities";
  EXPECT_FALSE(broker_->get("urn:ngsi-ld:X:none", kNational));

  // A ward's entity is visible to the ward and to its province.
  mustCreate({{"id", kB}, {"type", "AirQualityObserved"}}, kWard);
  EXPECT_TRUE(broker_->get(kB, kWard));
  EXPECT_TRUE(broker_->get(kB, kHue));
  EXPECT_TRUE(broker_->get(kB, kNational));
  EXPECT_FALSE(broker_->get(kB, kHanoi));

  // A national entity (no unit) is invisible to every unit.
  mustCreate({{"id", kC}, {"type", "AirQualityObserved"}}, kNational);
  EXPECT_TRUE(broker_->get(kC, kNational));
  EXPECT_FALSE(broker_->get(kC, kHue));

  auto dup = broker_->create(parse({{"id", kA}, {"type", "AirQualityObserved"}}), kHue, actor_);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::kAlreadyExists);
  auto clash =
      broker_->create(parse({{"id", kA}, {"type", "Other"}, {"pm25", prop(666)}}), kHanoi, actor_);
  EXPECT_FALSE(clash.ok());
  EXPECT_EQ(broker_->get(kA, kHue)->doc[v("pm25")]["value"], 10) << "another unit overwrote it";
  EXPECT_EQ(broker_->size(), 3u);
}

TEST_F(BrokerTest, WritesToInvisibleEntitiesAreNotFound) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(10)}}, kHue);
  auto m = broker_->mergeAttrs(kA, attrs({{"pm25", prop(1)}}), MergeMode::kAppend, kHanoi, actor_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, Errc::kNotFound);
  EXPECT_EQ(broker_->patchAttr(kA, v("pm25"), {{"value", 1}}, *TermMap::core(), kHanoi, actor_)
                .error()
                .code,
            Errc::kNotFound);
  EXPECT_EQ(broker_->deleteAttr(kA, v("pm25"), "", false, kHanoi, actor_).error().code,
            Errc::kNotFound);
  EXPECT_EQ(broker_->remove(kA, kHanoi, actor_).error().code, Errc::kNotFound);
  EXPECT_EQ(broker_->remove(kA, kWard, actor_).error().code, Errc::kNotFound);
  EXPECT_EQ(broker_->get(kA, kHue)->doc[v("pm25")]["value"], 10);
  // Missing entities too.
  EXPECT_EQ(broker_->remove("urn:ngsi-ld:X:none", kNational, actor_).error().code, Errc::kNotFound);
  EXPECT_FALSE(broker_
                   ->mergeAttrs("urn:ngsi-ld:X:none", attrs({{"a", 1}}), MergeMode::kAppend,
                                kNational, actor_)
                   .ok());
}

// ---------------------------------------------------------------------------------------------
// Updates

TEST_F(BrokerTest, MergePatchDeleteAttrAndRemove) {
  mustCreate({{"id", kA},
              {"type", "T"},
              {"pm25", {{"type", "Property"}, {"value", 10}, {"unitCode", "GQ"}}}});
  clock_.advance(std::chrono::minutes(1));
  auto m = broker_->mergeAttrs(kA, attrs({{"no2", prop(20)}, {"pm25", prop(11)}}),
                               MergeMode::kAppendNoOverwrite, kHue, actor_);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->updated, std::vector<std::string>{v("no2")});
  ASSERT_EQ(m->not_updated.size(), 1u);
  auto e = broker_->get(kA, kHue);
  EXPECT_EQ(e->doc[v("pm25")]["value"], 10);
  EXPECT_EQ(e->doc[v("no2")]["value"], 20);
  EXPECT_EQ(e->modified_at_ms, kT0 + 60000);

  clock_.advance(std::chrono::minutes(1));
  auto u = broker_->mergeAttrs(kA, attrs({{"pm25", prop(12)}, {"o3", prop(1)}}),
                               MergeMode::kUpdateExisting, kHue, actor_);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->updated, std::vector<std::string>{v("pm25")});
  EXPECT_FALSE(broker_->get(kA, kHue)->doc.contains(v("o3")));

  clock_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(
      broker_->patchAttr(kA, v("pm25"), {{"value", 13}}, *TermMap::core(), kHue, actor_).ok());
  e = broker_->get(kA, kHue);
  EXPECT_EQ(e->doc[v("pm25")]["value"], 13);
  EXPECT_EQ(e->modified_at_ms, kT0 + 3 * 60000);
  auto missing = broker_->patchAttr(kA, v("o3"), {{"value", 1}}, *TermMap::core(), kHue, actor_);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto invalid =
      broker_->patchAttr(kA, v("pm25"), {{"observedAt", "noon"}}, *TermMap::core(), kHue, actor_);
  EXPECT_EQ(invalid.error().code, Errc::kInvalidArgument);

  clock_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(broker_->deleteAttr(kA, v("no2"), "", false, kHue, actor_).ok());
  e = broker_->get(kA, kHue);
  EXPECT_FALSE(e->doc.contains(v("no2")));
  EXPECT_EQ(e->modified_at_ms, kT0 + 4 * 60000);
  EXPECT_EQ(broker_->deleteAttr(kA, v("no2"), "", false, kHue, actor_).error().code,
            Errc::kNotFound);

  ASSERT_TRUE(broker_->remove(kA, kHue, actor_).ok());
  EXPECT_FALSE(broker_->get(kA, kNational));
  EXPECT_EQ(broker_->size(), 0u);
  EXPECT_TRUE(broker_->types(kNational).empty()) << "no type index left behind";
}

TEST_F(BrokerTest, MergeThatChangesNothingStoresNothing) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(10)}});
  const size_t audit_before = audit().size();
  clock_.advance(std::chrono::minutes(1));
  auto m = broker_->mergeAttrs(kA, attrs({{"pm25", prop(11)}}), MergeMode::kAppendNoOverwrite, kHue,
                               actor_);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->updated.empty());
  EXPECT_EQ(broker_->get(kA, kHue)->modified_at_ms, kT0);
  EXPECT_EQ(audit().size(), audit_before);
}

// ---------------------------------------------------------------------------------------------
// Batches

std::vector<core::Result<Entity>> results(std::vector<Entity> es) {
  std::vector<core::Result<Entity>> out;
  for (auto& e : es) out.emplace_back(std::move(e));
  return out;
}

TEST_F(BrokerTest, BatchCreate) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(1)}});
  std::vector<core::Result<Entity>> in;
  in.emplace_back(parse({{"id", kB}, {"type", "T"}, {"pm25", prop(2)}}));
  in.emplace_back(parse({{"id", kA}, {"type", "T"}, {"pm25", prop(3)}}));  // exists
  in.emplace_back(core::makeError(Errc::kInvalidArgument, "BadRequestData: broken"));
  in.emplace_back(parse({{"id", kB}, {"type", "T"}, {"pm25", prop(4)}}));  // repeated
  in.emplace_back(parse({{"id", kC}, {"type", "U"}}));
  auto out = broker_->batch(Broker::BatchKind::kCreate, std::move(in), kHue, actor_);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].id, kB);
  EXPECT_TRUE(out[0].created);
  EXPECT_FALSE(out[0].error);
  ASSERT_TRUE(out[1].error);
  EXPECT_EQ(out[1].error->code, Errc::kAlreadyExists);
  ASSERT_TRUE(out[2].error);
  EXPECT_EQ(out[2].error->code, Errc::kInvalidArgument);
  ASSERT_TRUE(out[3].error);
  EXPECT_EQ(out[3].error->code, Errc::kInvalidArgument);
  EXPECT_TRUE(out[4].created);
  EXPECT_FALSE(out[4].error);
  EXPECT_EQ(broker_->get(kA, kHue)->doc[v("pm25")]["value"], 1);
  EXPECT_EQ(broker_->get(kB, kHue)->doc[v("pm25")]["value"], 2);
  EXPECT_EQ(broker_->get(kB, kHue)->unit_code, "46");
  EXPECT_TRUE(broker_->get(kC, kHue)->hasType(v("U")));
  EXPECT_FALSE(broker_->get(kC, kHanoi));

  // Nothing writable: no store write, no audit.
  const size_t n = audit().size();
  std::vector<core::Result<Entity>> again;
  again.emplace_back(parse({{"id", kA}, {"type", "T"}}));
  auto none = broker_->batch(Broker::BatchKind::kCreate, std::move(again), kHue, actor_);
  ASSERT_TRUE(none[0].error);
  EXPECT_EQ(audit().size(), n);
}

TEST_F(BrokerTest, BatchUpsertReplaceAndUpdate) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(1)}, {"no2", prop(5)}});
  clock_.advance(std::chrono::minutes(1));
  auto rep = broker_->batch(Broker::BatchKind::kUpsertReplace,
                            results({parse({{"id", kA}, {"type", "T2"}, {"o3", prop(7)}}),
                                     parse({{"id", kB}, {"type", "T"}, {"pm25", prop(2)}})}),
                            kHue, actor_);
  ASSERT_EQ(rep.size(), 2u);
  EXPECT_FALSE(rep[0].error);
  EXPECT_FALSE(rep[0].created) << "an existing entity is replaced, not created";
  EXPECT_TRUE(rep[1].created);
  auto a = broker_->get(kA, kHue);
  EXPECT_FALSE(a->doc.contains(v("pm25"))) << "replace drops the old attributes";
  EXPECT_EQ(a->doc[v("o3")]["value"], 7);
  EXPECT_TRUE(a->hasType(v("T2")));
  EXPECT_EQ(a->created_at_ms, kT0) << "createdAt survives a replace";
  EXPECT_EQ(a->modified_at_ms, kT0 + 60000);
  EXPECT_EQ(a->unit_code, "46");
  EXPECT_EQ(broker_->query(Q().types({v("T")}), kHue).total, 1u)
      << "type index follows the replace";
  EXPECT_EQ(broker_->query(Q().types({v("T2")}), kHue).total, 1u);

  clock_.advance(std::chrono::minutes(1));
  auto upd = broker_->batch(Broker::BatchKind::kUpsertUpdate,
                            results({parse({{"id", kA}, {"type", "T2"}, {"pm25", prop(9)}}),
                                     parse({{"id", kC}, {"type", "T"}, {"pm25", prop(3)}})}),
                            kHue, actor_);
  EXPECT_FALSE(upd[0].error);
  EXPECT_FALSE(upd[0].created);
  EXPECT_TRUE(upd[1].created);
  a = broker_->get(kA, kHue);
  EXPECT_EQ(a->doc[v("o3")]["value"], 7) << "update keeps the other attributes";
  EXPECT_EQ(a->doc[v("pm25")]["value"], 9);

  auto u = broker_->batch(
      Broker::BatchKind::kUpdate,
      results({parse({{"id", kA}, {"type", "T2"}, {"o3", prop(8)}}),
               parse({{"id", "urn:ngsi-ld:X:none"}, {"type", "T"}, {"a", prop(1)}})}),
      kHue, actor_);
  EXPECT_FALSE(u[0].error);
  ASSERT_TRUE(u[1].error);
  EXPECT_EQ(u[1].error->code, Errc::kNotFound);
  EXPECT_FALSE(broker_->get("urn:ngsi-ld:X:none", kNational)) << "update must not create";
  EXPECT_EQ(broker_->get(kA, kHue)->doc[v("o3")]["value"], 8);
  // Updates that keep the type replace the version in the type index too.
  auto by_type = broker_->query(Q().types({v("T2")}), kHue);
  ASSERT_EQ(by_type.items.size(), 1u);
  EXPECT_EQ(by_type.items[0]->doc[v("o3")]["value"], 8) << "the type index serves the new version";

  auto nu = broker_->batch(
      Broker::BatchKind::kUpdateNoOverwrite,
      results({parse({{"id", kA}, {"type", "T2"}, {"o3", prop(100)}, {"so2", prop(4)}})}), kHue,
      actor_);
  EXPECT_FALSE(nu[0].error);
  a = broker_->get(kA, kHue);
  EXPECT_EQ(a->doc[v("o3")]["value"], 8);
  EXPECT_EQ(a->doc[v("so2")]["value"], 4);

  // Another unit's entity cannot be touched by a batch.
  mustCreate({{"id", "urn:ngsi-ld:X:hanoi"}, {"type", "T"}, {"pm25", prop(1)}}, kHanoi);
  for (auto kind : {Broker::BatchKind::kCreate, Broker::BatchKind::kUpsertReplace,
                    Broker::BatchKind::kUpsertUpdate, Broker::BatchKind::kUpdate,
                    Broker::BatchKind::kUpdateNoOverwrite}) {
    auto r = broker_->batch(
        kind, results({parse({{"id", "urn:ngsi-ld:X:hanoi"}, {"type", "T"}, {"pm25", prop(66)}})}),
        kHue, actor_);
    EXPECT_TRUE(r[0].error) << static_cast<int>(kind);
  }
  EXPECT_EQ(broker_->get("urn:ngsi-ld:X:hanoi", kHanoi)->doc[v("pm25")]["value"], 1);
  EXPECT_EQ(broker_->get("urn:ngsi-ld:X:hanoi", kHanoi)->unit_code, "01");
}

TEST_F(BrokerTest, BatchDelete) {
  mustCreate({{"id", kA}, {"type", "T"}});
  mustCreate({{"id", kB}, {"type", "T"}});
  mustCreate({{"id", kC}, {"type", "T"}}, kHanoi);
  auto out = broker_->batchDelete({kA, "urn:ngsi-ld:X:none", kC, kB}, kHue, actor_);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FALSE(out[0].error);
  EXPECT_EQ(out[1].error->code, Errc::kNotFound);
  ASSERT_TRUE(out[2].error) << "unit 46 deleted unit 01's entity";
  EXPECT_EQ(out[2].error->code, Errc::kNotFound);
  EXPECT_FALSE(out[3].error);
  EXPECT_FALSE(broker_->get(kA, kNational));
  EXPECT_FALSE(broker_->get(kB, kNational));
  EXPECT_TRUE(broker_->get(kC, kHanoi));
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_FALSE(broker_->get(kA, kNational));
  EXPECT_TRUE(broker_->get(kC, kHanoi));
}

// ---------------------------------------------------------------------------------------------
// Ingest

TEST_F(BrokerTest, IngestCreatesMergesAndRecordsPoints) {
  mustCreate({{"id", kA}, {"type", "AirQualityObserved"}, {"pm25", prop(10)}});
  clock_.advance(std::chrono::minutes(5));
  const int64_t now = clock_.nowUnixMs();
  auto s =
      ingest({reading(kA, {{"pm25", propAt(20, "2026-03-01T08:01:00Z")}}),
              reading(kA, {{"pm25", propAt(21, "2026-03-01T08:02:00Z")}, {"label", prop("ok")}}),
              reading(kA, {{"pm25", prop(22)}}),
              reading("urn:ngsi-ld:Sensor:new", {{"temperature", prop(30.5)}})});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto a = broker_->get(kA, kHue);
  EXPECT_EQ(a->doc[v("pm25")]["value"], 22) << "the last reading wins";
  EXPECT_EQ(a->doc[v("label")]["value"], "ok");
  EXPECT_EQ(a->modified_at_ms, now);
  EXPECT_EQ(series(points(kA, v("pm25"))),
            (std::vector<std::pair<int64_t, double>>{
                {kT0, 10}, {kT0 + 60000, 20}, {kT0 + 120000, 21}, {now, 22}}));
  EXPECT_TRUE(points(kA, v("label")).empty()) << "strings are not time series";

  auto created = broker_->get("urn:ngsi-ld:Sensor:new", kHue);
  ASSERT_TRUE(created) << "ingest creates a missing entity";
  EXPECT_TRUE(created->hasType(v("Sensor")));
  EXPECT_EQ(created->unit_code, "46");
  EXPECT_EQ(created->created_at_ms, now);
  EXPECT_FALSE(broker_->get("urn:ngsi-ld:Sensor:new", kHanoi));
  EXPECT_EQ(series(points("urn:ngsi-ld:Sensor:new", v("temperature"))),
            (std::vector<std::pair<int64_t, double>>{{now, 30.5}}));

  // Readings are not audited one by one.
  for (const auto& entry : audit()) EXPECT_EQ(entry.action, "entity.create") << entry.target;

  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(broker_->get(kA, kHue)->doc[v("pm25")]["value"], 22);
  EXPECT_TRUE(broker_->get("urn:ngsi-ld:Sensor:new", kHue));
  EXPECT_EQ(points(kA, v("pm25")).size(), 4u);
}

TEST_F(BrokerTest, FastAndSlowReportingEntitiesAreStoredAsLastPublished) {
  // A fast reporter's versions are serialized by the store's writer (only the last of a commit),
  // a slow one's by the ingesting thread: either way the store holds what readers saw last.
  mustCreate({{"id", kA}, {"type", "AirQualityObserved"}, {"pm25", prop(1)}});
  mustCreate({{"id", kB}, {"type", "AirQualityObserved"}, {"pm25", prop(1)}});
  clock_.advance(std::chrono::minutes(1));
  std::vector<std::future<core::Status>> acks;
  for (int i = 0; i < 40; ++i) {
    clock_.advance(std::chrono::milliseconds(5));  // kA: every 5 ms
    std::vector<Observation> obs{reading(kA, {{"pm25", prop(100 + i)}})};
    if (i % 20 == 0) obs.push_back(reading(kB, {{"pm25", prop(200 + i)}}));  // kB: now and then
    auto done = std::make_shared<std::promise<core::Status>>();
    acks.push_back(done->get_future());
    broker_->ingest(std::move(obs), kHue, [done](core::Status s) { done->set_value(s); });
  }
  for (auto& ack : acks) ASSERT_TRUE(ack.get().ok());
  const json a = broker_->get(kA, kHue)->doc, b = broker_->get(kB, kHue)->doc;
  EXPECT_EQ(a[v("pm25")]["value"], 139);
  EXPECT_EQ(b[v("pm25")]["value"], 220);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(broker_->get(kA, kHue)->doc, a);
  EXPECT_EQ(broker_->get(kB, kHue)->doc, b);
  EXPECT_EQ(points(kA, v("pm25")).size(), 41u) << "every reading is a point";
}

TEST_F(BrokerTest, IngestSkipsOtherUnitsEntities) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(10)}}, kHanoi);
  auto s = ingest({reading(kA, {{"pm25", prop(99)}})}, kHue);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(broker_->get(kA, kHanoi)->doc[v("pm25")]["value"], 10);
  EXPECT_EQ(points(kA, v("pm25")).size(), 1u);
  // An empty batch completes too.
  EXPECT_TRUE(ingest({}).ok());
}

// ---------------------------------------------------------------------------------------------
// Time-series points

TEST_F(BrokerTest, PointsForEveryKindOfWrite) {
  // create: numeric Properties only, at observedAt or the creation time.
  mustCreate({{"id", kA},
              {"type", "T"},
              {"pm25", propAt(10, "2026-03-01T07:00:00Z")},
              {"no2", prop(20)},
              {"label", prop("x")},
              {"ok", prop(true)},
              {"ref", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:D:1"}}},
              {"location", point(1, 2)}});
  EXPECT_EQ(series(points(kA, v("pm25"))),
            (std::vector<std::pair<int64_t, double>>{{kT0 - kHour, 10}}));
  EXPECT_EQ(series(points(kA, v("no2"))), (std::vector<std::pair<int64_t, double>>{{kT0, 20}}));
  EXPECT_EQ(points(kA).size(), 2u) << "only numeric Properties become points";

  // merge: the attributes it wrote.
  clock_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(
      broker_->mergeAttrs(kA, attrs({{"pm25", prop(11)}}), MergeMode::kAppend, kHue, actor_).ok());
  EXPECT_EQ(series(points(kA, v("pm25"))),
            (std::vector<std::pair<int64_t, double>>{{kT0 - kHour, 10}, {kT0 + 60000, 11}}));
  EXPECT_EQ(points(kA, v("no2")).size(), 1u) << "no2 was not written";

  // patch: the patched attribute; a new observedAt is used.
  clock_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(broker_
                  ->patchAttr(kA, v("no2"), {{"value", 21}, {"observedAt", "2026-03-01T08:01:30Z"}},
                              *TermMap::core(), kHue, actor_)
                  .ok());
  EXPECT_EQ(series(points(kA, v("no2"))),
            (std::vector<std::pair<int64_t, double>>{{kT0, 20}, {kT0 + 90000, 21}}));

  // batch: every attribute the request carries.
  clock_.advance(std::chrono::minutes(1));
  auto b = broker_->batch(
      Broker::BatchKind::kUpsertUpdate,
      results({parse({{"id", kA}, {"type", "T"}, {"pm25", prop(12)}}),
               parse({{"id", kB}, {"type", "T"}, {"pm25", propAt(1.5, "2026-03-01T06:00:00Z")}})}),
      kHue, actor_);
  ASSERT_FALSE(b[0].error);
  ASSERT_FALSE(b[1].error);
  EXPECT_EQ(series(points(kA, v("pm25"))).back(), std::make_pair(kT0 + 180000, 12.0));
  EXPECT_EQ(points(kA, v("pm25")).size(), 3u);
  EXPECT_EQ(points(kA, v("no2")).size(), 2u);
  EXPECT_EQ(series(points(kB, v("pm25"))),
            (std::vector<std::pair<int64_t, double>>{{kT0 - 2 * kHour, 1.5}}));

  // Points survive a reopen, and time filters work on them.
  ASSERT_NO_FATAL_FAILURE(reopen());
  storage::PointQuery q;
  q.entity_id = kA;
  q.attribute = v("pm25");
  q.from_ms = kT0;
  auto after = store_->queryPoints(q);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
  q.from_ms = INT64_MIN;
  q.last_n = 1;
  auto last = store_->queryPoints(q);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].value, 12);
}

TEST_F(BrokerTest, MergingOneInstanceAddsNoPointForTheOthers) {
  // speed has a default instance and a radar one; updating only the radar instance must not
  // record the untouched default instance again.
  mustCreate({{"id", kA},
              {"type", "T"},
              {"speed",
               {propAt(40, "2026-03-01T07:00:00Z"),
                {{"type", "Property"}, {"value", 41}, {"datasetId", "urn:ngsi-ld:ds:radar"}}}}});
  ASSERT_EQ(points(kA, v("speed")).size(), 2u);
  clock_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(
      broker_
          ->mergeAttrs(kA,
                       attrs({{"speed", {{"value", 45}, {"datasetId", "urn:ngsi-ld:ds:radar"}}}}),
                       MergeMode::kAppend, kHue, actor_)
          .ok());
  auto ps = series(points(kA, v("speed")));
  EXPECT_EQ(ps.size(), 3u) << "one new point (45) expected";
  EXPECT_EQ(std::count(ps.begin(), ps.end(), std::make_pair(kT0 - kHour, 40.0)), 1)
      << "the default instance's reading was recorded twice";
}

TEST_F(BrokerTest, BatchUpdateRecordsOnlyWhatItChanged) {
  mustCreate(
      {{"id", kA}, {"type", "T"}, {"pm25", propAt(10, "2026-03-01T07:00:00Z")}, {"no2", prop(20)}});
  clock_.advance(std::chrono::minutes(1));
  // noOverwrite: pm25 exists and is kept, so its old reading is not a new point.
  auto r = broker_->batch(
      Broker::BatchKind::kUpdateNoOverwrite,
      results({parse({{"id", kA}, {"type", "T"}, {"pm25", prop(99)}, {"o3", prop(3)}})}), kHue,
      actor_);
  ASSERT_FALSE(r[0].error);
  EXPECT_EQ(points(kA, v("o3")).size(), 1u);
  EXPECT_EQ(points(kA, v("pm25")).size(), 1u) << "pm25 was not changed but got a point";
  // An update that carries no attributes changes nothing and records nothing.
  auto empty = broker_->batch(Broker::BatchKind::kUpdate,
                              results({parse({{"id", kA}, {"type", "T"}})}), kHue, actor_);
  ASSERT_FALSE(empty[0].error);
  EXPECT_EQ(points(kA, v("no2")).size(), 1u) << "an empty update re-recorded no2";
}

// ---------------------------------------------------------------------------------------------
// Queries

class BrokerQueryTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    // Huế: three stations and a parking lot; Hà Nội: one station; a ward station in Thuận Hoá.
    mustCreate({{"id", "urn:ngsi-ld:AQ:hue-1"},
                {"type", "AQ"},
                {"pm25", prop(10)},
                {"location", point(107.590, 16.460)}});
    mustCreate({{"id", "urn:ngsi-ld:AQ:hue-2"},
                {"type", "AQ"},
                {"pm25", prop(40)},
                {"location", point(107.600, 16.470)}});
    mustCreate({{"id", "urn:ngsi-ld:AQ:hue-3"},
                {"type", "AQ"},
                {"no2", prop(5)},
                {"location", point(107.700, 16.500)}});
    mustCreate(
        {{"id", "urn:ngsi-ld:Parking:hue-1"}, {"type", {"Parking", "AQ"}}, {"free", prop(12)}});
    mustCreate({{"id", "urn:ngsi-ld:AQ:hn-1"},
                {"type", "AQ"},
                {"pm25", prop(80)},
                {"location", point(105.85, 21.03)}},
               kHanoi);
    mustCreate({{"id", "urn:ngsi-ld:AQ:ward-1"}, {"type", "AQ"}, {"pm25", prop(25)}}, kWard);
  }
  std::shared_ptr<const ngsild::Query> q(const std::string& text) {
    auto parsed =
        ngsild::parseQuery(text, [](std::string_view t) { return TermMap::core()->expand(t); });
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? *parsed : nullptr;
  }
};

TEST_F(BrokerQueryTest, TypesIdsPatternAndVisibility) {
  auto hue = broker_->query(Q().types({v("AQ")}), kHue);
  EXPECT_EQ(ids(hue), (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-1", "urn:ngsi-ld:AQ:hue-2",
                                                "urn:ngsi-ld:AQ:hue-3", "urn:ngsi-ld:AQ:ward-1",
                                                "urn:ngsi-ld:Parking:hue-1"}));
  EXPECT_EQ(hue.total, 5u);
  EXPECT_EQ(broker_->query(Q().types({v("AQ")}), kNational).total, 6u);
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}), kHanoi)),
            std::vector<std::string>{"urn:ngsi-ld:AQ:hn-1"});
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}), kWard)),
            std::vector<std::string>{"urn:ngsi-ld:AQ:ward-1"});
  EXPECT_EQ(broker_->query(Q().types({v("Parking"), v("AQ")}), kHue).total, 5u) << "no duplicates";
  EXPECT_EQ(ids(broker_->query(Q().types({v("Parking")}), kHue)),
            std::vector<std::string>{"urn:ngsi-ld:Parking:hue-1"});
  EXPECT_EQ(broker_->query(Q().types({v("Nothing")}), kHue).total, 0u);

  EXPECT_EQ(ids(broker_->query(Q().ids({"urn:ngsi-ld:AQ:hue-2", "urn:ngsi-ld:AQ:hn-1"}), kHue)),
            std::vector<std::string>{"urn:ngsi-ld:AQ:hue-2"});
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).id_pattern("hue-[12]$"), kHue)),
            (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-1", "urn:ngsi-ld:AQ:hue-2",
                                      "urn:ngsi-ld:Parking:hue-1"}));
  EXPECT_EQ(broker_->query(Q().id_pattern("^urn:ngsi-ld:AQ:"), kNational).total, 5u);
  EXPECT_EQ(broker_->query(Q(), kNational).total, 6u);
}

TEST_F(BrokerQueryTest, QAttrsAndPaging) {
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).q_(q("pm25>20")), kHue)),
            (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-2", "urn:ngsi-ld:AQ:ward-1"}));
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).q_(q("pm25>20;pm25<30")), kNational)),
            std::vector<std::string>{"urn:ngsi-ld:AQ:ward-1"});
  EXPECT_EQ(broker_->query(Q().q_(q("!pm25")), kHue).total, 2u);

  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).attrs({v("no2"), v("free")}), kHue)),
            (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-3", "urn:ngsi-ld:Parking:hue-1"}));

  auto p1 = broker_->query(Q().types({v("AQ")}).limit(2).offset(0), kHue);
  auto p2 = broker_->query(Q().types({v("AQ")}).limit(2).offset(2), kHue);
  auto p3 = broker_->query(Q().types({v("AQ")}).limit(2).offset(4), kHue);
  auto p4 = broker_->query(Q().types({v("AQ")}).limit(2).offset(10), kHue);
  EXPECT_EQ(ids(p1), (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-1", "urn:ngsi-ld:AQ:hue-2"}));
  EXPECT_EQ(ids(p2), (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-3", "urn:ngsi-ld:AQ:ward-1"}));
  EXPECT_EQ(ids(p3), std::vector<std::string>{"urn:ngsi-ld:Parking:hue-1"});
  EXPECT_TRUE(p4.items.empty());
  for (const auto* p : {&p1, &p2, &p3, &p4}) EXPECT_EQ(p->total, 5u);
  // Without count the walk stops at a full page: the same items, a total no larger than needed.
  auto fast = broker_->query(Q().types({v("AQ")}).limit(2).offset(2).noCount(), kHue);
  ASSERT_EQ(fast.items.size(), 2u);
  EXPECT_EQ(fast.items[0]->id, p2.items[0]->id);
  EXPECT_EQ(fast.items[1]->id, p2.items[1]->id);
  EXPECT_EQ(fast.total, 4u);
  auto count_only = broker_->query(Q().types({v("AQ")}).limit(0), kHue);
  EXPECT_TRUE(count_only.items.empty());
  EXPECT_EQ(count_only.total, 5u);
}

TEST_F(BrokerQueryTest, GeoQueries) {
  auto geom = ngsild::geo::parseQueryGeometry("Point", "[107.59,16.46]");
  ASSERT_TRUE(geom.ok());
  auto near = ngsild::geo::parseGeoRel("near;maxDistance==2000");
  ASSERT_TRUE(near.ok());
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).geo(GeoFilter{*near, *geom, ""}), kNational)),
            (std::vector<std::string>{"urn:ngsi-ld:AQ:hue-1", "urn:ngsi-ld:AQ:hue-2"}));
  auto far = ngsild::geo::parseGeoRel("near;minDistance==5000");
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(ids(broker_->query(Q().types({v("AQ")}).geo(GeoFilter{*far, *geom, ""}), kHue)),
            std::vector<std::string>{"urn:ngsi-ld:AQ:hue-3"})
      << "Hà Nội is far but invisible; entities without location never match";
  auto box = ngsild::geo::parseQueryGeometry(
      "Polygon", "[[[107.5,16.4],[107.65,16.4],[107.65,16.49],[107.5,16.49],[107.5,16.4]]]");
  ASSERT_TRUE(box.ok());
  auto within = ngsild::geo::parseGeoRel("within");
  ASSERT_TRUE(within.ok());
  EXPECT_EQ(broker_->query(Q().geo(GeoFilter{*within, *box, kNs + "location"}), kNational).total,
            2u);
  EXPECT_EQ(broker_->query(Q().geo(GeoFilter{*within, *box, v("other")}), kNational).total, 0u);
}

TEST_F(BrokerQueryTest, TypesAndAttributesPerUnit) {
  EXPECT_EQ(broker_->types(kHue), (std::vector<std::string>{v("AQ"), v("Parking")}));
  EXPECT_EQ(broker_->types(kHanoi), std::vector<std::string>{v("AQ")});
  EXPECT_EQ(broker_->types(kWard), std::vector<std::string>{v("AQ")});
  auto hue = broker_->attributes(kHue);
  EXPECT_EQ(hue, (std::vector<std::string>{v("free"), v("no2"), v("pm25"), kNs + "location"}));
  EXPECT_EQ(broker_->attributes(kWard), std::vector<std::string>{v("pm25")});
}

// ---------------------------------------------------------------------------------------------
// Durability

TEST_F(BrokerTest, ReloadRestoresEverything) {
  mustCreate({{"id", kA},
              {"type", {"AQ", "Station"}},
              {"pm25", {{"type", "Property"}, {"value", 10}, {"unitCode", "GQ"}}},
              {"location", point(107.59, 16.46)}});
  mustCreate({{"id", kB}, {"type", "AQ"}, {"pm25", prop(1)}}, kWard);
  mustCreate({{"id", kC}, {"type", "AQ"}}, kHanoi);
  clock_.advance(std::chrono::minutes(2));
  ASSERT_TRUE(
      broker_->patchAttr(kA, v("pm25"), {{"value", 48}}, *TermMap::core(), kHue, actor_).ok());
  ASSERT_TRUE(
      broker_->mergeAttrs(kA, attrs({{"no2", prop(3)}}), MergeMode::kAppend, kHue, actor_).ok());
  ASSERT_TRUE(broker_->remove(kC, kHanoi, actor_).ok());
  const json doc_before = broker_->get(kA, kHue)->doc;

  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(broker_->size(), 2u);
  auto a = broker_->get(kA, kHue);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->doc, doc_before);
  EXPECT_EQ(a->unit_code, "46");
  EXPECT_EQ(a->created_at_ms, kT0);
  EXPECT_EQ(a->modified_at_ms, kT0 + 120000);
  EXPECT_EQ(a->doc[v("pm25")]["unitCode"], "GQ");
  EXPECT_FALSE(broker_->get(kA, kHanoi)) << "ownership survives the reload";
  EXPECT_FALSE(broker_->get(kC, kNational)) << "a deleted entity came back";
  EXPECT_TRUE(broker_->get(kB, kWard));
  EXPECT_EQ(broker_->query(Q().types({v("Station")}), kHue).total, 1u) << "type index rebuilt";
  EXPECT_EQ(broker_->query(Q().types({v("AQ")}), kHue).total, 2u);
  auto geom = ngsild::geo::parseQueryGeometry("Point", "[107.59,16.46]");
  auto near = ngsild::geo::parseGeoRel("near;maxDistance==10");
  ASSERT_TRUE(geom.ok() && near.ok());
  EXPECT_EQ(broker_->query(Q().geo(GeoFilter{*near, *geom, ""}), kHue).total, 1u);
}

// ---------------------------------------------------------------------------------------------
// Audit

TEST_F(BrokerTest, AuditEntriesForChanges) {
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(1)}});
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(
      broker_->mergeAttrs(kA, attrs({{"pm25", prop(2)}}), MergeMode::kAppend, kHue, actor_).ok());
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(
      broker_->patchAttr(kA, v("pm25"), {{"value", 3}}, *TermMap::core(), kHue, actor_).ok());
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(broker_->deleteAttr(kA, v("pm25"), "", true, kHue, actor_).ok());
  clock_.advance(std::chrono::seconds(1));
  broker_->batch(Broker::BatchKind::kCreate,
                 results({parse({{"id", kB}, {"type", "T"}}), parse({{"id", kC}, {"type", "T"}})}),
                 kHue, actor_);
  clock_.advance(std::chrono::seconds(1));
  broker_->batchDelete({kB, kC}, kHue, actor_);
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(broker_->remove(kA, kHue, actor_).ok());

  auto entries = audit();
  ASSERT_EQ(entries.size(), 7u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"entity.create", kA}, {"entity.update", kA},        {"entity.update", kA},
      {"entity.update", kA}, {"entity.batch", "entities"}, {"entity.batch_delete", "entities"},
      {"entity.delete", kA}};
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].action, expected[i].first) << i;
    EXPECT_EQ(entries[i].target, expected[i].second) << i;
    EXPECT_EQ(entries[i].actor, "key:test") << i;
    EXPECT_EQ(entries[i].role, "integration") << i;
    EXPECT_EQ(entries[i].unit, "46") << i;
    EXPECT_EQ(entries[i].request_id, "req-1") << i;
    EXPECT_EQ(entries[i].at_ms, kT0 + static_cast<int64_t>(i) * 1000) << i;
    EXPECT_EQ(entries[i].seq, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(json::parse(entries[4].detail), json({{"entities", 2}}));
  EXPECT_EQ(json::parse(entries[5].detail), json({{"entities", 2}}));
}

TEST_F(BrokerTest, ChangeListenersHearCommittedChangesWithBothVersions) {
  std::mutex mu;
  std::vector<EntityChange> heard;
  broker_->addChangeListener([&](const std::vector<EntityChange>& changes) {
    std::lock_guard lock(mu);
    heard.insert(heard.end(), changes.begin(), changes.end());
  });
  mustCreate({{"id", kA}, {"type", "T"}, {"pm25", prop(10)}});
  ASSERT_TRUE(
      broker_->patchAttr(kA, v("pm25"), {{"value", 11}}, *TermMap::core(), kHue, actor_).ok());
  ASSERT_TRUE(ingest({reading(kB, {{"pm25", prop(5)}})}).ok());
  ASSERT_TRUE(broker_->remove(kA, kHue, actor_).ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(heard.size(), 4u);
  EXPECT_EQ(heard[0].id, kA);
  EXPECT_FALSE(heard[0].before);
  EXPECT_EQ(heard[0].after->doc[v("pm25")]["value"], 10);
  EXPECT_EQ(heard[1].before->doc[v("pm25")]["value"], 10);
  EXPECT_EQ(heard[1].after->doc[v("pm25")]["value"], 11);
  EXPECT_EQ(heard[2].id, kB);
  EXPECT_FALSE(heard[2].before);
  EXPECT_EQ(heard[3].id, kA);
  EXPECT_EQ(heard[3].before->doc[v("pm25")]["value"], 11);
  EXPECT_FALSE(heard[3].after);
}

//! Records what a listener heard, by entity id and the value of pm25 after (-1: none).
struct Heard {
  std::mutex mu;
  std::vector<std::pair<std::string, int>> changes;
  size_t points = 0;
  void add(const std::vector<EntityChange>& batch) {
    std::lock_guard lock(mu);
    for (const auto& c : batch) {
      changes.emplace_back(c.id, c.after ? c.after->doc[v("pm25")]["value"].get<int>() : -1);
    }
  }
  std::vector<std::pair<std::string, int>> seen() {
    std::lock_guard lock(mu);
    return changes;
  }
};

TEST_F(BrokerTest, PublishedListenersHearBeforeTheCommitAndHearAFailedCommitUndone) {
  Heard published, durable;
  broker_->addChangeListener([&](const auto& b) { published.add(b); }, Broker::Moment::kPublished);
  broker_->addPointListener(
      [&](const auto& ps) {
        std::lock_guard lock(published.mu);
        published.points += ps->size();
      },
      Broker::Moment::kPublished);
  broker_->addChangeListener([&](const auto& b) { durable.add(b); });

  // The writer is held by a job that waits: nothing can commit meanwhile.
  std::promise<void> release;
  std::promise<void> holding;
  store_->submitWrite(
      [&, gate = release.get_future().share()](storage::WriteTx&) {
        holding.set_value();
        gate.wait();
        return core::Status::success();
      },
      nullptr);
  holding.get_future().wait();
  std::promise<core::Status> created;
  broker_->createAsync(parse({{"id", kA}, {"type", "T"}, {"pm25", prop(10)}}), kHue, actor_,
                       [&](core::Status s) { created.set_value(std::move(s)); });
  using Seen = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(published.seen(), (Seen{{kA, 10}}));
  EXPECT_EQ(published.points, 1u);
  EXPECT_TRUE(durable.seen().empty());
  release.set_value();
  ASSERT_TRUE(created.get_future().get().ok());
  EXPECT_EQ(durable.seen(), (Seen{{kA, 10}}));

  // A commit that fails (a trigger added behind the store's back refuses kB's row): the version
  // published first is restored, and published listeners hear that as a change.
  sqlite3* side = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/ioc.db").c_str(), &side), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(side,
                         ("CREATE TRIGGER refuse_b BEFORE INSERT ON entities WHEN NEW.id = '" + kB +
                          "' BEGIN SELECT RAISE(ABORT, 'injected'); END")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(side);
  EXPECT_FALSE(
      broker_->create(parse({{"id", kB}, {"type", "T"}, {"pm25", prop(20)}}), kHue, actor_).ok());
  EXPECT_EQ(published.seen(), (Seen{{kA, 10}, {kB, 20}, {kB, -1}}));
  EXPECT_EQ(durable.seen(), (Seen{{kA, 10}}));
  EXPECT_FALSE(broker_->get(kB, kHue));
}

TEST_F(BrokerTest, SpatialIndexAgreesWithAFullScanThroughMovesAndDeletes) {
  // Every entity carries its position twice: `location` (indexed) and `where` (scanned). After
  // creations, moves, polygons and deletions, both must select the same entities.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> lon(107.50, 107.70), lat(16.40, 16.55);
  auto place = [&](int i, double x, double y) {
    json g = {{"type", "Point"}, {"coordinates", {x, y}}};
    if (i % 25 == 0) {  // a few areas, which the point grid does not hold
      g = {{"type", "Polygon"},
           {"coordinates", {{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y + 0.01}, {x, y}}}}};
    }
    json geo = {{"type", "GeoProperty"}, {"value", g}};
    return json{{"id", "urn:ngsi-ld:S:" + std::to_string(i)},
                {"type", "S"},
                {"location", geo},
                {"where", geo}};
  };
  std::vector<core::Result<Entity>> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(parse(place(i, lon(rng), lat(rng))));
  broker_->batch(Broker::BatchKind::kCreate, std::move(batch), kHue, actor_);
  std::vector<core::Result<Entity>> moves;
  for (int i = 0; i < 300; i += 3) moves.push_back(parse(place(i, lon(rng), lat(rng))));
  broker_->batch(Broker::BatchKind::kUpsertReplace, std::move(moves), kHue, actor_);
  for (int i = 1; i < 300; i += 7) {
    ASSERT_TRUE(broker_->remove("urn:ngsi-ld:S:" + std::to_string(i), kHue, actor_).ok());
  }
  reopen();  // the index is rebuilt from the store as well
  size_t nonempty = 0;
  for (const char* rel : {"near;maxDistance==1500", "within", "intersects"}) {
    for (int k = 0; k < 10; ++k) {
      const double x = lon(rng), y = lat(rng);
      auto geom =
          std::string(rel).rfind("near", 0) == 0
              ? ngsild::geo::parseQueryGeometry(
                    "Point", "[" + std::to_string(x) + "," + std::to_string(y) + "]")
              : ngsild::geo::parseQueryGeometry(
                    "Polygon", "[[[" + std::to_string(x) + "," + std::to_string(y) + "],[" +
                                   std::to_string(x + 0.03) + "," + std::to_string(y) + "],[" +
                                   std::to_string(x + 0.03) + "," + std::to_string(y + 0.03) +
                                   "],[" + std::to_string(x) + "," + std::to_string(y) + "]]]");
      auto r = ngsild::geo::parseGeoRel(rel);
      ASSERT_TRUE(geom.ok() && r.ok()) << rel;
      auto indexed =
          ids(broker_->query(Q().geo(GeoFilter{*r, *geom, kNs + "location"}).limit(1000), kHue));
      auto scanned =
          ids(broker_->query(Q().geo(GeoFilter{*r, *geom, v("where")}).limit(1000), kHue));
      EXPECT_EQ(indexed, scanned) << rel << " at " << x << "," << y;
      nonempty += indexed.empty() ? 0 : 1;
    }
  }
  EXPECT_GT(nonempty, 15u) << "the queries must actually select something";
}

}  // namespace
}  // namespace ioc::context
