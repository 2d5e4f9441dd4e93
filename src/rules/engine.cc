#include "rules/engine.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ioc::rules {

std::string_view toString(SignalKind k) {
  switch (k) {
    case SignalKind::kFire:
      return "fire";
    case SignalKind::kUpdate:
      return "update";
    case SignalKind::kClear:
      return "clear";
  }
  return "?";
}

namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
// About 5.5 km: a ward covers a handful of cells, so a reading meets only the area rules of its
// neighbourhood.
constexpr double kCellDeg = 0.05;
// Boxes wider than this many cells (a whole province) go to one list checked for every reading
// instead of being copied into thousands of cells.
constexpr int64_t kMaxCellsPerArea = 1024;
// Evidence carried by one count_in_window signal (the newest events).
constexpr size_t kMaxClusterEvidence = 50;

bool validPosition(const geo::Position& p) {
  return std::isfinite(p.lon) && std::isfinite(p.lat) && p.lon >= -180 && p.lon <= 180 &&
         p.lat >= -90 && p.lat <= 90;
}

//! Area rules of one index bucket, by the grid cells their bounding box covers.
struct AreaGrid {
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells;
  std::vector<uint32_t> large;

  static int64_t cellX(double lon) {
    return static_cast<int64_t>(std::floor((lon + 180.0) / kCellDeg));
  }
  static int64_t cellY(double lat) {
    return static_cast<int64_t>(std::floor((lat + 90.0) / kCellDeg));
  }
  static uint64_t key(int64_t x, int64_t y) {
    return (static_cast<uint64_t>(x) << 32) | static_cast<uint64_t>(y);
  }

  template <typename F>
  static bool forCells(const geo::BBox& b, F&& f) {
    const int64_t x0 = cellX(b.min_lon), x1 = cellX(b.max_lon);
    const int64_t y0 = cellY(b.min_lat), y1 = cellY(b.max_lat);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > kMaxCellsPerArea) return false;
    for (int64_t x = x0; x <= x1; ++x) {
      for (int64_t y = y0; y <= y1; ++y) f(key(x, y));
    }
    return true;
  }

  void insert(uint32_t slot, const geo::BBox& b) {
    if (!forCells(b, [&](uint64_t k) { cells[k].push_back(slot); })) large.push_back(slot);
  }

  void remove(uint32_t slot, const geo::BBox& b) {
    const bool small = forCells(b, [&](uint64_t k) {
      auto it = cells.find(k);
      if (it == cells.end()) return;
      std::erase(it->second, slot);
      if (it->second.empty()) cells.erase(it);
    });
    if (!small) std::erase(large, slot);
  }

  template <typename F>
  void query(const geo::Position& p, F&& f) const {
    for (uint32_t s : large) f(s);
    auto it = cells.find(key(cellX(p.lon), cellY(p.lat)));
    if (it == cells.end()) return;
    for (uint32_t s : it->second) f(s);
  }

  bool empty() const { return cells.empty() && large.empty(); }
};

struct Bucket {
  std::vector<uint32_t> everywhere;  //!< rules without an area (or bound to one entity)
  AreaGrid areas;
  bool empty() const { return everywhere.empty() && areas.empty(); }
};

struct ThresholdState {
  double last_value = 0;
  int64_t last_ms = kNone;
  int64_t pending_since = kNone;  //!< start of the current violation (forSeconds)
  double pending_value = 0;
  int64_t deadline = kNone;
  bool active = false;
};

struct Sample {
  int64_t t;
  double v;
};

struct RateState {
  std::vector<Sample> samples;  //!< [head, size) is the window
  size_t head = 0;
  bool active = false;
};

struct StaleState {
  int64_t last_seen = 0;
  int64_t deadline = kNone;
  bool active = false;
};

struct CountEvent {
  std::string id;
  geo::Position pos;
  int64_t time_ms = 0;
};

struct Cluster {
  std::string key;
  std::vector<CountEvent> members;
  geo::Position centre;
};

struct CountState {
  std::vector<CountEvent> pool;  //!< events of the window not in any cluster
  std::vector<Cluster> clusters;
  int64_t latest_ms = kNone;
};

struct Slot {
  std::shared_ptr<const Rule> rule;
  std::optional<geo::BBox> box;
  std::string index_key;  //!< where the rule is indexed; empty when disabled
  bool in_grid = false;
  uint32_t mark = 0;  //!< == Impl::epoch when already a candidate of the current input
  std::unordered_map<uint32_t, ThresholdState> threshold;  // threshold; kpi uses key 0
  std::unordered_map<uint32_t, RateState> rate;
  std::unordered_map<uint32_t, StaleState> stale;
  std::unordered_set<uint32_t> geofence_active;
  CountState count;
};

struct EntityInfo {
  std::string id;
  std::string_view type;  //!< interned (Engine::Impl::types): a city has few types
  std::optional<geo::Position> location;
};

