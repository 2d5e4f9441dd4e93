#include "context/broker.h"

#include <mutex>
#include <regex>

#include "core/json.h"
#include "core/log.h"

namespace ioc::context {

using core::Errc;
using core::makeError;
using json = ioc::Json;

namespace {

core::Error notFound(const std::string& id) {
  return makeError(Errc::kNotFound, "ResourceNotFound: no entity " + id);
}

std::vector<std::pair<std::string, EntityPtr>> one(const std::string& id, EntityPtr e) {
  return {{id, std::move(e)}};
}

const std::string& locationIri() {
  static const std::string iri = std::string(kNgsiLdNs) + "location";
  return iri;
}

//! The geometry of a GeoProperty attribute (its default instance).
std::optional<ngsild::geo::Geometry> geometryOf(const Entity& e, const std::string& attr) {
  auto it = e.doc.find(attr);
  if (it == e.doc.end()) return std::nullopt;
  const json& inst = it->is_array() ? (*it)[0] : *it;
  if (!inst.is_object() || inst.value("type", "") != "GeoProperty" || !inst.contains("value")) {
    return std::nullopt;
  }
  auto g = ngsild::geo::parseGeoJson(inst["value"]);
  if (!g.ok()) return std::nullopt;
  return std::move(*g);
}

}  // namespace

Broker::Broker(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock)
    : store_(store), units_(units), clock_(clock) {}

core::Status Broker::load() {
  std::unique_lock lock(mu_);
  size_t bad = 0;
  auto scanned = store_.scanEntities([&](model::EntityRecord&& r) {
    auto e = fromRecord(r);
    if (!e.ok()) {
      ++bad;
      return true;
    }
    auto ptr = std::make_shared<const Entity>(std::move(*e));
    publishAt(entities_.find(ptr->id), ptr->id, ptr);
    return true;
  });
  if (!scanned.ok()) return scanned;
  core::logInfo("entities loaded", {{"count", static_cast<int64_t>(entities_.size())},
                                    {"unreadable", static_cast<int64_t>(bad)}});
  return core::Status::success();
}

size_t Broker::size() const {
  std::shared_lock lock(mu_);
  return entities_.size();
}

bool Broker::visible(const Entity& e, const Visibility& who) const {
  if (who.unit_code.empty()) return true;
  return !e.unit_code.empty() && units_.isWithin(e.unit_code, who.unit_code);
}

void Broker::indexLocation(const std::string& id, const Entity* before, const Entity* after) {
  const std::string& loc = locationIri();
  auto where = [&](const Entity* e) -> const json* {
    if (!e) return nullptr;
    auto it = e->doc.find(loc);
    return it == e->doc.end() ? nullptr : &*it;
  };
  const json* old_loc = where(before);
  const json* new_loc = where(after);
  if (old_loc && new_loc && *old_loc == *new_loc)
    return;  // the usual update: a reading, not a move
  if (old_loc) {
    unindexed_located_.erase(id);
    if (auto s = grid_slot_.find(id); s != grid_slot_.end()) {
      grid_.remove(s->second);
      grid_ids_[s->second] = nullptr;
      free_slots_.push_back(s->second);
      grid_slot_.erase(s);
    }
  }
  if (!new_loc) return;
  auto g = geometryOf(*after, loc);
  if (g && g->type == ngsild::geo::GeometryType::kPoint && g->points.size() == 1) {
    uint32_t slot = 0;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<uint32_t>(grid_ids_.size());
      grid_ids_.push_back(nullptr);
    }
    if (grid_.insert(slot, g->points[0].lon, g->points[0].lat)) {
      grid_ids_[slot] = &id;
      grid_slot_[id] = slot;
      return;
    }
    free_slots_.push_back(slot);
  }
  unindexed_located_.insert(id);
}

