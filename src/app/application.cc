#include "app/application.h"

#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <filesystem>

#include "alerts/alert_service.h"
#include "api/api.h"
#include "api/stream_routes.h"
#include "app/contexts.h"
#include "app/data_lock.h"
#include "app/demo.h"
#include "app/paths.h"
#include "auth/auth_service.h"
#include "auth/identity_service.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "incidents/service.h"
#include "mqtt/ingest.h"
#include "net/problem.h"
#include "net/server.h"
#include "net/static_files.h"
#include "net/url_fetch.h"
#include "notify/dispatcher.h"
#include "notify/smtp.h"
#include "obs/metrics.h"
#include "reports/service.h"
#include "sim/simulator.h"
#include "stream/hub.h"
#include "subscription/service.h"

namespace ioc::app {

namespace fs = std::filesystem;

core::Result<std::unique_ptr<storage::sqlite::SqliteStore>> openStore(const std::string& data_dir,
                                                                      int busy_timeout_ms,
                                                                      int compact_interval_ms,
                                                                      int background_commit_ms) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "cannot create data directory " + data_dir + ": " + ec.message());
  }
  auto& registry = obs::defaultRegistry();
  auto& commit_seconds = registry
                             .histogram("store_commit_duration_seconds",
                                        "Time to group-commit one batch of writes durably", {})
                             .with({});
  auto& batch_size = registry
                         .histogram("store_commit_batch_size", "Writes per group commit", {},
                                    {1, 2, 4, 8, 16, 32, 64, 128, 256, 512})
                         .with({});
  auto& compaction_seconds =
      registry
          .histogram("store_series_compaction_seconds",
                     "Time to compact the time-series tail into chunks and rollups (writes wait)",
                     {})
          .with({});
  storage::sqlite::SqliteOptions options;
  options.path = (fs::path(data_dir) / "cityioc.db").string();
  options.busy_timeout_ms = busy_timeout_ms;
  options.series.compact_interval = std::chrono::milliseconds(compact_interval_ms);
  options.background_commit_interval = std::chrono::milliseconds(background_commit_ms);
  options.on_commit = [&commit_seconds, &batch_size](size_t n, double secs) {
    commit_seconds.observe(secs);
    batch_size.observe(static_cast<double>(n));
  };
  options.on_compaction = [&compaction_seconds](size_t, double secs) {
    compaction_seconds.observe(secs);
  };
  return storage::sqlite::SqliteStore::open(std::move(options));
}

core::Result<units::UnitCatalog> loadUnits(const std::string& configured_path) {
  std::string path = locateShipped(configured_path, kUnitsFile);
  if (path.empty()) {
    return core::makeError(core::Errc::kNotFound,
                           std::string("cannot find ") + kUnitsFile + " (set store.units_file)");
  }
  return units::UnitCatalog::loadFile(path);
}

void blockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client closing mid-write is an error code, not a crash
}

struct Application::Parts {
  core::ServeConfig config;
  DataDirLock data_lock;  //!< keeps `cityioc import` off this data directory while serving
  std::unique_ptr<storage::sqlite::SqliteStore> store;
  units::UnitCatalog units;
  std::unique_ptr<auth::AuthService> auth;
  std::unique_ptr<auth::IdentityService> identity;
  std::unique_ptr<context::ContextRegistry> contexts;
  std::unique_ptr<context::Broker> broker;
  std::unique_ptr<mqtt::DeviceRegistry> devices;
  std::unique_ptr<subscription::SubscriptionService> subscriptions;  // after what it uses
  std::unique_ptr<context::RetentionService> retention;
  std::unique_ptr<alerts::AlertService> alerts;  //!< rules, indices, alerts (commit listener)
  std::unique_ptr<incidents::IncidentService> incidents;  //!< SLA ticker writes to the store
  std::unique_ptr<reports::ReportService> reports;        //!< citizen reports (uses incidents)
  std::unique_ptr<stream::Hub> hub;              //!< live stream; outlives the server's sessions
  std::unique_ptr<notify::Dispatcher> notifier;  //!< staff notifications (uses hub)
  std::unique_ptr<boost::asio::thread_pool> workers;
  std::unique_ptr<api::Api> api;
  net::Router router;
  std::unique_ptr<net::StaticFiles> static_files;
  std::unique_ptr<net::HttpServer> server;
  std::atomic<bool> sim_stop{false};
  std::thread sim;                         //!< the demo city (serve --demo)
  std::unique_ptr<mqtt::MqttIngest> mqtt;  // last: destroyed first, while broker and store live
};