struct Deadline {
  int64_t at;
  uint32_t slot;
  uint32_t subject;
  auto operator<=>(const Deadline&) const = default;
};

// Index keys: "e|<entity id>" for rules on one entity, "t|<type>\x1f<attribute>" (either may be
// empty) for the others. The fill* forms reuse a buffer: readings look keys up, rules make them.
void fillEntityKey(std::string& key, std::string_view entity_id) {
  key.assign("e|").append(entity_id);
}

void fillTypeAttrKey(std::string& key, std::string_view type, std::string_view attribute) {
  key.assign("t|").append(type).append(1, '\x1f').append(attribute);
}

std::string typeAttrKey(std::string_view type, std::string_view attribute) {
  std::string key;
  fillTypeAttrKey(key, type, attribute);
  return key;
}

std::string indexKey(const Rule& r) {
  switch (r.kind) {
    case RuleKind::kCountInWindow:
      return "v|" + r.count.category;
    case RuleKind::kKpi:
      return "k|" + r.kpi;
    default:
      if (!r.target.entity_id.empty()) {
        std::string key;
        fillEntityKey(key, r.target.entity_id);
        return key;
      }
      return typeAttrKey(r.target.entity_type, r.target.attribute);
  }
}

bool violates(const ThresholdParams& p, double v) {
  switch (p.op) {
    case CompareOp::kGt:
      return v > p.value;
    case CompareOp::kGe:
      return v >= p.value;
    case CompareOp::kLt:
      return v < p.value;
    case CompareOp::kLe:
      return v <= p.value;
    case CompareOp::kOutside:
      return v < p.low || v > p.high;
  }
  return false;
}

//! Whether an active threshold alert may clear: the value is back past the threshold by the
//! hysteresis (with hysteresis 0 this is exactly !violates).
bool clears(const ThresholdParams& p, double v) {
  const double h = p.hysteresis;
  switch (p.op) {
    case CompareOp::kGt:
      return v <= p.value - h;
    case CompareOp::kGe:
      return v < p.value - h;
    case CompareOp::kLt:
      return v >= p.value + h;
    case CompareOp::kLe:
      return v > p.value + h;
    case CompareOp::kOutside:
      return v >= p.low + h && v <= p.high - h;
  }
  return true;
}

geo::Position centroidOf(const std::vector<CountEvent>& events) {
  double lon = 0, lat = 0;
  for (const CountEvent& e : events) {
    lon += e.pos.lon;
    lat += e.pos.lat;
  }
  const double n = events.empty() ? 1.0 : static_cast<double>(events.size());
  return {lon / n, lat / n};
}

}  // namespace

struct Engine::Impl {
  const core::Clock* clock;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, uint32_t> by_id;
  std::unordered_map<std::string, Bucket> index;
  //! Enabled stale rules without an entity id, by entity type: seeded when an entity appears.
  std::unordered_map<std::string, std::vector<uint32_t>> stale_by_type;
  //! A deque: its elements stay put, so entity_index can view their ids instead of copying
  //! them (100,000 entities held 33 MB with copies and a type string each).
  std::deque<EntityInfo> entities;
  std::unordered_map<std::string_view, uint32_t> entity_index;
  std::unordered_set<std::string> types;
  uint32_t last_interned = UINT32_MAX;
  std::string lookup_key;  //!< reused by readings' index lookups: no allocation per reading
  std::set<Deadline> deadlines;
  std::set<uint32_t> count_active;  //!< count_in_window slots holding events
  uint64_t evaluations = 0;
  uint32_t epoch = 1;
  std::vector<uint32_t> candidates;

  explicit Impl(const core::Clock& c) : clock(&c) {}

  // ---- bookkeeping -------------------------------------------------------------------------

  std::pair<uint32_t, bool> intern(const std::string& id, const std::string& type) {
    // A reading's attributes come one after another: the last entity saves the hash lookups.
    if (last_interned < entities.size() && entities[last_interned].id == id) {
      return {last_interned, false};
    }
    if (auto it = entity_index.find(id); it != entity_index.end()) {
      last_interned = it->second;
      return {it->second, false};
    }
    const auto eid = static_cast<uint32_t>(entities.size());
    entities.push_back(EntityInfo{id, internType(type), std::nullopt});
    entity_index.emplace(entities.back().id, eid);
    last_interned = eid;
    return {eid, true};
  }

  std::string_view internType(const std::string& type) {
    if (type.empty()) return {};
    return *types.insert(type).first;
  }

  void nextEpoch() {
    candidates.clear();
    if (++epoch == 0) {  // wrapped: forget every old mark
      for (auto& s : slots) {
        if (s) s->mark = 0;
      }
      epoch = 1;
    }
  }

  void addCandidate(uint32_t s) {
    Slot& slot = *slots[s];
    if (slot.mark == epoch) return;
    slot.mark = epoch;
    candidates.push_back(s);
  }

  void collectEntity(std::string_view entity_id, const std::optional<geo::Position>& cur,
                     const std::optional<geo::Position>& prev) {
    fillEntityKey(lookup_key, entity_id);
    collect(lookup_key, cur, prev);
  }

