// Health, readiness and metrics: public by design (no personal data), for probes and Prometheus.
#include "api/api.h"
#include "api/errors.h"
#include "obs/metrics.h"

namespace ioc::api {

using auth::Permission;
using net::http::status;
using net::http::verb;

void addSystemRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::get, "/healthz", Permission::kPublic, Exec::kInline, 0, "Liveness"},
          [](const net::Request&, const auth::Principal*) {
            return jsonResponse({{"status", "ok"}});
          });
  api.add({verb::get, "/readyz", Permission::kPublic, Exec::kWorker, 0,
           "Readiness: store reachable and migrated"},
          [s](const net::Request& req, const auth::Principal*) {
            auto ping = s->store->ping();
            if (!ping.ok()) {
              return problem(status::service_unavailable, ping.error().message, req);
            }
            return jsonResponse({{"status", "ready"},
                                 {"schema_version", s->store->schemaVersion()},
                                 {"units", s->units->size()}});
          });
  api.add(
      {verb::get, "/metrics", Permission::kPublic, Exec::kInline, 0, "Prometheus text exposition"},
      [](const net::Request&, const auth::Principal*) {
        net::Response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = obs::defaultRegistry().render();
        return r;
      });
}

}  // namespace ioc::api
