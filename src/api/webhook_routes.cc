// Staff notification channels (notify::Dispatcher): outbound webhooks under /api/v1/webhooks and
// email recipients under /api/v1/email-channels. Both are configured by whoever runs the centre
// (operations:configure) and scoped to the caller's unit.
#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/ngsild_common.h"
#include "notify/dispatcher.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;
using notify::Channel;

namespace {

constexpr size_t kChannelBody = 16 * 1024;

bool ownedBy(const Channel& c, const Principal& who, const units::UnitCatalog& units) {
  if (who.unit_code.empty()) return true;
  return !c.unit.empty() && units.isWithin(c.unit, who.unit_code);
}

void addChannelRoutes(Api& api, const std::string& base, Channel::Kind kind,
                      const std::string& noun) {
  const ApiServices* s = &api.services();
  api.add({verb::get, base, Permission::kOperationsConfigure, Exec::kInline, 0,
           "List " + noun + "s of your unit"},
          [s, kind](const Request&, const Principal* who) {
            json items = json::array();
            for (const auto& c : s->notifier->list(kind)) {
              if (ownedBy(c, *who, *s->units)) items.push_back(notify::Dispatcher::toJson(c));
            }
            return jsonResponse({{"items", std::move(items)}});
          });
  api.add({verb::post, base, Permission::kOperationsConfigure, Exec::kWorker, kChannelBody,
           "Create a " + noun + " (min_severity, events and unit filter what it gets)"},
          [s, kind, base](const Request& req, const Principal* who) {
            auto body = readJsonBody(req);
            if (!body.ok()) return errorResponse(body.error(), req);
            auto c = s->notifier->create(*body, kind, actorOf(*who, req));
            if (!c.ok()) return errorResponse(c.error(), req);
            json j = notify::Dispatcher::toJson(*c);
            // The secret is shown once, now; receivers need it to verify signatures.
            if (kind == Channel::Kind::kWebhook) j["secret"] = c->secret;
            Response r = jsonResponse(j, status::created);
            r.headers.emplace_back("Location", base + "/" + c->id);
            return r;
          });
  api.add({verb::delete_, base + "/{id}", Permission::kOperationsConfigure, Exec::kWorker, 0,
           "Delete a " + noun},
          [s, kind](const Request& req, const Principal* who) {
            const std::string id(req.param("id"));
            auto c = s->notifier->find(id);
            if (!c || c->kind != kind || !ownedBy(*c, *who, *s->units)) {
              return problem(status::not_found, "no such " + std::string("channel ") + id, req);
            }
            if (auto st = s->notifier->remove(id, kind, actorOf(*who, req)); !st.ok()) {
              return errorResponse(st.error(), req);
            }
            Response r;
            r.status = status::no_content;
            return r;
          });
  api.add({verb::post, base + "/{id}/test", Permission::kOperationsConfigure, Exec::kInline,
           kChannelBody, "Send a test notification to a " + noun},
          [s, kind](const Request& req, const Principal* who) {
            const std::string id(req.param("id"));
            auto c = s->notifier->find(id);
            if (!c || c->kind != kind || !ownedBy(*c, *who, *s->units)) {
              return problem(status::not_found, "no such channel " + id, req);
            }
            if (auto st = s->notifier->test(id, actorOf(*who, req)); !st.ok()) {
              return errorResponse(st.error(), req);
            }
            return jsonResponse({{"queued", true}, {"channel", id}}, status::accepted);
          });
}

}  // namespace

void addWebhookRoutes(Api& api) {
  addChannelRoutes(api, "/api/v1/webhooks", Channel::Kind::kWebhook, "webhook");
  addChannelRoutes(api, "/api/v1/email-channels", Channel::Kind::kEmail, "email channel");
}

}  // namespace ioc::api
