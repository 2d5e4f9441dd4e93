#pragma once
// Incidents as a service: intake (manual, hotline calls, camera AI events, alert escalation,
// citizen reports), routing to an agency, SLA clocks on the working-day calendar with reminders
// and escalation up the unit hierarchy, SOP runs, and the configuration behind them (routing
// tables, SLA policies, SOP templates). State lives in memory and is durable in the store's
// documents (kinds "incident", "sop-template", "routing-table", "sla-policy"); every change is
// written with its audit entry before the call returns, then reported to the event listener.
//
// Threads. Calls come from the API's worker threads; one mutation runs at a time (write_mu_),
// reads take a short lock. The SLA ticker thread runs tick() every ServiceOptions::tick.
// Lifecycle: construct → setListener() → load() → start() → … → stop().
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "calendar/sla.h"
#include "calendar/working_calendar.h"
#include "core/clock.h"
#include "core/json.h"
#include "incidents/incident.h"
#include "incidents/routing.h"
#include "incidents/sop.h"
#include "incidents/wards.h"
#include "model/audit_entry.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::incidents {

inline constexpr const char* kIncidentKind = "incident";
inline constexpr const char* kTemplateKind = "sop-template";
inline constexpr const char* kRoutingKind = "routing-table";
inline constexpr const char* kSlaKind = "sla-policy";

//! What happened, after it is durable: for the live stream and staff notifications.
struct IncidentEvent {
  std::string type;    //!< incident.created, incident.assigned, incident.escalated, …
  ioc::Json incident;  //!< snapshot (without the timeline)
  std::string unit_code;
  std::string priority;
  std::vector<std::string> roles;  //!< roles to notify
};
using EventListener = std::function<void(const IncidentEvent&)>;

//! Who asks: unit scope, role (SOP steps) and audit identity.
struct Caller {
  std::string unit_code;             //!< "" = the whole country
  std::string role;                  //!< role name ("operator" …) or "key:<scope>"
  bool can_override = false;         //!< admin/supervisor: complete any step
  bool sees_caller_numbers = false;  //!< hotline caller numbers unmasked
  model::Actor actor;
};

struct ServiceOptions {
  std::string attachment_dir;  //!< snapshots are kept here, one directory per incident
  std::chrono::milliseconds tick{5000};
  int64_t camera_dedup_ms = 10 * 60 * 1000;
  size_t max_snapshot_bytes = 2 * 1024 * 1024;
  std::string sop_defaults_file;  //!< templates installed at load when the store lacks them
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::shared_ptr<const WardIndex> wards;  //!< null = no ward lookup
};

//! The default SLA policies: critical 4 working hours, high 1 working day, medium 3, low 10.
ioc::Json defaultSlaPolicies();
//! A calendar counting every minute of every day (tests, 24/7 centres).
std::shared_ptr<const calendar::WorkingCalendar> allHoursCalendar(int64_t now_ms);

//! An alert escalated to an incident (POST /api/v1/alerts/{id}/escalate).
struct AlertEscalation {
  std::string alert_id;
  std::string category;  //!< incident category; unknown → "other"
  std::string severity;  //!< CAP: Extreme → critical, Severe → high, Moderate → medium, else low
  std::string headline;
  std::string description;
  std::optional<Location> location;
  std::string unit_code;  //!< used when the location gives no ward
};

//! A citizen report turned into an incident.
struct CitizenReport {
  std::string report_id;
  std::string category;
  std::string title;
  std::string description;
  std::optional<Location> location;
  std::string address;
  std::string unit_code;
};

class IncidentService {
 public:
  IncidentService(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock,
                  ServiceOptions options);
  ~IncidentService();  // stop()
  IncidentService(const IncidentService&) = delete;
  IncidentService& operator=(const IncidentService&) = delete;

  void setListener(EventListener listener);
  core::Status load();
  void start();
  void stop();

