#pragma once
// The context broker: the city's NGSI-LD entities in memory, durable in the store.
// Threads: reads take a shared lock and copy out immutable EntityPtrs; writes take the exclusive
// lock only to compute the new version and queue its durable write (so the store sees writes in
// the order memory does), then wait for the commit without the lock. Blocking: call writes from
// worker threads.
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "context/entity.h"
#include "core/clock.h"
#include "model/audit_entry.h"
#include "ngsild/geo.h"
#include "ngsild/query.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::context {

//! Whose view: entities of this unit and below; empty unit = the whole country.
struct Visibility {
  std::string unit_code;
};

struct GeoFilter {
  ngsild::geo::GeoRel rel;
  ngsild::geo::Geometry geometry;
  std::string geoproperty;  //!< expanded attribute name, default ngsi-ld:location
};

struct EntityQuery {
  std::vector<std::string> types;  //!< expanded; any of them
  std::vector<std::string> ids;
  std::optional<std::string> id_pattern;  //!< ECMAScript regex over the id
  std::shared_ptr<const ngsild::Query> q;
  std::optional<GeoFilter> geo;
  std::unordered_set<std::string> attrs;  //!< expanded; entity must have at least one
  size_t limit = 20;
  size_t offset = 0;
  bool count = false;  //!< the caller wants the total; otherwise the scan stops at a full page
};

struct QueryPage {
  std::vector<EntityPtr> items;
  size_t total = 0;
};

//! Readings for one entity from a device or telemetry line: attributes already normalized and
//! expanded (name → instance), as parseAttributes produces them.
struct Observation {
  std::string entity_id;
  std::string entity_type;  //!< expanded; used when the entity does not exist yet
  ioc::Json attrs;
  //! Derived values (city indices): dropped when the entity is gone, so that a value computed
  //! from readings of a since-deleted entity never brings it back.
  bool only_existing = false;
  //! The time-series points of `attrs`, when the producer already made them (the MQTT mapper,
  //! on the thread whose caches still hold the message); otherwise ingest derives them.
  std::optional<std::vector<model::Point>> points = std::nullopt;
};

//! One entity's outcome in a batch operation.
struct BatchItem {
  std::string id;
  bool created = false;
  std::optional<core::Error> error;
};

//! What the entities visible to a caller say about one entity type (GET /types?details=true,
//! GET /types/{type}). Names are expanded.
struct TypeStats {
  std::string type;
  size_t entity_count = 0;
  std::map<std::string, std::set<std::string>> attributes;  //!< name → attribute types
};

//! What the entities visible to a caller say about one attribute name (GET /attributes…).
struct AttributeStats {
  std::string name;
  size_t instance_count = 0;              //!< attribute instances (datasetIds count apart)
  std::set<std::string> attribute_types;  //!< Property, Relationship, GeoProperty, …
  std::set<std::string> entity_types;     //!< types of the entities that have it
};

//! One durable change: `before` is null for a creation, `after` null for a deletion.
struct EntityChange {
  std::string id;
  EntityPtr before;
  EntityPtr after;
};

class Broker {
 public:
  //! Hears of every committed change (on the store's writer thread, in commit order): it must
  //! only hand the change on (queue it), never block or call back into the broker's writes.
  using ChangeListener = std::function<void(const std::vector<EntityChange>&)>;

  Broker(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock);

  core::Status load();
  //! When a listener hears of a change. kDurable: once committed, on the store's writer thread,
  //! in commit order. kPublished: as soon as readers see the new version (before the commit,
  //! under the broker's lock, in the order of memory) — detection need not wait for the disk;
  //! if the commit then fails, change listeners hear of the restored version as a new change.
  enum class Moment { kDurable, kPublished };
  //! Before serving: listeners are not synchronized with running writes.
  void addChangeListener(ChangeListener listener, Moment when = Moment::kDurable);
  //! Every numeric reading of a write (several per entity when a batch carries successive
  //! readings, which one EntityChange folds together), after the change listeners of the same
  //! moment. The batch is shared and immutable: a listener may keep it without copying.
  using PointListener =
      std::function<void(const std::shared_ptr<const std::vector<model::Point>>&)>;
  void addPointListener(PointListener listener, Moment when = Moment::kDurable);
  size_t size() const;

  using Done = std::function<void(core::Status)>;
  using MergeDone = std::function<void(core::Result<MergeResult>)>;
  using BatchDone = std::function<void(std::vector<BatchItem>)>;

  // Writes come in two forms: blocking (worker threads, CLI) and asynchronous, whose callback
  // runs once the write is durable (on the store's writer thread: hand the result on, do not
  // block). The asynchronous forms let many requests share one group commit.
  core::Status create(Entity entity, const Visibility& who, const model::Actor& actor);
  void createAsync(Entity entity, const Visibility& who, const model::Actor& actor, Done done);
  void mergeAttrsAsync(const std::string& id, const ioc::Json& attrs, MergeMode mode,
                       const Visibility& who, const model::Actor& actor, MergeDone done);
  void patchAttrAsync(const std::string& id, const std::string& attr, const ioc::Json& fragment,
                      const TermMap& terms, const Visibility& who, const model::Actor& actor,
                      Done done);
  core::Result<MergeResult> mergeAttrs(const std::string& id, const ioc::Json& attrs,
                                       MergeMode mode, const Visibility& who,
                                       const model::Actor& actor);
  core::Status patchAttr(const std::string& id, const std::string& attr, const ioc::Json& fragment,
                         const TermMap& terms, const Visibility& who, const model::Actor& actor);
  core::Status deleteAttr(const std::string& id, const std::string& attr,
                          const std::string& dataset_id, bool all, const Visibility& who,
                          const model::Actor& actor);
  core::Status remove(const std::string& id, const Visibility& who, const model::Actor& actor);

