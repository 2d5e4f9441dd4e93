#pragma once
// The simulator's MQTT side: one libmosquitto client that publishes device readings on the
// FIWARE IoT Agent JSON topics. Threads: libmosquitto's own network thread (loop_start, which
// also reconnects after a loss); publish()/waitAcknowledged() from the simulator thread.
// At QoS 1 a reading counts as delivered once the broker has acknowledged it (PUBACK); at QoS 0
// once it has been written to the socket.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"

struct mosquitto;

namespace ioc::sim {

class MqttLink {
 public:
  MqttLink() = default;
  ~MqttLink();  // disconnect
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  //! Connects and waits for the CONNACK (at most `timeout`). kUnavailable when the broker cannot
  //! be reached or refuses the connection.
  core::Status connect(const std::string& host, uint16_t port, int qos,
                       std::chrono::milliseconds timeout);
  bool connected() const;

  //! Queues one message, waiting while `window` messages are unacknowledged. False when the
  //! connection is down (the message is not sent).
  bool publish(const std::string& topic, std::string_view payload);
  //! Waits until every message published so far is acknowledged or `timeout` passes; the number
  //! acknowledged since the previous call.
  uint64_t waitAcknowledged(std::chrono::milliseconds timeout);

  void disconnect();

 private:
  static void onConnect(struct mosquitto* m, void* self, int rc);
  static void onDisconnect(struct mosquitto* m, void* self, int rc);
  static void onPublish(struct mosquitto* m, void* self, int mid);

  //! Published and not yet acknowledged (a late acknowledgement of a written-off message can
  //! make acknowledged_ overtake published_). Under mu_.
  uint64_t inFlight() const { return published_ > acknowledged_ ? published_ - acknowledged_ : 0; }

  struct mosquitto* mosq_ = nullptr;
  int qos_ = 1;
  size_t window_ = 1000;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -1;  //!< -1 until the first CONNACK
  bool connected_ = false;
  uint64_t published_ = 0, acknowledged_ = 0, reported_ = 0;
};

}  // namespace ioc::sim