  void collectTypeAttr(std::string_view type, std::string_view attribute,
                       const std::optional<geo::Position>& cur,
                       const std::optional<geo::Position>& prev) {
    fillTypeAttrKey(lookup_key, type, attribute);
    collect(lookup_key, cur, prev);
  }

  void collect(const std::string& key, const std::optional<geo::Position>& cur,
               const std::optional<geo::Position>& prev) {
    auto it = index.find(key);
    if (it == index.end()) return;
    const Bucket& b = it->second;
    for (uint32_t s : b.everywhere) addCandidate(s);
    auto add = [this](uint32_t s) { addCandidate(s); };
    if (cur) b.areas.query(*cur, add);
    // The previous position finds the area rules the entity may just have left.
    if (prev && (!cur || prev->lon != cur->lon || prev->lat != cur->lat)) b.areas.query(*prev, add);
  }

  void schedule(uint32_t slot, uint32_t subject, int64_t& deadline, int64_t at) {
    if (deadline != kNone) deadlines.erase(Deadline{deadline, slot, subject});
    deadline = at;
    deadlines.insert(Deadline{at, slot, subject});
  }

  void cancel(uint32_t slot, uint32_t subject, int64_t& deadline) {
    if (deadline == kNone) return;
    deadlines.erase(Deadline{deadline, slot, subject});
    deadline = kNone;
  }

  static bool inArea(const Slot& s, const std::optional<geo::Position>& p) {
    if (!s.rule->target.area) return true;
    if (!p || !s.box->contains(p->lon, p->lat)) return false;
    return geo::within(geo::Geometry::point(p->lon, p->lat), *s.rule->target.area);
  }

  std::optional<geo::Geometry> entityGeometry(const Slot& s, uint32_t eid) const {
    if (eid < entities.size() && entities[eid].location) {
      return geo::Geometry::point(entities[eid].location->lon, entities[eid].location->lat);
    }
    return s.rule->target.area;
  }

  // Subject naming for states keyed by entity (threshold) or by 0 (kpi).
  const std::string& subjectOf(const Slot& s, uint32_t key) const {
    return s.rule->kind == RuleKind::kKpi ? s.rule->kpi : entities[key].id;
  }
  const std::string& attributeOf(const Slot& s) const {
    return s.rule->kind == RuleKind::kKpi ? s.rule->kpi : s.rule->target.attribute;
  }

  Signal makeSignal(const Slot& s, SignalKind kind, const std::string& subject,
                    std::string_view attribute, double value, int64_t time_ms,
                    std::optional<geo::Geometry> geometry, std::vector<Evidence> evidence,
                    std::string reason, int64_t count = 1) const {
    const Rule& r = *s.rule;
    Signal sig;
    sig.kind = kind;
    sig.rule_id = r.id;
    sig.rule_version = r.version;
    sig.subject = subject;
    sig.category = r.alert.category;
    sig.severity = r.alert.severity;
    sig.urgency = r.alert.urgency;
    sig.certainty = r.alert.certainty;
    sig.headline = renderTemplate(r.alert.headline, subject, value, attribute, r.id, count);
    sig.description = renderTemplate(r.alert.description, subject, value, attribute, r.id, count);
    sig.value = value;
    sig.time_ms = time_ms;
    sig.geometry = std::move(geometry);
    sig.evidence = std::move(evidence);
    sig.reason = std::move(reason);
    sig.rule = s.rule;
    return sig;
  }

  // ---- threshold / kpi ----------------------------------------------------------------------

  void evalThreshold(Slot& s, uint32_t sidx, uint32_t key, const Evidence& ev,
                     std::optional<geo::Geometry> geometry, std::vector<Signal>& out) {
    const ThresholdParams& p = s.rule->threshold;
    const double v = ev.value;
    const int64_t t = ev.time_ms;
    const bool violating = violates(p, v);
    auto it = s.threshold.find(key);
    if (it == s.threshold.end()) {
      if (!violating) return;  // entities that are fine hold no state
      it = s.threshold.emplace(key, ThresholdState{}).first;
    }
    ThresholdState& st = it->second;
    if (st.last_ms != kNone && t < st.last_ms) return;  // late reading: the past is not re-run
    st.last_ms = t;
    st.last_value = v;
    const std::string& subject = subjectOf(s, key);
    const std::string& attribute = attributeOf(s);
    if (st.active) {
      if (clears(p, v)) {
        std::string reason = "value " + formatValue(v) + " is back within the threshold";
        if (p.hysteresis > 0) reason += " (hysteresis " + formatValue(p.hysteresis) + ")";
        out.push_back(makeSignal(s, SignalKind::kClear, subject, attribute, v, t,
                                 std::move(geometry), {ev}, std::move(reason)));
        cancel(sidx, key, st.deadline);
        s.threshold.erase(it);
      } else if (violating) {
        out.push_back(makeSignal(s, SignalKind::kUpdate, subject, attribute, v, t,
                                 std::move(geometry), {ev}, {}));
      }
      // Inside the hysteresis band: still open, nothing to say.
      return;
    }
    if (!violating) {  // a dip resets the duration
      cancel(sidx, key, st.deadline);
      s.threshold.erase(it);
      return;
    }
    if (st.pending_since == kNone) {
      st.pending_since = t;
      st.pending_value = v;
    }
    if (t - st.pending_since >= p.for_ms) {
      cancel(sidx, key, st.deadline);
      st.active = true;
      std::vector<Evidence> evidence;
      if (st.pending_since != t) {
        evidence.push_back(
            Evidence{ev.kind, ev.ref, ev.attribute, st.pending_value, st.pending_since});
      }
      evidence.push_back(ev);
      out.push_back(makeSignal(s, SignalKind::kFire, subject, attribute, v, t, std::move(geometry),
                               std::move(evidence), {}));
    } else {
      schedule(sidx, key, st.deadline, st.pending_since + p.for_ms);
    }
  }