std::optional<std::vector<EntityPtr>> Broker::geoCandidates(const GeoFilter& geo) const {
  using ngsild::geo::GeoRelOp;
  if (!geo.geoproperty.empty() && geo.geoproperty != locationIri()) return std::nullopt;
  if (geo.rel.op == GeoRelOp::kDisjoint) return std::nullopt;
  if (geo.rel.op == GeoRelOp::kNear && !geo.rel.max_distance_m) return std::nullopt;
  // A point matching any other relation lies inside the query geometry's box (widened by the
  // distance for near): the grid narrows, matchesQuery still decides exactly.
  ngsild::geo::BBox box = ngsild::geo::bbox(geo.geometry);
  if (geo.rel.op == GeoRelOp::kNear) box = ngsild::geo::expandBy(box, *geo.rel.max_distance_m);
  std::vector<std::string_view> ids;
  for (uint32_t slot : grid_.query(box)) ids.push_back(*grid_ids_[slot]);
  for (const auto& id : unindexed_located_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  std::vector<EntityPtr> out;
  out.reserve(ids.size());
  for (auto id : ids) {
    auto it = entities_.find(id);
    if (it != entities_.end()) out.push_back(it->second);
  }
  return out;
}

namespace {

//! The "type" member of a document: a string or an array of strings.
const json* typeMember(const Entity& e) {
  auto t = e.doc.find("type");
  return t == e.doc.end() ? nullptr : &*t;
}

}  // namespace

void Broker::publish(const std::string& id, EntityPtr next) {
  publishAt(entities_.find(id), id, std::move(next));
}

void Broker::publishAt(EntityMap::iterator it, const std::string& id, EntityPtr next) {
  if (it == entities_.end()) {
    if (!next) return;
    it = entities_.emplace(id, nullptr).first;  // the node whose key the indexes view
  }
  const std::string& key = it->first;
  const EntityPtr& current = it->second;
  indexLocation(key, current.get(), next.get());
  const json* types = next ? typeMember(*next) : nullptr;
  if (current && types && types->is_string()) {
    if (const json* old = typeMember(*current); old && *old == *types) {
      // The usual update keeps the type: both indexes already list the id, and the new version
      // takes the old one's place (no index node freed and made again, no search of the whole
      // entity map again).
      by_type_[types->get_ref<const std::string&>()][key] = next;
      it->second = std::move(next);
      return;
    }
  }
  if (current) {
    for (const auto& t : current->types()) {
      auto bt = by_type_.find(t);
      if (bt != by_type_.end()) {
        bt->second.erase(key);
        if (bt->second.empty()) by_type_.erase(bt);
      }
    }
  }
  if (!next) {
    entities_.erase(it);
    return;
  }
  for (const auto& t : next->types()) by_type_[t][key] = next;
  it->second = std::move(next);
}

//! The store records of one write's entity versions, each serialized once by whichever thread
//! asks first: the submitting thread after it lets go of the broker's lock, or the store's writer.
//! Serializing was a fifth of the writer's time, and the writer is the one serial stage of
//! ingestion. Versions likely to be replaced before they are committed can be left to the
//! writer, which serializes only the last version of an entity in one commit.
class Broker::PreparedRecords {
 public:
  explicit PreparedRecords(const Versions& versions)
      : versions_(versions),
        records_(versions.size()),
        once_(std::make_unique<std::once_flag[]>(versions.size())),
        left_(versions.size(), false) {}
  //! Serializes every version not left to the writer.
  void prepare() {
    for (size_t i = 0; i < versions_.size(); ++i) {
      if (!left_[i]) prepareOne(i);
    }
  }
  //! Versions i with left[i] are not for prepare(); call before it, on its thread.
  void leaveToWriter(std::vector<bool> left) { left_ = std::move(left); }
  //! Version i's record, moved out: the writer asks for each at most once.
  model::EntityRecord take(size_t i) {
    prepareOne(i);
    return std::move(records_[i]);
  }

 private:
  void prepareOne(size_t i) {
    std::call_once(once_[i], [this, i] {
      const auto& e = versions_[i].second;
      records_[i] = e ? toRecord(*e) : model::EntityRecord{};
    });
  }

  Versions versions_;
  std::vector<model::EntityRecord> records_;
  std::unique_ptr<std::once_flag[]> once_;
  std::vector<bool> left_;
};

void Broker::prepareUnlocked(std::unique_lock<std::shared_mutex>& lock,
                             const std::shared_ptr<PreparedRecords>& records) {
  lock.unlock();
  if (records) records->prepare();
}

std::future<core::Status> Broker::persist(const Versions& previous, Versions changes,
                                          model::AuditEntry audit,
                                          std::vector<model::Point> points) {
  auto done = std::make_shared<std::promise<core::Status>>();
  auto result = done->get_future();
  submit(previous, std::move(changes), std::move(audit), std::move(points),
         [done](core::Status s) { done->set_value(std::move(s)); });
  return result;
}

void Broker::addChangeListener(ChangeListener listener, Moment when) {
  listeners_[static_cast<int>(when)].push_back(std::move(listener));
}

void Broker::addPointListener(PointListener listener, Moment when) {
  point_listeners_[static_cast<int>(when)].push_back(std::move(listener));
}

namespace {
using Versions = std::vector<std::pair<std::string, EntityPtr>>;

//! The changes from one list of versions to another, index for index.
std::shared_ptr<std::vector<EntityChange>> changesOf(const Versions& from, const Versions& to) {
  auto batch = std::make_shared<std::vector<EntityChange>>();
  batch->reserve(to.size());
  for (size_t i = 0; i < to.size(); ++i)
    batch->push_back({to[i].first, from[i].second, to[i].second});
  return batch;
}
}  // namespace

std::shared_ptr<Broker::PreparedRecords> Broker::submit(const Versions& previous, Versions changes,
                                                        std::optional<model::AuditEntry> audit,
                                                        std::vector<model::Point> points_in,
                                                        std::function<void(core::Status)> done,
                                                        storage::Store::Urgency urgency) {
  auto points = std::make_shared<const std::vector<model::Point>>(std::move(points_in));
  const auto& published = listeners_[static_cast<int>(Moment::kPublished)];
  if (!published.empty()) {
    auto batch = changesOf(previous, changes);
    for (const auto& listener : published) listener(*batch);
  }
  if (!points->empty()) {
    for (const auto& listener : point_listeners_[static_cast<int>(Moment::kPublished)]) {
      listener(points);
    }
  }
  const auto& durable = listeners_[static_cast<int>(Moment::kDurable)];
  const auto& durable_points = point_listeners_[static_cast<int>(Moment::kDurable)];
  if (!durable.empty() || (!durable_points.empty() && !points->empty())) {
    // These listeners hear of a change once it is durable, in commit order (the writer thread's).
    auto batch = changesOf(previous, changes);
    done = [&durable, &durable_points, batch, points, done = std::move(done)](core::Status s) {
      if (s.ok()) {
        for (const auto& listener : durable) listener(*batch);
        if (!points->empty()) {
          for (const auto& listener : durable_points) listener(points);
        }
      }
      done(std::move(s));
    };
  }
  auto records = std::make_shared<PreparedRecords>(changes);
  store_.submitWrite(
      [changes = std::move(changes), audit = std::move(audit), points = std::move(points),
       records](storage::WriteTx& tx) -> core::Status {
        for (size_t i = 0; i < changes.size(); ++i) {
          const auto& [id, e] = changes[i];
          std::function<model::EntityRecord()> record;
          if (e) record = [records, i] { return records->take(i); };
          auto s = tx.stageEntity(id, std::move(record));
          if (s.ok() && !e) s = tx.deleteSeries(id);
          if (!s.ok()) return s;
        }
        if (!points->empty()) {
          if (auto s = tx.appendPoints(*points); !s.ok()) return s;
        }
        if (!audit) return core::Status::success();
        auto seq = tx.appendAudit(*audit);
        return seq.ok() ? core::Status::success() : core::Status(seq.error());
      },
      std::move(done), urgency);
  return records;
}

void Broker::rollback(const std::vector<std::pair<std::string, EntityPtr>>& previous,
                      const std::vector<std::pair<std::string, EntityPtr>>& written) {
  std::unique_lock lock(mu_);
  Versions restored, replaced;
  for (size_t i = 0; i < written.size(); ++i) {
    auto it = entities_.find(written[i].first);
    EntityPtr now = it == entities_.end() ? nullptr : it->second;
    if (now != written[i].second) continue;  // changed again since: that version stands
    publish(previous[i].first, previous[i].second);
    replaced.push_back(written[i]);
    restored.push_back(previous[i]);
  }
  // Listeners that heard of the failed version hear of its undoing.
  if (restored.empty()) return;
  auto batch = changesOf(replaced, restored);
  for (const auto& listener : listeners_[static_cast<int>(Moment::kPublished)]) listener(*batch);
}

namespace {
//! Runs an async broker call and waits for its completion (for callers on worker threads).
template <typename T, typename Start>
T waitFor(Start start) {
  std::promise<T> done;
  auto result = done.get_future();
  start([&done](T value) { done.set_value(std::move(value)); });
  return result.get();
}
}  // namespace

core::Status Broker::create(Entity entity, const Visibility& who, const model::Actor& actor) {
  return waitFor<core::Status>(
      [&](Done done) { createAsync(std::move(entity), who, actor, std::move(done)); });
}

void Broker::createAsync(Entity entity, const Visibility& who, const model::Actor& actor,
                         Done done) {
  entity.unit_code = who.unit_code;
  auto next = std::make_shared<const Entity>(std::move(entity));
  const std::string id = next->id;
  std::unique_lock lock(mu_);
  if (entities_.count(id)) {
    lock.unlock();
    return done(makeError(Errc::kAlreadyExists, "AlreadyExists: " + id));
  }
  publish(id, next);
  std::vector<model::Point> points;
  collectPoints(id, next->doc, nullptr, next->created_at_ms, points);
  auto records =
      submit(one(id, nullptr), one(id, next),
             model::makeAuditEntry(actor, "entity.create", id, "", next->created_at_ms),
             std::move(points), [this, id, next, done = std::move(done)](core::Status s) {
               if (!s.ok()) rollback(one(id, nullptr), one(id, next));
               done(std::move(s));
             });
  prepareUnlocked(lock, records);
}

core::Result<MergeResult> Broker::mergeAttrs(const std::string& id, const json& attrs,
                                             MergeMode mode, const Visibility& who,
                                             const model::Actor& actor) {
  return waitFor<core::Result<MergeResult>>(
      [&](MergeDone done) { mergeAttrsAsync(id, attrs, mode, who, actor, std::move(done)); });
}

void Broker::mergeAttrsAsync(const std::string& id, const json& attrs, MergeMode mode,
                             const Visibility& who, const model::Actor& actor, MergeDone done) {
  std::unique_lock lock(mu_);
  auto it = entities_.find(id);
  if (it == entities_.end() || !visible(*it->second, who)) {
    lock.unlock();
    return done(notFound(id));
  }
  EntityPtr before = it->second;
  MergeResult result;
  Entity copy = mergedCopy(*before, attrs, mode, clock_.nowUnixMs(), result);
  if (result.updated.empty()) {  // nothing changed, nothing to store
    lock.unlock();
    return done(std::move(result));
  }
  auto next = std::make_shared<const Entity>(std::move(copy));
  publish(id, next);
  std::vector<model::Point> points;
  collectPoints(id, attrs, &result.updated, next->modified_at_ms, points);
  auto records = submit(one(id, before), one(id, next),
                        model::makeAuditEntry(actor, "entity.update", id, "", next->modified_at_ms),
                        std::move(points),
                        [this, id, before, next, result = std::move(result),
                         done = std::move(done)](core::Status s) mutable {
                          if (!s.ok()) {
                            rollback(one(id, before), one(id, next));
                            return done(s.error());
                          }
                          done(std::move(result));
                        });
  prepareUnlocked(lock, records);
}

core::Status Broker::patchAttr(const std::string& id, const std::string& attr, const json& fragment,
                               const TermMap& terms, const Visibility& who,
                               const model::Actor& actor) {
  return waitFor<core::Status>(
      [&](Done done) { patchAttrAsync(id, attr, fragment, terms, who, actor, std::move(done)); });
}

void Broker::patchAttrAsync(const std::string& id, const std::string& attr, const json& fragment,
                            const TermMap& terms, const Visibility& who, const model::Actor& actor,
                            Done done) {
  std::unique_lock lock(mu_);
  auto it = entities_.find(id);
  if (it == entities_.end() || !visible(*it->second, who)) {
    lock.unlock();
    return done(notFound(id));
  }
  EntityPtr before = it->second;
  Entity copy = *before;
  if (auto s = patchAttribute(copy, attr, fragment, terms, clock_.nowUnixMs()); !s.ok()) {
    lock.unlock();
    return done(std::move(s));
  }
  auto next = std::make_shared<const Entity>(std::move(copy));
  publish(id, next);
  std::vector<model::Point> points;
  const std::vector<std::string> names{attr};
  collectPoints(id, next->doc, &names, next->modified_at_ms, points);
  auto records =
      submit(one(id, before), one(id, next),
             model::makeAuditEntry(actor, "entity.update", id, "", next->modified_at_ms),
             std::move(points), [this, id, before, next, done = std::move(done)](core::Status s) {
               if (!s.ok()) rollback(one(id, before), one(id, next));
               done(std::move(s));
             });
  prepareUnlocked(lock, records);
}

core::Status Broker::deleteAttr(const std::string& id, const std::string& attr,
                                const std::string& dataset_id, bool all, const Visibility& who,
                                const model::Actor& actor) {
  EntityPtr before, next;
  std::future<core::Status> done;
  {
    std::unique_lock lock(mu_);
    auto it = entities_.find(id);
    if (it == entities_.end() || !visible(*it->second, who)) return notFound(id);
    before = it->second;
    Entity copy = *before;
    if (auto s = removeAttribute(copy, attr, dataset_id, all); !s.ok()) return s;
    copy.modified_at_ms = clock_.nowUnixMs();
    next = std::make_shared<const Entity>(std::move(copy));
    publish(id, next);
    done = persist(one(id, before), one(id, next),
                   model::makeAuditEntry(actor, "entity.update", id, "", next->modified_at_ms));
  }
  core::Status s = done.get();
  if (!s.ok()) rollback(one(id, before), one(id, next));
  return s;
}

core::Status Broker::remove(const std::string& id, const Visibility& who,
                            const model::Actor& actor) {
  EntityPtr before;
  std::future<core::Status> done;
  {
    std::unique_lock lock(mu_);
    auto it = entities_.find(id);
    if (it == entities_.end() || !visible(*it->second, who)) return notFound(id);
    before = it->second;
    publish(id, nullptr);
    done = persist(one(id, before), one(id, nullptr),
                   model::makeAuditEntry(actor, "entity.delete", id, "", clock_.nowUnixMs()));
  }
  core::Status s = done.get();
  if (!s.ok()) rollback(one(id, before), one(id, nullptr));
  return s;
}

std::vector<BatchItem> Broker::batch(BatchKind kind, std::vector<core::Result<Entity>> input,
                                     const Visibility& who, const model::Actor& actor) {
  return waitFor<std::vector<BatchItem>>(
      [&](BatchDone done) { batchAsync(kind, std::move(input), who, actor, std::move(done)); });
}

void Broker::batchAsync(BatchKind kind, std::vector<core::Result<Entity>> input,
                        const Visibility& who, const model::Actor& actor, BatchDone done) {
  std::vector<BatchItem> out(input.size());
  std::vector<std::pair<std::string, EntityPtr>> previous, written;
  std::vector<size_t> written_index;
  std::vector<model::Point> points;
  const int64_t now = clock_.nowUnixMs();
  {
    std::unique_lock lock(mu_);
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < input.size(); ++i) {
      if (!input[i].ok()) {
        out[i].error = input[i].error();
        continue;
      }
      Entity& in = *input[i];
      out[i].id = in.id;
      // Points for what this request writes: all its attributes for new or replaced entities,
      // only the merged ones for updates. Kept only if the entity is written.
      std::vector<model::Point> mine;
      if (!seen.insert(in.id).second) {
        out[i].error =
            makeError(Errc::kInvalidArgument, "BadRequestData: id repeated in the batch");
        continue;
      }
      auto it = entities_.find(in.id);
      const bool exists = it != entities_.end();
      if (exists && !visible(*it->second, who)) {
        out[i].error = makeError(Errc::kForbidden, "entity belongs to another unit");
        continue;
      }
      EntityPtr before = exists ? it->second : nullptr;
      Entity next;
      if (kind == BatchKind::kCreate) {
        if (exists) {
          out[i].error = makeError(Errc::kAlreadyExists, "AlreadyExists: " + in.id);
          continue;
        }
        next = std::move(in);
        next.unit_code = who.unit_code;
      } else if (kind == BatchKind::kUpdate || kind == BatchKind::kUpdateNoOverwrite) {
        if (!exists) {
          out[i].error = notFound(in.id);
          continue;
        }
        json attrs = std::move(in.doc);
        attrs.erase("id");
        attrs.erase("type");
        MergeResult merged;
        next = mergedCopy(
            *before, attrs,
            kind == BatchKind::kUpdate ? MergeMode::kAppend : MergeMode::kAppendNoOverwrite, now,
            merged);
        collectPoints(next.id, attrs, &merged.updated, now, mine);
      } else if (!exists) {  // upsert of a new entity
        next = std::move(in);
        next.unit_code = who.unit_code;
        out[i].created = true;
      } else if (kind == BatchKind::kUpsertReplace) {
        next = std::move(in);
        next.unit_code = before->unit_code;
        next.created_at_ms = before->created_at_ms;
      } else {  // upsert with options=update: merge attributes
        json attrs = std::move(in.doc);
        attrs.erase("id");
        attrs.erase("type");
        MergeResult merged;
        next = mergedCopy(*before, attrs, MergeMode::kAppend, now, merged);
        collectPoints(next.id, attrs, &merged.updated, now, mine);
      }
      if (kind == BatchKind::kCreate || kind == BatchKind::kUpsertReplace || out[i].created) {
        collectPoints(next.id, next.doc, nullptr, now, mine);
      }
      next.modified_at_ms = now;
      auto ptr = std::make_shared<const Entity>(std::move(next));
      points.insert(points.end(), mine.begin(), mine.end());
      previous.emplace_back(ptr->id, before);
      written.emplace_back(ptr->id, ptr);
      written_index.push_back(i);
      if (kind == BatchKind::kCreate) out[i].created = true;
      publish(ptr->id, ptr);
    }
    if (written.empty()) {
      lock.unlock();
      return done(std::move(out));
    }
    json detail = {{"entities", written.size()}};
    auto audit = model::makeAuditEntry(actor, "entity.batch", "entities", detail.dump(), now);
    auto records = submit(previous, written, std::move(audit), std::move(points),
                          [this, previous, written, written_index = std::move(written_index),
                           out = std::move(out), done = std::move(done)](core::Status s) mutable {
                            if (!s.ok()) {
                              rollback(previous, written);
                              for (size_t i : written_index) out[i].error = s.error();
                            }
                            done(std::move(out));
                          });
    prepareUnlocked(lock, records);
  }
}

