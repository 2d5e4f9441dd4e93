#include "stream/hub.h"

#include <algorithm>
#include <cmath>

#include "core/thread_name.h"
#include "obs/metrics.h"

namespace ioc::stream {

using json = ioc::Json;

namespace {

constexpr size_t kMaxTypes = 100;

std::string_view shortName(std::string_view s) {
  size_t cut = s.find_last_of("/#");
  return cut == std::string_view::npos ? s : s.substr(cut + 1);
}

std::string dumpSafe(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Error invalid(std::string message) {
  return core::makeError(core::Errc::kInvalidArgument, std::move(message));
}

}  // namespace

core::Result<Filter> parseFilter(const json& j) {
  Filter f;
  if (j.is_null()) return f;
  if (!j.is_object()) return invalid("filter must be an object");
  for (const auto& [name, value] : j.items()) {
    if (name == "types") {
      if (!value.is_array() || value.size() > kMaxTypes) {
        return invalid("filter.types must be an array of at most 100 type names");
      }
      for (const auto& t : value) {
        if (!t.is_string() || t.get_ref<const std::string&>().empty()) {
          return invalid("filter.types must hold non-empty strings");
        }
        f.types.push_back(t.get<std::string>());
      }
    } else if (name == "bbox") {
      if (!value.is_array() || value.size() != 4) {
        return invalid("filter.bbox must be [minLon, minLat, maxLon, maxLat]");
      }
      std::array<double, 4> b{};
      for (size_t i = 0; i < 4; ++i) {
        if (!value[i].is_number() || !std::isfinite(value[i].get<double>())) {
          return invalid("filter.bbox must hold four numbers");
        }
        b[i] = value[i].get<double>();
      }
      if (b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
        return invalid("filter.bbox must be [minLon, minLat, maxLon, maxLat] within WGS 84");
      }
      f.bbox = b;
    } else if (name == "unit") {
      if (!value.is_string()) return invalid("filter.unit must be a unit code");
      f.unit = value.get<std::string>();
    } else {
      return invalid("unknown filter member " + name + " (types, bbox, unit)");
    }
  }
  return f;
}

json toJson(const Filter& f) {
  json j = json::object();
  if (!f.types.empty()) j["types"] = f.types;
  if (f.bbox) j["bbox"] = *f.bbox;
  if (!f.unit.empty()) j["unit"] = f.unit;
  return j;
}

std::optional<auth::Permission> topicPermission(std::string_view topic) {
  if (topic == "alerts") return auth::Permission::kAlertsRead;
  if (topic == "incidents") return auth::Permission::kIncidentsRead;
  if (topic == "reports") return auth::Permission::kReportsRead;
  if (topic == "entities" || topic == "kpis") return auth::Permission::kContextRead;
  if (topic == "notifications") return auth::Permission::kAuthenticated;
  return std::nullopt;
}

bool visibleTo(const Event& e, const auth::Principal& who, const units::UnitCatalog& units) {
  if (!e.users.empty()) {
    return who.kind == auth::Principal::Kind::kUser &&
           std::find(e.users.begin(), e.users.end(), who.id) != e.users.end();
  }
  // Staff notifications are internal: a citizen account only hears about its own reports.
  if (e.topic == "notifications" && who.role == model::Role::kCitizen) return false;
  if (!who.unit_code.empty() &&
      (e.unit_code.empty() || !units.isWithin(e.unit_code, who.unit_code))) {
    return false;
  }
  if (e.topic == "notifications" && !e.roles.empty()) {
    const std::string role = who.role ? model::roleName(*who.role) : who.roleLabel();
    return std::find(e.roles.begin(), e.roles.end(), role) != e.roles.end();
  }
  return true;
}

bool matches(const Event& e, const Filter& f, const units::UnitCatalog& units) {
  if (!f.types.empty()) {
    const std::string_view mine = shortName(e.subtype);
    bool any = std::any_of(f.types.begin(), f.types.end(), [&](const std::string& t) {
      return t == e.subtype || shortName(t) == mine;
    });
    if (!any) return false;
  }
  if (f.bbox) {
    if (!e.point) return false;
    const auto& b = *f.bbox;
    const auto [lon, lat] = *e.point;
    if (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]) return false;
  }
  if (!f.unit.empty() && (e.unit_code.empty() || !units.isWithin(e.unit_code, f.unit))) {
    return false;
  }
  return f.key.empty() || f.key == e.key;
}

// ---------------------------------------------------------------------------------------------
// Groups

namespace detail {

struct Prepared {
  Event event;
  Outgoing message;
};

//! Clients with the same subscription and view; the log they pull from (see hub.h).
class Group {
 public:
  Group(std::string topic, Filter filter, auth::Principal view)
      : topic(std::move(topic)), filter(std::move(filter)), view(std::move(view)) {}