  // ---- rate of change -----------------------------------------------------------------------

  void evalRate(Slot& s, uint32_t eid, const Evidence& ev, std::optional<geo::Geometry> geometry,
                std::vector<Signal>& out) {
    const RateParams& p = s.rule->rate;
    RateState& st = s.rate[eid];
    const double v = ev.value;
    const int64_t t = ev.time_ms;
    if (st.head < st.samples.size() && t < st.samples.back().t) return;  // late reading
    while (st.head < st.samples.size() && st.samples[st.head].t < t - p.window_ms) ++st.head;
    st.samples.push_back(Sample{t, v});
    if (st.samples.size() - st.head > kMaxRateSamples) ++st.head;
    if (st.head > 32 && st.head * 2 > st.samples.size()) {
      st.samples.erase(st.samples.begin(), st.samples.begin() + static_cast<ptrdiff_t>(st.head));
      st.head = 0;
    }
    double lo = v, hi = v;
    for (size_t i = st.head; i < st.samples.size(); ++i) {
      lo = std::min(lo, st.samples[i].v);
      hi = std::max(hi, st.samples[i].v);
    }
    const Sample oldest = st.samples[st.head];
    const bool rising = p.direction != Direction::kFalling;
    const bool falling = p.direction != Direction::kRising;
    bool violating = false;
    double measure = 0;
    if (p.max_delta) {
      if (rising && v - lo > *p.max_delta) {
        violating = true;
        measure = v - lo;
      } else if (falling && hi - v > *p.max_delta) {
        violating = true;
        measure = v - hi;
      }
    }
    if (!violating && p.max_rate_per_minute && t > oldest.t) {
      const double rate = (v - oldest.v) / (static_cast<double>(t - oldest.t) / 60000.0);
      if ((rising && rate > *p.max_rate_per_minute) ||
          (falling && -rate > *p.max_rate_per_minute)) {
        violating = true;
        measure = rate;
      }
    }
    const std::string& subject = entities[eid].id;
    if (violating) {
      out.push_back(makeSignal(s, st.active ? SignalKind::kUpdate : SignalKind::kFire, subject,
                               ev.attribute, measure, t, std::move(geometry),
                               {Evidence{ev.kind, ev.ref, ev.attribute, oldest.v, oldest.t}, ev},
                               {}));
      st.active = true;
    } else if (st.active) {
      st.active = false;
      out.push_back(makeSignal(s, SignalKind::kClear, subject, ev.attribute, v, t,
                               std::move(geometry), {ev},
                               "change within the window is back in range"));
    }
  }

  // ---- stale --------------------------------------------------------------------------------

  void touchStale(Slot& s, uint32_t sidx, uint32_t eid, const Evidence& ev,
                  std::vector<Signal>& out) {
    auto [it, inserted] = s.stale.try_emplace(eid);
    StaleState& st = it->second;
    if (inserted) st.last_seen = ev.time_ms;
    const int64_t silent_ms = std::max<int64_t>(0, ev.time_ms - st.last_seen);
    st.last_seen = std::max(st.last_seen, ev.time_ms);
    if (st.active) {
      st.active = false;
      out.push_back(makeSignal(
          s, SignalKind::kClear, entities[eid].id, ev.attribute,
          static_cast<double>(silent_ms) / 1000.0, ev.time_ms, entityGeometry(s, eid), {ev},
          "reading received after " + formatValue(silent_ms / 1000.0) + " s of silence"));
    }
    schedule(sidx, eid, st.deadline, st.last_seen + s.rule->stale.after_ms);
  }

  void seedStale(uint32_t sidx, uint32_t eid, int64_t since) {
    Slot& s = *slots[sidx];
    auto [it, inserted] = s.stale.try_emplace(eid);
    if (!inserted) return;
    it->second.last_seen = since;
    schedule(sidx, eid, it->second.deadline, since + s.rule->stale.after_ms);
  }

