#include "mqtt/ingest.h"

#include <arpa/inet.h>
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

#include "core/log.h"
#include "core/thread_name.h"
#include "obs/metrics.h"

namespace ioc::mqtt {

namespace {

constexpr int kMinBackoffMs = 500;
constexpr int kMaxBackoffMs = 30'000;
constexpr int kLoopTimeoutMs = 100;  //!< how long stop() may wait for the network thread
//! Packets read back to back after a select(), before the loop's housekeeping runs again.
constexpr int kMaxBurst = 256;
constexpr int64_t kDropLogIntervalMs = 1000;
constexpr size_t kMaxLoggedTopic = 256;

core::Error invalid(const std::string& setting, const std::string& why) {
  return core::makeError(core::Errc::kInvalidArgument, setting + ": " + why);
}

bool validHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

std::string mosqError(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::generic_category().message(errno);
  return mosquitto_strerror(rc);
}

}  // namespace

core::Result<MqttOptions> mqttOptions(const std::string& url, const std::string& client_id, int qos,
                                      const std::string& topic_prefix) {
  MqttOptions o;
  constexpr std::string_view kScheme = "mqtt://";
  std::string_view rest = url;
  if (rest.substr(0, kScheme.size()) != kScheme) {
    return invalid("mqtt.url", "expected mqtt://HOST[:PORT] (got \"" + url + "\")");
  }
  rest.remove_prefix(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos || rest.find('/') != std::string_view::npos) {
    return invalid("mqtt.url", "credentials and paths are not supported (got \"" + url + "\")");
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos)
      return invalid("mqtt.url", "unclosed [ in \"" + url + "\"");
    o.host = std::string(rest.substr(1, close - 1));
    in6_addr addr{};
    if (inet_pton(AF_INET6, o.host.c_str(), &addr) != 1) {
      return invalid("mqtt.url", "invalid IPv6 address \"" + o.host + "\"");
    }
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return invalid("mqtt.url", "expected :PORT after ] in \"" + url + "\"");
      port = rest.substr(1);
      if (port.empty()) return invalid("mqtt.url", "empty port in \"" + url + "\"");
    }
  } else {
    const size_t colon = rest.find(':');
    o.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return invalid("mqtt.url", "empty port in \"" + url + "\"");
    }
    if (!validHostname(o.host)) return invalid("mqtt.url", "invalid host in \"" + url + "\"");
  }
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return invalid("mqtt.url", "port must be 1..65535 (got \"" + std::string(port) + "\")");
    }
    o.port = p;
  }
  if (!isValidDeviceId(client_id)) {
    return invalid("mqtt.client_id", "1..128 letters, digits and _.:- (got \"" + client_id + "\")");
  }
  o.client_id = client_id;
  if (qos != 0 && qos != 1) return invalid("mqtt.qos", "must be 0 or 1");
  o.qos = qos;
  if (!isValidTopicPrefix(topic_prefix)) {
    return invalid("mqtt.topic_prefix",
                   "topic levels without +, # or a trailing / (got \"" + topic_prefix + "\")");
  }
  o.topic_prefix = topic_prefix;
  return o;
}

struct MqttIngest::Metrics {
  obs::Counter& messages;
  obs::Counter* dropped[std::size(kAllDropReasons)];
  obs::Gauge& connected;
  obs::Histogram& batch_size;
  obs::Counter& committed;

  Metrics()
      : messages(obs::defaultRegistry()
                     .counter("mqtt_messages_total", "MQTT messages received on the device topics")
                     .with({})),
        dropped{},
        connected(obs::defaultRegistry()
                      .gauge("mqtt_connected", "1 while connected to the MQTT broker, else 0")
                      .with({})),
        batch_size(obs::defaultRegistry()
                       .histogram("mqtt_ingest_batch_size",
                                  "Observations per broker ingest call from MQTT", {},
                                  {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000})
                       .with({})),
        committed(obs::defaultRegistry()
                      .counter("mqtt_messages_committed_total",
                               "MQTT messages whose readings are durable in the store")
                      .with({})) {
    auto& family = obs::defaultRegistry().counter(
        "mqtt_messages_dropped_total",
        "MQTT messages not ingested, or ingested only in part (unknown_attribute, bad_value), "
        "by reason",
        {"reason"});
    for (DropReason r : kAllDropReasons) {
      dropped[static_cast<size_t>(r)] = &family.with({dropReasonName(r)});
    }
  }
  obs::Counter& drop(DropReason r) { return *dropped[static_cast<size_t>(r)]; }
};

struct MqttIngest::Client {
  MqttIngest* owner = nullptr;
  std::string id;
  struct mosquitto* mosq = nullptr;
  std::thread thread;
  std::atomic<bool> connected{false};
  uint64_t messages = 0;  //!< messages called back so far (only the client's own thread)
};

