// The live stream: GET /api/v1/stream (WebSocket) and GET /api/v1/stream/sse (Server-Sent
// Events), both fed by stream::Hub; and the entity events the broker's changes become.
//
// Authentication. The WebSocket takes the usual "Authorization: Bearer <token or API key>" on the
// upgrade request; browsers, which cannot set that header, connect without it and send
// {"op":"auth","token":"…"} as their first message (within 10 s, else the connection is
// closed). Tokens are deliberately not accepted in the URL (?access_token=…): URLs end up in
// proxy logs, browser history and Referer headers. SSE is for simple consumers (curl, scripts)
// that can set the header.
#include "api/stream_routes.h"

#include <charconv>
#include <cstdlib>
#include <mutex>

#include "api/api.h"
#include "api/errors.h"
#include "net/websocket.h"
#include "stream/hub.h"

namespace ioc::api {

using auth::Permission;
using auth::Principal;
using net::http::status;
using net::http::verb;
using json = ioc::Json;

namespace {

const std::string kLocation = "https://uri.etsi.org/ngsi-ld/location";
const std::string kType = "type";

std::string shortName(const std::string& iri) {
  size_t cut = iri.find_last_of("/#");
  return cut == std::string::npos ? iri : iri.substr(cut + 1);
}

//! The value a client wants of an attribute instance (or of the first of several).
json attrValue(const json& attr) {
  const json& inst = attr.is_array() ? (attr.empty() ? attr : attr.front()) : attr;
  if (!inst.is_object()) return inst;
  for (const char* member : {"value", "object", "languageMap", "vocab", "json"}) {
    if (auto it = inst.find(member); it != inst.end()) return *it;
  }
  return nullptr;
}

std::optional<std::pair<double, double>> pointOf(const context::Entity& e) {
  auto it = e.doc.find(kLocation);
  if (it == e.doc.end()) return std::nullopt;
  const json& inst = it->is_array() ? (it->empty() ? *it : it->front()) : *it;
  if (!inst.is_object()) return std::nullopt;
  auto v = inst.find("value");
  if (v == inst.end() || !v->is_object() || v->value("type", "") != "Point") return std::nullopt;
  auto c = v->find("coordinates");
  if (c == v->end() || !c->is_array() || c->size() < 2 || !(*c)[0].is_number() ||
      !(*c)[1].is_number()) {
    return std::nullopt;
  }
  return std::pair{(*c)[0].get<double>(), (*c)[1].get<double>()};
}

//! Hands the hub's messages to a WebSocket session.
class WebSocketSink final : public stream::Sink {
 public:
  explicit WebSocketSink(std::weak_ptr<net::WebSocketSession> ws) : ws_(std::move(ws)) {}
  void send(const stream::Outgoing& message) override {
    if (auto ws = ws_.lock()) ws->send(*message.text);
  }
  void close() override {
    if (auto ws = ws_.lock()) ws->close();
  }

 private:
  std::weak_ptr<net::WebSocketSession> ws_;
};

//! Server-Sent Events: "id:" (the event's sequence number), "event:" (the topic, or the op of a
//! control message) and "data:" lines; keep-alive comments from the hub's tick.
class SseSink final : public stream::Sink {
 public:
  void attach(std::weak_ptr<net::ResponseStream> s) {
    std::lock_guard lock(mu_);
    stream_ = std::move(s);
  }
  void send(const stream::Outgoing& m) override {
    std::string chunk;
    if (m.id) chunk = "id: " + std::to_string(m.id) + "\n";
    if (!m.topic.empty()) {
      chunk += "event: " + m.topic + "\n";
    } else {
      auto op = json::parse(*m.text, nullptr, false);
      chunk += "event: " + (op.is_object() ? op.value("op", "control") : "control") + "\n";
    }
    chunk += "data: " + *m.text + "\n\n";
    if (auto s = lock()) s->write(std::move(chunk));
  }
  void close() override {
    if (auto s = lock()) s->close();
  }
  void tick() override {
    if (auto s = lock()) s->write(": keep-alive\n\n", false);
  }