  void seedStaleForEntity(uint32_t eid, int64_t since) {
    const EntityInfo& e = entities[eid];
    for (std::string_view type : {e.type, std::string_view()}) {
      auto it = stale_by_type.find(std::string(type));
      if (it == stale_by_type.end()) continue;
      for (uint32_t sidx : it->second) {
        if (inArea(*slots[sidx], e.location)) seedStale(sidx, eid, since);
      }
      if (e.type.empty()) break;
    }
  }

  // ---- geofence -----------------------------------------------------------------------------

  void evalGeofence(Slot& s, uint32_t eid, const Evidence& ev,
                    const std::optional<geo::Position>& cur,
                    const std::optional<geo::Position>& prev, std::vector<Signal>& out) {
    if (!cur) return;
    const geo::Geometry& area = *s.rule->target.area;
    auto inside = [&](const geo::Position& p) {
      return s.box->contains(p.lon, p.lat) && geo::within(geo::Geometry::point(p.lon, p.lat), area);
    };
    const bool in_cur = inside(*cur);
    const bool had_prev = prev.has_value();
    const bool in_prev = had_prev && inside(*prev);
    const bool active = s.geofence_active.count(eid) > 0;
    bool fire = false;
    bool clear = false;
    std::string reason;
    switch (s.rule->geofence.trigger) {
      case GeofenceTrigger::kEnter:
        fire = !active && had_prev && !in_prev && in_cur;
        clear = active && !in_cur;
        reason = "left the area";
        break;
      case GeofenceTrigger::kLeave:
        fire = !active && had_prev && in_prev && !in_cur;
        clear = active && in_cur;
        reason = "back inside the area";
        break;
      case GeofenceTrigger::kInside:
        fire = !active && in_cur;
        clear = active && !in_cur;
        reason = "left the area";
        break;
    }
    if (!fire && !clear) return;
    if (fire) {
      s.geofence_active.insert(eid);
    } else {
      s.geofence_active.erase(eid);
    }
    out.push_back(makeSignal(s, fire ? SignalKind::kFire : SignalKind::kClear, entities[eid].id,
                             ev.attribute, in_cur ? 1 : 0, ev.time_ms,
                             geo::Geometry::point(cur->lon, cur->lat), {ev},
                             fire ? std::string() : reason));
  }

  // ---- count in window ----------------------------------------------------------------------

  Signal clusterSignal(const Slot& s, SignalKind kind, const Cluster& c, int64_t t,
                       std::string reason) const {
    std::vector<Evidence> evidence;
    const size_t from =
        c.members.size() > kMaxClusterEvidence ? c.members.size() - kMaxClusterEvidence : 0;
    for (size_t i = from; i < c.members.size(); ++i) {
      const CountEvent& e = c.members[i];
      evidence.push_back(Evidence{"event", e.id, s.rule->count.category, 0, e.time_ms});
    }
    const auto n = static_cast<int64_t>(c.members.size());
    return makeSignal(s, kind, c.key, s.rule->count.category, static_cast<double>(n), t,
                      geo::Geometry::point(c.centre.lon, c.centre.lat), std::move(evidence),
                      std::move(reason), n);
  }

  void expireCount(Slot& s, uint32_t sidx, int64_t now, std::vector<Signal>& out) {
    const CountParams& p = s.rule->count;
    CountState& st = s.count;
    const int64_t cut = now - p.window_ms;
    auto old = [cut](const CountEvent& e) { return e.time_ms < cut; };
    std::erase_if(st.pool, old);
    for (size_t i = 0; i < st.clusters.size();) {
      Cluster& c = st.clusters[i];
      const size_t before = c.members.size();
      std::erase_if(c.members, old);
      if (c.members.size() >= static_cast<size_t>(p.count)) {
        if (c.members.size() != before) c.centre = centroidOf(c.members);
        ++i;
        continue;
      }
      out.push_back(
          clusterSignal(s, SignalKind::kClear, c, now,
                        "only " + std::to_string(c.members.size()) + " events left in the window"));
      for (CountEvent& e : c.members) st.pool.push_back(std::move(e));
      st.clusters.erase(st.clusters.begin() + static_cast<ptrdiff_t>(i));
    }
    if (st.pool.empty() && st.clusters.empty()) count_active.erase(sidx);
  }