std::vector<BatchItem> Broker::batchDelete(const std::vector<std::string>& ids,
                                           const Visibility& who, const model::Actor& actor) {
  std::vector<BatchItem> out(ids.size());
  std::vector<std::pair<std::string, EntityPtr>> previous, written;
  std::vector<size_t> written_index;
  std::future<core::Status> done;
  {
    std::unique_lock lock(mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      out[i].id = ids[i];
      if (!isValidEntityId(ids[i])) {
        out[i].error = makeError(Errc::kInvalidArgument, "BadRequestData: entity id must be a URI");
        continue;
      }
      auto it = entities_.find(ids[i]);
      if (it == entities_.end() || !visible(*it->second, who)) {
        out[i].error = notFound(ids[i]);
        continue;
      }
      previous.emplace_back(ids[i], it->second);
      written.emplace_back(ids[i], nullptr);
      written_index.push_back(i);
      publish(ids[i], nullptr);
    }
    if (written.empty()) return out;
    json detail = {{"entities", written.size()}};
    done = persist(previous, written,
                   model::makeAuditEntry(actor, "entity.batch_delete", "entities", detail.dump(),
                                         clock_.nowUnixMs()));
  }
  core::Status s = done.get();
  if (!s.ok()) {
    rollback(previous, written);
    for (size_t i : written_index) out[i].error = s.error();
  }
  return out;
}