MqttIngest::MqttIngest(MqttOptions options, const DeviceRegistry& devices, Batcher::Sink sink,
                       const core::Clock& clock)
    : options_(std::move(options)),
      devices_(devices),
      clock_(clock),
      subscription_(options_.subscribers > 1 ? "$share/" + options_.client_id + "/" +
                                                   subscriptionFor(options_.topic_prefix)
                                             : subscriptionFor(options_.topic_prefix)),
      metrics_(std::make_unique<Metrics>()) {
  Metrics* m = metrics_.get();
  Batcher::Hooks hooks;
  hooks.on_dispatch = [m](size_t n) { m->batch_size.observe(static_cast<double>(n)); };
  hooks.on_done = [m](size_t n, const core::Status& s) {
    if (s.ok()) {
      m->committed.inc(n);  // one observation per message
      return;
    }
    m->drop(DropReason::kIngestFailed).inc(n);
    core::logError("mqtt ingest failed",
                   {{"observations", static_cast<uint64_t>(n)}, {"error", s.error().message}});
  };
  batcher_ = std::make_unique<Batcher>(std::move(sink), options_.batching, std::move(hooks));
}

MqttIngest::~MqttIngest() {
  stop();
}

bool MqttIngest::connected() const {
  if (clients_.empty()) return false;
  return std::all_of(clients_.begin(), clients_.end(), [](const std::unique_ptr<Client>& c) {
    return c->connected.load(std::memory_order_relaxed);
  });
}

void MqttIngest::updateConnectedGauge() {
  metrics_->connected.set(connected() ? 1 : 0);
}

core::Status MqttIngest::start() {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  const int n = std::max(1, options_.subscribers);
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<Client>();
    c->owner = this;
    c->id = n == 1 ? options_.client_id : options_.client_id + "-" + std::to_string(i + 1);
    // A persistent session: the broker queues QoS 1 messages while we are away (with a shared
    // subscription, those it assigned to this member).
    c->mosq = mosquitto_new(c->id.c_str(), /*clean_session=*/false, c.get());
    if (c->mosq == nullptr) {
      const std::string why = std::generic_category().message(errno);
      stop();
      return core::makeError(core::Errc::kInternal, "cannot create the MQTT client: " + why);
    }
    mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(c->mosq, &MqttIngest::onConnect);
    mosquitto_disconnect_callback_set(c->mosq, &MqttIngest::onDisconnect);
    mosquitto_message_callback_set(c->mosq, &MqttIngest::onMessage);
    clients_.push_back(std::move(c));
  }
  metrics_->connected.set(0);
  core::logInfo("mqtt connecting", {{"host", options_.host},
                                    {"port", options_.port},
                                    {"client_id", options_.client_id},
                                    {"subscribers", n},
                                    {"subscription", subscription_},
                                    {"qos", options_.qos}});
  for (auto& c : clients_) {
    Client* client = c.get();
    c->thread = std::thread([this, client] {
      core::nameThisThread("ioc-mqtt");
      loop(*client);
    });
  }
  return core::Status::success();
}

void MqttIngest::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  for (auto& c : clients_) {
    if (c->thread.joinable()) c->thread.join();
  }
  // The network threads are gone, so nothing adds any more: send the rest, wait for the commits.
  if (batcher_) batcher_->stop();
  if (!clients_.empty()) {
    for (auto& c : clients_) {
      if (c->mosq != nullptr) mosquitto_destroy(c->mosq);
    }
    clients_.clear();
    metrics_->connected.set(0);
    core::logInfo("mqtt stopped");
  }
}

bool MqttIngest::backoff(int ms) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

void MqttIngest::loop(Client& c) {
  int delay_ms = kMinBackoffMs;
  bool need_connect = true, first = true;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (need_connect) {
      // Both return before the TCP handshake completes; mosquitto_loop() finishes it.
      int rc = first ? mosquitto_connect_async(c.mosq, options_.host.c_str(), options_.port,
                                               options_.keepalive_s)
                     : mosquitto_reconnect_async(c.mosq);
      first = false;
      if (rc != MOSQ_ERR_SUCCESS) {
        core::logWarn("mqtt connect failed", {{"host", options_.host},
                                              {"port", options_.port},
                                              {"client_id", c.id},
                                              {"error", mosqError(rc)},
                                              {"retry_ms", delay_ms}});
        if (!backoff(delay_ms)) break;
        delay_ms = std::min(delay_ms * 2, kMaxBackoffMs);
        continue;
      }
      need_connect = false;
    }
    const bool was_connected = c.connected.load();
    const uint64_t seen = c.messages;
    int rc = mosquitto_loop(c.mosq, kLoopTimeoutMs, 1);
    // Only once a message came: the connection is up and more are likely waiting.
    if (rc == MOSQ_ERR_SUCCESS && c.messages != seen) rc = readBurst(c);
    if (c.connected.load()) delay_ms = kMinBackoffMs;  // a CONNACK arrived in this loop
    if (rc == MOSQ_ERR_SUCCESS) continue;
    // Lost or never made: the socket is closed; try again after the back-off.
    c.connected.store(false);
    updateConnectedGauge();
    core::logWarn(was_connected ? "mqtt connection lost" : "mqtt connect failed",
                  {{"host", options_.host},
                   {"port", options_.port},
                   {"client_id", c.id},
                   {"error", mosqError(rc)},
                   {"retry_ms", delay_ms}});
    need_connect = true;
    if (!backoff(delay_ms)) break;
    delay_ms = std::min(delay_ms * 2, kMaxBackoffMs);
  }
  if (c.connected.load()) {
    // A clean DISCONNECT, so the broker does not publish a will or wait for the keep-alive.
    mosquitto_disconnect(c.mosq);
    for (int i = 0; i < 10 && mosquitto_loop(c.mosq, kLoopTimeoutMs, 1) == MOSQ_ERR_SUCCESS; ++i) {
    }
  }
  c.connected.store(false);
}

