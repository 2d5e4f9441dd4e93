#include "subscription/service.h"

#include <algorithm>
#include <set>

#include "core/log.h"
#include "core/thread_name.h"
#include "obs/metrics.h"

namespace ioc::subscription {

using json = ioc::Json;
using std::chrono::milliseconds;

//! One subscription and its mutable delivery state.
struct SubscriptionService::Entry {
  std::mutex mu;
  SubscriptionPtr sub;
  DeliveryStatus status;
  bool dirty = false;            //!< status not yet written to the store
  int64_t last_queued_ms = 0;    //!< throttling
  int64_t next_periodic_ms = 0;  //!< timeInterval; 0 = not scheduled yet

  SubscriptionPtr current() {
    std::lock_guard lock(mu);
    return sub;
  }
};

namespace {

core::Error notFound(const std::string& id) {
  return core::makeError(core::Errc::kNotFound, "ResourceNotFound: no subscription " + id);
}

core::Error bad(std::string detail) {
  return core::makeError(core::Errc::kInvalidArgument, "BadRequestData: " + std::move(detail));
}

bool isSubAttributeMember(const std::string& k) {
  for (const char* n :
       {"type", "value", "object", "languageMap", "observedAt", "unitCode", "datasetId",
        "createdAt", "modifiedAt", "vocab", "valueList", "objectList"}) {
    if (k == n) return false;
  }
  return true;
}

//! Normalized attribute instance → concise (clause 4.5.1.3): the "type" goes (the member that
//! carries the data tells it), sub-attributes likewise, and a Property with nothing but a
//! non-object value becomes that value.
json conciseInstance(json inst) {
  if (!inst.is_object()) return inst;
  inst.erase("type");
  for (auto& [k, v] : inst.items()) {
    if (!isSubAttributeMember(k)) continue;
    v = v.is_array() ? v : conciseInstance(v);
  }
  if (inst.size() == 1 && inst.contains("value") && !inst["value"].is_object()) {
    return inst["value"];
  }
  return inst;
}

json concise(json entity) {
  for (auto& [k, v] : entity.items()) {
    if (k == "id" || k == "type" || k == "@context" || k == "createdAt" || k == "modifiedAt") {
      continue;
    }
    if (v.is_array()) {
      for (auto& inst : v) inst = conciseInstance(inst);
    } else {
      v = conciseInstance(v);
    }
  }
  return entity;
}

}  // namespace

SubscriptionService::SubscriptionService(storage::Store& store, context::Broker& broker,
                                         context::ContextRegistry& contexts,
                                         const units::UnitCatalog& units, const core::Clock& clock,
                                         ServiceOptions options, SenderFactory senders)
    : store_(store),
      broker_(broker),
      contexts_(contexts),
      units_(units),
      clock_(clock),
      options_(options),
      dispatcher_(options.delivery, std::move(senders),
                  [this](const Message& m, Outcome o) { onOutcome(m, o); }),
      index_(std::make_shared<SubscriptionIndex>(std::vector<SubscriptionPtr>{})) {
  auto& registry = obs::defaultRegistry();
  auto& total = registry.counter("ngsild_notifications_total",
                                 "NGSI-LD notifications by result: sent, failed (last attempt "
                                 "failed), dropped (queue full or shutdown)",
                                 {"result"});
  sent_ = &total.with({"sent"});
  failed_ = &total.with({"failed"});
  dropped_ = &total.with({"dropped"});
  throttled_ = &registry
                    .counter("ngsild_notifications_throttled_total",
                             "Notifications not sent because of throttling or endpoint cooldown")
                    .with({});
  latency_ = &registry
                  .histogram("ngsild_notification_latency_seconds",
                             "From the durable commit of a change to its delivered notification")
                  .with({});
}

SubscriptionService::~SubscriptionService() {
  stop();
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

core::Status SubscriptionService::load() {
  auto docs = store_.listDocuments(kDocumentKind);
  if (!docs.ok()) return docs.error();
  const int64_t now = clock_.nowUnixMs();
  size_t bad_docs = 0;
  for (const auto& d : *docs) {
    json doc = json::parse(d.doc, nullptr, false);
    auto terms = contexts_.resolve(doc.value("context", json()));
    auto q_terms = contexts_.resolve(doc.value("q_context", json()));
    if (!terms.ok()) terms = context::TermMap::core();
    if (!q_terms.ok()) q_terms = context::TermMap::core();
    auto sub = doc.is_object() ? build(doc.value("spec", json::object()), **q_terms,
                                       options_.limits, now, false)
                               : core::Result<Subscription>(bad("unreadable"));
    if (!sub.ok()) {
      ++bad_docs;
      core::logWarn("subscription not loaded", {{"id", d.id}, {"error", sub.error().message}});
      continue;
    }
    sub->unit_code = doc.value("unit", "");
    sub->owner = doc.value("owner", "");
    sub->context = doc.value("context", json());
    sub->q_context = doc.value("q_context", json());
    sub->terms = *terms;
    sub->created_at_ms = doc.value("createdAt", int64_t{0});
    sub->modified_at_ms = doc.value("modifiedAt", int64_t{0});
    auto entry = std::make_shared<Entry>();
    entry->sub = std::make_shared<const Subscription>(std::move(*sub));
    entry->status = statusFromJson(doc.value("status", json()));
    install(std::move(entry));
  }
  core::logInfo("subscriptions loaded", {{"count", static_cast<int64_t>(size())},
                                         {"unreadable", static_cast<int64_t>(bad_docs)}});
  return core::Status::success();
}

void SubscriptionService::attach() {
  // Matched as soon as readers can see a change (GET already answers with it), not after the
  // commit: a notification does not wait behind the disk. A failed commit's undoing is a change
  // too, so subscribers end with the stored state.
  broker_.addChangeListener(
      [this](const std::vector<context::EntityChange>& changes) { onChanges(changes); },
      context::Broker::Moment::kPublished);
}

void SubscriptionService::start() {
  dispatcher_.start();
  matcher_ = std::thread([this] {
    core::nameThisThread("ioc-sub-matcher");
    matcherLoop();
  });
}

void SubscriptionService::stop() {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_ && !matcher_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (matcher_.joinable()) matcher_.join();  // matches what was committed before the stop
  dispatcher_.stop(options_.shutdown_grace);
  persistStatus(true);
}

size_t SubscriptionService::size() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

// ---------------------------------------------------------------------------------------------
// CRUD

bool SubscriptionService::ownedBy(const Subscription& sub, const Caller& who) const {
  if (who.unit_code.empty()) return true;
  return !sub.unit_code.empty() && units_.isWithin(sub.unit_code, who.unit_code);
}

std::shared_ptr<SubscriptionService::Entry> SubscriptionService::find(const std::string& id,
                                                                      const Caller& who) const {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return nullptr;
    entry = it->second;
  }
  return ownedBy(*entry->current(), who) ? entry : nullptr;
}

void SubscriptionService::install(std::shared_ptr<Entry> entry) {
  std::lock_guard lock(mu_);
  const std::string id = entry->current()->id;
  subs_[id] = std::move(entry);
  rebuildIndexLocked();
}

void SubscriptionService::rebuildIndexLocked() {
  std::vector<SubscriptionPtr> all;
  all.reserve(subs_.size());
  for (const auto& [id, e] : subs_) all.push_back(e->current());
  index_ = std::make_shared<const SubscriptionIndex>(all);
}

core::Result<std::shared_ptr<const context::TermMap>> SubscriptionService::contextFor(
    const json& spec, const context::TermMap& terms) {
  if (spec.contains("jsonldContext")) return contexts_.resolve(spec["jsonldContext"]);
  return std::shared_ptr<const context::TermMap>(&terms, [](const context::TermMap*) {});
}

json SubscriptionService::document(const Subscription& sub, const DeliveryStatus& status) const {
  return {{"spec", sub.spec},
          {"unit", sub.unit_code},
          {"owner", sub.owner},
          {"context", sub.context},
          {"q_context", sub.q_context},
          {"createdAt", sub.created_at_ms},
          {"modifiedAt", sub.modified_at_ms},
          {"status", statusJson(status)}};
}

core::Status SubscriptionService::persist(const Subscription& sub, const DeliveryStatus& status,
                                          const std::string& action, const Caller& who) {
  const int64_t now = clock_.nowUnixMs();
  model::StoredDocument doc{kDocumentKind, sub.id, document(sub, status).dump(), now};
  // The audit detail names the target URL (what makes a subscription sensitive), never the
  // receiverInfo, which may carry credentials.
  json detail = {{"endpoint", sub.endpoint.uri}, {"status", sub.status(now)}};
  auto audit =
      model::makeAuditEntry(who.actor, action, "subscription:" + sub.id, detail.dump(), now);
  return store_.writeSync([doc = std::move(doc), audit = std::move(audit)](storage::WriteTx& tx) {
    if (auto s = tx.putDocument(doc); !s.ok()) return s;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
}

core::Result<std::string> SubscriptionService::create(const json& body,
                                                      std::shared_ptr<const context::TermMap> terms,
                                                      const Caller& who) {
  auto spec = canonicalize(body, *terms, false);
  if (!spec.ok()) return spec.error();
  std::lock_guard write(write_mu_);
  if (!spec->contains("id")) (*spec)["id"] = newUrn("Subscription");
  const std::string id = (*spec)["id"];
  {
    std::lock_guard lock(mu_);
    if (subs_.count(id)) {
      return core::makeError(core::Errc::kAlreadyExists, "AlreadyExists: subscription " + id);
    }
    if (subs_.size() >= options_.max_subscriptions) {
      return core::makeError(core::Errc::kForbidden,
                             "OperationNotSupported: at most " +
                                 std::to_string(options_.max_subscriptions) +
                                 " subscriptions (subscriptions.max_count)");
    }
  }
  const int64_t now = clock_.nowUnixMs();
  auto out_terms = contextFor(*spec, *terms);
  if (!out_terms.ok()) return out_terms.error();
  auto sub = build(std::move(*spec), *terms, options_.limits, now, true);
  if (!sub.ok()) return sub.error();
  sub->unit_code = who.unit_code;
  sub->owner = who.actor.name;
  sub->context = sub->spec.contains("jsonldContext") ? sub->spec["jsonldContext"] : terms->source();
  sub->q_context = terms->source();
  sub->terms = sub->spec.contains("jsonldContext") ? *out_terms : terms;
  sub->created_at_ms = sub->modified_at_ms = now;
  if (auto s = persist(*sub, {}, "subscription.create", who); !s.ok()) return s.error();
  auto entry = std::make_shared<Entry>();
  entry->sub = std::make_shared<const Subscription>(std::move(*sub));
  install(std::move(entry));
  return id;
}

core::Status SubscriptionService::update(const std::string& id, const json& fragment,
                                         std::shared_ptr<const context::TermMap> terms,
                                         const Caller& who) {
  auto frag = canonicalize(fragment, *terms, true);
  if (!frag.ok()) return frag.error();
  std::lock_guard write(write_mu_);
  auto entry = find(id, who);
  if (!entry) return notFound(id);
  if (frag->contains("id") && (*frag)["id"] != id) return bad("id cannot be changed");
  SubscriptionPtr old = entry->current();
  const bool new_q = frag->contains("q");
  auto q_terms = new_q ? core::Result<std::shared_ptr<const context::TermMap>>(terms)
                       : contexts_.resolve(old->q_context);
  if (!q_terms.ok()) return q_terms.error();
  const int64_t now = clock_.nowUnixMs();
  auto sub = build(mergeSpec(old->spec, *frag), **q_terms, options_.limits, now,
                   frag->contains("expiresAt"));
  if (!sub.ok()) return sub.error();
  sub->unit_code = old->unit_code;
  sub->owner = old->owner;
  sub->context = old->context;
  sub->terms = old->terms;
  if (frag->contains("jsonldContext")) {
    auto t = contexts_.resolve((*frag)["jsonldContext"]);
    if (!t.ok()) return t.error();
    sub->context = (*frag)["jsonldContext"];
    sub->terms = *t;
  }
  sub->q_context = new_q ? terms->source() : old->q_context;
  sub->created_at_ms = old->created_at_ms;
  sub->modified_at_ms = now;
  DeliveryStatus status;
  {
    std::lock_guard lock(entry->mu);
    status = entry->status;
  }
  if (auto s = persist(*sub, status, "subscription.update", who); !s.ok()) return s;
  {
    std::lock_guard lock(entry->mu);
    entry->sub = std::make_shared<const Subscription>(std::move(*sub));
    entry->next_periodic_ms = 0;  // a new interval or a resumed subscription starts afresh
  }
  std::lock_guard lock(mu_);
  rebuildIndexLocked();
  return core::Status::success();
}

core::Status SubscriptionService::remove(const std::string& id, const Caller& who) {
  std::lock_guard write(write_mu_);
  auto entry = find(id, who);
  if (!entry) return notFound(id);
  const int64_t now = clock_.nowUnixMs();
  auto audit =
      model::makeAuditEntry(who.actor, "subscription.delete", "subscription:" + id,
                            json{{"endpoint", entry->current()->endpoint.uri}}.dump(), now);
  auto s = store_.writeSync([id, audit = std::move(audit)](storage::WriteTx& tx) {
    if (auto d = tx.deleteDocument(kDocumentKind, id); !d.ok()) return d;
    auto seq = tx.appendAudit(audit);
    return seq.ok() ? core::Status::success() : core::Status(seq.error());
  });
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  subs_.erase(id);
  rebuildIndexLocked();
  return core::Status::success();
}

core::Result<json> SubscriptionService::get(const std::string& id, const context::TermMap& terms,
                                            const Caller& who) const {
  auto entry = find(id, who);
  if (!entry) return notFound(id);
  std::lock_guard lock(entry->mu);
  return render(*entry->sub, entry->status, terms, clock_.nowUnixMs());
}

SubscriptionService::Page SubscriptionService::list(const context::TermMap& terms,
                                                    const Caller& who, size_t limit,
                                                    size_t offset) const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : subs_) entries.push_back(e);
  }
  Page page;
  const int64_t now = clock_.nowUnixMs();
  for (const auto& e : entries) {
    std::lock_guard lock(e->mu);
    if (!ownedBy(*e->sub, who)) continue;
    if (page.total++ >= offset && page.items.size() < limit) {
      page.items.push_back(render(*e->sub, e->status, terms, now));
    }
  }
  return page;
}

