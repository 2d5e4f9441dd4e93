#pragma once
// NGSI-LD subscriptions as a service: CRUD (durable in the store's documents, kind
// "subscription", every change audited in the same write), matching of committed entity changes,
// periodic (timeInterval) notifications, and delivery through the Dispatcher.
//
// Threads. The broker's change listener runs on the store's writer thread and only appends the
// batch to a bounded queue (a full queue drops it, counted). One matcher thread takes batches,
// finds the subscriptions they fire (SubscriptionIndex: cost follows the entity's types), renders
// one Notification per subscription and batch, and hands it to the Dispatcher's workers. The same
// thread sends periodic notifications and writes delivery status lazily (see persistStatus()).
// CRUD runs on the API's worker threads and blocks on the durable write.
// Lifecycle: construct after the broker → load() → attach() (registers the listener, before
// serving) → start() → … → stop(grace) before the store is flushed and closed.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "context/broker.h"
#include "context/ld_context.h"
#include "core/clock.h"
#include "core/json.h"
#include "model/audit_entry.h"
#include "storage/store.h"
#include "subscription/delivery.h"
#include "subscription/matcher.h"
#include "subscription/subscription.h"
#include "units/catalog.h"

namespace ioc::obs {
class Counter;
class Histogram;
}  // namespace ioc::obs

namespace ioc::subscription {

struct ServiceOptions {
  size_t max_subscriptions = 1000;
  Limits limits;
  DeliveryOptions delivery;
  size_t change_queue = 10000;                     //!< committed batches waiting for matching
  std::chrono::milliseconds status_flush{5000};    //!< delivery status written at most this often
  std::chrono::milliseconds shutdown_grace{2000};  //!< for notifications still queued at stop
  size_t periodic_max_entities = 1000;             //!< per timeInterval notification
};

//! Who asks: their unit bounds what they see and what their subscriptions notify.
struct Caller {
  std::string unit_code;
  model::Actor actor;
};

class SubscriptionService {
 public:
  SubscriptionService(storage::Store& store, context::Broker& broker,
                      context::ContextRegistry& contexts, const units::UnitCatalog& units,
                      const core::Clock& clock, ServiceOptions options,
                      SenderFactory senders = makeNetworkSender);
  ~SubscriptionService();  // stop()
  SubscriptionService(const SubscriptionService&) = delete;
  SubscriptionService& operator=(const SubscriptionService&) = delete;

  core::Status load();
  void attach();
  void start();
  void stop();

  //! `body` is the request's JSON, `terms` its @context. Returns the id.
  core::Result<std::string> create(const ioc::Json& body,
                                   std::shared_ptr<const context::TermMap> terms,
                                   const Caller& who);
  core::Status update(const std::string& id, const ioc::Json& fragment,
                      std::shared_ptr<const context::TermMap> terms, const Caller& who);
  core::Status remove(const std::string& id, const Caller& who);
  //! Rendered with `terms`; kNotFound outside the caller's unit.
  core::Result<ioc::Json> get(const std::string& id, const context::TermMap& terms,
                              const Caller& who) const;
  struct Page {
    std::vector<ioc::Json> items;
    size_t total = 0;
  };
  Page list(const context::TermMap& terms, const Caller& who, size_t limit, size_t offset) const;

  //! The broker's listener (public for tests): queues the batch, never blocks.
  void onChanges(const std::vector<context::EntityChange>& changes);
  //! Test hook: waits until every queued change batch has been matched.
  void waitIdle();
  size_t size() const;

 private:
  struct Entry;
  struct Batch {
    std::vector<context::EntityChange> changes;
    SteadyTime committed;
  };

  core::Result<std::shared_ptr<const context::TermMap>> contextFor(const ioc::Json& spec,
                                                                   const context::TermMap& terms);
  core::Status persist(const Subscription& sub, const DeliveryStatus& status,
                       const std::string& action, const Caller& who);
  ioc::Json document(const Subscription& sub, const DeliveryStatus& status) const;
  std::shared_ptr<Entry> find(const std::string& id, const Caller& who) const;
  void install(std::shared_ptr<Entry> entry);
  void rebuildIndexLocked();
  bool ownedBy(const Subscription& sub, const Caller& who) const;

  void matcherLoop();
  void match(const Batch& batch);
  void runPeriodic(int64_t now_ms);
  using Item = std::pair<const context::Entity*, bool>;  //!< entity, deleted
  void notify(Entry& entry, std::vector<Item> data, SteadyTime committed, int64_t now_ms);
  ioc::Json renderData(const Subscription& sub, const context::Entity& e, bool deleted,
                       int64_t now_ms) const;
  void onOutcome(const Message& m, Outcome outcome);
  void persistStatus(bool force);

  storage::Store& store_;
  context::Broker& broker_;
  context::ContextRegistry& contexts_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  ServiceOptions options_;
  Dispatcher dispatcher_;

  mutable std::mutex mu_;  // subs_ and index_
  std::map<std::string, std::shared_ptr<Entry>> subs_;
  std::shared_ptr<const SubscriptionIndex> index_;
  std::mutex write_mu_;  // one CRUD at a time: the limit check and the id check hold

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<Batch> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread matcher_;
  std::chrono::steady_clock::time_point last_status_flush_{};

  obs::Counter* sent_;
  obs::Counter* failed_;
  obs::Counter* dropped_;
  obs::Counter* throttled_;
  obs::Histogram* latency_;
};

}  // namespace ioc::subscription