  struct Entry {
    uint64_t pos = 0;  //!< dense per group; readers' cursors point here
    std::shared_ptr<const Prepared> p;
  };
  struct Member {
    std::weak_ptr<Client> client;
    uint64_t cursor = 0;   //!< next position to read
    bool waiting = false;  //!< in `waiting_` (it found nothing and has room to send)
  };

  bool live(const Entry& e) const {
    const std::string& key = e.p->event.key;
    if (key.empty()) return true;
    auto it = latest.find(key);
    return it != latest.end() && it->second == e.pos;
  }

  //! Appends under `mu`; true if it superseded an earlier entry of the same key.
  bool append(std::shared_ptr<const Prepared> p, size_t capacity) {
    const uint64_t pos = next_pos++;
    bool superseded = false;
    if (const std::string& key = p->event.key; key.empty()) {
      ++current;
    } else if (auto [it, fresh] = latest.try_emplace(key, pos); fresh) {
      ++current;
    } else {
      it->second = pos;
      superseded = true;
    }
    log.push_back({pos, std::move(p)});
    if (log.size() > 2 * capacity + 64) compact();
    if (current > capacity + capacity / 2) trimTo(capacity);
    return superseded;
  }

  //! The first current entry at or after `cursor`; null if none.
  const Entry* firstFrom(uint64_t cursor) const {
    auto it = std::lower_bound(log.begin(), log.end(), cursor,
                               [](const Entry& e, uint64_t c) { return e.pos < c; });
    while (it != log.end() && !live(*it)) ++it;
    return it == log.end() ? nullptr : &*it;
  }

  size_t currentFrom(uint64_t cursor) const {
    size_t n = 0;
    for (const Entry* e = firstFrom(cursor); e != nullptr; e = firstFrom(e->pos + 1)) ++n;
    return n;
  }

  //! Clients that wait for data (each once), to be pumped outside `mu`.
  std::vector<ClientPtr> takeWaiting() {
    std::vector<ClientPtr> out;
    for (auto& w : waiting_) {
      auto c = w.lock();
      if (!c) continue;
      if (auto m = members.find(c.get()); m != members.end()) m->second.waiting = false;
      out.push_back(std::move(c));
    }
    waiting_.clear();
    return out;
  }

  void wait(Member& m) {
    if (m.waiting) return;
    m.waiting = true;
    waiting_.push_back(m.client);
  }

  //! Members that lost an update to trimming.
  std::vector<ClientPtr> behind() const {
    std::vector<ClientPtr> out;
    for (const auto& [c, m] : members) {
      if (m.cursor < lost_before) {
        if (auto p = m.client.lock()) out.push_back(std::move(p));
      }
    }
    return out;
  }

  const std::string topic;
  const Filter filter;
  const auth::Principal view;
  std::string key;  //!< in Hub::groups_by_key_

  std::mutex mu;
  std::deque<Entry> log;
  std::unordered_map<std::string, uint64_t> latest;  //!< key → position of its newest entry
  std::unordered_map<const Client*, Member> members;
  uint64_t next_pos = 0;
  size_t current = 0;        //!< entries in `log` not superseded
  uint64_t lost_before = 0;  //!< a current entry below this was trimmed

 private:
  void compact() {
    std::deque<Entry> kept;
    for (auto& e : log) {
      if (live(e)) kept.push_back(std::move(e));
    }
    log.swap(kept);
  }
  void trimTo(size_t capacity) {
    while (current > capacity && !log.empty()) {
      const Entry& front = log.front();
      if (live(front)) {
        --current;
        lost_before = front.pos + 1;
        if (!front.p->event.key.empty()) latest.erase(front.p->event.key);
      }
      log.pop_front();
    }
  }

