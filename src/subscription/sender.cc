// The production Sender: plain HTTP/1.1 POST (net::HttpClient, keep-alive) and MQTT 3.1.1
// publish (libmosquitto, driven synchronously with a deadline so that no thread of libmosquitto's
// own sleeps through a reconnect back-off at shutdown).
#include <mosquitto.h>

#include <map>
#include <mutex>

#include "net/http_client.h"
#include "net/url_fetch.h"
#include "subscription/delivery.h"
#include "subscription/subscription.h"

namespace ioc::subscription {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

core::Error unavailable(std::string what) {
  return core::makeError(core::Errc::kUnavailable, std::move(what));
}

//! One connection to an MQTT broker, used by one worker thread.
class MqttConnection {
 public:
  MqttConnection(const Endpoint& e) : host_(e.host), port_(e.port) {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    mosq_ = mosquitto_new(("cityioc-notify-" + newUrn("N").substr(14)).c_str(), true, this);
    if (!mosq_) return;
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (!e.user.empty()) {
      mosquitto_username_pw_set(mosq_, e.user.c_str(),
                                e.password.empty() ? nullptr : e.password.c_str());
    }
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<MqttConnection*>(self)->connect_rc_ = rc;
    });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int mid) {
      static_cast<MqttConnection*>(self)->acked_mid_ = mid;
    });
  }
  ~MqttConnection() {
    if (!mosq_) return;
    if (connect_rc_ == 0) mosquitto_disconnect(mosq_);
    mosquitto_destroy(mosq_);
  }
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  core::Status publish(const std::string& topic, const std::string& payload, int qos,
                       steady_clock::time_point deadline) {
    if (!mosq_) return unavailable("mosquitto_new failed");
    if (auto s = connect(deadline); !s.ok()) return s;
    int mid = 0;
    acked_mid_ = -1;
    int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                               payload.data(), qos, false);
    if (rc != MOSQ_ERR_SUCCESS) return broken(std::string("publish: ") + mosquitto_strerror(rc));
    // QoS 0 is done once written; QoS 1 and 2 once the broker acknowledged (PUBACK / PUBCOMP).
    auto done = [&] { return qos == 0 ? !mosquitto_want_write(mosq_) : acked_mid_ == mid; };
    return loopUntil(done, deadline, "no acknowledgement from the MQTT broker");
  }

 private:
  core::Status connect(steady_clock::time_point deadline) {
    if (connect_rc_ == 0) return core::Status::success();
    connect_rc_ = -1;
    int rc = mosquitto_connect_async(mosq_, host_.c_str(), port_, 30);
    if (rc != MOSQ_ERR_SUCCESS) {
      return unavailable("MQTT connect to " + host_ + ": " + mosquitto_strerror(rc));
    }
    auto s = loopUntil([this] { return connect_rc_ >= 0; }, deadline, "MQTT connect timed out");
    if (!s.ok()) return s;
    if (connect_rc_ != 0) {
      int rc2 = connect_rc_;
      connect_rc_ = -1;
      return unavailable(std::string("MQTT broker refused: ") + mosquitto_connack_string(rc2));
    }
    return core::Status::success();
  }

  template <class Done>
  core::Status loopUntil(Done done, steady_clock::time_point deadline, const char* timeout_text) {
    while (!done()) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
      if (left.count() <= 0) return broken(timeout_text);
      int rc = mosquitto_loop(mosq_, static_cast<int>(std::min<int64_t>(left.count(), 100)), 1);
      if (rc != MOSQ_ERR_SUCCESS) return broken(std::string("MQTT: ") + mosquitto_strerror(rc));
    }
    return core::Status::success();
  }

  //! Any failure leaves the session in an unknown state: start over next time.
  core::Status broken(std::string why) {
    if (connect_rc_ == 0) mosquitto_disconnect(mosq_);
    connect_rc_ = -1;
    return unavailable(std::move(why));
  }

  std::string host_;
  int port_;
  mosquitto* mosq_ = nullptr;
  int connect_rc_ = -1;  //!< 0 connected, > 0 refused, -1 not (yet)
  int acked_mid_ = -1;
};

class NetworkSender final : public Sender {
 public:
  explicit NetworkSender(std::string ca_file) : ca_file_(std::move(ca_file)) {}
  core::Status send(const Message& m, milliseconds timeout) override {
    const Endpoint& e = m.sub->endpoint;
    if (e.scheme == Endpoint::Scheme::kMqtt) return sendMqtt(m, e, timeout);
    if (e.tls) return sendHttps(m, e, timeout);
    return sendHttp(m, e, timeout);
  }

 private:
  static constexpr size_t kMaxCached = 32;

  //! One POST per notification over a fresh TLS connection (peer certificate and host name
  //! verified); a redirect is a failure, so a notification never lands somewhere else.
  core::Status sendHttps(const Message& m, const Endpoint& e, milliseconds timeout) {
    HttpPayload p = httpPayload(m);
    return net::postForStatus(e.uri, std::move(p.body), std::move(p.headers), timeout, ca_file_);
  }

  core::Status sendHttp(const Message& m, const Endpoint& e, milliseconds timeout) {
    const std::string key =
        e.host + "|" + std::to_string(e.port) + "|" + std::to_string(timeout.count());
    auto& client = http_[key];
    if (!client) client = std::make_unique<net::HttpClient>(e.host, e.port, timeout);
    HttpPayload p = httpPayload(m);
    auto r = client->request("POST", e.target, std::move(p.body), p.headers);
    if (!r.ok()) {
      http_.erase(key);
      return r.error();
    }
    if (r->status < 200 || r->status > 299) {
      return unavailable("endpoint answered " + std::to_string(r->status));
    }
    trim(http_);
    return core::Status::success();
  }

  core::Status sendMqtt(const Message& m, const Endpoint& e, milliseconds timeout) {
    const std::string key = e.host + "|" + std::to_string(e.port) + "|" + e.user + "|" + e.password;
    auto& conn = mqtt_[key];
    if (!conn) conn = std::make_unique<MqttConnection>(e);
    auto s = conn->publish(e.target, mqttPayload(m), e.qos, steady_clock::now() + timeout);
    if (!s.ok()) mqtt_.erase(key);
    trim(mqtt_);
    return s;
  }

  //! Bounds the cache: endpoints come and go with subscriptions.
  template <class Map>
  static void trim(Map& map) {
    while (map.size() > kMaxCached) map.erase(map.begin());
  }

  std::string ca_file_;
  std::map<std::string, std::unique_ptr<net::HttpClient>> http_;
  std::map<std::string, std::unique_ptr<MqttConnection>> mqtt_;
};

}  // namespace

std::unique_ptr<Sender> makeNetworkSender() {
  return std::make_unique<NetworkSender>("");
}

SenderFactory networkSenders(std::string ca_file) {
  return [ca_file = std::move(ca_file)] { return std::make_unique<NetworkSender>(ca_file); };
}

}  // namespace ioc::subscription