  void addEvent(Slot& s, uint32_t sidx, const Event& ev, std::vector<Signal>& out) {
    const CountParams& p = s.rule->count;
    CountState& st = s.count;
    st.latest_ms = std::max(st.latest_ms, ev.time_ms);
    const int64_t now = st.latest_ms;
    expireCount(s, sidx, now, out);
    if (ev.time_ms < now - p.window_ms) return;
    auto same = [&](const CountEvent& e) { return e.id == ev.id; };
    if (std::any_of(st.pool.begin(), st.pool.end(), same)) return;
    for (const Cluster& c : st.clusters) {
      if (std::any_of(c.members.begin(), c.members.end(), same)) return;
    }
    count_active.insert(sidx);
    CountEvent ce{ev.id, ev.location, ev.time_ms};
    // Join the nearest open cluster whose centre is within the radius.
    Cluster* best = nullptr;
    double best_d = std::numeric_limits<double>::infinity();
    for (Cluster& c : st.clusters) {
      const double d = geo::haversineMeters(c.centre, ev.location);
      if (d <= p.radius_m && d < best_d) {
        best = &c;
        best_d = d;
      }
    }
    if (best) {
      best->members.push_back(std::move(ce));
      if (best->members.size() > kMaxEventsPerRule) best->members.erase(best->members.begin());
      best->centre = centroidOf(best->members);
      out.push_back(clusterSignal(s, SignalKind::kUpdate, *best, ev.time_ms, {}));
      return;
    }
    st.pool.push_back(std::move(ce));
    if (st.pool.size() > kMaxEventsPerRule) st.pool.erase(st.pool.begin());
    std::vector<size_t> near;
    for (size_t i = 0; i < st.pool.size(); ++i) {
      if (geo::haversineMeters(st.pool[i].pos, ev.location) <= p.radius_m) near.push_back(i);
    }
    if (near.size() < static_cast<size_t>(p.count)) return;
    Cluster c;
    for (size_t i : near) c.members.push_back(st.pool[i]);
    std::stable_sort(
        c.members.begin(), c.members.end(),
        [](const CountEvent& a, const CountEvent& b) { return a.time_ms < b.time_ms; });
    for (auto it = near.rbegin(); it != near.rend(); ++it) {
      st.pool.erase(st.pool.begin() + static_cast<ptrdiff_t>(*it));
    }
    c.key = "cluster:" + c.members.front().id;
    c.centre = centroidOf(c.members);
    out.push_back(clusterSignal(s, SignalKind::kFire, c, ev.time_ms, {}));
    st.clusters.push_back(std::move(c));
  }

  // ---- per reading --------------------------------------------------------------------------