namespace {
//! An entity updated again within this time is likely updated again before its commit (store
//! commits take tens of milliseconds under load).
constexpr int64_t kHotMs = 50;
}  // namespace

void Broker::ingest(std::vector<Observation> observations, const Visibility& who,
                    std::function<void(core::Status)> done, storage::Store::Urgency urgency) {
  // Shared with the completion (which restores `previous` if the commit fails), not copied.
  auto versions = std::make_shared<std::pair<Versions, Versions>>();
  auto& [previous, written] = *versions;
  std::vector<model::Point> points;
  const int64_t now = clock_.nowUnixMs();
  {
    std::unique_lock lock(mu_);
    // Several observations may update one entity (successive readings): each yields its points;
    // the first version is what a failed commit restores, the last is what is written.
    std::unordered_map<std::string_view, size_t> slot;  // ids live in `observations`
    std::vector<bool> hot;                              // by slot: updated less than kHotMs ago
    size_t readings = 0;
    for (const auto& obs : observations) readings += obs.attrs.size();
    points.reserve(readings);  // at most one point per attribute given
    for (auto& obs : observations) {
      auto it = entities_.find(obs.entity_id);
      EntityPtr before = it == entities_.end() ? nullptr : it->second;
      if (before && !visible(*before, who)) continue;  // not this device's to update
      if (!before && obs.only_existing) continue;
      // Appending updates every attribute given: its points are taken before the attributes
      // move into the new version.
      if (obs.points) {
        points.insert(points.end(), std::make_move_iterator(obs.points->begin()),
                      std::make_move_iterator(obs.points->end()));
      } else {
        collectPoints(obs.entity_id, obs.attrs, nullptr, now, points);
      }
      Entity next;
      if (before) {
        next = mergedCopy(*before, std::move(obs.attrs), MergeMode::kAppend, now);
      } else {
        next.id = obs.entity_id;
        next.unit_code = who.unit_code;
        next.created_at_ms = now;
        next.doc["id"] = obs.entity_id;
        next.doc["type"] = obs.entity_type;
        mergeAttributes(next, obs.attrs, MergeMode::kAppend, now);
      }
      next.modified_at_ms = now;
      auto ptr = std::make_shared<const Entity>(std::move(next));
      auto [pos, fresh] = slot.emplace(obs.entity_id, written.size());
      if (fresh) {
        hot.push_back(before && now - before->modified_at_ms < kHotMs);
        previous.emplace_back(obs.entity_id, before);
        written.emplace_back(obs.entity_id, ptr);
      } else {
        written[pos->second].second = ptr;
      }
      publishAt(it, obs.entity_id, ptr);
    }
    if (written.empty()) {
      lock.unlock();
      if (done) done(core::Status::success());
      return;
    }
    auto records = submit(
        previous, written, std::nullopt, std::move(points),
        [this, versions, done = std::move(done)](core::Status s) {
          if (!s.ok()) rollback(versions->first, versions->second);
          if (done) done(std::move(s));
        },
        urgency);
    // A version of an entity that reports faster than commits happen will likely be replaced
    // before its commit, and the writer serializes only the last one: those are left to the
    // writer. The others are serialized here, while they are still in this core's cache.
    records->leaveToWriter(std::move(hot));
    prepareUnlocked(lock, records);
  }
}