// ---------------------------------------------------------------------------------------------
// Matching

void SubscriptionService::onChanges(const std::vector<context::EntityChange>& changes) {
  {
    std::lock_guard lock(mu_);
    if (subs_.empty()) return;  // nothing to match: ingestion pays nothing
  }
  std::lock_guard lock(queue_mu_);
  if (stopping_ || queue_.size() >= options_.change_queue) {
    dropped_->inc(changes.size());
    return;
  }
  queue_.push_back({changes, std::chrono::steady_clock::now()});
  queue_cv_.notify_one();
}

void SubscriptionService::waitIdle() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return (queue_.empty() && !busy_) || !matcher_.joinable(); });
}

void SubscriptionService::matcherLoop() {
  std::unique_lock lock(queue_mu_);
  while (true) {
    queue_cv_.wait_for(lock, milliseconds(200), [this] { return !queue_.empty() || stopping_; });
    if (!queue_.empty()) {
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      match(batch);
      lock.lock();
      busy_ = false;
      idle_cv_.notify_all();
      continue;
    }
    if (stopping_) break;
    lock.unlock();
    runPeriodic(clock_.nowUnixMs());
    persistStatus(false);
    lock.lock();
  }
  idle_cv_.notify_all();
}

void SubscriptionService::match(const Batch& batch) {
  std::shared_ptr<const SubscriptionIndex> index;
  {
    std::lock_guard lock(mu_);
    index = index_;
  }
  const int64_t now = clock_.nowUnixMs();
  // One notification per subscription and batch, with every entity the batch changed for it.
  std::map<std::string, std::vector<const context::EntityChange*>> fired;
  for (const auto& change : batch.changes) {
    const context::EntityPtr& e = change.after ? change.after : change.before;
    if (!e) continue;
    auto candidates = index->candidates(e->types());
    if (candidates.empty()) continue;
    AttributeDiff diff = diffAttributes(change.before.get(), change.after.get());
    for (const auto& sub : candidates) {
      if (matchesChange(*sub, change, diff, units_, now)) fired[sub->id].push_back(&change);
    }
  }
  for (const auto& [id, changes] : fired) {
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard lock(mu_);
      auto it = subs_.find(id);
      if (it == subs_.end()) continue;  // deleted meanwhile
      entry = it->second;
    }
    std::vector<Item> data;
    for (const auto* c : changes) {
      data.emplace_back(c->after ? c->after.get() : c->before.get(), !c->after);
    }
    notify(*entry, std::move(data), batch.committed, now);
  }
}