  std::vector<std::weak_ptr<Client>> waiting_;
};

namespace {

//! What decides an event's visibility to `who` on `topic` (see visibleTo): clients alike in it
//! can share a group.
std::string viewKey(const std::string& topic, const auth::Principal& who) {
  std::string k = who.unit_code;
  if (topic == "notifications") {
    k += '\x1f' + (who.role ? std::string(model::roleName(*who.role)) : who.roleLabel());
    k += '\x1f' + std::to_string(static_cast<int>(who.kind)) + ':' + std::to_string(who.id);
  }
  return k;
}

std::string groupKey(const std::string& topic, const Filter& f, const auth::Principal& who) {
  json filter = toJson(f);
  if (!f.key.empty()) filter["key"] = f.key;
  return topic + '\x1e' + filter.dump() + '\x1e' + viewKey(topic, who);
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Client

Client::Client(Hub& hub, std::optional<auth::Principal> who, std::shared_ptr<Sink> sink)
    : hub_(hub),
      sink_(std::move(sink)),
      connected_(std::chrono::steady_clock::now()),
      who_(std::move(who)) {}

bool Client::authenticated() const {
  std::lock_guard lock(mu_);
  return who_.has_value();
}

size_t Client::pendingForTest() const {
  std::lock_guard lock(mu_);
  size_t n = control_.size();
  for (const auto& [topic, sub] : subs_) {
    std::lock_guard group_lock(sub.group->mu);
    auto m = sub.group->members.find(this);
    if (m != sub.group->members.end()) n += sub.group->currentFrom(m->second.cursor);
  }
  return n;
}

void Client::handle(std::string_view text) {
  json msg = json::parse(text, nullptr, false);
  if (!msg.is_object() || !msg.contains("op") || !msg["op"].is_string()) {
    return error("bad-request", "expected a JSON object with an \"op\"");
  }
  const std::string op = msg["op"].get<std::string>();
  if (op == "ping") return reply({{"op", "pong"}});
  if (op == "auth") {
    if (authenticated()) return error("bad-request", "already authenticated");
    if (!msg.contains("token") || !msg["token"].is_string()) {
      return error("bad-request", "auth needs a \"token\"");
    }
    auto who = hub_.authenticate_(msg["token"].get<std::string>());
    if (!who.ok()) return error("unauthenticated", who.error().message);
    json ack = {{"op", "authenticated"},
                {"user", who->actorName()},
                {"role", who->roleLabel()},
                {"unit", who->unit_code}};
    {
      std::lock_guard lock(mu_);
      who_ = std::move(*who);
    }
    return reply(ack);
  }
  if (!authenticated()) {
    return error("unauthenticated", "send {\"op\":\"auth\",\"token\":…} first");
  }
  if (op == "subscribe") return handleSubscribe(msg);
  if (op == "unsubscribe") {
    std::vector<std::string> topics;
    if (msg.contains("topics")) {
      if (!msg["topics"].is_array()) return error("bad-request", "topics must be an array");
      for (const auto& t : msg["topics"]) {
        if (t.is_string()) topics.push_back(t.get<std::string>());
      }
    }
    std::vector<std::shared_ptr<detail::Group>> left;
    {
      std::lock_guard lock(mu_);
      if (!msg.contains("topics")) {
        for (const auto& [t, sub] : subs_) topics.push_back(t);
      }
      for (const auto& t : topics) {
        if (auto it = subs_.find(t); it != subs_.end()) {
          left.push_back(it->second.group);
          subs_.erase(it);
        }
      }
    }
    for (const auto& g : left) hub_.leaveGroup(g, this);
    return reply({{"op", "unsubscribed"}, {"topics", topics}});
  }
  error("bad-request", "unknown op " + op + " (auth, subscribe, unsubscribe, ping)");
}

void Client::handleSubscribe(const json& msg) {
  if (!msg.contains("topics") || !msg["topics"].is_array() || msg["topics"].empty()) {
    return error("bad-request", "subscribe needs a non-empty \"topics\" array");
  }
  std::vector<std::string> topics;
  for (const auto& t : msg["topics"]) {
    if (!t.is_string()) return error("bad-request", "topics must be strings");
    topics.push_back(t.get<std::string>());
  }
  auto filter = parseFilter(msg.value("filter", json()));
  if (!filter.ok()) return error("bad-request", filter.error().message);
  std::string why;
  (void)subscribe(topics, *filter, &why);
}

void Client::follow(const std::string& topic, Filter filter) {
  auth::Principal who;
  {
    std::lock_guard lock(mu_);
    if (!who_) return;
    who = *who_;
  }
  join(topic, std::move(filter), who);
}

void Client::join(const std::string& topic, Filter filter, const auth::Principal& who) {
  auto group = hub_.joinGroup(topic, filter, who, shared_from_this());
  std::shared_ptr<detail::Group> previous;
  bool closed;
  {
    std::lock_guard lock(mu_);
    closed = closed_;
    if (!closed) {
      Sub& sub = subs_[topic];
      previous = std::exchange(sub.group, group);
      sub.filter = std::move(filter);
    }
  }
  if (previous && previous != group) hub_.leaveGroup(previous, this);
  if (closed) hub_.leaveGroup(group, this);
}

bool Client::subscribe(const std::vector<std::string>& topics, const Filter& filter,
                       std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  auth::Principal who;
  {
    std::lock_guard lock(mu_);
    if (!who_) {
      error("unauthenticated", "not authenticated");
      return false;
    }
    who = *who_;
  }
  const auto& units = hub_.units();
  if (!filter.unit.empty()) {
    if (!units.find(filter.unit)) {
      *why = "unknown unit " + filter.unit;
      error("bad-request", *why);
      return false;
    }
    if (!units.isWithin(filter.unit, who.unit_code)) {
      *why = "unit " + filter.unit + " is outside your unit";
      error("forbidden", *why);
      return false;
    }
  }
  std::vector<std::string> accepted;
  for (const auto& topic : topics) {
    auto permission = topicPermission(topic);
    if (!permission) {
      *why =
          "unknown topic " + topic + " (alerts, incidents, reports, entities, kpis, notifications)";
      error("bad-request", *why, topic);
      continue;
    }
    if (!who.has(*permission)) {
      *why = "topic " + topic + " needs the permission " + auth::permissionName(*permission);
      error("forbidden", *why, topic);
      continue;
    }
    accepted.push_back(topic);
  }
  if (accepted.empty()) return false;
  for (const auto& t : accepted) join(t, filter, who);
  reply({{"op", "subscribed"}, {"topics", accepted}, {"filter", toJson(filter)}});
  return accepted.size() == topics.size();
}

void Client::reply(const json& j) {
  bool ok;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    ok = control_.size() < hub_.options_.client_pending;
    if (ok) control_.push_back(Outgoing{0, "", std::make_shared<const std::string>(dumpSafe(j))});
  }
  if (!ok) return drop();
  pump();
}

void Client::error(std::string_view code, std::string_view message, std::string_view topic) {
  json j = {{"op", "error"}, {"code", code}, {"message", message}};
  if (!topic.empty()) j["topic"] = topic;
  reply(j);
}

void Client::offer(const Event& e, const Outgoing& message) {
  bool ok;
  {
    std::lock_guard lock(mu_);
    if (closed_ || !who_) return;
    auto it = subs_.find(e.topic);
    if (it == subs_.end()) return;
    if (!visibleTo(e, *who_, hub_.units_) || !matches(e, it->second.filter, hub_.units_)) return;
    ok = control_.size() < hub_.options_.client_pending;
    if (ok) control_.push_back(message);
  }
  if (!ok) return drop();
  pump();
}

bool Client::takeNextLocked(Outgoing& out, bool& behind) {
  detail::Group* best = nullptr;
  uint64_t best_id = 0, best_pos = 0;
  for (auto& [topic, sub] : subs_) {
    detail::Group& g = *sub.group;
    std::lock_guard group_lock(g.mu);
    auto m = g.members.find(this);
    if (m == g.members.end()) continue;
    if (m->second.cursor < g.lost_before) {
      behind = true;
      return false;
    }
    const detail::Group::Entry* e = g.firstFrom(m->second.cursor);
    if (e == nullptr) {
      m->second.cursor = g.next_pos;
      g.wait(m->second);
      continue;
    }
    m->second.cursor = e->pos;
    if (best == nullptr || e->p->message.id < best_id) {
      best = &g;
      best_id = e->p->message.id;
      best_pos = e->pos;
      out = e->p->message;
    }
  }
  if (best == nullptr) return false;
  std::lock_guard group_lock(best->mu);
  if (auto m = best->members.find(this); m != best->members.end()) {
    m->second.cursor = best_pos + 1;
  }
  return true;
}

void Client::pump() {
  std::lock_guard send_lock(send_mu_);
  while (true) {
    Outgoing next;
    bool behind = false;
    {
      std::lock_guard lock(mu_);
      if (closed_ || in_flight_ >= hub_.options_.client_window) return;
      if (!control_.empty()) {
        next = std::move(control_.front());
        control_.pop_front();
      } else if (!takeNextLocked(next, behind)) {
        if (!behind) return;
      }
      if (!behind) ++in_flight_;
    }
    if (behind) return drop();
    sink_->send(next);
  }
}

void Client::written() {
  {
    std::lock_guard lock(mu_);
    if (in_flight_ > 0) --in_flight_;
  }
  hub_.sent_->inc();
  pump();
}

bool Client::close() {
  std::unordered_map<std::string, Sub> subs;
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    closed_ = true;
    control_.clear();
    subs.swap(subs_);
  }
  for (const auto& [topic, sub] : subs) hub_.leaveGroup(sub.group, this);
  hub_.remove(this);
  return true;
}

void Client::drop() {
  if (!close()) return;
  hub_.dropped_->inc();
  sink_->close();
}

void Client::disconnect() {
  close();
}

// ---------------------------------------------------------------------------------------------
// Hub

Hub::Hub(const units::UnitCatalog& units, const core::Clock& clock, Authenticator authenticate,
         HubOptions options)
    : units_(units),
      clock_(clock),
      authenticate_(std::move(authenticate)),
      options_(options),
      clients_(std::make_shared<const std::vector<ClientPtr>>()),
      groups_(std::make_shared<const std::vector<std::shared_ptr<detail::Group>>>()) {
  auto& r = obs::defaultRegistry();
  clients_gauge_ = &r.gauge("stream_clients", "Live stream clients connected", {}).with({});
  events_ = &r.counter("stream_events_total", "Events published to the live stream", {}).with({});
  events_dropped_ =
      &r.counter("stream_events_dropped_total",
                 "Events dropped because the live stream's fan-out queue was full", {})
           .with({});
  sent_ = &r.counter("stream_messages_sent_total", "Live stream messages written to clients", {})
               .with({});
  coalesced_ = &r.counter("stream_messages_coalesced_total",
                          "Queued live stream updates replaced by a newer one (slow clients)", {})
                    .with({});
  dropped_ = &r.counter("stream_clients_dropped_total",
                        "Live stream clients disconnected for falling behind", {})
                  .with({});
}

Hub::~Hub() {
  stop();
}

void Hub::start() {
  std::lock_guard lock(queue_mu_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] {
    core::nameThisThread("ioc-stream");
    loop();
  });
}

void Hub::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<const std::vector<ClientPtr>> all;
  {
    std::lock_guard lock(clients_mu_);
    all = clients_;
  }
  for (const auto& c : *all) {
    c->disconnect();
    c->sink_->close();
  }
  idle_cv_.notify_all();
}