  //! The rule no longer applies to the entity (it left the area): close what is open, forget.
  void dropSubject(Slot& s, uint32_t sidx, uint32_t eid, int64_t t, const std::string& reason,
                   std::vector<Signal>& out) {
    const std::string& subject = entities[eid].id;
    if (auto it = s.threshold.find(eid); it != s.threshold.end()) {
      if (it->second.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, subject, s.rule->target.attribute,
                                 it->second.last_value, t, entityGeometry(s, eid), {}, reason));
      }
      cancel(sidx, eid, it->second.deadline);
      s.threshold.erase(it);
    }
    if (auto it = s.rate.find(eid); it != s.rate.end()) {
      if (it->second.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, subject, s.rule->target.attribute, 0, t,
                                 entityGeometry(s, eid), {}, reason));
      }
      s.rate.erase(it);
    }
    if (auto it = s.stale.find(eid); it != s.stale.end()) {
      if (it->second.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, subject, s.rule->target.attribute, 0, t,
                                 entityGeometry(s, eid), {}, reason));
      }
      cancel(sidx, eid, it->second.deadline);
      s.stale.erase(it);
    }
  }

  void evaluateReading(uint32_t sidx, const Reading& r, uint32_t eid,
                       const std::optional<geo::Position>& cur,
                       const std::optional<geo::Position>& prev, std::vector<Signal>& out) {
    Slot& s = *slots[sidx];
    const Rule& rule = *s.rule;
    if (!rule.target.entity_id.empty() && rule.target.entity_id != r.entity_id) return;
    if (!rule.target.entity_type.empty() && rule.target.entity_type != r.entity_type) return;
    if (!rule.target.attribute.empty() && rule.target.attribute != r.attribute) return;
    const Evidence ev{"reading", r.entity_id, r.attribute, r.value, r.time_ms};
    if (rule.kind == RuleKind::kGeofence) {
      evalGeofence(s, eid, ev, cur, prev, out);
      return;
    }
    if (!inArea(s, cur)) {
      dropSubject(s, sidx, eid, r.time_ms, "entity is outside the rule's area", out);
      return;
    }
    const bool finite = std::isfinite(r.value);
    switch (rule.kind) {
      case RuleKind::kThreshold:
        if (finite) evalThreshold(s, sidx, eid, ev, entityGeometry(s, eid), out);
        break;
      case RuleKind::kRateOfChange:
        if (finite) evalRate(s, eid, ev, entityGeometry(s, eid), out);
        break;
      case RuleKind::kStale:
        touchStale(s, sidx, eid, ev, out);
        break;
      default:
        break;
    }
  }

  // ---- rules --------------------------------------------------------------------------------

  std::vector<Signal> remove(const std::string& id, const std::string& reason) {
    std::vector<Signal> out;
    auto found = by_id.find(id);
    if (found == by_id.end()) return out;
    const uint32_t sidx = found->second;
    Slot& s = *slots[sidx];
    const int64_t now = clock->nowUnixMs();
    const std::string& attribute = attributeOf(s);
    for (auto& [key, st] : s.threshold) {
      if (st.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, subjectOf(s, key), attribute, st.last_value,
                                 now, std::nullopt, {}, reason));
      }
      cancel(sidx, key, st.deadline);
    }
    for (auto& [eid, st] : s.rate) {
      if (st.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, entities[eid].id, attribute, 0, now,
                                 std::nullopt, {}, reason));
      }
    }
    for (auto& [eid, st] : s.stale) {
      if (st.active) {
        out.push_back(makeSignal(s, SignalKind::kClear, entities[eid].id, attribute, 0, now,
                                 std::nullopt, {}, reason));
      }
      cancel(sidx, eid, st.deadline);
    }
    for (uint32_t eid : s.geofence_active) {
      out.push_back(makeSignal(s, SignalKind::kClear, entities[eid].id, attribute, 0, now,
                               std::nullopt, {}, reason));
    }
    for (const Cluster& c : s.count.clusters) {
      out.push_back(clusterSignal(s, SignalKind::kClear, c, now, reason));
    }
    if (!s.index_key.empty()) {
      auto b = index.find(s.index_key);
      if (b != index.end()) {
        if (s.in_grid) {
          b->second.areas.remove(sidx, *s.box);
        } else {
          std::erase(b->second.everywhere, sidx);
        }
        if (b->second.empty()) index.erase(b);
      }
    }
    if (auto it = stale_by_type.find(s.rule->target.entity_type); it != stale_by_type.end()) {
      std::erase(it->second, sidx);
      if (it->second.empty()) stale_by_type.erase(it);
    }
    count_active.erase(sidx);
    by_id.erase(found);
    slots[sidx].reset();
    free_slots.push_back(sidx);
    return out;
  }

  void add(Rule rule) {
    uint32_t sidx;
    if (!free_slots.empty()) {
      sidx = free_slots.back();
      free_slots.pop_back();
    } else {
      sidx = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
    }
    slots[sidx] = std::make_unique<Slot>();
    Slot& s = *slots[sidx];
    if (rule.target.area) s.box = geo::bbox(*rule.target.area);
    s.rule = std::make_shared<const Rule>(std::move(rule));
    const Rule& r = *s.rule;
    by_id[r.id] = sidx;
    if (!r.enabled) return;
    s.index_key = indexKey(r);
    Bucket& b = index[s.index_key];
    // Rules bound to one entity are few per bucket; everything else with an area goes by place.
    if (s.box && r.target.entity_id.empty()) {
      b.areas.insert(sidx, *s.box);
      s.in_grid = true;
    } else {
      b.everywhere.push_back(sidx);
    }
    if (r.kind != RuleKind::kStale) return;
    const int64_t now = clock->nowUnixMs();
    if (!r.target.entity_id.empty()) {
      const uint32_t eid = intern(r.target.entity_id, r.target.entity_type).first;
      if (inArea(s, entities[eid].location)) seedStale(sidx, eid, now);
      return;
    }
    stale_by_type[r.target.entity_type].push_back(sidx);
    for (uint32_t eid = 0; eid < entities.size(); ++eid) {
      const EntityInfo& e = entities[eid];
      if (e.type == r.target.entity_type && inArea(s, e.location)) seedStale(sidx, eid, now);
    }
  }
};