EntityPtr Broker::get(const std::string& id, const Visibility& who) const {
  std::shared_lock lock(mu_);
  auto it = entities_.find(id);
  if (it == entities_.end() || !visible(*it->second, who)) return nullptr;
  return it->second;
}

bool Broker::matchesQuery(const Entity& e, const EntityQuery& q) const {
  if (!q.ids.empty() && std::find(q.ids.begin(), q.ids.end(), e.id) == q.ids.end()) return false;
  if (!q.types.empty() && std::none_of(q.types.begin(), q.types.end(),
                                       [&](const std::string& t) { return e.hasType(t); })) {
    return false;
  }
  if (!q.attrs.empty() && std::none_of(q.attrs.begin(), q.attrs.end(),
                                       [&](const std::string& a) { return e.doc.contains(a); })) {
    return false;
  }
  if (q.q && !ngsild::matches(*q.q, e.doc)) return false;
  if (q.geo) {
    auto g = geometryOf(e, q.geo->geoproperty.empty() ? locationIri() : q.geo->geoproperty);
    if (!g || !ngsild::geo::evaluate(q.geo->rel, *g, q.geo->geometry)) return false;
  }
  return true;
}

QueryPage Broker::query(const EntityQuery& q, const Visibility& who) const {
  std::optional<std::regex> pattern;
  if (q.id_pattern) {
    auto compiled = ngsild::compileSafePattern(*q.id_pattern);  // validated by the caller too
    if (!compiled.ok()) return {};
    pattern.emplace(std::move(*compiled));
  }
  QueryPage page;
  std::shared_lock lock(mu_);
  // Entities share a handful of unit codes: remember the last answer instead of walking the
  // unit hierarchy once per entity.
  const std::string* last_unit = nullptr;
  bool last_visible = false;
  auto seen = [&](const Entity& e) {
    if (!last_unit || *last_unit != e.unit_code) {
      last_unit = &e.unit_code;
      last_visible = visible(e, who);
    }
    return last_visible;
  };
  // Without count=true nobody needs the total, so the walk ends once the page is full.
  auto full = [&] { return !q.count && page.items.size() >= q.limit; };
  auto consider = [&](const EntityPtr& e) {
    if (!seen(*e) || !matchesQuery(*e, q)) return;
    if (pattern && !ngsild::safePatternMatches(*pattern, e->id)) return;
    if (page.total++ >= q.offset && page.items.size() < q.limit) page.items.push_back(e);
  };
  auto walk = [&](const auto& range, auto&& entityOf) {
    for (const auto& item : range) {
      if (full()) return;
      consider(entityOf(item));
    }
  };
  auto second = [](const auto& kv) -> const EntityPtr& { return kv.second; };
  if (q.geo && q.ids.empty()) {
    if (auto candidates = geoCandidates(*q.geo)) {
      walk(*candidates, [](const EntityPtr& e) -> const EntityPtr& { return e; });
      return page;
    }
  }
  if (!q.ids.empty() || q.types.empty()) {
    walk(entities_, second);
    return page;
  }
  // By type: walk the entities of the requested types in id order, without duplicates. One type
  // (the usual case) is walked in place; several are merged.
  if (q.types.size() == 1) {
    auto it = by_type_.find(q.types[0]);
    if (it != by_type_.end()) walk(it->second, second);
    return page;
  }
  std::map<std::string_view, EntityPtr> merged;
  for (const auto& t : q.types) {
    auto it = by_type_.find(t);
    if (it == by_type_.end()) continue;
    for (const auto& [id, e] : it->second) merged.emplace(id, e);
  }
  walk(merged, second);
  return page;
}