void MqttIngest::onConnect(struct mosquitto* m, void* p, int rc) {
  auto* c = static_cast<Client*>(p);
  MqttIngest* self = c->owner;
  if (rc != 0) {
    core::logWarn("mqtt connection refused", {{"host", self->options_.host},
                                              {"port", self->options_.port},
                                              {"client_id", c->id},
                                              {"reason", mosquitto_connack_string(rc)}});
    return;
  }
  // Subscribed again on every connect: a broker that lost its state forgets subscriptions.
  int sub = mosquitto_subscribe(m, nullptr, self->subscription_.c_str(), self->options_.qos);
  if (sub != MOSQ_ERR_SUCCESS) {
    core::logError("mqtt subscribe failed",
                   {{"subscription", self->subscription_}, {"error", mosqError(sub)}});
  }
  c->connected.store(true);
  self->updateConnectedGauge();
  core::logInfo("mqtt connected", {{"host", self->options_.host},
                                   {"port", self->options_.port},
                                   {"client_id", c->id},
                                   {"subscription", self->subscription_}});
}

void MqttIngest::onDisconnect(struct mosquitto*, void* p, int rc) {
  auto* c = static_cast<Client*>(p);
  c->connected.store(false);
  c->owner->updateConnectedGauge();
  if (rc == 0) core::logInfo("mqtt disconnected", {{"client_id", c->id}});
}

int MqttIngest::readBurst(Client& c) {
  // At QoS 0 mosquitto_loop() reads one packet per select(): while messages keep coming, read on
  // without it (a quarter of the syscalls per message). A read finding no data returns success
  // without a message; a lost connection returns its error, handled like the loop's.
  for (int i = 0; i < kMaxBurst; ++i) {
    const uint64_t before = c.messages;
    const int rc = mosquitto_loop_read(c.mosq, 1);
    if (rc != MOSQ_ERR_SUCCESS || c.messages == before) return rc;
  }
  return MOSQ_ERR_SUCCESS;
}

void MqttIngest::onMessage(struct mosquitto*, void* p, const struct mosquitto_message* msg) {
  ++static_cast<Client*>(p)->messages;
  auto* self = static_cast<Client*>(p)->owner;
  try {
    std::string_view payload;
    if (msg->payload != nullptr && msg->payloadlen > 0) {
      payload = std::string_view(static_cast<const char*>(msg->payload),
                                 static_cast<size_t>(msg->payloadlen));
    }
    self->handleMessage(msg->topic != nullptr ? msg->topic : "", payload);
  } catch (const std::exception& e) {
    // Never through libmosquitto's C frames; the connection carries on with the next message.
    core::logError("mqtt message failed", {{"error", e.what()}});
  }
}

void MqttIngest::handleMessage(std::string_view topic, std::string_view payload) {
  metrics_->messages.inc();
  auto ids = parseTopic(options_.topic_prefix, topic);
  if (!ids) return drop(DropReason::kBadTopic, std::string(topic), "not a device topic");
  DevicePtr device = devices_.find(ids->apikey, ids->device_id);
  if (!device) {
    return drop(DropReason::kUnknownDevice, std::string(topic), "no such device provisioned");
  }
  Mapped m = mapPayload(*device, payload, clock_.nowUnixMs());
  if (m.rejected) return drop(*m.rejected, std::string(topic), m.detail);
  for (DropReason r : m.partial) drop(r, std::string(topic), m.detail);
  if (m.empty()) return;
  batcher_->add(device->device.unit_code, std::move(m.observation));
}

void MqttIngest::drop(DropReason reason, const std::string& topic, const std::string& detail) {
  metrics_->drop(reason).inc();
  // At most one line per second, however many arrive: a misconfigured fleet must not flood
  // the log.
  const int64_t now = clock_.nowUnixMs();
  int64_t last = last_drop_log_ms_.load(std::memory_order_relaxed);
  if (now - last < kDropLogIntervalMs ||
      !last_drop_log_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    drops_unlogged_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  core::logWarn("mqtt message dropped",
                {{"reason", dropReasonName(reason)},
                 {"topic", topic.substr(0, kMaxLoggedTopic)},
                 {"detail", detail},
                 {"suppressed", drops_unlogged_.exchange(0, std::memory_order_relaxed)}});
}

}  // namespace ioc::mqtt
