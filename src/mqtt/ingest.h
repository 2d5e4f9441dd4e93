#pragma once
// MQTT telemetry ingest: a libmosquitto client subscribed to the FIWARE IoT Agent JSON topics
// ({prefix}/{apikey}/{device_id}/attrs). Each message is looked up in the DeviceRegistry, mapped
// to NGSI-LD attributes (message.h) and batched (batcher.h) into the broker's async ingest.
// Threads: each subscriber client (mqtt.subscribers, default 1) has a network thread of its own
// that runs mosquitto_loop() and the message callback (parsing and mapping happen there); the
// batcher has another. With several clients they share the subscription ($share/{client_id}/…,
// MQTT 5 shared subscriptions, which Mosquitto ≥ 2.0 also offers to 3.1.1 clients): the broker
// hands each message to one of them, so the per-message work spreads over cores. Each connection
// is made with connect_async and re-made after any loss with an exponential back-off
// (0.5 s … 30 s) that stop() interrupts — libmosquitto's loop_start thread sleeps through its
// back-off and would hold up shutdown.
// Delivery: QoS 1 with a persistent session (clean_session = false), so the broker keeps
// messages published while cityioc is down. libmosquitto acknowledges a message when the callback
// returns, before the group commit: a crash can lose the readings of the last
// mqtt.commit_interval_ms (the store lets them wait that long for company) plus one commit.
// Lifecycle: start() → … → stop() (disconnect, end the network thread, send the pending batches
// and wait for their commits) — before the store is flushed and closed.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "mqtt/batcher.h"
#include "mqtt/device_registry.h"
#include "mqtt/message.h"

struct mosquitto;
struct mosquitto_message;

namespace ioc::obs {
class Counter;
class Gauge;
class Histogram;
}  // namespace ioc::obs

namespace ioc::mqtt {

struct MqttOptions {
  std::string host;
  int port = 1883;
  std::string client_id = "cityioc";
  int qos = 1;
  std::string topic_prefix;
  int keepalive_s = 30;
  //! Subscriber clients; above 1 they share the subscription and their ids get "-1", "-2", ….
  int subscribers = 1;
  Batcher::Options batching;
};

//! Builds options from the settings: `url` is mqtt://HOST[:PORT] (IPv6 hosts bracketed).
//! kInvalidArgument naming the setting on a bad URL, QoS, client id or prefix.
core::Result<MqttOptions> mqttOptions(const std::string& url, const std::string& client_id, int qos,
                                      const std::string& topic_prefix);

class MqttIngest {
 public:
  MqttIngest(MqttOptions options, const DeviceRegistry& devices, Batcher::Sink sink,
             const core::Clock& clock);
  ~MqttIngest();  // stop()
  MqttIngest(const MqttIngest&) = delete;
  MqttIngest& operator=(const MqttIngest&) = delete;

  //! Creates the client and starts connecting in the background (a broker that is down is not
  //! an error: the client keeps retrying). Fails only on a client that cannot be created.
  core::Status start();
  //! Idempotent.
  void stop();

  //! True while every subscriber client is connected.
  bool connected() const;
  const std::string& subscription() const { return subscription_; }

  //! The message path, exposed for tests: what the network thread does with one message.
  void handleMessage(std::string_view topic, std::string_view payload);

 private:
  struct Metrics;
  struct Client;
  static void onConnect(struct mosquitto* m, void* client, int rc);
  static void onDisconnect(struct mosquitto* m, void* client, int rc);
  static void onMessage(struct mosquitto* m, void* client, const struct mosquitto_message* msg);
  void loop(Client& c);
  //! Reads the messages already waiting after a loop turn; a libmosquitto return code.
  static int readBurst(Client& c);
  void updateConnectedGauge();
  void drop(DropReason reason, const std::string& topic, const std::string& detail);
  //! Sleeps `ms` unless stop() comes first; false if stopping.
  bool backoff(int ms);

  MqttOptions options_;
  const DeviceRegistry& devices_;
  const core::Clock& clock_;
  std::string subscription_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Batcher> batcher_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<int64_t> last_drop_log_ms_{0};
  std::atomic<uint64_t> drops_unlogged_{0};
};

}  // namespace ioc::mqtt
