// IoT device provisioning for the MQTT ingest (FIWARE IoT Agent JSON style): which entity the
// messages on /{apikey}/{device_id}/attrs update and how their keys map onto attributes.
// Devices are scoped like entities: a caller sees and removes the devices of its unit and below.
#include <charconv>

#include "api/api.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "mqtt/device_registry.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::Request;
using net::Response;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

constexpr size_t kDeviceBody = size_t{64} * 1024;
constexpr size_t kMaxLimit = 1000;

bool canSee(const ApiServices& s, const Principal& who, const model::Device& d) {
  if (who.unit_code.empty()) return true;  // the whole country
  return !d.unit_code.empty() && s.units->isWithin(d.unit_code, who.unit_code);
}

Response provisionDevice(const ApiServices& s, const Request& req, const Principal& who) {
  auto body = readJsonBody(req);
  if (!body.ok()) return errorResponse(body.error(), req);
  auto device = mqtt::parseDeviceSpec(*body, who.unit_code, s.clock->nowUnixMs());
  if (!device.ok()) return errorResponse(device.error(), req);
  const std::string location = "/api/v1/devices/" + device->apikey + "/" + device->device_id;
  json out = mqtt::deviceJson(*device);
  auto st =
      s.devices->provision(std::move(*device), auth::actorFor(who, req.client_ip, req.request_id));
  if (!st.ok()) return errorResponse(st.error(), req);
  Response r = jsonResponse(out, status::created);
  r.headers.emplace_back("Location", location);
  return r;
}

core::Result<size_t> sizeParam(const Request& req, const char* name, size_t def, size_t max) {
  const std::optional<std::string> v = req.queryParam(name);
  if (!v) return def;
  const std::string_view text = *v;
  size_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n > max ||
      (n == 0 && std::string_view(name) == "limit")) {
    return core::makeError(
        core::Errc::kInvalidArgument,
        std::string(name) + " must be a whole number up to " + std::to_string(max));
  }
  return n;
}

Response listDevices(const ApiServices& s, const Request& req, const Principal& who) {
  auto limit = sizeParam(req, "limit", 100, kMaxLimit);
  if (!limit.ok()) return errorResponse(limit.error(), req);
  auto offset = sizeParam(req, "offset", 0, size_t{1} << 40);
  if (!offset.ok()) return errorResponse(offset.error(), req);
  json items = json::array();
  size_t total = 0;
  for (const auto& d : s.devices->list()) {
    if (!canSee(s, who, d->device)) continue;
    if (total++ < *offset || items.size() >= *limit) continue;
    items.push_back(mqtt::deviceJson(d->device));
  }
  return jsonResponse({{"items", items}, {"total", total}, {"limit", *limit}, {"offset", *offset}});
}

Response getDevice(const ApiServices& s, const Request& req, const Principal& who) {
  auto d = s.devices->find(req.param("apikey"), req.param("deviceId"));
  if (!d || !canSee(s, who, d->device)) return problem(status::not_found, "no such device", req);
  return jsonResponse(mqtt::deviceJson(d->device));
}

Response removeDevice(const ApiServices& s, const Request& req, const Principal& who) {
  const std::string apikey(req.param("apikey")), device_id(req.param("deviceId"));
  auto st = s.devices->remove(apikey, device_id, auth::actorFor(who, req.client_ip, req.request_id),
                              [&](const model::Device& d) { return canSee(s, who, d); });
  if (!st.ok()) return errorResponse(st.error(), req);
  Response r;
  r.status = status::no_content;
  return r;
}

}  // namespace

void addDeviceRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.add({verb::post, "/api/v1/devices", Permission::kIngest, Exec::kWorker, kDeviceBody,
           "Provision an MQTT device (IoT Agent JSON topics /{apikey}/{device_id}/attrs)"},
          [s](const Request& r, const Principal* w) { return provisionDevice(*s, r, *w); });
  api.add({verb::get, "/api/v1/devices", Permission::kIngest, Exec::kWorker, 0,
           "List provisioned devices of the caller's unit (limit, offset)"},
          [s](const Request& r, const Principal* w) { return listDevices(*s, r, *w); });
  api.add({verb::get, "/api/v1/devices/{apikey}/{deviceId}", Permission::kIngest, Exec::kInline, 0,
           "One provisioned device"},
          [s](const Request& r, const Principal* w) { return getDevice(*s, r, *w); });
  api.add({verb::delete_, "/api/v1/devices/{apikey}/{deviceId}", Permission::kIngest, Exec::kWorker,
           0, "Remove a provisioned device"},
          [s](const Request& r, const Principal* w) { return removeDevice(*s, r, *w); });
}

}  // namespace ioc::api
