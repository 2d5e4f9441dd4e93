#include "api/api.h"

#include <boost/asio/post.hpp>

#include "api/errors.h"
#include "core/log.h"
#include "net/websocket.h"

namespace ioc::api {

using net::http::status;

namespace {
//! The bearer credential from "Authorization: Bearer <token>"; empty when absent or malformed.
std::string_view bearerToken(const net::Request& req) {
  std::string_view h = req.header(net::http::field::authorization);
  constexpr std::string_view kScheme = "Bearer ";
  if (h.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {};
    }
  }
  h.remove_prefix(kScheme.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  return h.size() <= 256 ? h : std::string_view();
}
}  // namespace

net::Response jsonResponse(const ioc::Json& body, status st) {
  return net::Response::json(st, body.dump(-1, ' ', false, ioc::Json::error_handler_t::replace));
}

Api::Api(ApiServices services) : services_(services) {
  addSystemRoutes(*this);
  addIdentityRoutes(*this);
  addNgsiLdRoutes(*this);
  addTemporalRoutes(*this);
  addTelemetryRoutes(*this);
  addDeviceRoutes(*this);
  addSubscriptionRoutes(*this);
  addIncidentRoutes(*this);
  addAlertRoutes(*this);
  addTimeseriesRoutes(*this);
  addStreamRoutes(*this);
  addWebhookRoutes(*this);
  addReportRoutes(*this);
  addOpen311Routes(*this);
}

std::vector<RouteSpec> Api::routeTable() {
  return Api(ApiServices{}).routes();
}

void Api::add(RouteSpec spec, ApiFn fn) {
  specs_.push_back(std::move(spec));
  fns_.emplace_back(std::move(fn));
}

void Api::addAsync(RouteSpec spec, AsyncApiFn fn) {
  specs_.push_back(std::move(spec));
  fns_.emplace_back(std::move(fn));
}

void Api::addWebSocket(RouteSpec spec, WebSocketApiFn fn) {
  specs_.push_back(std::move(spec));
  fns_.emplace_back(std::move(fn));
}

void Api::registerRoutes(net::Router& router) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (const auto* ws = std::get_if<WebSocketApiFn>(&fns_[i])) {
      router.addWebSocket(
          specs_[i].pattern, wrapWebSocket(specs_[i], *ws),
          wrap(specs_[i], ApiFn([](const net::Request& req, const auth::Principal*) {
                 net::Response r =
                     problem(status::upgrade_required, "this path speaks WebSocket only", req);
                 r.headers.emplace_back("Upgrade", "websocket");
                 return r;
               })));
      continue;
    }
    router.add(specs_[i].method, specs_[i].pattern, wrap(specs_[i], fns_[i]),
               net::RouteOptions{specs_[i].max_body_bytes});
  }
}

net::Handler Api::wrap(const RouteSpec& spec, AnyFn fn) const {
  const auth::Permission permission = spec.permission;
  const Exec exec = spec.exec;
  const ApiServices* services = &services_;
  return [permission, exec, services, fn = std::move(fn)](net::RequestPtr req,
                                                          net::Responder responder) {
    std::optional<auth::Principal> who;
    if (permission != auth::Permission::kPublic) {
      std::string_view token = bearerToken(*req);
      if (token.empty()) {
        return responder.send(problem(status::unauthorized, "sign in or send an API key", *req));
      }
      auto principal = services->auth->authenticate(token);
      if (!principal.ok()) return responder.send(errorResponse(principal.error(), *req));
      if (!principal->has(permission)) {
        return responder.send(problem(
            status::forbidden,
            std::string("this needs the permission ") + auth::permissionName(permission), *req));
      }
      who = std::move(*principal);
    }
    auto run = [fn, req, who = std::move(who), responder = std::move(responder)]() mutable {
      try {
        if (std::holds_alternative<WebSocketApiFn>(fn)) return;  // see wrapWebSocket()
        if (const auto* async = std::get_if<AsyncApiFn>(&fn)) {
          return (*async)(req, who ? &*who : nullptr, std::move(responder));
        }
        responder.send(std::get<ApiFn>(fn)(*req, who ? &*who : nullptr));
      } catch (const std::exception& e) {
        // Nothing escapes a handler: log the cause, answer a bare 500.
        core::logError("handler failed", {{"rid", req->request_id}, {"error", e.what()}});
        responder.send(problem(status::internal_server_error, "", *req));
      }
    };
    if (exec == Exec::kWorker) {
      boost::asio::post(*services->workers, std::move(run));
    } else {
      run();
    }
  };
}

net::WebSocketHandler Api::wrapWebSocket(const RouteSpec& spec, WebSocketApiFn fn) const {
  const auth::Permission permission = spec.permission;
  const ApiServices* services = &services_;
  return [permission, services, fn = std::move(fn)](net::RequestPtr req,
                                                    std::shared_ptr<net::WebSocketSession> ws) {
    std::string_view token = bearerToken(*req);
    if (token.empty() || permission == auth::Permission::kPublic) {
      return fn(std::move(req), std::move(ws), nullptr);
    }
    auto principal = services->auth->authenticate(token);
    if (!principal.ok()) return ws->reject(errorResponse(principal.error(), *req));
    if (!principal->has(permission)) {
      return ws->reject(problem(
          status::forbidden,
          std::string("this needs the permission ") + auth::permissionName(permission), *req));
    }
    fn(std::move(req), std::move(ws), &*principal);
  };
}

}  // namespace ioc::api
