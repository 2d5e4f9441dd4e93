#pragma once
// Monitoring (giám sát): detection rules over every committed entity change, the city indices
// written back onto entities, and alerts with their lifecycle — durable, audited, streamed.
//
// Threads. The broker's change and point listeners run on the store's writer thread and only
// queue what they get (bounded; a full queue drops it, counted). Readings are the durable points
// (every reading, even several of one entity in one batch); changes keep entity metadata. One
// worker thread owns the rule engine, the alert book and the city indices: it turns changes into
// readings, evaluates rules, ticks every `tick` for durations and staleness, writes alerts (opened,
// resolved: at once; count updates: coalesced, once per tick) and writes index attributes back
// through the broker's telemetry path. API calls (rules CRUD, operator transitions) take the same
// mutex briefly and block on their own durable write (worker threads of the API, never I/O
// threads). Lifecycle: construct after the broker → load() → attach() → start() → … → stop().
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "alerts/cap.h"
#include "alerts/city_indices.h"
#include "context/broker.h"
#include "core/clock.h"
#include "core/json.h"
#include "model/audit_entry.h"
#include "rules/alert.h"
#include "rules/engine.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::alerts {

namespace geo = ngsild::geo;

struct AlertOptions {
  size_t queue_capacity = 100'000;       //!< committed changes waiting for evaluation
  std::chrono::milliseconds tick{1000};  //!< durations, staleness, coalesced updates
  std::string data_root;                 //!< the project's data/: wards, index tables
  std::string rules_file;                //!< a versioned rules file loaded at start
  CapSender cap;
};

struct Caller {
  std::string unit_code;  //!< "" = the whole country
  model::Actor actor;
};

//! An alert with the administrative unit it belongs to (the unit of the entity that raised it).
struct AlertView {
  rules::Alert alert;
  std::string unit_code;
  bool is_public = false;  //!< its rule publishes warnings to citizens
};

struct AlertFilter {
  std::optional<rules::AlertStatus> status;
  bool open_only = false;
  std::string rule_id;
  std::optional<rules::Severity> severity;
  int64_t since_ms = 0;  //!< last seen at or after
  size_t limit = 100;
  size_t offset = 0;
};

using AlertListener = std::function<void(const rules::AlertChange&, const AlertView&)>;

class AlertService {
 public:
  AlertService(storage::Store& store, context::Broker& broker, const units::UnitCatalog& units,
               const core::Clock& clock, AlertOptions options);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  core::Status load();
  void attach();
  void addListener(AlertListener listener);  //!< before start()
  void start();
  void stop();

  // Rules (documents of kind "rule"; every change audited).
  //! Creates (id absent or new) or replaces a rule; the version increases on every change.
  core::Result<ioc::Json> putRule(ioc::Json body, const Caller& who,
                                  const std::optional<std::string>& path_id);
  core::Status deleteRule(const std::string& id, const Caller& who);
  std::vector<ioc::Json> rules() const;
  std::optional<ioc::Json> rule(const std::string& id) const;
  //! {"version": N, "rules": [...]}: rules newer than the stored ones replace them.
  core::Result<size_t> importRules(const ioc::Json& file, const Caller& who);

  // Alerts.
  std::vector<AlertView> alerts(const AlertFilter& filter, const std::string& unit,
                                size_t* total) const;
  std::optional<AlertView> alert(const std::string& id, const std::string& unit) const;
  //! action: acknowledge | resolve | close | reopen.
  core::Result<AlertView> transition(const std::string& id, std::string_view action,
                                     const std::string& note, const Caller& who);
  std::vector<AlertView> publicAlerts() const;
  std::string capXml(const AlertView& view) const { return toCapXml(view.alert, options_.cap); }

  // Inputs besides entity changes (camera events, hotline calls, reports; KPI values).
  void onEvent(rules::Event event, std::string unit_code);
  void onKpi(std::string name, double value, int64_t time_ms);

  uint64_t droppedChanges() const { return dropped_.load(); }
  //! Waits until every queued input is processed (tests, shutdown).
  void drain();