void SubscriptionService::runPeriodic(int64_t now_ms) {
  std::vector<std::shared_ptr<Entry>> due;
  {
    std::lock_guard lock(mu_);
    for (const auto& sub : index_->periodic()) {
      auto it = subs_.find(sub->id);
      if (it != subs_.end()) due.push_back(it->second);
    }
  }
  for (const auto& entry : due) {
    SubscriptionPtr sub;
    {
      std::lock_guard lock(entry->mu);
      sub = entry->sub;
      const auto interval = static_cast<int64_t>(*sub->time_interval_s * 1000);
      if (entry->next_periodic_ms == 0) entry->next_periodic_ms = now_ms + interval;
      if (now_ms < entry->next_periodic_ms || !sub->active || sub->expired(now_ms)) continue;
      entry->next_periodic_ms = now_ms + interval;
    }
    std::vector<context::EntityPtr> found;
    std::set<std::string> seen;
    for (const auto& sel : sub->entities) {
      context::EntityQuery q;
      q.types = {sel.type};
      if (!sel.id.empty()) q.ids = {sel.id};
      if (sel.id.empty() && !sel.id_pattern.empty()) q.id_pattern = sel.id_pattern;
      q.q = sub->q;
      q.geo = sub->geo;
      q.limit = options_.periodic_max_entities;
      for (auto& e : broker_.query(q, context::Visibility{sub->unit_code}).items) {
        if (seen.insert(e->id).second && found.size() < options_.periodic_max_entities) {
          found.push_back(std::move(e));
        }
      }
    }
    if (found.empty()) continue;
    std::vector<Item> data;
    for (const auto& e : found) data.emplace_back(e.get(), false);
    notify(*entry, std::move(data), std::chrono::steady_clock::now(), now_ms);
  }
}

