#include "sim/mqtt_link.h"

#include <mosquitto.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>

namespace ioc::sim {

namespace {

constexpr std::chrono::seconds kWindowWait{10};  //!< longest wait for room in the window

std::string mosqError(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::generic_category().message(errno);
  return mosquitto_strerror(rc);
}

}  // namespace

MqttLink::~MqttLink() {
  disconnect();
}

core::Status MqttLink::connect(const std::string& host, uint16_t port, int qos,
                               std::chrono::milliseconds timeout) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  disconnect();
  qos_ = qos;
  const std::string id = "cityioc-sim-" + std::to_string(::getpid());
  mosq_ = mosquitto_new(id.c_str(), /*clean_session=*/true, this);
  if (mosq_ == nullptr) {
    return core::makeError(core::Errc::kInternal, "cannot create an MQTT client");
  }
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(window_));
  mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
  mosquitto_connect_callback_set(mosq_, &MqttLink::onConnect);
  mosquitto_disconnect_callback_set(mosq_, &MqttLink::onDisconnect);
  mosquitto_publish_callback_set(mosq_, &MqttLink::onPublish);
  const std::string where = host + ":" + std::to_string(port);
  int rc = mosquitto_connect(mosq_, host.c_str(), port, 30);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    return core::makeError(core::Errc::kUnavailable,
                           "MQTT broker " + where + " unreachable: " + mosqError(rc));
  }
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return connack_ >= 0; }) || connack_ != 0) {
    const int code = connack_;
    lock.unlock();
    disconnect();
    return core::makeError(
        core::Errc::kUnavailable,
        "MQTT broker " + where + " did not accept the connection" +
            (code > 0 ? std::string(": ") + mosquitto_connack_string(code) : std::string()));
  }
  return core::Status::success();
}

bool MqttLink::connected() const {
  std::lock_guard lock(mu_);
  return connected_;
}

bool MqttLink::publish(const std::string& topic, std::string_view payload) {
  if (mosq_ == nullptr) return false;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWindowWait, [this] { return !connected_ || inFlight() < window_; }) ||
        !connected_) {
      return false;
    }
    ++published_;
  }
  int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos_, false);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::lock_guard lock(mu_);
    --published_;
    return false;
  }
  return true;
}

uint64_t MqttLink::waitAcknowledged(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return inFlight() == 0; });
  const uint64_t n = acknowledged_ - reported_;
  reported_ = acknowledged_;
  // Whatever is still unacknowledged is written off (libmosquitto may still deliver it after a
  // reconnect; a late acknowledgement is then counted by the next call).
  published_ -= inFlight();
  return n;
}

void MqttLink::disconnect() {
  if (mosq_ == nullptr) return;
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  std::lock_guard lock(mu_);
  connack_ = -1;
  connected_ = false;
  published_ = acknowledged_ = reported_ = 0;
}

void MqttLink::onConnect(struct mosquitto*, void* p, int rc) {
  auto* self = static_cast<MqttLink*>(p);
  std::lock_guard lock(self->mu_);
  self->connack_ = rc;
  self->connected_ = rc == 0;
  self->cv_.notify_all();
}

void MqttLink::onDisconnect(struct mosquitto*, void* p, int) {
  auto* self = static_cast<MqttLink*>(p);
  std::lock_guard lock(self->mu_);
  self->connected_ = false;
  self->published_ -= self->inFlight();  // written off: see waitAcknowledged()
  self->cv_.notify_all();
}

void MqttLink::onPublish(struct mosquitto*, void* p, int) {
  auto* self = static_cast<MqttLink*>(p);
  std::lock_guard lock(self->mu_);
  ++self->acknowledged_;
  self->cv_.notify_all();
}

}  // namespace ioc::sim
