#pragma once
// The live stream: what happens in the city (alerts, incidents, entity updates, KPIs, staff
// notifications) fanned out to connected operators, each seeing only what their role and unit
// allow.
//
// Threads. publish() only appends to a bounded queue (a full queue drops the event, counted): it
// is called from the store's commit thread and ingestion paths and never waits for a client. One
// fan-out thread renders each event once.
//
// Groups, and why. Clients that subscribed to the same topic with the same filter and see the
// same things (unit; role and account for notifications) share a group. The fan-out thread checks
// an event once per group and appends it to the group's log, in which an event with a key (an
// alert, incident or entity id) supersedes the previous one with that key. Clients pull from the
// logs at their own pace, each with a cursor, skipping superseded entries: a slow reader gets the
// latest state of every key, and the cost of an event does not grow with the number of slow
// clients (a push to every client's queue did: 1,000 clients × 10,000 events/s left the single
// fan-out thread 10 s behind). Only clients waiting for data are woken. A group keeps at most
// `client_pending` (+50 %) current entries; a client behind the oldest one kept has lost updates
// and is disconnected (it reconnects and reloads). At most `client_window` messages are in a
// transport's hands at a time (the transport reports each one written).
// Lifecycle: construct → start() → connect()… → stop() (closes every client).
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/permissions.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "units/catalog.h"

namespace ioc::obs {
class Counter;
class Gauge;
}  // namespace ioc::obs

namespace ioc::stream {

inline constexpr std::string_view kTopics[] = {"alerts",   "incidents", "reports",
                                               "entities", "kpis",      "notifications"};

struct Event {
  std::string topic;      //!< one of kTopics
  std::string unit_code;  //!< owner unit; "" = the whole country (national staff only)
  std::string subtype;    //!< entity type for "entities", event type otherwise
  std::optional<std::pair<double, double>> point;  //!< lon, lat
  std::string key;  //!< coalescing key (alert, incident or entity id); "" = never coalesced
  ioc::Json payload;
  std::vector<std::string> roles;  //!< "notifications": target roles (role names); empty = all
  int64_t at_ms = 0;               //!< 0 = when published
  //! "notifications" to named accounts (citizens about their reports): only these user ids see
  //! it, whatever their unit; empty = by unit and roles.
  std::vector<int64_t> users;
};

//! What a subscription narrows a topic to. Empty members do not filter.
struct Filter {
  std::vector<std::string> types;  //!< subtype, full or short (after the last '/' or '#')
  std::optional<std::array<double, 4>> bbox;  //!< minLon, minLat, maxLon, maxLat
  std::string unit;                           //!< this unit and below
  //! Only events with this coalescing key. Server-side only (never parsed from a client): the
  //! public tracking stream of one report is the "tracking" topic narrowed to its code.
  std::string key;
};

//! {"types":[…],"bbox":[minLon,minLat,maxLon,maxLat],"unit":"46"}; null/absent = no filter.
core::Result<Filter> parseFilter(const ioc::Json& j);
ioc::Json toJson(const Filter& f);

//! The permission a topic needs (notifications: any authenticated caller); nullopt if unknown.
std::optional<auth::Permission> topicPermission(std::string_view topic);

//! Whether `who` may see `e` at all (unit and below, roles for notifications), ignoring filters.
bool visibleTo(const Event& e, const auth::Principal& who, const units::UnitCatalog& units);
//! Whether `e` passes `f` (types, bbox, unit).
bool matches(const Event& e, const Filter& f, const units::UnitCatalog& units);

//! One message on its way to a client.
struct Outgoing {
  uint64_t id = 0;    //!< event sequence number (SSE "id:"); 0 for control replies
  std::string topic;  //!< "" for control replies
  std::shared_ptr<const std::string> text;  //!< the JSON message
};

//! A connection's transport (WebSocket, SSE). Calls may come from any thread, but never
//! concurrently for one client, and in order.
class Sink {
 public:
  virtual ~Sink() = default;
  //! Hands one message over; must not block. Report it written with Client::written().
  virtual void send(const Outgoing& message) = 0;
  //! Ends the connection (the hub dropped the client).
  virtual void close() = 0;
  //! About every HubOptions::tick: keep-alives (SSE comments).
  virtual void tick() {}
};

struct HubOptions {
  size_t queue_capacity = 100000;  //!< events waiting for fan-out
  //! Current (not superseded) updates a client may be behind by before it is disconnected; also
  //! bounds each group's log and a client's queue of replies.
  size_t client_pending = 20000;
  size_t client_window = 8;  //!< messages in the transport's hands, not yet written (small: a
                             //!< message handed over can no longer be coalesced)
  size_t replay = 256;       //!< recent events kept for SSE Last-Event-ID
  std::chrono::milliseconds auth_timeout{10000};  //!< to send {"op":"auth"} after connecting
  std::chrono::milliseconds tick{15000};
};

class Hub;
namespace detail {
class Group;
struct Prepared;
}  // namespace detail

//! One connected client: its principal, subscriptions and pending messages.
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(Hub& hub, std::optional<auth::Principal> who, std::shared_ptr<Sink> sink);