// Monitoring: rules and city indices over every committed change; alerts go to the live stream
// and, when opened or escalating in severity, to staff notifications.
void publishAlert(Application::Parts& p, const rules::AlertChange& change,
                  const alerts::AlertView& view) {
  const rules::Alert& a = view.alert;
  std::optional<std::pair<double, double>> point;
  if (a.area && !a.area->points.empty()) point = {{a.area->points[0].lon, a.area->points[0].lat}};
  ioc::Json payload = rules::alertToJson(a);
  payload["unitCode"] = view.unit_code;
  payload["change"] = std::string(rules::toString(change.type));
  p.hub->publish({"alerts",
                  view.unit_code,
                  std::string(rules::toString(change.type)),
                  point,
                  a.id,
                  payload,
                  {},
                  0,
                  {}});
  // Staff are told when an alert opens; count updates only reach the live stream.
  if (change.type != rules::ChangeType::kOpened) return;
  notify::StaffNotification n;
  n.event = "alert.opened";
  n.severity =
      notify::parseSeverity(rules::toString(a.severity)).value_or(notify::Severity::kMinor);
  n.unit_code = view.unit_code;
  n.roles = {"admin", "supervisor", "operator", "leader"};
  n.title = a.headline;
  n.body = a.description;
  n.link = "/api/v1/alerts/" + a.id;
  n.payload = std::move(payload);
  n.key = a.id;
  p.notifier->notify(std::move(n));
}

// Incidents reach the live stream; staff hear of new, escalated and overdue ones; camera and
// hotline incidents are also events for correlation rules (N of a kind nearby → one alert).
void publishIncident(Application::Parts& p, const incidents::IncidentEvent& e) {
  const ioc::Json& inc = e.incident;
  std::optional<std::pair<double, double>> point;
  if (inc.contains("location") && inc["location"].is_object()) {
    point = {{inc["location"].value("lon", 0.0), inc["location"].value("lat", 0.0)}};
  }
  const std::string id = inc.value("id", "");
  p.hub->publish({"incidents", e.unit_code, e.type, point, id, inc, {}, 0, {}});
  if (e.type == "incident.created" && p.alerts && point) {
    const ioc::Json source = inc.value("source", ioc::Json::object());
    const std::string kind = source.value("kind", "");
    rules::Event ev;
    ev.id = id;
    ev.category = kind == "camera"    ? source.value("event_type", inc.value("category", ""))
                  : kind == "hotline" ? "hotline_" + source.value("line", std::string())
                                      : inc.value("category", "");
    ev.entity_type = kind;
    ev.time_ms = core::SystemClock::instance().nowUnixMs();
    ev.location = rules::geo::Position{point->first, point->second};
    p.alerts->onEvent(std::move(ev), e.unit_code);
  }
  if (e.roles.empty()) return;
  notify::StaffNotification n;
  n.event = e.type;
  n.severity = e.priority == "critical" ? notify::Severity::kExtreme
               : e.priority == "high"   ? notify::Severity::kSevere
               : e.priority == "medium" ? notify::Severity::kModerate
                                        : notify::Severity::kMinor;
  n.unit_code = e.unit_code;
  n.roles = e.roles;
  n.title = inc.value("title", id);
  n.link = "/api/v1/incidents/" + id;
  n.payload = inc;
  n.key = id + ":" + e.type;
  p.notifier->notify(std::move(n));
}