std::vector<std::string> Broker::types(const Visibility& who) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [type, ids] : by_type_) {
    if (std::any_of(ids.begin(), ids.end(),
                    [&](const auto& entry) { return visible(*entry.second, who); })) {
      out.push_back(type);
    }
  }
  return out;
}

std::vector<std::string> Broker::attributes(const Visibility& who) const {
  std::shared_lock lock(mu_);
  std::set<std::string> names;
  for (const auto& [id, e] : entities_) {
    if (!visible(*e, who)) continue;
    for (const auto& [name, _] : e->doc.items()) {
      if (name != "id" && name != "type") names.insert(name);
    }
  }
  return {names.begin(), names.end()};
}

namespace {

//! Calls visit(name, instance) for every attribute instance of an entity document.
template <class Visit>
void forEachInstance(const ioc::Json& doc, Visit&& visit) {
  for (const auto& [name, value] : doc.items()) {
    if (name == "id" || name == "type") continue;
    if (value.is_array()) {
      for (const auto& instance : value) visit(name, instance);
    } else {
      visit(name, value);
    }
  }
}

std::string attributeType(const ioc::Json& instance) {
  if (instance.is_object() && instance.contains("type") && instance["type"].is_string()) {
    return instance["type"].get<std::string>();
  }
  return "Property";
}

}  // namespace

