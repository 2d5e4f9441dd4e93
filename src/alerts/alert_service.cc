#include "alerts/alert_service.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "context/entity.h"
#include "context/ld_context.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace ioc::alerts {

using json = ioc::Json;
using rules::AlertChange;
using rules::ChangeType;

namespace {

constexpr const char* kRuleKind = "rule";
constexpr const char* kAlertKind = "alert";
constexpr std::string_view kDefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";

std::optional<json> readJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<geo::Position> pointOf(const json& doc) {
  auto loc = doc.find("https://uri.etsi.org/ngsi-ld/location");
  if (loc == doc.end()) return std::nullopt;
  const json& inst = loc->is_array() && !loc->empty() ? loc->front() : *loc;
  if (!inst.is_object()) return std::nullopt;
  auto value = inst.find("value");
  if (value == inst.end() || !value->is_object() || value->value("type", "") != "Point") {
    return std::nullopt;
  }
  const json& c = (*value)["coordinates"];
  if (!c.is_array() || c.size() < 2 || !c[0].is_number() || !c[1].is_number()) return std::nullopt;
  return geo::Position{c[0].get<double>(), c[1].get<double>()};
}

// The numeric value and observation time of an attribute instance, if it has a number.
std::optional<std::pair<double, int64_t>> numericOf(const json& attr, int64_t fallback_ms) {
  const json& inst = attr.is_array() && !attr.empty() ? attr.front() : attr;
  if (!inst.is_object()) return std::nullopt;
  auto value = inst.find("value");
  if (value == inst.end() || !value->is_number()) return std::nullopt;
  int64_t t = fallback_ms;
  auto observed = inst.find("observedAt");
  if (observed != inst.end() && observed->is_string()) {
    if (auto parsed = rules::parseRfc3339(observed->get_ref<const std::string&>()); parsed.ok()) {
      t = *parsed;
    }
  }
  return std::make_pair(value->get<double>(), t);
}

core::Status auditedWrite(storage::Store& store, model::StoredDocument doc, bool deleted,
                          model::AuditEntry audit) {
  return store.writeSync([doc = std::move(doc), deleted,
                          audit = std::move(audit)](storage::WriteTx& tx) -> core::Status {
    auto s = deleted ? tx.deleteDocument(doc.kind, doc.id) : tx.putDocument(doc);
    if (!s.ok()) return s;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
}

}  // namespace

AlertService::AlertService(storage::Store& store, context::Broker& broker,
                           const units::UnitCatalog& units, const core::Clock& clock,
                           AlertOptions options)
    : store_(store),
      broker_(broker),
      units_(units),
      clock_(clock),
      options_(std::move(options)),
      engine_(clock),
      book_(clock, [this] {
        char buf[32];
        std::snprintf(buf, sizeof buf, "ALR-%06llu", static_cast<unsigned long long>(++next_seq_));
        return std::string(buf);
      }) {}

AlertService::~AlertService() {
  stop();
}

std::string AlertService::shortName(const std::string& iri) {
  std::string term = context::TermMap::core()->compact(iri);
  if (term.find("://") == std::string::npos && term.rfind("urn:", 0) != 0) return term;
  auto cut = term.find_last_of("/#:");
  return cut == std::string::npos ? term : term.substr(cut + 1);
}

std::optional<geo::Geometry> AlertService::ward(const std::string& code) const {
  auto it = wards_.find(code);
  if (it == wards_.end()) return std::nullopt;
  return it->second;
}

core::Status AlertService::load() {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(options_.data_root + "/geo", ec)) {
    const std::string name = f.path().filename().string();
    if (name.find("wards") == std::string::npos || f.path().extension() != ".geojson") continue;
    auto fc = readJson(f.path());
    if (!fc) continue;
    for (const auto& feature : fc->value("features", json::array())) {
      auto g = geo::parseGeoJson(feature.value("geometry", json()));
      const std::string code = feature.value("properties", json::object()).value("code", "");
      if (g.ok() && !code.empty()) wards_.emplace(code, std::move(*g));
    }
  }
  auto config = loadIndexConfig(options_.data_root);
  if (!config.ok()) return config.error();
  indices_ = std::make_unique<CityIndices>(std::move(*config));

  auto resolver = [this](const std::string& code) { return ward(code); };
  auto rule_docs = store_.listDocuments(kRuleKind);
  if (!rule_docs.ok()) return rule_docs.error();
  for (const auto& d : *rule_docs) {
    json doc = json::parse(d.doc, nullptr, false);
    auto rule = doc.is_object() ? rules::ruleFromJson(doc["rule"], resolver)
                                : core::Result<rules::Rule>(core::makeError(
                                      core::Errc::kMalformedInput, "not a rule document"));
    if (!rule.ok()) {
      core::logWarn("rule not loaded", {{"id", d.id}, {"error", rule.error().message}});
      continue;
    }
    (void)engine_.addRule(std::move(*rule));
    rule_docs_[d.id] = std::move(doc);
  }
  auto alert_docs = store_.listDocuments(kAlertKind);
  if (!alert_docs.ok()) return alert_docs.error();
  for (const auto& d : *alert_docs) {
    json doc = json::parse(d.doc, nullptr, false);
    if (!doc.is_object()) continue;
    auto a = rules::alertFromJson(doc["alert"]);
    if (!a.ok()) continue;
    unsigned long long seq = 0;
    if (std::sscanf(a->id.c_str(), "ALR-%llu", &seq) == 1 && seq > next_seq_) next_seq_ = seq;
    alert_units_[a->id] = doc.value("unitCode", "");
    (void)book_.restore(std::move(*a));
  }
  if (!options_.rules_file.empty()) {
    auto file = readJson(options_.rules_file);
    if (!file) {
      return core::makeError(core::Errc::kInvalidArgument,
                             "rules file " + options_.rules_file + ": missing or not JSON");
    }
    Caller system{"", model::Actor{"system:rules-file", "system", "", "", ""}};
    auto imported = importRules(*file, system);
    if (!imported.ok()) return imported.error();
    core::logInfo("rules file loaded",
                  {{"path", options_.rules_file}, {"updated", static_cast<int64_t>(*imported)}});
  }
  return core::Status::success();
}

void AlertService::attach() {
  // Readings are judged as soon as the broker publishes them (what readers already see), not
  // after the commit: detection must not wait behind the disk, and the alert itself is saved
  // asynchronously anyway. A failed commit's entity is restored; an alert it raised stays, since
  // the reading did arrive.
  constexpr auto kPublished = context::Broker::Moment::kPublished;
  broker_.addChangeListener(
      [this](const std::vector<context::EntityChange>& batch) {
        std::lock_guard lock(queue_mu_);
        for (const auto& change : batch) {
          if (!change.after) continue;
          if (queue_.size() >= options_.queue_capacity) {
            ++dropped_;
            continue;
          }
          queue_.emplace_back(change);
        }
        queue_cv_.notify_one();
      },
      kPublished);
  broker_.addPointListener(
      [this](const Points& points) {
        std::lock_guard lock(queue_mu_);
        if (queue_.size() >= options_.queue_capacity) {
          dropped_ += points->size();
          return;
        }
        queue_.emplace_back(points);
        queue_cv_.notify_one();
      },
      kPublished);
}

void AlertService::addListener(AlertListener listener) {
  listeners_.push_back(std::move(listener));
}

void AlertService::start() {
  std::lock_guard lock(queue_mu_);
  if (running_) return;
  running_ = true;
  worker_ = std::thread([this] {
    core::nameThisThread("ioc-alerts");
    run();
  });
}

void AlertService::stop() {
  {
    std::lock_guard lock(queue_mu_);
    if (!running_) return;
    running_ = false;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void AlertService::drain() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [&] { return !running_ || (queue_.empty() && !busy_); });
}

void AlertService::onEvent(rules::Event event, std::string unit_code) {
  std::lock_guard lock(queue_mu_);
  if (queue_.size() >= options_.queue_capacity) {
    ++dropped_;
    return;
  }
  queue_.emplace_back(EventInput{std::move(event), std::move(unit_code)});
  queue_cv_.notify_one();
}

void AlertService::onKpi(std::string name, double value, int64_t time_ms) {
  std::lock_guard lock(queue_mu_);
  queue_.emplace_back(KpiInput{std::move(name), value, time_ms});
  queue_cv_.notify_one();
}

void AlertService::run() {
  auto next_tick = std::chrono::steady_clock::now() + options_.tick;
  std::unique_lock lock(queue_mu_);
  while (running_) {
    queue_cv_.wait_until(lock, next_tick, [&] { return !running_ || !queue_.empty(); });
    std::deque<Input> batch;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    std::vector<AlertChange> changes;
    const bool tick = std::chrono::steady_clock::now() >= next_tick;
    {
      std::lock_guard guard(mu_);
      for (const auto& input : batch) process(input, changes);
      if (tick) applySignals(engine_.tick(clock_.nowUnixMs()), "", changes);
      flushWriteBacks();
    }
    persistAndPublish(std::move(changes), tick);
    lock.lock();
    if (tick) next_tick = std::chrono::steady_clock::now() + options_.tick;
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

void AlertService::process(const Input& input, std::vector<AlertChange>& changes) {
  if (const auto* change = std::get_if<context::EntityChange>(&input)) {
    processChange(*change);
  } else if (const auto* points = std::get_if<Points>(&input)) {
    processPoints(**points, changes);
  } else if (const auto* ev = std::get_if<EventInput>(&input)) {
    subject_units_["cluster:" + ev->event.id] = ev->unit_code;
    applySignals(engine_.onEvent(ev->event), ev->unit_code, changes);
  } else if (const auto* kpi = std::get_if<KpiInput>(&input)) {
    applySignals(engine_.onKpi(kpi->name, kpi->value, kpi->time_ms), "", changes);
  }
}

void AlertService::processChange(const context::EntityChange& change) {
  const context::Entity& e = *change.after;
  // Runs for every change: the first type is read in place, not copied out with the others.
  auto t = e.doc.find("type");
  if (t == e.doc.end()) return;
  const json& first = t->is_array() && !t->empty() ? t->front() : *t;
  if (!first.is_string()) return;
  const std::string& type_iri = first.get_ref<const std::string&>();
  EntityMeta& meta = meta_[e.id];
  if (meta.type_names == nullptr || meta.typeIri() != type_iri) meta.type_names = &names(type_iri);
  meta.unit_code = e.unit_code;
  meta.location = pointOf(e.doc);
  if (!indices_ || meta.type() != "WaterQualityObserved") return;
  // Compliance looks at every parameter together: the entity's current values.
  EntityReadings r{e.id, meta.type(), {}, {}, e.modified_at_ms};
  for (const auto& [key, attr] : e.doc.items()) {
    if (auto v = numericOf(attr, e.modified_at_ms)) {
      r.latest[shortAttribute(key)] = v->first;
      r.time_ms = std::max(r.time_ms, v->second);
    }
  }
  if (auto write_back = indices_->update(r))
    writeBack(e.id, meta.typeIri(), std::move(*write_back));
}

const AlertService::Names& AlertService::names(const std::string& iri) {
  auto it = short_names_.find(iri);
  if (it == short_names_.end()) it = short_names_.emplace(iri, shortName(iri)).first;
  return *it;
}

const AlertService::EntityMeta* AlertService::metaOf(const std::string& entity_id) {
  auto it = meta_.find(entity_id);
  if (it != meta_.end()) return &it->second;
  auto e = broker_.get(entity_id, context::Visibility{""});
  if (!e || e->types().empty()) return nullptr;
  EntityMeta meta{&names(e->types()[0]), e->unit_code, pointOf(e->doc)};
  return &meta_.emplace(entity_id, std::move(meta)).first->second;
}

void AlertService::processPoints(const std::vector<model::Point>& points,
                                 std::vector<AlertChange>& out) {
  // A reading's points arrive together: its entity is looked up once, and the indices see the
  // reading whole (one AQI from its PM2.5, PM10 and NO2, not one after each).
  for (size_t begin = 0, end = 0; begin < points.size(); begin = end) {
    const model::Point& first = points[begin];
    end = begin + 1;
    while (end < points.size() && points[end].at_ms == first.at_ms &&
           points[end].entity_id == first.entity_id) {
      ++end;
    }
    if (const EntityMeta* meta = metaOf(first.entity_id)) {
      processReading(points.data() + begin, points.data() + end, *meta, out);
    }
  }
}

void AlertService::processReading(const model::Point* begin, const model::Point* end,
                                  const EntityMeta& meta, std::vector<AlertChange>& out) {
  const bool indexed = indices_ && CityIndices::readsPoints(meta.type());
  std::map<std::string, double> changed;
  // One reading object reused: its strings keep their capacity, so no allocation per point.
  rules::Reading& r = reading_;
  r.entity_id.assign(begin->entity_id);
  r.entity_type.assign(meta.type());
  r.location = meta.location;
  for (const model::Point* p = begin; p != end; ++p) {
    const std::string& attr = shortAttribute(p->attribute);
    r.attribute.assign(attr);
    r.value = p->value;
    r.time_ms = p->at_ms;
    applySignals(engine_.onReading(r), meta.unit_code, out);
    if (indexed) changed[attr] = p->value;
  }
  if (!indexed) return;
  EntityReadings readings{begin->entity_id, meta.type(), std::move(changed), {}, begin->at_ms};
  if (auto write_back = indices_->update(readings)) {
    writeBack(readings.id, meta.typeIri(), std::move(*write_back));
  }
}

void AlertService::writeBack(const std::string& entity_id, const std::string& type_iri,
                             json attrs) {
  auto expanded = context::parseAttributes(attrs, *context::TermMap::core(), clock_.nowUnixMs());
  if (!expanded.ok()) {
    core::logWarn("index write-back invalid",
                  {{"entity", entity_id}, {"error", expanded.error().message}});
    return;
  }
  // Index attributes live in the vocabulary of the entity's type (e.g. Smart Data Models'), so a
  // client reading with that @context sees them by their short names.
  const std::string prefix = type_iri.substr(0, type_iri.find_last_of("/#") + 1);
  json renamed = json::object();
  for (auto& [key, value] : expanded->items()) {
    std::string name = key;
    if (prefix != kDefaultVocab && name.rfind(kDefaultVocab, 0) == 0) {
      name = prefix + name.substr(kDefaultVocab.size());
    }
    renamed[name] = std::move(value);
  }
  auto [slot, fresh] = write_back_slot_.try_emplace(entity_id, write_backs_.size());
  if (fresh) {
    write_backs_.push_back(
        {entity_id, type_iri, json::object(), /*only_existing=*/true, std::vector<model::Point>{}});
  }
  context::Observation& pending = write_backs_[slot->second];
  context::collectPoints(entity_id, renamed, nullptr, clock_.nowUnixMs(), *pending.points);
  for (auto& [name, value] : renamed.items()) pending.attrs[name] = std::move(value);
}

void AlertService::flushWriteBacks() {
  if (write_backs_.empty()) return;
  write_back_slot_.clear();
  const size_t entities = write_backs_.size();
  broker_.ingest(std::exchange(write_backs_, {}), context::Visibility{""},
                 [entities](core::Status s) {
                   if (s.ok()) return;
                   core::logWarn("index write-back failed",
                                 {{"entities", entities}, {"error", s.error().message}});
                 });
}

void AlertService::applySignals(const std::vector<rules::Signal>& signals, const std::string& unit,
                                std::vector<AlertChange>& out) {
  if (signals.empty()) return;
  for (auto& change : book_.apply(signals)) {
    if (change.type == ChangeType::kOpened && !alert_units_.count(change.alert.id)) {
      std::string owner = unit;
      if (owner.empty()) {  // tick signals: the subject is an entity or an event cluster
        if (auto m = meta_.find(change.alert.subject); m != meta_.end())
          owner = m->second.unit_code;
        if (auto c = subject_units_.find(change.alert.subject); c != subject_units_.end()) {
          owner = c->second;
        }
      }
      alert_units_[change.alert.id] = owner;
    }
    out.push_back(std::move(change));
  }
}

json AlertService::alertDocument(const rules::Alert& a) const {
  auto unit = alert_units_.find(a.id);
  auto rule = rule_docs_.find(a.rule_id);
  return {{"alert", rules::alertToJson(a)},
          {"unitCode", unit == alert_units_.end() ? "" : unit->second},
          {"public", rule != rule_docs_.end() && rule->second.value("public", false)}};
}

AlertView AlertService::viewOf(const rules::Alert& a) const {
  json doc = alertDocument(a);
  return AlertView{a, doc["unitCode"], doc["public"]};
}

void AlertService::persistAndPublish(std::vector<AlertChange> changes, bool flush_dirty) {
  std::vector<model::StoredDocument> docs;
  std::vector<AlertView> views;
  {
    std::lock_guard guard(mu_);
    const int64_t now = clock_.nowUnixMs();
    for (const auto& c : changes) {
      views.push_back(viewOf(c.alert));
      // A rule that keeps firing bumps the count on every reading: those are saved once a tick.
      if (c.type == ChangeType::kUpdated) {
        dirty_.insert(c.alert.id);
        continue;
      }
      dirty_.erase(c.alert.id);
      docs.push_back({kAlertKind, c.alert.id, alertDocument(c.alert).dump(), now});
    }
    if (flush_dirty) {
      for (const auto& id : dirty_) {
        if (const auto* a = book_.find(id)) {
          docs.push_back({kAlertKind, id, alertDocument(*a).dump(), now});
        }
      }
      dirty_.clear();
    }
  }
  if (!docs.empty()) {
    store_.submitWrite(
        [docs = std::move(docs)](storage::WriteTx& tx) -> core::Status {
          for (const auto& d : docs) {
            if (auto s = tx.putDocument(d); !s.ok()) return s;
          }
          return core::Status::success();
        },
        [](core::Status s) {
          if (!s.ok()) core::logWarn("alerts not saved", {{"error", s.error().message}});
        });
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    for (const auto& listener : listeners_) listener(changes[i], views[i]);
  }
}

bool AlertService::visibleTo(const std::string& alert_unit, const std::string& caller_unit) const {
  if (caller_unit.empty()) return true;
  return !alert_unit.empty() && units_.isWithin(alert_unit, caller_unit);
}

// --- rules -------------------------------------------------------------------------------------

core::Status AlertService::persistRule(const json& doc, const std::string& id, bool deleted,
                                       const Caller& who, const std::string& action) {
  const int64_t now = clock_.nowUnixMs();
  auto audit = model::makeAuditEntry(who.actor, action, "rule:" + id,
                                     deleted ? "{}" : doc["rule"].dump(), now);
  return auditedWrite(store_, {kRuleKind, id, deleted ? "" : doc.dump(), now}, deleted,
                      std::move(audit));
}

core::Result<json> AlertService::putRule(json body, const Caller& who,
                                         const std::optional<std::string>& path_id) {
  if (!body.is_object())
    return core::makeError(core::Errc::kInvalidArgument, "a rule is a JSON object");
  if (path_id) {
    if (body.contains("id") && body["id"] != *path_id) {
      return core::makeError(core::Errc::kInvalidArgument, "id: differs from the path");
    }
    body["id"] = *path_id;
  }
  if (!body.contains("id")) {
    body["id"] = "rule-" + std::to_string(clock_.nowUnixMs()) + "-" +
                 std::to_string(next_seq_.fetch_add(0) % 1000);
  }
  if (!body["id"].is_string() || body["id"].get_ref<const std::string&>().empty()) {
    return core::makeError(core::Errc::kInvalidArgument, "id: must be a non-empty string");
  }
  const std::string id = body["id"];
  bool is_public = false;
  if (auto p = body.find("public"); p != body.end()) {
    if (!p->is_boolean())
      return core::makeError(core::Errc::kInvalidArgument, "public: must be true or false");
    is_public = p->get<bool>();
    body.erase("public");
  }
  if (!body.contains("enabled")) body["enabled"] = true;
  std::vector<AlertChange> changes;
  json doc;
  {
    std::unique_lock guard(mu_);
    auto existing = rule_docs_.find(id);
    const int64_t stored =
        existing == rule_docs_.end() ? 0 : existing->second["rule"].value("version", int64_t{0});
    const int64_t asked = body.value("version", int64_t{0});
    // A rules file keeps its own numbering; edits through the API just move forward.
    body["version"] = who.actor.role == "system" && asked > stored ? asked : stored + 1;
    auto rule = rules::ruleFromJson(body, [this](const std::string& code) { return ward(code); });
    if (!rule.ok()) return core::makeError(core::Errc::kInvalidArgument, rule.error().message);
    doc = {{"rule", rules::ruleToJson(*rule)},
           {"public", is_public},
           {"updatedBy", who.actor.name},
           {"updatedAt", core::formatRfc3339(clock_.nowUnixMs())}};
    guard.unlock();
    auto s = persistRule(doc, id, false, who,
                         existing == rule_docs_.end() ? "rule.create" : "rule.update");
    if (!s.ok()) return s.error();
    guard.lock();
    auto cleared = engine_.addRule(std::move(*rule));
    if (cleared.ok()) applySignals(*cleared, "", changes);
    rule_docs_[id] = doc;
  }
  persistAndPublish(std::move(changes), false);
  json out = doc["rule"];
  out["public"] = is_public;
  return out;
}

core::Status AlertService::deleteRule(const std::string& id, const Caller& who) {
  {
    std::lock_guard guard(mu_);
    if (!rule_docs_.count(id)) return core::makeError(core::Errc::kNotFound, "no rule " + id);
  }
  if (auto s = persistRule(json::object(), id, true, who, "rule.delete"); !s.ok()) return s;
  std::vector<AlertChange> changes;
  {
    std::lock_guard guard(mu_);
    applySignals(engine_.removeRule(id), "", changes);
    rule_docs_.erase(id);
  }
  persistAndPublish(std::move(changes), false);
  return core::Status::success();
}

std::vector<json> AlertService::rules() const {
  std::lock_guard guard(mu_);
  std::vector<json> out;
  for (const auto& [id, doc] : rule_docs_) {
    json r = doc["rule"];
    r["public"] = doc.value("public", false);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<json> AlertService::rule(const std::string& id) const {
  std::lock_guard guard(mu_);
  auto it = rule_docs_.find(id);
  if (it == rule_docs_.end()) return std::nullopt;
  json r = it->second["rule"];
  r["public"] = it->second.value("public", false);
  return r;
}

core::Result<size_t> AlertService::importRules(const json& file, const Caller& who) {
  if (!file.is_object() || !file.contains("rules") || !file["rules"].is_array()) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "a rules file is {\"version\": N, \"rules\": [...]}");
  }
  size_t updated = 0;
  for (const auto& r : file["rules"]) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string()) {
      return core::makeError(core::Errc::kInvalidArgument, "every rule needs a string id");
    }
    const int64_t version = r.value("version", int64_t{1});
    if (auto existing = rule(r["id"]);
        existing && existing->value("version", int64_t{0}) >= version) {
      continue;  // already at this version or newer
    }
    Caller importer = who;
    importer.actor.role = "system";
    auto put = putRule(r, importer, std::nullopt);
    if (!put.ok()) {
      return core::makeError(put.error().code,
                             r["id"].get<std::string>() + ": " + put.error().message);
    }
    ++updated;
  }
  return updated;
}

// --- alerts ------------------------------------------------------------------------------------

std::vector<AlertView> AlertService::alerts(const AlertFilter& f, const std::string& unit,
                                            size_t* total) const {
  std::lock_guard guard(mu_);
  std::vector<AlertView> out;
  size_t matched = 0;
  auto all = book_.all();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {  // newest first
    const rules::Alert& a = **it;
    auto u = alert_units_.find(a.id);
    if (!visibleTo(u == alert_units_.end() ? "" : u->second, unit)) continue;
    if (f.status && a.status != *f.status) continue;
    if (f.open_only && !a.open()) continue;
    if (!f.rule_id.empty() && a.rule_id != f.rule_id) continue;
    if (f.severity && a.severity != *f.severity) continue;
    if (a.last_seen_ms < f.since_ms) continue;
    if (matched++ >= f.offset && out.size() < f.limit) out.push_back(viewOf(a));
  }
  if (total) *total = matched;
  return out;
}

std::optional<AlertView> AlertService::alert(const std::string& id, const std::string& unit) const {
  std::lock_guard guard(mu_);
  const rules::Alert* a = book_.find(id);
  if (!a) return std::nullopt;
  AlertView v = viewOf(*a);
  if (!visibleTo(v.unit_code, unit)) return std::nullopt;
  return v;
}

std::vector<AlertView> AlertService::publicAlerts() const {
  std::lock_guard guard(mu_);
  std::vector<AlertView> out;
  for (const rules::Alert* a : book_.all()) {
    if (!a->open()) continue;
    AlertView v = viewOf(*a);
    if (v.is_public) out.push_back(std::move(v));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

core::Result<AlertView> AlertService::transition(const std::string& id, std::string_view action,
                                                 const std::string& note, const Caller& who) {
  core::Result<AlertChange> change =
      core::makeError(core::Errc::kInvalidArgument, "unknown action");
  AlertView view;
  {
    std::lock_guard guard(mu_);
    const rules::Alert* a = book_.find(id);
    auto unit = alert_units_.find(id);
    if (!a || !visibleTo(unit == alert_units_.end() ? "" : unit->second, who.unit_code)) {
      return core::makeError(core::Errc::kNotFound, "no alert " + id);
    }
    const std::string& by = who.actor.name;
    if (action == "acknowledge") change = book_.acknowledge(id, by, note);
    if (action == "resolve") change = book_.resolve(id, by, note);
    if (action == "close") change = book_.close(id, by, note);
    if (action == "reopen") change = book_.reopen(id, by, note);
    if (!change.ok()) return change.error();
    view = viewOf(change->alert);
    dirty_.erase(id);
  }
  const int64_t now = clock_.nowUnixMs();
  json detail = {{"status", toString(view.alert.status)}, {"note", note}};
  auto audit = model::makeAuditEntry(who.actor, "alert." + std::string(action), "alert:" + id,
                                     detail.dump(), now);
  json doc;
  {
    std::lock_guard guard(mu_);
    doc = alertDocument(change->alert);
  }
  auto s = auditedWrite(store_, {kAlertKind, id, doc.dump(), now}, false, std::move(audit));
  if (!s.ok()) return s.error();
  for (const auto& listener : listeners_) listener(*change, view);
  return view;
}

}  // namespace ioc::alerts