core::Status startAlerts(Application::Parts& p, const core::ServeConfig& config,
                         const core::Clock& clock) {
  alerts::AlertOptions o;
  o.data_root = locateShipped("", "data");
  o.rules_file = config.rules_file;
  if (o.rules_file.empty() && config.demo)
    o.rules_file = locateShipped("", "data/rules/default.json");
  p.alerts = std::make_unique<alerts::AlertService>(*p.store, *p.broker, p.units, clock, o);
  if (auto s = p.alerts->load(); !s.ok()) return s;
  p.alerts->attach();
  p.alerts->addListener([&p](const rules::AlertChange& change, const alerts::AlertView& view) {
    publishAlert(p, change, view);
  });
  p.alerts->start();
  return core::Status::success();
}

Application::Application(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Application::~Application() {
  auto& registry = obs::defaultRegistry();
  for (const char* name : {"http_connections_open", "http_requests_in_flight",
                           "store_write_queue_depth", "worker_pool_threads"}) {
    registry.removeGaugeCallback(name);
  }
}

namespace {

net::ServerOptions serverOptions(const core::ServeConfig& c) {
  net::ServerOptions o;
  o.host = c.listen_host;
  o.port = c.listen_port;
  o.io_threads = c.io_threads;
  o.access_log = c.access_log;
  o.limits.max_header_bytes = static_cast<size_t>(c.max_header_bytes);
  o.limits.max_body_bytes = static_cast<size_t>(c.max_body_bytes);
  o.limits.read_timeout = std::chrono::milliseconds(c.read_timeout_ms);
  o.limits.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  o.limits.max_connections = c.max_connections;
  return o;
}

core::LogLevel parseLevel(const std::string& s) {
  if (s == "debug") return core::LogLevel::kDebug;
  if (s == "warn") return core::LogLevel::kWarn;
  if (s == "error") return core::LogLevel::kError;
  return core::LogLevel::kInfo;
}

void registerGauges(Application::Parts& p) {
  auto& registry = obs::defaultRegistry();
  net::HttpServer* server = p.server.get();
  storage::Store* store = p.store.get();
  registry.gaugeCallback("http_connections_open", "Open client connections",
                         [server] { return static_cast<double>(server->openConnections()); });
  registry.gaugeCallback("http_requests_in_flight", "Requests being handled",
                         [server] { return static_cast<double>(server->inFlightRequests()); });
  registry.gaugeCallback("store_write_queue_depth", "Writes waiting for the group commit",
                         [store] { return static_cast<double>(store->writeQueueDepth()); });
}

subscription::ServiceOptions subscriptionOptions(const core::ServeConfig& c) {
  subscription::ServiceOptions o;
  o.max_subscriptions = static_cast<size_t>(c.subscriptions_max_count);
  o.limits.max_uri_bytes = static_cast<size_t>(c.subscriptions_max_uri_bytes);
  o.change_queue = static_cast<size_t>(c.subscriptions_queue_size);
  o.delivery.capacity = static_cast<size_t>(c.subscriptions_queue_size);
  o.delivery.workers = c.subscriptions_workers;
  o.delivery.timeout = std::chrono::milliseconds(c.subscriptions_timeout_ms);
  o.delivery.max_attempts = c.subscriptions_max_attempts;
  o.delivery.backoff = std::chrono::milliseconds(c.subscriptions_retry_backoff_ms);
  return o;
}

//! MQTT device telemetry, when mqtt.url is set: readings go to the broker's async ingest.
core::Status startMqtt(Application::Parts& p, const core::ServeConfig& c,
                       const core::Clock& clock) {
  if (c.mqtt_url.empty()) return core::Status::success();
  auto options = mqtt::mqttOptions(c.mqtt_url, c.mqtt_client_id, c.mqtt_qos, c.mqtt_topic_prefix);
  if (!options.ok()) return options.error();
  options->subscribers = c.mqtt_subscribers;
  context::Broker* broker = p.broker.get();
  p.mqtt = std::make_unique<mqtt::MqttIngest>(
      std::move(*options), *p.devices,
      [broker](std::vector<context::Observation> observations, const context::Visibility& who,
               std::function<void(core::Status)> done) {
        // Nobody waits: libmosquitto acknowledged these before handing them over.
        broker->ingest(std::move(observations), who, std::move(done),
                       storage::Store::Urgency::kBackground);
      },
      clock);
  return p.mqtt->start();
}

//! serve --demo: the simulated city reports to this server over loopback HTTP and, when
//! mqtt.url is set, partly through that MQTT broker.
void startDemoCity(Application::Parts& p) {
  const std::string data_root = locateShipped("", "data");
  auto key = demoSimulatorKey(*p.identity, *p.store);
  if (data_root.empty() || !key.ok()) {
    core::logWarn("demo city not started",
                  {{"reason", data_root.empty() ? "no data/ folder" : key.error().message}});
    return;
  }
  sim::SimOptions options;
  options.port = p.server->boundPort();
  options.key = *key;
  options.data_root = data_root;
  // The MQTT kinds of devices publish through the server's own broker (already validated).
  if (auto m = mqtt::mqttOptions(p.config.mqtt_url, p.config.mqtt_client_id, p.config.mqtt_qos,
                                 p.config.mqtt_topic_prefix);
      !p.config.mqtt_url.empty() && m.ok()) {
    options.mqtt_host = m->host;
    options.mqtt_port = static_cast<uint16_t>(m->port);
    options.mqtt_qos = m->qos;
    options.mqtt_topic_prefix = m->topic_prefix;
  }
  p.sim = std::thread([&p, options] {
    core::nameThisThread("ioc-simulator");
    sim::Simulator simulator(options);
    simulator.run(p.sim_stop);
  });
}

// The reporter and the followers hear of a change they can see: on the stream's notifications
// topic (their accounts only) and, for a reporter who left an address, by email.
void tellCitizens(Application::Parts& p, const reports::ReportEvent& e) {
  const std::string id = e.report.value("id", "");
  if (!e.notify_users.empty()) {
    stream::Event n;
    n.topic = "notifications";
    n.subtype = e.type;
    n.key = "report:" + id;
    n.users = e.notify_users;
    n.payload = {{"severity", "Minor"},
                 {"title", e.notice.title},
                 {"body", e.notice.body},
                 {"link", ""},
                 {"data", {{"report_id", id}, {"status", e.report.value("status", "")}}}};
    p.hub->publish(std::move(n));
  }
  if (!e.email.empty() && p.notifier) {
    p.notifier->mail(e.email, e.notice.mail_subject, e.notice.mail_text, e.type);
  }
}

// Citizen reports on the live stream ("reports" topic) and, with a location, as rule events, so
// that a count-in-window rule can correlate many reports of one kind in one place.
void publishReport(Application::Parts& p, const reports::ReportEvent& e) {
  const ioc::Json& r = e.report;
  std::optional<std::pair<double, double>> point;
  if (r["location"].is_object()) point = {{r["location"]["long"], r["location"]["lat"]}};
  const std::string id = r.value("id", "");
  p.hub->publish({"reports", e.unit_code, e.type, point, id, r, {}, 0, {}});
  p.hub->publish({"tracking", "", e.type, std::nullopt, e.code, e.tracking, {}, 0, {}});
  if (e.citizen_change) tellCitizens(p, e);
  if (e.type == "report.submitted" && p.alerts && point) {
    rules::Event ev;
    ev.id = id;
    ev.category = "report_" + r.value("service_code", std::string());
    ev.entity_type = "citizen_report";
    ev.time_ms = core::SystemClock::instance().nowUnixMs();
    ev.location = rules::geo::Position{point->first, point->second};
    p.alerts->onEvent(std::move(ev), e.unit_code);
  }
}

//! Citizen reports share the incidents' calendar, ward polygons and routing tables.
core::Status startReports(Application::Parts& p, const core::ServeConfig& config,
                          const core::Clock& clock, const incidents::ServiceOptions& shared) {
  std::string path = locateShipped(config.reports_file, "data/reports/services.json");
  if (path.empty()) {
    return core::makeError(core::Errc::kNotFound,
                           "cannot find data/reports/services.json (set reports.file)");
  }
  auto catalog = reports::Catalog::loadFile(path);
  if (!catalog.ok()) return catalog.error();
  if (const std::string& url = config.reports_public_url;
      !url.empty() && (!(url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) ||
                       std::any_of(url.begin(), url.end(),
                                   [](unsigned char c) { return c <= ' ' || c == 0x7f; }))) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "reports.public_url must be an http(s) address without spaces");
  }
  reports::ServiceOptions o;
  o.photo_dir = (fs::path(config.data_dir) / "attachments" / "reports").string();
  o.calendar = shared.calendar;
  o.wards = shared.wards;
  o.public_url = config.reports_public_url;
  o.route = [incidents = p.incidents.get()](const std::string& unit, const std::string& category,
                                            const std::string& ward) {
    return incidents->agencyFor(unit, category, ward);
  };
  p.reports =
      std::make_unique<reports::ReportService>(*p.store, p.units, clock, std::move(*catalog), o);
  p.reports->setListener([&p](const reports::ReportEvent& e) { publishReport(p, e); });
  return p.reports->load();
}