TypeStats Broker::statsOf(const std::string& type, const IdView& entities,
                          const Visibility& who) const {
  TypeStats t{type, 0, {}};
  for (const auto& [id, ptr] : entities) {
    if (!visible(*ptr, who)) continue;
    ++t.entity_count;
    forEachInstance(ptr->doc, [&](const std::string& name, const ioc::Json& instance) {
      t.attributes[name].insert(attributeType(instance));
    });
  }
  return t;
}

std::vector<TypeStats> Broker::typeStats(const Visibility& who) const {
  std::shared_lock lock(mu_);
  std::vector<TypeStats> out;
  for (const auto& [type, entities] : by_type_) {
    TypeStats t = statsOf(type, entities, who);
    if (t.entity_count > 0) out.push_back(std::move(t));
  }
  return out;
}

std::optional<TypeStats> Broker::typeInfo(const std::string& type, const Visibility& who) const {
  std::shared_lock lock(mu_);
  auto it = by_type_.find(type);
  if (it == by_type_.end()) return std::nullopt;
  TypeStats t = statsOf(type, it->second, who);
  if (t.entity_count == 0) return std::nullopt;
  return t;
}

std::vector<AttributeStats> Broker::attributeStats(const Visibility& who) const {
  std::shared_lock lock(mu_);
  std::map<std::string, AttributeStats> by_name;
  for (const auto& [id, e] : entities_) {
    if (!visible(*e, who)) continue;
    const auto types = e->types();
    forEachInstance(e->doc, [&](const std::string& name, const ioc::Json& instance) {
      AttributeStats& a = by_name[name];
      a.name = name;
      ++a.instance_count;
      a.attribute_types.insert(attributeType(instance));
      a.entity_types.insert(types.begin(), types.end());
    });
  }
  std::vector<AttributeStats> out;
  out.reserve(by_name.size());
  for (auto& [_, a] : by_name) out.push_back(std::move(a));
  return out;
}

std::optional<AttributeStats> Broker::attributeInfo(const std::string& name,
                                                    const Visibility& who) const {
  std::shared_lock lock(mu_);
  AttributeStats a{name, 0, {}, {}};
  for (const auto& [id, e] : entities_) {
    if (!visible(*e, who) || !e->doc.contains(name)) continue;
    const auto types = e->types();
    forEachInstance(e->doc, [&](const std::string& n, const ioc::Json& instance) {
      if (n != name) return;
      ++a.instance_count;
      a.attribute_types.insert(attributeType(instance));
      a.entity_types.insert(types.begin(), types.end());
    });
  }
  if (a.instance_count == 0) return std::nullopt;
  return a;
}

}  // namespace ioc::context
