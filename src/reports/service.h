#pragma once
// Citizen reports as a service: submission (durable before it is acknowledged, with photos
// checked by content and their EXIF location removed), tracking by code, the agencies' workflow
// with routing and working-day SLAs, ratings and reopen, moderation, privacy of the reporter,
// duplicate suggestions and KPIs. State lives in memory and is durable in the store's documents
// (kind "report"), each change written with its audit entry.
//
// Threads. submit() writes asynchronously (group commit: many submissions share one fsync) and
// answers through its callback; other mutations run one at a time (write_mu_) and wait for the
// store; reads take a short shared lock. Lifecycle: construct → load() → use.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "calendar/working_calendar.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "incidents/routing.h"
#include "incidents/wards.h"
#include "model/audit_entry.h"
#include "reports/catalog.h"
#include "reports/kpis.h"
#include "reports/notice.h"
#include "reports/report.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::reports {

inline constexpr const char* kReportKind = "report";

struct Upload {
  std::string bytes;
  std::string filename;  //!< as sent; informational
};

struct Submission {
  std::string service_code;
  std::string description;
  std::optional<double> lat, lon;
  std::string address;
  ioc::Json attributes = ioc::Json::object();
  bool emergency = false;
  bool keep_location = false;   //!< the reporter agrees to keep the photos' EXIF location
  std::string channel = "web";  //!< web | app | open311 | import (import: answers optional)
  std::string unit_code;        //!< receiving unit when the location gives no ward
  Reporter reporter;            //!< user_id 0 = anonymous
  std::vector<Upload> photos;
  std::vector<std::string> media_urls;  //!< Open311 media_url (kept as given, http(s) only)
};

//! Who acts on a report (staff) — mirrors incidents::Caller.
struct Caller {
  std::string unit_code;  //!< "" = the whole country
  std::string role;
  bool sees_reporter = false;  //!< reports:identity
  model::Actor actor;
};

struct ServiceOptions {
  std::string photo_dir;  //!< photos are kept here, one directory per report
  size_t max_photos = 5;
  size_t max_photo_bytes = 5 * 1024 * 1024;
  double duplicate_radius_m = 200;
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::shared_ptr<const incidents::WardIndex> wards;
  //! Routing: category × ward → agency for a unit (the incidents' routing tables); may be null.
  std::function<std::optional<std::string>(const std::string& unit, const std::string& category,
                                           const std::string& ward)>
      route;
  std::string public_url;  //!< the dashboard's address, for links in citizens' email
};

//! A change, after it is durable: for the live stream and citizens' notifications.
struct ReportEvent {
  std::string type;  //!< report.submitted, report.assigned, report.resolved, …
  ioc::Json report;  //!< the public view
  std::string unit_code;
  std::vector<int64_t> notify_users;  //!< reporter and followers (citizen accounts)
  std::string code;                   //!< tracking code (the reporter's own stream)
  ioc::Json tracking;                 //!< what the tracking page shows (track(code))
  bool citizen_change = false;        //!< the public status or timeline changed: tell citizens
  std::string email;                  //!< the reporter's address, if they left one
  CitizenNotice notice;
};

class ReportService {
 public:
  ReportService(storage::Store& store, const units::UnitCatalog& units, const core::Clock& clock,
                Catalog catalog, ServiceOptions options);

  core::Status load();
  void setListener(std::function<void(const ReportEvent&)> listener);
  const Catalog& catalog() const { return catalog_; }

  // Citizens and Open311 clients.
  struct Receipt {
    std::string id;
    std::string code;   //!< tracking code
    std::string token;  //!< Open311 token (resolves to id)
    ioc::Json report;   //!< the reporter's view
  };
  using SubmitDone = std::function<void(core::Result<Receipt>)>;
  //! Validates, stores photos, writes durably, then calls `done` (on the store's thread).
  void submit(Submission s, SubmitDone done);
  //! The public status page: timeline, answer, evidence photos. Hidden reports: not found.
  core::Result<ioc::Json> track(const std::string& code) const;
  //! Whether a tracking code exists (its live stream may be opened).
  bool knowsCode(const std::string& code) const;
  //! A citizen account's reports: filed or followed, most recently updated first.
  std::vector<ioc::Json> mine(int64_t user_id, size_t limit) const;
  //! The public view by id (Open311 requests/{id}); hidden reports: not found.
  std::shared_ptr<const Report> findPublic(const std::string& id) const;
  std::optional<std::string> idForToken(const std::string& token) const;
  //! Rate a resolved report 1–5 and say whether it was fixed; not fixed reopens it.
  core::Result<ioc::Json> rate(const std::string& code, const ioc::Json& body,
                               const model::Actor& actor);
  core::Result<ioc::Json> follow(const std::string& code, int64_t user_id,
                                 const model::Actor& actor);
  //! Open, non-hidden reports of the category within the radius (nearest first, at most 10).
  std::vector<ioc::Json> duplicates(const std::string& service_code, double lat, double lon,
                                    double radius_m) const;
  //! The bytes and content type of photo n (1-based) of a visible report; redacted: not found.
  core::Result<std::pair<std::string, std::string>> photo(const std::string& id, size_t n) const;