Engine::Engine(const core::Clock& clock) : impl_(std::make_unique<Impl>(clock)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

core::Result<std::vector<Signal>> Engine::addRule(Rule rule) {
  if (auto st = validateRule(rule); !st) return st.error();
  std::vector<Signal> out =
      impl_->remove(rule.id, "rule replaced by version " + std::to_string(rule.version));
  impl_->add(std::move(rule));
  return out;
}

std::vector<Signal> Engine::removeRule(const std::string& id) {
  return impl_->remove(id, "rule removed");
}

std::vector<Rule> Engine::rules() const {
  std::vector<Rule> out;
  out.reserve(impl_->by_id.size());
  for (const auto& [id, sidx] : impl_->by_id) out.push_back(*impl_->slots[sidx]->rule);
  std::sort(out.begin(), out.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
  return out;
}

const Rule* Engine::findRule(const std::string& id) const {
  auto it = impl_->by_id.find(id);
  return it == impl_->by_id.end() ? nullptr : impl_->slots[it->second]->rule.get();
}

std::vector<Signal> Engine::onReading(const Reading& r) {
  std::vector<Signal> out;
  if (r.entity_id.empty()) return out;
  Impl& m = *impl_;
  const auto [eid, fresh] = m.intern(r.entity_id, r.entity_type);
  std::optional<geo::Position> prev = m.entities[eid].location;
  std::optional<geo::Position> cur = prev;
  if (r.location && validPosition(*r.location)) {
    cur = r.location;
    m.entities[eid].location = cur;
  }
  if (m.entities[eid].type.empty()) m.entities[eid].type = m.internType(r.entity_type);
  if (fresh) m.seedStaleForEntity(eid, r.time_ms);

  m.nextEpoch();
  if (m.index.empty()) return out;
  m.collectEntity(r.entity_id, cur, prev);
  m.collectTypeAttr(r.entity_type, r.attribute, cur, prev);
  m.collectTypeAttr(r.entity_type, "", cur, prev);
  m.collectTypeAttr("", r.attribute, cur, prev);
  m.collectTypeAttr("", "", cur, prev);
  for (uint32_t sidx : m.candidates) {
    ++m.evaluations;
    m.evaluateReading(sidx, r, eid, cur, prev, out);
  }
  return out;
}

std::vector<Signal> Engine::onEvent(const Event& ev) {
  std::vector<Signal> out;
  if (ev.id.empty() || ev.category.empty() || !validPosition(ev.location)) return out;
  Impl& m = *impl_;
  m.nextEpoch();
  m.collect("v|" + ev.category, ev.location, std::nullopt);
  for (uint32_t sidx : m.candidates) {
    ++m.evaluations;
    Slot& s = *m.slots[sidx];
    const Rule& rule = *s.rule;
    if (!rule.target.entity_type.empty() && rule.target.entity_type != ev.entity_type) continue;
    if (!Impl::inArea(s, ev.location)) continue;
    m.addEvent(s, sidx, ev, out);
  }
  return out;
}

std::vector<Signal> Engine::onKpi(const std::string& name, double value, int64_t time_ms) {
  std::vector<Signal> out;
  if (name.empty() || !std::isfinite(value)) return out;
  Impl& m = *impl_;
  m.nextEpoch();
  m.collect("k|" + name, std::nullopt, std::nullopt);
  const Evidence ev{"kpi", name, "", value, time_ms};
  for (uint32_t sidx : m.candidates) {
    ++m.evaluations;
    m.evalThreshold(*m.slots[sidx], sidx, 0, ev, std::nullopt, out);
  }
  return out;
}

std::vector<Signal> Engine::tick(int64_t now_ms) {
  std::vector<Signal> out;
  Impl& m = *impl_;
  while (!m.deadlines.empty() && m.deadlines.begin()->at <= now_ms) {
    const Deadline d = *m.deadlines.begin();
    m.deadlines.erase(m.deadlines.begin());
    Slot& s = *m.slots[d.slot];
    if (s.rule->kind == RuleKind::kStale) {
      auto it = s.stale.find(d.subject);
      if (it == s.stale.end()) continue;
      StaleState& st = it->second;
      st.deadline = kNone;
      if (st.active) continue;
      st.active = true;
      const double silent_s = static_cast<double>(now_ms - st.last_seen) / 1000.0;
      out.push_back(m.makeSignal(s, SignalKind::kFire, m.entities[d.subject].id,
                                 s.rule->target.attribute, silent_s, now_ms,
                                 m.entityGeometry(s, d.subject),
                                 {Evidence{"reading", m.entities[d.subject].id,
                                           s.rule->target.attribute, 0, st.last_seen}},
                                 {}));
      continue;
    }
    auto it = s.threshold.find(d.subject);
    if (it == s.threshold.end()) continue;
    ThresholdState& st = it->second;
    st.deadline = kNone;
    if (st.active || st.pending_since == kNone) continue;
    st.active = true;
    const std::string& subject = m.subjectOf(s, d.subject);
    const std::string kind = s.rule->kind == RuleKind::kKpi ? "kpi" : "reading";
    const std::string attribute = s.rule->kind == RuleKind::kKpi ? "" : s.rule->target.attribute;
    std::optional<geo::Geometry> geometry;
    if (s.rule->kind != RuleKind::kKpi) geometry = m.entityGeometry(s, d.subject);
    out.push_back(m.makeSignal(
        s, SignalKind::kFire, subject, m.attributeOf(s), st.last_value, now_ms, std::move(geometry),
        {Evidence{kind, subject, attribute, st.pending_value, st.pending_since},
         Evidence{kind, subject, attribute, st.last_value, st.last_ms}},
        {}));
  }
  const std::vector<uint32_t> active(m.count_active.begin(), m.count_active.end());
  for (uint32_t sidx : active) m.expireCount(*m.slots[sidx], sidx, now_ms, out);
  return out;
}

void Engine::watchEntity(const std::string& entity_id, const std::string& entity_type,
                         int64_t time_ms, std::optional<geo::Position> location) {
  if (entity_id.empty()) return;
  Impl& m = *impl_;
  const uint32_t eid = m.intern(entity_id, entity_type).first;
  EntityInfo& e = m.entities[eid];
  if (e.type.empty()) e.type = m.internType(entity_type);
  if (location && validPosition(*location)) e.location = location;
  m.seedStaleForEntity(eid, time_ms);
}

uint64_t Engine::evaluations() const {
  return impl_->evaluations;
}

size_t Engine::entityCount() const {
  return impl_->entities.size();
}

}  // namespace ioc::rules