  //! A text message from the client (subscribe, unsubscribe, ping, auth); replies are queued.
  void handle(std::string_view text);
  //! Subscribes without a message (SSE: ?topics=…); false with `error` set when refused.
  bool subscribe(const std::vector<std::string>& topics, const Filter& filter, std::string* error);
  //! A subscription the server decided on, without a permission check: topics outside kTopics
  //! (the public "tracking" stream of one report) are only reachable this way.
  void follow(const std::string& topic, Filter filter);
  //! The transport wrote one message handed over by Sink::send.
  void written();
  //! The connection ended: the hub forgets the client.
  void disconnect();

  bool authenticated() const;
  size_t pendingForTest() const;

 private:
  friend class Hub;
  friend class detail::Group;
  struct Sub {
    Filter filter;
    std::shared_ptr<detail::Group> group;
  };

  //! Replay (SSE Last-Event-ID): queue `message` privately if subscribed and allowed.
  void offer(const Event& e, const Outgoing& message);
  void reply(const ioc::Json& j);
  void error(std::string_view code, std::string_view message, std::string_view topic = {});
  //! Joins the topic's group (leaving the one of an earlier subscription to it).
  void join(const std::string& topic, Filter filter, const auth::Principal& who);
  //! The oldest current update of any subscription; false if none (then waits in every group).
  //! `behind`: an update was lost (the client must go).
  bool takeNextLocked(Outgoing& out, bool& behind);
  void pump();
  void drop();
  //! Marks the client closed; false if it already was. Leaves its groups.
  bool close();
  void handleSubscribe(const ioc::Json& msg);

  Hub& hub_;
  std::shared_ptr<Sink> sink_;
  std::chrono::steady_clock::time_point connected_;
  mutable std::mutex mu_;
  std::optional<auth::Principal> who_;
  std::unordered_map<std::string, Sub> subs_;  //!< topic → its filter and group
  std::deque<Outgoing> control_;               //!< replies and replayed events: sent before updates
  size_t in_flight_ = 0;
  bool closed_ = false;
  std::mutex send_mu_;  //!< keeps Sink::send calls in order
};
using ClientPtr = std::shared_ptr<Client>;

class Hub {
 public:
  //! Resolves a bearer token or API key (for {"op":"auth"}).
  using Authenticator = std::function<core::Result<auth::Principal>(std::string_view token)>;

  Hub(const units::UnitCatalog& units, const core::Clock& clock, Authenticator authenticate,
      HubOptions options = {});
  ~Hub();  // stop()
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void start();
  void stop();

  //! Cheap and non-blocking: queues the event for fan-out; false (counted) if the queue is full.
  bool publish(Event event);

  //! A new connection; `who` is empty when it must authenticate with {"op":"auth"} first
  //! (within HubOptions::auth_timeout, or it is closed).
  ClientPtr connect(std::optional<auth::Principal> who, std::shared_ptr<Sink> sink);
  //! Replays recent events after `last_event_id` to `client` (SSE Last-Event-ID).
  void replay(const ClientPtr& client, uint64_t last_event_id);

  size_t clients() const;
  //! Lock-free: whether anyone listens (producers skip building events when not).
  bool hasClients() const { return client_count_.load(std::memory_order_relaxed) > 0; }
  //! Test hook: waits until every published event has been offered to the clients.
  void waitIdle();
  const units::UnitCatalog& units() const { return units_; }
  const HubOptions& options() const { return options_; }

 private:
  friend class Client;
  friend class detail::Group;

  void loop();
  void fanOut(const std::shared_ptr<const detail::Prepared>& p);
  void remove(const Client* client);
  void sweep();
  //! The group of (topic, filter, what `who` may see), made if needed; `client` joins it at its
  //! end (it sees what is published from now on).
  std::shared_ptr<detail::Group> joinGroup(const std::string& topic, const Filter& filter,
                                           const auth::Principal& who, const ClientPtr& client);
  void leaveGroup(const std::shared_ptr<detail::Group>& group, const Client* client);

  const units::UnitCatalog& units_;
  const core::Clock& clock_;
  Authenticator authenticate_;
  HubOptions options_;

  mutable std::mutex clients_mu_;
  std::shared_ptr<const std::vector<ClientPtr>> clients_;  //!< copy-on-write
  std::atomic<size_t> client_count_{0};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<Event> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  uint64_t next_id_ = 1;  //!< fan-out thread only

  mutable std::mutex groups_mu_;  //!< taken before any group's own mutex
  std::unordered_map<std::string, std::shared_ptr<detail::Group>> groups_by_key_;
  std::shared_ptr<const std::vector<std::shared_ptr<detail::Group>>> groups_;  //!< copy-on-write

  std::mutex replay_mu_;
  std::deque<std::shared_ptr<const detail::Prepared>> recent_;

  obs::Gauge* clients_gauge_;
  obs::Counter* events_;
  obs::Counter* events_dropped_;
  obs::Counter* sent_;
  obs::Counter* coalesced_;
  obs::Counter* dropped_;
};

}  // namespace ioc::stream