  enum class BatchKind { kCreate, kUpsertReplace, kUpsertUpdate, kUpdate, kUpdateNoOverwrite };
  //! One durable commit for the whole batch; every entity gets its own outcome.
  std::vector<BatchItem> batch(BatchKind kind, std::vector<core::Result<Entity>> entities,
                               const Visibility& who, const model::Actor& actor);
  void batchAsync(BatchKind kind, std::vector<core::Result<Entity>> entities, const Visibility& who,
                  const model::Actor& actor, BatchDone done);
  std::vector<BatchItem> batchDelete(const std::vector<std::string>& ids, const Visibility& who,
                                     const model::Actor& actor);
  //! Telemetry path (MQTT, NDJSON): creates missing entities, merges readings, records their
  //! time-series points, all in one durable write; `done` runs after the commit (on the store's
  //! writer thread: hand the result on, do not block). Never blocks the caller. Readings are not
  //! audited one by one: the device's provisioning is. kBackground when nobody waits for `done`
  //! to answer a client (MQTT): the commit may then wait to share its rows with later readings.
  void ingest(std::vector<Observation> observations, const Visibility& who,
              std::function<void(core::Status)> done,
              storage::Store::Urgency urgency = storage::Store::Urgency::kAwaited);

  EntityPtr get(const std::string& id, const Visibility& who) const;
  QueryPage query(const EntityQuery& q, const Visibility& who) const;
  std::vector<std::string> types(const Visibility& who) const;
  std::vector<std::string> attributes(const Visibility& who) const;
  //! Per type / per attribute details over the visible entities, ordered by expanded name.
  std::vector<TypeStats> typeStats(const Visibility& who) const;
  std::optional<TypeStats> typeInfo(const std::string& type, const Visibility& who) const;
  std::vector<AttributeStats> attributeStats(const Visibility& who) const;
  std::optional<AttributeStats> attributeInfo(const std::string& name, const Visibility& who) const;

 private:
  bool visible(const Entity& e, const Visibility& who) const;
  bool matchesQuery(const Entity& e, const EntityQuery& q) const;
  void publish(const std::string& id, EntityPtr next);
  //! publish() with `it` = entities_.find(id), for a caller that has just looked it up.
  //! Entities by id. The indexes below view the ids held here (a node's key stays put until the
  //! node is erased) instead of copying them: 100,000 entities held 20 MB of copies.
  using EntityMap = std::map<std::string, EntityPtr, std::less<>>;
  //! Ids (views of EntityMap keys) → entities.
  using IdView = std::map<std::string_view, EntityPtr>;
  void publishAt(EntityMap::iterator it, const std::string& id, EntityPtr next);
  //! Entity count and attribute kinds of one type's entities visible to `who`.
  TypeStats statsOf(const std::string& type, const IdView& entities, const Visibility& who) const;
  //! Keeps the spatial index of `location` in step with a change (caller holds the lock); `id`
  //! is the key of the entity's node in entities_.
  void indexLocation(const std::string& id, const Entity* before, const Entity* after);
  //! Entities a geo-query on `location` can match, in id order; nullopt when the index cannot
  //! narrow it down (disjoint, minDistance, another geoproperty).
  std::optional<std::vector<EntityPtr>> geoCandidates(const GeoFilter& geo) const;
  using Versions = std::vector<std::pair<std::string, EntityPtr>>;
  //! Queues the durable write of `changes` (nullptr = delete) plus one audit entry; `previous`
  //! holds the versions they replace, index for index.
  std::future<core::Status> persist(const Versions& previous, Versions changes,
                                    model::AuditEntry audit, std::vector<model::Point> points = {});
  class PreparedRecords;
  //! Queues the write; returns its entity records, which the caller serializes (prepare()) once
  //! it has let go of the lock — else the store's writer thread does it.
  std::shared_ptr<PreparedRecords> submit(
      const Versions& previous, Versions changes, std::optional<model::AuditEntry> audit,
      std::vector<model::Point> points, std::function<void(core::Status)> done,
      storage::Store::Urgency urgency = storage::Store::Urgency::kAwaited);
  //! Unlocks `lock`, then serializes `records` on this thread.
  static void prepareUnlocked(std::unique_lock<std::shared_mutex>& lock,
                              const std::shared_ptr<PreparedRecords>& records);
  //! Restores previous versions after a failed commit (only if nobody changed them since).
  void rollback(const std::vector<std::pair<std::string, EntityPtr>>& previous,
                const std::vector<std::pair<std::string, EntityPtr>>& written);

  storage::Store& store_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  mutable std::shared_mutex mu_;
  EntityMap entities_;
  //! type → id → entity (the same pointers as entities_, so type queries need no id lookups).
  std::map<std::string, IdView> by_type_;
  //! Listeners by moment, indexed by Moment.
  std::vector<ChangeListener> listeners_[2];
  std::vector<PointListener> point_listeners_[2];
  // Spatial index over Point locations; entities located by other geometries are always checked.
  ngsild::geo::PointGrid grid_;
  std::unordered_map<std::string_view, uint32_t> grid_slot_;
  std::vector<const std::string*> grid_ids_;  //!< slot → entity id (null = free)
  std::vector<uint32_t> free_slots_;
  std::set<std::string> unindexed_located_;
};

}  // namespace ioc::context