bool Hub::publish(Event event) {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      events_dropped_->inc();
      return false;
    }
    queue_.push_back(std::move(event));
  }
  events_->inc();
  queue_cv_.notify_one();
  return true;
}

ClientPtr Hub::connect(std::optional<auth::Principal> who, std::shared_ptr<Sink> sink) {
  auto client = std::make_shared<Client>(*this, std::move(who), std::move(sink));
  {
    std::lock_guard lock(clients_mu_);
    auto next = std::make_shared<std::vector<ClientPtr>>(*clients_);
    next->push_back(client);
    clients_ = std::move(next);
    client_count_.store(clients_->size(), std::memory_order_relaxed);
  }
  clients_gauge_->inc();
  return client;
}

void Hub::remove(const Client* client) {
  std::lock_guard lock(clients_mu_);
  auto next = std::make_shared<std::vector<ClientPtr>>(*clients_);
  auto it = std::find_if(next->begin(), next->end(),
                         [client](const ClientPtr& c) { return c.get() == client; });
  if (it == next->end()) return;
  next->erase(it);
  clients_ = std::move(next);
  client_count_.store(clients_->size(), std::memory_order_relaxed);
  clients_gauge_->dec();
}

size_t Hub::clients() const {
  std::lock_guard lock(clients_mu_);
  return clients_->size();
}