 private:
  std::shared_ptr<net::ResponseStream> lock() {
    std::lock_guard lock(mu_);
    return stream_.lock();
  }
  std::mutex mu_;
  std::weak_ptr<net::ResponseStream> stream_;
};

net::Response sseResponse(std::shared_ptr<net::StreamCallbacks> callbacks) {
  net::Response r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream = std::move(callbacks);
  return r;
}

net::Response openSse(stream::Hub& hub, const net::Request& req, const Principal& who) {
  auto topics_param = req.queryParam("topics");
  if (!topics_param || topics_param->empty()) {
    return problem(status::bad_request, "topics is required, e.g. ?topics=alerts,incidents", req);
  }
  std::vector<std::string> topics;
  for (size_t start = 0; start <= topics_param->size();) {
    size_t comma = topics_param->find(',', start);
    if (comma == std::string::npos) comma = topics_param->size();
    if (comma > start) topics.push_back(topics_param->substr(start, comma - start));
    start = comma + 1;
  }
  for (const auto& t : topics) {
    auto permission = stream::topicPermission(t);
    if (!permission) return problem(status::bad_request, "unknown topic " + t, req);
    if (!who.has(*permission)) {
      return problem(status::forbidden,
                     "topic " + t + " needs the permission " + auth::permissionName(*permission),
                     req);
    }
  }
  json filter = json::object();
  if (auto types = req.queryParam("types")) {
    json list = json::array();
    for (size_t start = 0; start <= types->size();) {
      size_t comma = types->find(',', start);
      if (comma == std::string::npos) comma = types->size();
      if (comma > start) list.push_back(types->substr(start, comma - start));
      start = comma + 1;
    }
    filter["types"] = list;
  }
  if (auto bbox = req.queryParam("bbox")) {
    json list = json::array();
    size_t start = 0;
    while (start <= bbox->size()) {
      size_t comma = bbox->find(',', start);
      if (comma == std::string::npos) comma = bbox->size();
      char* end = nullptr;
      std::string part = bbox->substr(start, comma - start);
      double v = std::strtod(part.c_str(), &end);
      if (part.empty() || *end != '\0') {
        return problem(status::bad_request, "bbox must be minLon,minLat,maxLon,maxLat", req);
      }
      list.push_back(v);
      start = comma + 1;
    }
    filter["bbox"] = list;
  }
  if (auto unit = req.queryParam("unit")) filter["unit"] = *unit;
  auto parsed = stream::parseFilter(filter);
  if (!parsed.ok()) return problem(status::bad_request, parsed.error().message, req);
  if (!parsed->unit.empty() &&
      (!hub.units().find(parsed->unit) || !hub.units().isWithin(parsed->unit, who.unit_code))) {
    return problem(status::forbidden, "unit " + parsed->unit + " is outside yours", req);
  }
  uint64_t last_id = 0;
  auto last_field = req.raw["Last-Event-ID"];
  std::string_view last(last_field.data(), last_field.size());
  std::from_chars(last.data(), last.data() + last.size(), last_id);

  auto sink = std::make_shared<SseSink>();
  auto client = hub.connect(who, sink);
  auto callbacks = std::make_shared<net::StreamCallbacks>();
  callbacks->max_queued = hub.options().client_window + 16;
  callbacks->on_start = [client, sink, topics, f = *parsed, last_id,
                         hub = &hub](std::shared_ptr<net::ResponseStream> s) {
    sink->attach(s);
    s->write(": cityioc live stream\nretry: 3000\n\n", false);
    client->subscribe(topics, f, nullptr);
    if (last_id > 0) hub->replay(client, last_id);
  };
  callbacks->on_written = [client] { client->written(); };
  callbacks->on_close = [client] { client->disconnect(); };
  return sseResponse(std::move(callbacks));
}

void openWebSocket(stream::Hub& hub, net::RequestPtr req, std::shared_ptr<net::WebSocketSession> ws,
                   const Principal* who) {
  auto client = hub.connect(who ? std::optional<Principal>(*who) : std::nullopt,
                            std::make_shared<WebSocketSink>(ws));
  // The hub keeps at most client_window messages in the session's queue; leave it room for that.
  ws->setMaxQueued(hub.options().client_window + 16);
  ws->setOnWritten([client] { client->written(); });
  ws->accept(
      req->raw, [client](std::string text) { client->handle(text); },
      [client] { client->disconnect(); });
}

}  // namespace

net::Response openTrackingStream(stream::Hub& hub, const std::string& code) {
  Principal anyone;
  anyone.name = "tracking";
  auto sink = std::make_shared<SseSink>();
  auto client = hub.connect(anyone, sink);
  stream::Filter only;
  only.key = code;
  auto callbacks = std::make_shared<net::StreamCallbacks>();
  callbacks->max_queued = hub.options().client_window + 16;
  callbacks->on_start = [client, sink, only](std::shared_ptr<net::ResponseStream> s) {
    sink->attach(s);
    s->write(": cityioc report tracking\nretry: 5000\n\n", false);
    client->follow("tracking", only);
  };
  callbacks->on_written = [client] { client->written(); };
  callbacks->on_close = [client] { client->disconnect(); };
  return sseResponse(std::move(callbacks));
}

stream::Event entityEvent(const context::EntityChange& change) {
  const context::Entity& e = change.after ? *change.after : *change.before;
  stream::Event ev;
  ev.topic = "entities";
  ev.unit_code = e.unit_code;
  ev.key = e.id;
  ev.at_ms = e.modified_at_ms;
  const auto types = e.types();
  ev.subtype = types.empty() ? std::string() : shortName(types.front());
  ev.point = pointOf(e);
  json data = {{"id", e.id}, {"type", ev.subtype}};
  if (!change.after) {
    data["deleted"] = true;
  } else {
    json attrs = json::object();
    const json* before = change.before ? &change.before->doc : nullptr;
    for (const auto& [name, attr] : change.after->doc.items()) {
      if (name == "id" || name == kType || name == "@context") continue;
      if (before) {
        auto old = before->find(name);
        if (old != before->end() && *old == attr) continue;
      }
      attrs[shortName(name)] = attrValue(attr);
    }
    data["attrs"] = std::move(attrs);
  }
  ev.payload = std::move(data);
  return ev;
}

void publishEntityChanges(stream::Hub& hub, const std::vector<context::EntityChange>& changes) {
  if (!hub.hasClients()) return;
  for (const auto& change : changes) {
    if (!change.after && !change.before) continue;
    hub.publish(entityEvent(change));
  }
}

void addStreamRoutes(Api& api) {
  const ApiServices* s = &api.services();
  api.addWebSocket(
      {verb::get, "/api/v1/stream", Permission::kAuthenticated, Exec::kInline, 0,
       "Live stream (WebSocket): alerts, incidents, entity updates, KPIs and staff "
       "notifications, filtered by role and unit"},
      [s](net::RequestPtr req, std::shared_ptr<net::WebSocketSession> ws, const Principal* who) {
        if (!s->hub) {
          return ws->reject(problem(status::service_unavailable, "the live stream is off", *req));
        }
        openWebSocket(*s->hub, std::move(req), std::move(ws), who);
      });
  api.add({verb::get, "/api/v1/stream/sse", Permission::kAuthenticated, Exec::kInline, 0,
           "Live stream as Server-Sent Events: ?topics=alerts,incidents&types=…&bbox=…&unit=…; "
           "Last-Event-ID resumes (best effort)"},
          [s](const net::Request& req, const Principal* who) {
            if (!s->hub) return problem(status::service_unavailable, "the live stream is off", req);
            return openSse(*s->hub, req, *who);
          });
}

}  // namespace ioc::api
