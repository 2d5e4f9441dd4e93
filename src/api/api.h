#pragma once
// The HTTP API: every route with the permission it needs, wired onto a net::Router.
// Handlers run either inline on the I/O thread (cheap, non-blocking: in-memory reads) or on the
// worker pool (anything that hashes a password or waits for the store).
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "auth/auth_service.h"
#include "auth/identity_service.h"
#include "context/broker.h"
#include "context/ld_context.h"
#include "context/retention.h"
#include "core/clock.h"
#include "net/router.h"
#include "storage/store.h"
#include "units/catalog.h"

namespace ioc::mqtt {
class DeviceRegistry;
}  // namespace ioc::mqtt
namespace ioc::alerts {
class AlertService;
}  // namespace ioc::alerts
namespace ioc::subscription {
class SubscriptionService;
}  // namespace ioc::subscription
namespace ioc::incidents {
class IncidentService;
}  // namespace ioc::incidents
namespace ioc::reports {
class ReportService;
}  // namespace ioc::reports
namespace ioc::stream {
class Hub;
}  // namespace ioc::stream
namespace ioc::notify {
class Dispatcher;
}  // namespace ioc::notify

namespace ioc::api {

//! What handlers use. Pointers, so the route table can be listed without live services.
struct ApiServices {
  storage::Store* store = nullptr;
  auth::AuthService* auth = nullptr;
  auth::IdentityService* identity = nullptr;
  const units::UnitCatalog* units = nullptr;
  const core::Clock* clock = nullptr;
  boost::asio::thread_pool* workers = nullptr;
  context::Broker* broker = nullptr;
  context::ContextRegistry* contexts = nullptr;
  mqtt::DeviceRegistry* devices = nullptr;
  subscription::SubscriptionService* subscriptions = nullptr;
  context::RetentionService* retention = nullptr;
  stream::Hub* hub = nullptr;              //!< live stream (WebSocket, SSE)
  notify::Dispatcher* notifier = nullptr;  //!< staff notifications: in-app, webhooks, email
  //! Last, and set by name: the positional initialisers above stay valid.
  incidents::IncidentService* incidents = nullptr;
  alerts::AlertService* alerts = nullptr;     //!< set by name, like incidents
  reports::ReportService* reports = nullptr;  //!< citizen reports; set by name
  int reports_per_minute = 20;                //!< submissions per client address and per account
};

enum class Exec { kInline, kWorker };

struct RouteSpec {
  net::http::verb method;
  std::string pattern;
  auth::Permission permission;
  Exec exec = Exec::kInline;
  size_t max_body_bytes = 0;  //!< 0 = server default
  std::string summary;
};

//! A handler: the request and the authenticated caller (null on public routes).
using ApiFn = std::function<net::Response(const net::Request&, const auth::Principal*)>;
//! An asynchronous handler answers through the Responder when its work completes (typically a
//! durable write), so no thread waits. The Principal pointer is valid only during the call.
using AsyncApiFn = std::function<void(net::RequestPtr, const auth::Principal*, net::Responder)>;
//! A WebSocket route's handler, on the I/O thread. Credentials in the upgrade request are checked
//! against the route's permission first (401/403 answer the upgrade); `who` is null only when the
//! request carried none (browsers cannot set headers on a WebSocket): the handler then
//! authenticates in-band or closes. A GET without Upgrade is authorized alike, then gets 426.
using WebSocketApiFn = std::function<void(net::RequestPtr, std::shared_ptr<net::WebSocketSession>,
                                          const auth::Principal*)>;

class Api {
 public:
  explicit Api(ApiServices services);
  void registerRoutes(net::Router& router) const;
  const std::vector<RouteSpec>& routes() const { return specs_; }
  //! The route table alone, for `cityioc routes`, docs and the route × role test.
  static std::vector<RouteSpec> routeTable();

  void add(RouteSpec spec, ApiFn fn);
  void addAsync(RouteSpec spec, AsyncApiFn fn);
  void addWebSocket(RouteSpec spec, WebSocketApiFn fn);
  const ApiServices& services() const { return services_; }
  //! For services wired after construction (before registerRoutes): handlers read them per call.
  ApiServices& services() { return services_; }

 private:
  using AnyFn = std::variant<ApiFn, AsyncApiFn, WebSocketApiFn>;
  net::Handler wrap(const RouteSpec& spec, AnyFn fn) const;
  net::WebSocketHandler wrapWebSocket(const RouteSpec& spec, WebSocketApiFn fn) const;

  ApiServices services_;
  std::vector<RouteSpec> specs_;
  std::vector<AnyFn> fns_;
};

// Route groups, one per file.
void addSystemRoutes(Api& api);
void addIdentityRoutes(Api& api);
void addNgsiLdRoutes(Api& api);
void addTemporalRoutes(Api& api);
void addTelemetryRoutes(Api& api);
void addDeviceRoutes(Api& api);
void addSubscriptionRoutes(Api& api);
void addIncidentRoutes(Api& api);
void addAlertRoutes(Api& api);
void addTimeseriesRoutes(Api& api);
void addStreamRoutes(Api& api);
void addWebhookRoutes(Api& api);
void addReportRoutes(Api& api);   //!< /api/v1/reports…: citizens' and staff's native API
void addOpen311Routes(Api& api);  //!< /open311/v2/…: GeoReport v2 over the same service
//! Called by addNgsiLdRoutes: /types, /attributes (ngsild_types_routes.cc) and /jsonldContexts
//! (context_routes.cc).
void addNgsiLdTypeRoutes(Api& api);
void addJsonLdContextRoutes(Api& api);
//! For an inline route that resolves the request's Link @context: runs `fn` on the I/O thread
//! unless that context must first be downloaded, in which case it runs on the worker pool.
AsyncApiFn inlineUnlessFetching(const ApiServices* services, ApiFn fn);

//! JSON response helpers.
net::Response jsonResponse(const ioc::Json& body, net::http::status status = net::http::status::ok);

}  // namespace ioc::api