  // Intake. Each returns the incident as the caller may see it.
  core::Result<ioc::Json> openManual(const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> openFromHotline(const ioc::Json& body, const Caller& who);
  struct CameraOutcome {
    ioc::Json incident;
    bool deduplicated = false;
  };
  core::Result<CameraOutcome> openFromCamera(const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> openFromAlert(const AlertEscalation& alert, const Caller& who);
  core::Result<ioc::Json> openFromCitizenReport(const CitizenReport& report, const Caller& who);

  // Reads.
  core::Result<ioc::Json> get(const std::string& id, const Caller& who) const;
  struct ListQuery {
    std::optional<Status> status;
    std::string category;
    std::optional<Priority> priority;
    std::optional<bool> overdue;
    std::string agency;
    std::string unit;
    int64_t since_ms = 0;
    bool triage = false;  //!< new/unassigned, then overdue, then priority, then newest
    size_t limit = 50;
    size_t offset = 0;
  };
  struct Page {
    std::vector<ioc::Json> items;
    size_t total = 0;
  };
  Page list(const ListQuery& q, const Caller& who) const;
  //! The stored bytes of attachment n (1-based) and its content type.
  core::Result<std::pair<std::string, std::string>> attachment(const std::string& id, size_t n,
                                                               const Caller& who) const;

  // Work on an incident (bodies as sent to the API).
  core::Result<ioc::Json> assign(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> reassign(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> refer(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> escalate(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> comment(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> completeStep(const std::string& id, size_t n, const ioc::Json& body,
                                       const Caller& who);
  core::Result<ioc::Json> resolve(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> close(const std::string& id, const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> cancel(const std::string& id, const ioc::Json& body, const Caller& who);

  // Configuration.
  core::Result<ioc::Json> routingTable(const std::string& unit, const Caller& who) const;
  core::Result<ioc::Json> putRoutingTable(const std::string& unit, const ioc::Json& body,
                                          const Caller& who);
  ioc::Json slaPolicies() const;
  core::Result<ioc::Json> putSlaPolicies(const ioc::Json& body, const Caller& who);
  ioc::Json listTemplates() const;
  core::Result<ioc::Json> getTemplate(const std::string& id, int version) const;
  core::Result<ioc::Json> createTemplate(const ioc::Json& body, const Caller& who);
  core::Result<ioc::Json> updateTemplate(const std::string& id, const ioc::Json& body,
                                         const Caller& who);

  //! The agency answering `category` in `ward` by the routing tables of `unit` and above (for
  //! citizen reports, which share the tables); thread-safe.
  std::optional<std::string> agencyFor(const std::string& unit, const std::string& category,
                                       const std::string& ward) const;

  //! One SLA pass (the ticker calls it; public for tests).
  void tick();
  size_t size() const;

 private:
  struct Intake {
    std::string title, description, category, source_kind, source_ref, address, unit_code;
    std::optional<Priority> priority;
    ioc::Json source = ioc::Json::object();
    std::optional<Location> location;
    std::optional<std::pair<std::string, std::string>> snapshot;  //!< bytes, content type
  };
  using Mutator = std::function<core::Status(Incident&, IncidentEvent&, ioc::Json&)>;

  core::Result<ioc::Json> open(Intake in, const Caller& who);
  core::Result<ioc::Json> mutate(const std::string& id, const Caller& who,
                                 const std::string& action, const Mutator& fn);
  core::Status persist(const Incident& inc, const std::string& action, const model::Actor& actor,
                       const ioc::Json& detail);
  void emit(const IncidentEvent& event) const;
  bool visible(const Incident& inc, const Caller& who) const;
  ioc::Json render(const Incident& inc, const Caller& who, bool with_timeline = true) const;
  std::string nextId(int64_t now_ms);
  std::optional<std::string> routeFor(const std::string& unit, const std::string& category,
                                      const std::string& ward) const;
  const SopTemplate* templateFor(const std::string& category) const;
  std::optional<Sla> slaFor(const std::string& category, Priority priority, int64_t now_ms) const;
  core::Status putTemplateLocked(SopTemplate t, const std::string& action, const Caller& who);
  void addEntry(Incident& inc, const Caller& who, std::string type, std::string text,
                ioc::Json data = ioc::Json::object()) const;
  core::Result<std::string> storeSnapshot(const std::string& incident_id, size_t n,
                                          const std::string& bytes,
                                          const std::string& content_type) const;
  void tickerLoop();

  storage::Store& store_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  ServiceOptions options_;
  EventListener listener_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Incident>> incidents_;
  std::map<std::string, std::map<int, SopTemplate>> templates_;  //!< id → version → template
  std::map<std::string, RoutingTable> routing_;                  //!< by unit
  ioc::Json sla_doc_;
  std::vector<calendar::SlaPolicy> sla_policies_;
  std::map<std::string, int> day_seq_;  //!< YYYYMMDD → last sequence number used
  std::mutex write_mu_;

  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace ioc::incidents