//! Incidents: SLA calendar, ward polygons, shipped SOP templates, snapshots under the data dir.
//! The event listener is left for the live stream and staff notifications to claim.
core::Status startIncidents(Application::Parts& p, const core::ServeConfig& config,
                            const core::Clock& clock) {
  incidents::ServiceOptions o;
  o.attachment_dir = (fs::path(config.data_dir) / "attachments" / "incidents").string();
  o.tick = std::chrono::milliseconds(config.incidents_tick_ms);
  if (config.incidents_calendar == "24x7") {
    o.calendar = incidents::allHoursCalendar(clock.nowUnixMs());
  } else {
    std::string path = locateShipped(config.incidents_calendar, "data/calendar/vn_holidays.json");
    if (path.empty()) {
      return core::makeError(core::Errc::kNotFound,
                             "cannot find data/calendar/vn_holidays.json (set incidents.calendar)");
    }
    auto cal = calendar::WorkingCalendar::loadFile(path);
    if (!cal.ok()) return cal.error();
    o.calendar = std::make_shared<const calendar::WorkingCalendar>(std::move(*cal));
  }
  if (std::string wards = locateShipped("", "data/geo/hue_wards_2025.geojson"); !wards.empty()) {
    auto index = incidents::WardIndex::loadFile(wards);
    if (!index.ok()) return index.error();
    o.wards = std::make_shared<const incidents::WardIndex>(std::move(*index));
  }
  o.sop_defaults_file = locateShipped("", "data/sop/default_templates.json");
  p.incidents = std::make_unique<incidents::IncidentService>(*p.store, p.units, clock, o);
  p.incidents->setListener([&p](const incidents::IncidentEvent& e) { publishIncident(p, e); });
  if (auto s = p.incidents->load(); !s.ok()) return s;
  p.incidents->start();
  return startReports(p, config, clock, o);
}

}  // namespace

