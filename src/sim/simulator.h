#pragma once
// The demo city: a few hundred simulated devices in Huế's 40 wards (air quality, river gauges,
// wastewater, streetlights, waste bins, traffic counters, cameras) that report through the real
// HTTP paths of a running cityioc: NGSI-LD batch upsert to create the entities, then telemetry
// lines every tick. One air-quality station replays the real Hanoi PM2.5 series and one traffic
// counter the real Aarhus counts. Threads: one; run() loops until stopped.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/http_client.h"

namespace ioc::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string key;        //!< bearer API key with ingest scope
  std::string data_root;  //!< folder holding geo/ and series/ (the project's data/)
  size_t devices = 300;
  std::chrono::milliseconds interval{5000};
  uint64_t seed = 46;
};

struct SimDevice {
  std::string id;    //!< NGSI-LD entity id
  std::string type;  //!< Smart Data Models type
  std::string ward_code;
  std::string ward_name;
  double lon = 0, lat = 0;
  double base = 0;  //!< per-device baseline for its main quantity
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();

  //! Loads wards and series, places the devices, creates their entities (batch upsert).
  core::Status setup();
  //! One round of readings (POST /api/v1/telemetry). Returns the number of lines accepted.
  core::Result<size_t> tick();
  //! setup() then tick() every interval until `stop` becomes true; logs failures and goes on.
  void run(const std::atomic<bool>& stop);

  const std::vector<SimDevice>& devices() const { return devices_; }

 private:
  core::Status loadSeries();
  core::Status placeDevices();
  core::Status createEntities();
  std::string readingsNdjson();

  SimOptions options_;
  net::HttpClient client_;
  std::mt19937_64 rng_;
  std::vector<SimDevice> devices_;
  std::vector<double> pm25_series_;
  std::vector<std::pair<double, double>> traffic_series_;  //!< (vehicles, km/h)
  size_t step_ = 0;
};

}  // namespace ioc::sim
