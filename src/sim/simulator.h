#pragma once
// The demo city: a few hundred (up to 100,000 for load tests) simulated devices in Huế's 40 wards
// (air quality, river gauges, wastewater, streetlights, waste bins, traffic counters, cameras)
// that report through the real paths of a running cityioc. NGSI-LD batch upsert creates every
// entity (location, ward). Then, when an MQTT broker is given, the server is connected to one
// (its /metrics say mqtt_connected 1) and the broker accepts us, the air-quality stations, river
// gauges, streetlights and waste bins are provisioned (POST /api/v1/devices) and publish their
// readings as FIWARE IoT Agent JSON on {prefix}/{apikey}/{device_id}/attrs; everything else —
// and every device when MQTT is unavailable (logged once) — sends telemetry lines over HTTP.
// One air-quality station replays the real Hanoi PM2.5 series and one traffic counter the real
// Aarhus counts. Threads: one, plus libmosquitto's network thread; run() loops until stopped.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/http_client.h"
#include "sim/mqtt_link.h"

namespace ioc::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string key;        //!< bearer API key with ingest scope
  std::string data_root;  //!< folder holding geo/ and series/ (the project's data/)
  size_t devices = 300;
  std::chrono::milliseconds interval{5000};
  uint64_t seed = 46;
  // MQTT (IoT Agent JSON) for the air-quality, river-gauge, streetlight and waste-bin devices.
  std::string mqtt_host;  //!< "" = every device reports over HTTP
  uint16_t mqtt_port = 1883;
  int mqtt_qos = 1;
  std::string mqtt_topic_prefix;  //!< the server's mqtt.topic_prefix
  std::string mqtt_apikey = "hue-sim";
};

struct SimDevice {
  std::string id;    //!< NGSI-LD entity id
  std::string type;  //!< Smart Data Models type
  std::string ward_code;
  std::string ward_name;
  double lon = 0, lat = 0;
  double base = 0;        //!< per-device baseline for its main quantity
  std::string device_id;  //!< MQTT device id (for the kinds that can report over MQTT)
  double normal = 0;      //!< where a mean-reverting quantity (river levels) returns to
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();

  //! Loads wards and series, places the devices, creates their entities (batch upsert).
  core::Status setup();
  //! One round of readings: MQTT messages (acknowledged by the broker at QoS 1) and telemetry
  //! lines (POST /api/v1/telemetry). Returns the number of readings accepted (an MQTT message
  //! carries several). A device whose message cannot be published reports over HTTP instead.
  core::Result<size_t> tick();
  //! setup() then tick() every interval until `stop` becomes true; logs failures and goes on.
  void run(const std::atomic<bool>& stop);

  const std::vector<SimDevice>& devices() const { return devices_; }
  //! Devices currently reporting over MQTT (0 when MQTT is not in use).
  size_t mqttDevices() const;

 private:
  core::Status loadSeries();
  core::Status placeDevices();
  core::Status createEntities();
  void setupMqtt();
  bool serverIngestsMqtt(std::chrono::milliseconds timeout);
  core::Status provisionDevices();
  void useHttpOnly(const std::string& why);
  core::Result<size_t> postTelemetry(const std::string& ndjson);

  SimOptions options_;
  net::HttpClient client_;
  std::mt19937_64 rng_;
  std::vector<SimDevice> devices_;
  std::vector<double> pm25_series_;
  std::vector<std::pair<double, double>> traffic_series_;  //!< (vehicles, km/h)
  size_t step_ = 0;
  size_t replay_traffic_ = 0;  //!< index of the traffic counter that replays Aarhus
  MqttLink mqtt_;
  bool mqtt_active_ = false;
  bool mqtt_down_logged_ = false;  //!< "MQTT publish failed, HTTP for now" said once per outage
};

}  // namespace ioc::sim