core::Result<std::unique_ptr<Application>> Application::create(const core::ServeConfig& config) {
  core::Logger::instance().setLevel(parseLevel(config.log_level));
  auto p = std::make_unique<Parts>();
  p->config = config;
  if (!config.tls_ca_file.empty()) {
    if (auto s = net::checkCaFile(config.tls_ca_file); !s.ok()) return s.error();
  }
  auto lock = DataDirLock::acquire(config.data_dir);
  if (!lock.ok()) return lock.error();
  p->data_lock = std::move(*lock);
  auto store = openStore(config.data_dir, config.busy_timeout_ms, config.compact_interval_ms,
                         config.mqtt_commit_interval_ms);
  if (!store.ok()) return store.error();
  p->store = std::move(*store);
  auto units = loadUnits(config.units_file);
  if (!units.ok()) return units.error();
  p->units = std::move(*units);

  auth::AuthSettings settings;
  settings.token_ttl_ms = int64_t{config.token_ttl_s} * 1000;
  settings.max_failures_per_user = config.login_max_failures_per_user;
  settings.max_failures_per_ip = config.login_max_failures_per_ip;
  settings.failure_window_ms = int64_t{config.login_window_s} * 1000;
  const core::Clock& clock = core::SystemClock::instance();
  p->auth = std::make_unique<auth::AuthService>(*p->store, clock, settings);
  p->identity = std::make_unique<auth::IdentityService>(*p->store, p->units, clock, p->auth.get());
  if (config.demo) {
    if (auto s = seedDemo(*p->identity, *p->store, config.data_dir); !s.ok()) return s.error();
  }
  // User @contexts: hosted, cached from earlier downloads, built in (data/contexts), preloaded
  // (context.preload_dir), else downloaded once on a worker thread.
  auto contexts = openContextRegistry(contextSetup(config), p->store.get());
  if (!contexts.ok()) return contexts.error();
  p->contexts = std::move(*contexts);
  p->broker = std::make_unique<context::Broker>(*p->store, p->units, clock);
  if (auto s = p->broker->load(); !s.ok()) return s.error();
  p->devices = std::make_unique<mqtt::DeviceRegistry>(*p->store, clock);
  if (auto s = p->devices->load(); !s.ok()) return s.error();
  // Subscriptions hear of every committed change: the listener is registered before serving.
  p->subscriptions = std::make_unique<subscription::SubscriptionService>(
      *p->store, *p->broker, *p->contexts, p->units, clock, subscriptionOptions(config),
      subscription::networkSenders(config.tls_ca_file));
  if (auto s = p->subscriptions->load(); !s.ok()) return s.error();
  p->subscriptions->attach();
  p->subscriptions->start();
  // The live stream hears of committed entity changes too (a cheap listener: it skips all work
  // while no client is connected); staff notifications go to it, to webhooks and to email.
  p->hub = std::make_unique<stream::Hub>(
      p->units, clock,
      [auth = p->auth.get()](std::string_view t) { return auth->authenticate(t); });
  p->hub->start();
  p->broker->addChangeListener([hub = p->hub.get()](const std::vector<context::EntityChange>& c) {
    api::publishEntityChanges(*hub, c);
  });
  if (!config.smtp_host.empty() && !notify::isValidEmail(config.smtp_from)) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "smtp.from must be an email address with a dotted domain");
  }
  notify::DispatcherOptions notify_options;
  notify_options.smtp.host = config.smtp_host;
  notify_options.smtp.port = static_cast<uint16_t>(config.smtp_port);
  notify_options.smtp.from = config.smtp_from;
  notify_options.smtp.timeout = std::chrono::milliseconds(config.smtp_timeout_ms);
  p->notifier =
      std::make_unique<notify::Dispatcher>(*p->store, p->units, clock, p->hub.get(), notify_options,
                                           notify::httpPoster(config.tls_ca_file));
  if (auto s = p->notifier->load(); !s.ok()) return s.error();
  p->notifier->start();
  if (auto s = startAlerts(*p, config, clock); !s.ok()) return s.error();
  storage::RetentionPolicy retention;
  retention.raw_days = config.raw_retention_days;
  retention.minute_rollup_days = config.minute_rollup_retention_days;
  p->retention = std::make_unique<context::RetentionService>(*p->store, clock, retention);
  if (auto s = p->retention->load(); !s.ok()) return s.error();
  p->retention->start();
  if (auto s = startIncidents(*p, config, clock); !s.ok()) return s.error();
  // Workers hash passwords and wait on durable writes; sized so that group commit has company.
  // Asio's threads take the name of the thread that starts them: this one's, for a moment.
  core::nameThisThread("ioc-worker");
  p->workers = std::make_unique<boost::asio::thread_pool>(
      std::max(4u, 2 * std::thread::hardware_concurrency()));
  core::nameThisThread("cityioc");
  p->api = std::make_unique<api::Api>(api::ApiServices{
      p->store.get(), p->auth.get(), p->identity.get(), &p->units, &clock, p->workers.get(),
      p->broker.get(), p->contexts.get(), p->devices.get(), p->subscriptions.get(),
      p->retention.get(), p->hub.get(), p->notifier.get()});
  p->api->services().incidents = p->incidents.get();
  p->api->services().alerts = p->alerts.get();
  p->api->services().reports = p->reports.get();
  p->api->services().reports_per_minute = config.reports_submissions_per_minute;
  p->api->registerRoutes(p->router);
  std::string web_root = locateShipped(config.web_root, kWebRoot);
  if (web_root.empty()) web_root = locateShipped("", kWebRootFallback);
  if (!web_root.empty()) {
    p->static_files = std::make_unique<net::StaticFiles>(web_root);
    p->router.setFallback([files = p->static_files.get()](net::RequestPtr req, net::Responder r) {
      // API namespaces never fall through to the dashboard: a typo must be a 404 problem.
      for (std::string_view api : {"/api/", "/ngsi-ld/", "/open311/"}) {
        if (req->path.rfind(api, 0) == 0) {
          return r.send(net::problemResponse(net::http::status::not_found, "not-found", "",
                                             "no route for " + req->path, req->path,
                                             req->request_id));
        }
      }
      (*files)(std::move(req), std::move(r));
    });
  }
  p->server = std::make_unique<net::HttpServer>(serverOptions(config), p->router);
  if (auto s = p->server->start(); !s.ok()) return s.error();
  registerGauges(*p);
  if (auto s = startMqtt(*p, config, clock); !s.ok()) return s.error();
  if (config.demo) startDemoCity(*p);  // after MQTT: the demo city waits for its subscription
  core::logInfo("listening", {{"host", config.listen_host},
                              {"port", static_cast<int>(p->server->boundPort())},
                              {"data", config.data_dir},
                              {"web_root", web_root},
                              {"units", static_cast<int64_t>(p->units.size())}});
  std::printf("cityioc listening on http://%s:%u\n",
              config.listen_host.find(':') != std::string::npos
                  ? ("[" + config.listen_host + "]").c_str()
                  : config.listen_host.c_str(),
              p->server->boundPort());
  std::fflush(stdout);
  return std::unique_ptr<Application>(new Application(std::move(p)));
}

core::Status Application::run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  core::logInfo("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  auto& p = *parts_;
  p.sim_stop.store(true);
  if (p.sim.joinable()) p.sim.join();
  p.server->stop(std::chrono::milliseconds(p.config.shutdown_grace_ms));
  if (p.mqtt) p.mqtt->stop();  // disconnects; its last batches reach the broker before the flush
  p.workers->join();           // in-flight handler work finishes; its writes are queued by now
  p.incidents->stop();         // no SLA pass writes after the flush
  p.store->flush();            // …and durable
  p.subscriptions->stop();     // matches those commits, delivers within a grace, saves status
  p.alerts->stop();
  p.notifier->stop();  // webhooks and email still queued get a short grace
  p.hub->stop();
  p.retention->stop();
  core::logInfo("stopped", {{"open_connections", p.server->openConnections()}});
  core::Logger::instance().flush();
  return core::Status::success();
}

}  // namespace ioc::app