  // Public queries (Open311 GET requests, the map feed).
  struct PublicQuery {
    std::vector<std::string> ids;
    std::vector<std::string> service_codes;
    std::vector<std::string> statuses;  //!< open | closed
    int64_t start_ms = 0, end_ms = 0;   //!< on created time; 0 = unbounded
    size_t limit = 1000;
  };
  std::vector<std::shared_ptr<const Report>> queryPublic(const PublicQuery& q) const;
  //! Updates (servicerequestupdates) after `start_ms`, up to `end_ms` (0 = now), oldest first.
  std::vector<std::pair<std::shared_ptr<const Report>, Update>> publicUpdates(int64_t start_ms,
                                                                              int64_t end_ms,
                                                                              size_t limit) const;
  ioc::Json geojson(const PublicQuery& q) const;

  // Staff.
  struct ListQuery {
    std::optional<Status> status;
    std::string service_code, agency, unit;
    std::optional<bool> overdue;
    bool triage = false;  //!< new/unclaimed first, then overdue, then oldest
    size_t limit = 50, offset = 0;
  };
  struct Page {
    std::vector<ioc::Json> items;
    size_t total = 0;
  };
  Page list(const ListQuery& q, const Caller& who) const;
  core::Result<ioc::Json> get(const std::string& id, const Caller& who) const;
  //! The reporter's identity: reports:identity only, and the view itself is audited.
  core::Result<ioc::Json> reporter(const std::string& id, const Caller& who);
  //! Workflow actions: triage, assign, reassign, start, resolve, close, reopen, comment, merge,
  //! hide, unhide, edit, redact-photo, link-incident. Bodies as sent to the API.
  core::Result<ioc::Json> act(const std::string& id, const std::string& action,
                              const ioc::Json& body, const Caller& who);
  //! Moderation (reports:moderate): hide, unhide, edit (description), redact-photo (n); each
  //! needs a reason and is audited with what it changed.
  core::Result<ioc::Json> moderate(const std::string& id, const std::string& action,
                                   const ioc::Json& body, const Caller& who);
  //! A historical report from another system (migration, replays): its own created/resolved
  //! times and final state, SLA computed from its creation. Asynchronous like submit().
  void importRecord(const ioc::Json& record, const Caller& who, SubmitDone done);
  //! An evidence photo from the agency (attached to the next update).
  core::Result<ioc::Json> addEvidence(const std::string& id, Upload photo, const Caller& who);

  // Indicators.
  struct KpiQuery {
    int64_t from_ms = 0, to_ms = 0;   //!< reports created in [from, to); 0 = unbounded
    std::string group_by = "agency";  //!< agency | ward | service | none
    std::string unit;                 //!< this unit and below ("" = caller's scope)
  };
  ioc::Json kpis(const KpiQuery& q, const Caller& who) const;

  size_t size() const;

 private:
  using Mutator = std::function<core::Status(Report&, ioc::Json& detail, std::string& event)>;
  core::Result<Report> prepare(Submission& s);
  void commitNew(std::shared_ptr<const Report> report, const model::Actor& actor,
                 const std::string& action, SubmitDone done);
  core::Result<ioc::Json> mutate(const std::string& id, const std::string& action,
                                 const model::Actor& actor, const Mutator& fn, const Caller* staff);
  void addUpdate(Report& r, std::string kind, std::string text, const std::string& actor,
                 bool is_public = true);
  int64_t dueFrom(int64_t start_ms, int days) const;
  core::Result<Photo> savePhoto(const Report& r, size_t n, const Upload& up, bool keep_location,
                                const std::string& source) const;
  core::Status persist(const Report& r, const std::string& action, const model::Actor& actor,
                       const ioc::Json& detail);
  void remember(std::shared_ptr<const Report> r);
  ioc::Json publicView(const Report& r) const;
  ioc::Json staffView(const Report& r, const Caller& who) const;
  bool visible(const Report& r, const Caller& who) const;
  void emit(const std::string& type, const Report& r, const Report* before) const;
  ioc::Json trackView(const Report& r) const;

  storage::Store& store_;
  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  Catalog catalog_;
  ServiceOptions options_;
  std::function<void(const ReportEvent&)> listener_;

  mutable std::shared_mutex mu_;  //!< guards the maps below
  std::unordered_map<std::string, std::shared_ptr<const Report>> by_id_;
  std::unordered_map<std::string, std::string> by_code_, by_token_;
  std::vector<std::shared_ptr<const Report>> ordered_;  //!< by creation
  KpiIndex kpi_;
  std::mutex write_mu_;  //!< one workflow change at a time
  std::mutex seq_mu_;
  int64_t next_seq_ = 1;     //!< update ids
  int64_t next_number_ = 1;  //!< report numbers
};

}  // namespace ioc::reports