void Hub::replay(const ClientPtr& client, uint64_t last_event_id) {
  std::vector<std::shared_ptr<const detail::Prepared>> recent;
  {
    std::lock_guard lock(replay_mu_);
    recent.assign(recent_.begin(), recent_.end());
  }
  for (const auto& p : recent) {
    if (p->message.id > last_event_id) client->offer(p->event, p->message);
  }
}

void Hub::waitIdle() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return (queue_.empty() && !busy_) || !started_ || stopping_; });
}

void Hub::loop() {
  auto last_sweep = std::chrono::steady_clock::now();
  auto last_tick = last_sweep;
  while (true) {
    std::deque<Event> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait_for(lock, std::chrono::seconds(1),
                         [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      batch.swap(queue_);
      busy_ = !batch.empty();
    }
    for (auto& e : batch) {
      if (e.at_ms == 0) e.at_ms = clock_.nowUnixMs();
      json m = {{"topic", e.topic},
                {"type", e.subtype},
                {"key", e.key},
                {"at", core::formatRfc3339(e.at_ms)},
                {"data", std::move(e.payload)}};
      e.payload = nullptr;
      auto p = std::make_shared<detail::Prepared>();
      p->message = Outgoing{next_id_++, e.topic, std::make_shared<const std::string>(dumpSafe(m))};
      p->event = std::move(e);
      std::shared_ptr<const detail::Prepared> prepared = std::move(p);
      fanOut(prepared);
      if (options_.replay > 0) {
        std::lock_guard lock(replay_mu_);
        recent_.push_back(prepared);
        while (recent_.size() > options_.replay) recent_.pop_front();
      }
    }
    {
      std::lock_guard lock(queue_mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
    auto now = std::chrono::steady_clock::now();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      last_sweep = now;
      sweep();
    }
    if (now - last_tick >= options_.tick) {
      last_tick = now;
      std::shared_ptr<const std::vector<ClientPtr>> all;
      {
        std::lock_guard lock(clients_mu_);
        all = clients_;
      }
      for (const auto& c : *all) c->sink_->tick();
    }
  }
}

void Hub::fanOut(const std::shared_ptr<const detail::Prepared>& p) {
  std::shared_ptr<const std::vector<std::shared_ptr<detail::Group>>> groups;
  {
    std::lock_guard lock(groups_mu_);
    groups = groups_;
  }
  const Event& e = p->event;
  for (const auto& g : *groups) {
    if (g->topic != e.topic || !visibleTo(e, g->view, units_) || !matches(e, g->filter, units_)) {
      continue;
    }
    std::vector<ClientPtr> wake, behind;
    {
      std::lock_guard lock(g->mu);
      if (g->append(p, options_.client_pending)) coalesced_->inc();
      wake = g->takeWaiting();
      if (g->lost_before > 0) behind = g->behind();
    }
    for (const auto& c : behind) c->drop();
    for (const auto& c : wake) c->pump();
  }
}

std::shared_ptr<detail::Group> Hub::joinGroup(const std::string& topic, const Filter& filter,
                                              const auth::Principal& who, const ClientPtr& client) {
  const std::string key = detail::groupKey(topic, filter, who);
  std::lock_guard lock(groups_mu_);
  auto& slot = groups_by_key_[key];
  if (!slot) {
    slot = std::make_shared<detail::Group>(topic, filter, who);
    slot->key = key;
    auto next = std::make_shared<std::vector<std::shared_ptr<detail::Group>>>(*groups_);
    next->push_back(slot);
    groups_ = std::move(next);
  }
  std::lock_guard group_lock(slot->mu);
  auto& m = slot->members[client.get()];
  m.client = client;
  m.cursor = slot->next_pos;
  m.waiting = false;
  slot->wait(m);
  return slot;
}

void Hub::leaveGroup(const std::shared_ptr<detail::Group>& group, const Client* client) {
  std::lock_guard lock(groups_mu_);
  std::lock_guard group_lock(group->mu);
  group->members.erase(client);
  if (!group->members.empty()) return;
  auto it = groups_by_key_.find(group->key);
  if (it == groups_by_key_.end() || it->second != group) return;
  groups_by_key_.erase(it);
  auto next = std::make_shared<std::vector<std::shared_ptr<detail::Group>>>();
  for (const auto& g : *groups_) {
    if (g != group) next->push_back(g);
  }
  groups_ = std::move(next);
}

void Hub::sweep() {
  std::shared_ptr<const std::vector<ClientPtr>> all;
  {
    std::lock_guard lock(clients_mu_);
    all = clients_;
  }
  const auto deadline = std::chrono::steady_clock::now() - options_.auth_timeout;
  for (const auto& c : *all) {
    if (c->connected_ < deadline && !c->authenticated()) {
      c->disconnect();
      c->sink_->close();
    }
  }
}

}  // namespace ioc::stream