json SubscriptionService::renderData(const Subscription& sub, const context::Entity& e,
                                     bool deleted, int64_t now_ms) const {
  const context::TermMap& terms = sub.terms ? *sub.terms : *context::TermMap::core();
  if (deleted) {
    json types = json::array();
    for (const auto& t : e.types()) types.push_back(terms.compact(t));
    return {{"id", e.id},
            {"type", types.size() == 1 ? types[0] : types},
            {"deletedAt", core::formatRfc3339(now_ms)}};
  }
  context::RenderOptions opts;
  opts.key_values = sub.format == Format::kKeyValues;
  opts.sys_attrs = sub.sys_attrs;
  opts.attrs = sub.attrs.empty() ? nullptr : &sub.attrs;
  json out = context::renderEntity(e, terms, opts);
  return sub.format == Format::kConcise ? concise(std::move(out)) : out;
}

void SubscriptionService::notify(Entry& entry, std::vector<Item> data, SteadyTime committed,
                                 int64_t now_ms) {
  SubscriptionPtr sub;
  {
    std::lock_guard lock(entry.mu);
    sub = entry.sub;
    const bool throttled =
        sub->throttling_s > 0 && entry.last_queued_ms > 0 &&
        now_ms - entry.last_queued_ms < static_cast<int64_t>(sub->throttling_s * 1000);
    const bool cooling = sub->endpoint.cooldown_ms > 0 && entry.status.failed &&
                         now_ms - entry.status.last_failure_ms < sub->endpoint.cooldown_ms;
    if (throttled || cooling) {
      throttled_->inc();
      return;
    }
    entry.last_queued_ms = now_ms;
  }
  json entities = json::array();
  for (const auto& [e, deleted] : data) entities.push_back(renderData(*sub, *e, deleted, now_ms));
  Message m;
  m.sub = sub;
  m.notification = {{"id", newUrn("Notification")},
                    {"type", "Notification"},
                    {"subscriptionId", sub->id},
                    {"notifiedAt", core::formatRfc3339(now_ms)},
                    {"data", std::move(entities)}};
  m.committed = committed;
  if (!dispatcher_.enqueue(std::move(m))) dropped_->inc();
}