 private:
  struct KpiInput {
    std::string name;
    double value;
    int64_t time_ms;
  };
  struct EventInput {
    rules::Event event;
    std::string unit_code;
  };
  using Points = std::shared_ptr<const std::vector<model::Point>>;
  using Input = std::variant<context::EntityChange, Points, EventInput, KpiInput>;
  //! An expanded name and its short form, held once in short_names_ (stable: a node map).
  using Names = std::pair<const std::string, std::string>;
  //! What readings need of their entity, kept from its changes. One per entity in the city:
  //! the type's names are shared, not copied (100,000 entities held 32 MB with copies).
  struct EntityMeta {
    const Names* type_names = nullptr;
    std::string unit_code;
    std::optional<geo::Position> location;
    const std::string& typeIri() const { return type_names->first; }
    const std::string& type() const { return type_names->second; }
  };

  void run();
  void process(const Input& input, std::vector<rules::AlertChange>& changes);
  void processChange(const context::EntityChange& change);
  void processPoints(const std::vector<model::Point>& points, std::vector<rules::AlertChange>& out);
  //! The points of one entity at one time: rules, then city indices.
  void processReading(const model::Point* begin, const model::Point* end, const EntityMeta& meta,
                      std::vector<rules::AlertChange>& out);
  const EntityMeta* metaOf(const std::string& entity_id);
  //! shortName, remembered: every reading needs it, and cities have few attribute and type names.
  const Names& names(const std::string& iri);
  const std::string& shortAttribute(const std::string& iri) { return names(iri).second; }
  //! Queues derived attributes for the entity; flushWriteBacks() writes them.
  void writeBack(const std::string& entity_id, const std::string& type_iri, ioc::Json attrs);
  //! One write for everything the worker's batch derived: per entity the last values, with a
  //! time-series point for each one computed. Catching up on a backlog (a month of readings
  //! replayed) derives an index per reading; writing each as its own version held 112 MB of
  //! versions in flight at 100,000 entities.
  void flushWriteBacks();
  void applySignals(const std::vector<rules::Signal>& signals, const std::string& unit,
                    std::vector<rules::AlertChange>& out);
  void persistAndPublish(std::vector<rules::AlertChange> changes, bool flush_dirty);
  ioc::Json alertDocument(const rules::Alert& a) const;
  AlertView viewOf(const rules::Alert& a) const;
  bool visibleTo(const std::string& alert_unit, const std::string& caller_unit) const;
  core::Status persistRule(const ioc::Json& doc, const std::string& id, bool deleted,
                           const Caller& who, const std::string& action);
  std::optional<geo::Geometry> ward(const std::string& code) const;
  static std::string shortName(const std::string& iri);

  storage::Store& store_;
  context::Broker& broker_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  AlertOptions options_;

  mutable std::mutex mu_;  // engine_, book_, indices_, rule_docs_, alert_units_, dirty_
  rules::Engine engine_;
  rules::AlertBook book_;
  std::unique_ptr<CityIndices> indices_;
  std::map<std::string, ioc::Json> rule_docs_;                  //!< id → stored rule document
  std::unordered_map<std::string, std::string> alert_units_;    //!< alert id → unit code
  std::unordered_map<std::string, std::string> subject_units_;  //!< event cluster → unit code
  std::unordered_map<std::string, EntityMeta> meta_;          //!< entity id → what readings need
  std::unordered_map<std::string, std::string> short_names_;  //!< expanded → short (worker only)
  rules::Reading reading_;  //!< the worker's scratch reading (processReading)
  std::vector<context::Observation> write_backs_;            //!< derived attributes not yet written
  std::unordered_map<std::string, size_t> write_back_slot_;  //!< entity id → write_backs_ index
  std::set<std::string> dirty_;                              //!< alert ids with unsaved counts
  std::unordered_map<std::string, geo::Geometry> wards_;
  std::atomic<uint64_t> next_seq_{0};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<Input> queue_;
  bool busy_ = false;
  bool running_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread worker_;
  std::vector<AlertListener> listeners_;
};

}  // namespace ioc::alerts