// ---------------------------------------------------------------------------------------------
// Delivery outcomes and their persistence

void SubscriptionService::onOutcome(const Message& m, Outcome outcome) {
  const int64_t now = clock_.nowUnixMs();
  if (outcome == Outcome::kSent) {
    sent_->inc();
    latency_->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m.committed).count());
  } else if (outcome == Outcome::kFailed) {
    failed_->inc();
  } else if (outcome == Outcome::kDropped) {
    dropped_->inc();
    return;
  }
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(m.sub->id);
    if (it == subs_.end()) return;
    entry = it->second;
  }
  std::lock_guard lock(entry->mu);
  DeliveryStatus& s = entry->status;
  ++s.times_sent;  // every attempt is a notification sent (clause 5.2.14)
  s.last_notification_ms = now;
  s.failed = outcome != Outcome::kSent;
  if (s.failed) {
    ++s.times_failed;
    s.last_failure_ms = now;
  } else {
    s.last_success_ms = now;
  }
  entry->dirty = true;
}

// Delivery status (timesSent, lastSuccess …) is written lazily: at most every
// options_.status_flush while it changes, and once at shutdown. A crash loses at most that much
// of the counters, never a subscription. These writes are not audited: they record what the
// server did, not a change anyone made.
void SubscriptionService::persistStatus(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_status_flush_ < options_.status_flush) return;
  // Holding write_mu_ keeps a stale copy from overwriting a concurrent update or deletion; the
  // matcher never waits for it (try_lock), except at shutdown.
  std::unique_lock write(write_mu_, std::defer_lock);
  if (force) {
    write.lock();
  } else if (!write.try_lock()) {
    return;
  }
  last_status_flush_ = now;
  std::vector<model::StoredDocument> docs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : subs_) {
      std::lock_guard entry_lock(e->mu);
      if (!e->dirty) continue;
      e->dirty = false;
      docs.push_back({kDocumentKind, id, document(*e->sub, e->status).dump(), clock_.nowUnixMs()});
    }
  }
  if (docs.empty()) return;
  auto job = [docs = std::move(docs)](storage::WriteTx& tx) {
    for (const auto& d : docs) {
      if (auto s = tx.putDocument(d); !s.ok()) return s;
    }
    return core::Status::success();
  };
  if (force) {
    if (auto st = store_.writeSync(std::move(job)); !st.ok()) {
      core::logWarn("subscription status not saved", {{"error", st.error().message}});
    }
  } else {
    store_.submitWrite(std::move(job), [](core::Status) {});
  }
}

}  // namespace ioc::subscription
