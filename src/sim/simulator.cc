#include "sim/simulator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "ngsild/geo.h"

namespace ioc::sim {

using json = ioc::Json;
namespace geo = ngsild::geo;

namespace {

constexpr const char* kReplayWard = "19789";  // Thuận Hoá: its station replays Hanoi PM2.5

// Gauges on the Hương (Perfume) river through Huế, upstream to downstream (approximate).
const std::pair<double, double> kRiverGauges[] = {
    {107.5360, 16.4420}, {107.5530, 16.4560}, {107.5700, 16.4640}, {107.5850, 16.4680},
    {107.5990, 16.4700}, {107.6150, 16.4780}, {107.6300, 16.4900}, {107.6450, 16.5050}};

struct Ward {
  std::string code, name;
  geo::Geometry shape;
  geo::BBox box;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

core::Result<std::vector<Ward>> loadWards(const std::string& path) {
  json fc = json::parse(readFile(path), nullptr, false);
  if (fc.is_discarded() || !fc.contains("features")) {
    return core::makeError(core::Errc::kNotFound, "cannot read ward polygons from " + path);
  }
  std::vector<Ward> wards;
  for (const auto& f : fc["features"]) {
    auto g = geo::parseGeoJson(f["geometry"]);
    if (!g.ok()) continue;
    Ward w{f["properties"].value("code", ""), f["properties"].value("name", ""), std::move(*g), {}};
    w.box = geo::bbox(w.shape);
    wards.push_back(std::move(w));
  }
  if (wards.empty()) return core::makeError(core::Errc::kNotFound, "no wards in " + path);
  return wards;
}

//! A uniformly random point inside the ward (rejection sampling in its bounding box).
std::pair<double, double> randomPointIn(const Ward& w, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> lon(w.box.min_lon, w.box.max_lon);
  std::uniform_real_distribution<double> lat(w.box.min_lat, w.box.max_lat);
  for (int i = 0; i < 1000; ++i) {
    double x = lon(rng), y = lat(rng);
    if (geo::within(geo::Geometry::point(x, y), w.shape)) return {x, y};
  }
  return {(w.box.min_lon + w.box.max_lon) / 2, (w.box.min_lat + w.box.max_lat) / 2};
}

json property(json value, const char* unit = nullptr) {
  json p = {{"type", "Property"}, {"value", std::move(value)}};
  if (unit) p["unitCode"] = unit;
  return p;
}

double round1(double v) {
  return std::round(v * 10) / 10;
}

}  // namespace

namespace {

//! One reading: the attribute (a core-@context term), its MQTT payload key, value and unit.
struct Reading {
  const char* attr;
  const char* object_id;
  json value;
  const char* unit = nullptr;
};

//! The MQTT mapping of a device kind (its readings below must use the same object ids), or null
//! for the kinds that report over HTTP only.
struct KindMapping {
  const char* type;
  const char* device_prefix;
  std::vector<std::tuple<const char*, const char*, const char*>> attrs;  // object_id, name, unit
};
const KindMapping* mqttKind(const std::string& type) {
  static const KindMapping kKinds[] = {
      {"AirQualityObserved",
       "aq",
       {{"pm25", "pm25", "GQ"},
        {"pm10", "pm10", "GQ"},
        {"no2", "no2", "GQ"},
        {"t", "temperature", "CEL"},
        {"h", "relativeHumidity", "P1"}}},
      {"WaterObserved", "river", {{"lvl", "height", "MTR"}, {"rain", "precipitation", "MMT"}}},
      {"WasteContainer", "bin", {{"fill", "fillingLevel", nullptr}}},
      {"Streetlight",
       "light",
       {{"on", "powerState", nullptr}, {"lux", "illuminanceLevel", nullptr}}},
  };
  for (const auto& k : kKinds) {
    if (type == k.type) return &k;
  }
  return nullptr;
}

constexpr size_t kMaxLinesPerPost = 50000;  //!< below the telemetry route's 100,000 lines

}  // namespace

Simulator::Simulator(SimOptions options)
    : options_(std::move(options)), client_(options_.host, options_.port), rng_(options_.seed) {}

Simulator::~Simulator() = default;

core::Status Simulator::loadSeries() {
  std::istringstream pm(
      readFile(options_.data_root + "/series/hanoi_us_embassy_pm25_hourly_2016_2020.csv"));
  std::string line;
  std::getline(pm, line);  // header
  while (std::getline(pm, line)) {
    // datetime_local,pm25_raw_ugm3,…: keep the valid raw readings
    size_t a = line.find(',');
    size_t b = line.find(',', a + 1);
    if (a == std::string::npos || b == std::string::npos || b == a + 1) continue;
    try {
      pm25_series_.push_back(std::stod(line.substr(a + 1, b - a - 1)));
    } catch (...) {
    }
  }
  std::istringstream tr(readFile(options_.data_root + "/series/aarhus_traffic_158324.csv"));
  std::getline(tr, line);
  while (std::getline(tr, line)) {
    // status,avgMeasuredTime,avgSpeed,extID,medianMeasuredTime,TIMESTAMP,vehicleCount,…
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
    if (cols.size() < 7) continue;
    try {
      traffic_series_.emplace_back(std::stod(cols[6]), std::stod(cols[2]));
    } catch (...) {
    }
  }
  if (pm25_series_.empty() || traffic_series_.empty()) {
    return core::makeError(core::Errc::kNotFound,
                           "replay series missing under " + options_.data_root + "/series");
  }
  return core::Status::success();
}

core::Status Simulator::placeDevices() {
  auto wards = loadWards(options_.data_root + "/geo/hue_wards_2025.geojson");
  if (!wards.ok()) return wards.error();
  const size_t n = std::max<size_t>(options_.devices, 60);
  // Fixed kinds first (one air-quality station per ward, gauges, monitors), the rest spread
  // over streetlights, bins, traffic counters and cameras in fixed proportions.
  const size_t rest = n - std::min(n, wards->size() + 8 + 5);
  const size_t traffic = std::max<size_t>(1, rest * 20 / 247);
  const size_t cameras = std::max<size_t>(1, rest * 12 / 247);
  const size_t bins = rest * 75 / 247;
  const size_t lights = rest - traffic - cameras - bins;
  auto add = [&](const std::string& type, const std::string& suffix, const Ward& w, double lon,
                 double lat, double base) {
    const KindMapping* kind = mqttKind(type);
    devices_.push_back(
        SimDevice{"urn:ngsi-ld:" + type + ":hue-" + suffix, type, w.code, w.name, lon, lat, base,
                  kind ? std::string(kind->device_prefix) + "-" + suffix : "", base});
  };
  std::uniform_real_distribution<double> unit(0, 1);
  for (const auto& w : *wards) {
    auto [x, y] = randomPointIn(w, rng_);
    add("AirQualityObserved", w.code, w, x, y, 18 + 25 * unit(rng_));
  }
  auto wardAt = [&](double lon, double lat) -> const Ward& {
    for (const auto& w : *wards) {
      if (geo::intersects(geo::Geometry::point(lon, lat), w.shape)) return w;
    }
    return wards->front();
  };
  int i = 0;
  for (auto [lon, lat] : kRiverGauges) {
    ++i;
    // Usual levels 0.5–1.0 m: the downstream gauges sit near Báo động I (1.0 m at Kim Long), so
    // the demo shows an alarm now and then rather than a river permanently at level III.
    add("WaterObserved", "river-" + std::to_string(i), wardAt(lon, lat), lon, lat, 0.4 + 0.08 * i);
  }
  auto spread = [&](const std::string& type, size_t count, double lo, double hi) {
    for (size_t k = 0; k < count; ++k) {
      const Ward& w = (*wards)[rng_() % wards->size()];
      auto [x, y] = randomPointIn(w, rng_);
      add(type, std::to_string(k + 1), w, x, y, lo + (hi - lo) * unit(rng_));
    }
  };
  spread("WaterQualityObserved", 5, 40, 90);
  spread("TrafficFlowObserved", traffic, 20, 120);
  spread("Device", cameras, 0, 1);
  spread("WasteContainer", bins, 0.05, 0.6);
  spread("Streetlight", lights, 0, 1);
  replay_traffic_ = static_cast<size_t>(
      std::find_if(devices_.begin(), devices_.end(),
                   [](const SimDevice& x) { return x.type == "TrafficFlowObserved"; }) -
      devices_.begin());
  return core::Status::success();
}

core::Status Simulator::createEntities() {
  json batch = json::array();
  for (const auto& d : devices_) {
    json e = {{"id", d.id},
              {"type", d.type},
              {"location",
               {{"type", "GeoProperty"},
                {"value", {{"type", "Point"}, {"coordinates", {d.lon, d.lat}}}}}},
              {"wardCode", property(d.ward_code)},
              {"areaServed", property(d.ward_name)}};
    if (d.type == "Device") {
      e["deviceCategory"] = property(json::array({"camera"}));
      e["controlledProperty"] = property(json::array({"image", "trafficFlow"}));
      e["deviceState"] = property("ok");
    } else if (d.type == "Streetlight") {
      e["powerState"] = property("off");
      e["status"] = property("ok");
    }
    batch.push_back(std::move(e));
  }
  for (size_t start = 0; start < batch.size(); start += 500) {
    json part(batch.begin() + static_cast<std::ptrdiff_t>(start),
              batch.begin() + static_cast<std::ptrdiff_t>(std::min(batch.size(), start + 500)));
    auto r = client_.request(
        "POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", part.dump(),
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + options_.key}});
    if (!r.ok()) return r.error();
    if (r->status >= 300 && r->status != 207) {
      return core::makeError(
          core::Errc::kUnavailable,
          "creating demo entities failed: HTTP " + std::to_string(r->status) + " " + r->body);
    }
  }
  return core::Status::success();
}

core::Status Simulator::setup() {
  if (auto s = loadSeries(); !s.ok()) return s;
  if (auto s = placeDevices(); !s.ok()) return s;
  if (auto s = createEntities(); !s.ok()) return s;
  setupMqtt();
  return core::Status::success();
}

size_t Simulator::mqttDevices() const {
  if (!mqtt_active_) return 0;
  return static_cast<size_t>(std::count_if(
      devices_.begin(), devices_.end(), [](const SimDevice& d) { return !d.device_id.empty(); }));
}

void Simulator::useHttpOnly(const std::string& why) {
  mqtt_active_ = false;
  mqtt_.disconnect();
  core::logWarn("simulator: MQTT not used, every device reports over HTTP", {{"reason", why}});
}

bool Simulator::serverIngestsMqtt(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = client_.request("GET", "/metrics");
    if (r.ok() && r->status == 200) {
      std::istringstream in(r->body);
      for (std::string line; std::getline(in, line);) {
        if (line == "mqtt_connected 1") return true;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

core::Status Simulator::provisionDevices() {
  std::vector<std::string> specs;
  for (const auto& d : devices_) {
    const KindMapping* kind = d.device_id.empty() ? nullptr : mqttKind(d.type);
    if (kind == nullptr) continue;
    json attrs = json::array();
    for (const auto& [object_id, name, unit] : kind->attrs) {
      json a = {{"object_id", object_id}, {"name", name}, {"type", "Property"}};
      if (unit) a["unitCode"] = unit;
      attrs.push_back(std::move(a));
    }
    specs.push_back(json{{"device_id", d.device_id},
                         {"apikey", options_.mqtt_apikey},
                         {"entity_id", d.id},
                         {"entity_type", d.type},
                         {"attributes", std::move(attrs)}}
                        .dump());
  }
  // Several connections, so that provisionings share the server's group commits (100,000
  // devices one commit each would take minutes).
  constexpr size_t kConnections = 8;
  std::atomic<size_t> next{0}, created{0};
  std::mutex mu;
  std::optional<core::Error> failure;
  auto work = [&] {
    net::HttpClient client(options_.host, options_.port);
    for (size_t i = next++; i < specs.size(); i = next++) {
      auto r = client.request(
          "POST", "/api/v1/devices", specs[i],
          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + options_.key}});
      std::string problem;
      if (!r.ok()) {
        problem = r.error().message;
      } else if (r->status == 201) {
        ++created;
      } else if (r->status != 409) {  // 409: provisioned by an earlier run
        problem = "HTTP " + std::to_string(r->status) + " " + r->body;
      }
      if (!problem.empty()) {
        std::lock_guard lock(mu);
        if (!failure) {
          failure = core::makeError(core::Errc::kUnavailable,
                                    "provisioning MQTT devices failed: " + problem);
        }
        next = specs.size();  // the others stop too
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(kConnections, specs.size()); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (failure) return *failure;
  core::logInfo("simulator devices provisioned", {{"devices", static_cast<int64_t>(specs.size())},
                                                  {"created", static_cast<int64_t>(created)}});
  return core::Status::success();
}

void Simulator::setupMqtt() {
  if (options_.mqtt_host.empty()) {
    core::logInfo("simulator: no MQTT broker configured, every device reports over HTTP");
    return;
  }
  const std::string broker = options_.mqtt_host + ":" + std::to_string(options_.mqtt_port);
  if (auto s = mqtt_.connect(options_.mqtt_host, options_.mqtt_port, options_.mqtt_qos,
                             std::chrono::seconds(3));
      !s.ok()) {
    return useHttpOnly(s.error().message);
  }
  // Readings published while nobody subscribes would be lost: the server must be ingesting.
  if (!serverIngestsMqtt(std::chrono::seconds(10))) {
    return useHttpOnly("the server reports no MQTT connection (mqtt.url unset or its broker down)");
  }
  if (auto s = provisionDevices(); !s.ok()) return useHttpOnly(s.error().message);
  mqtt_active_ = true;
  core::logInfo("simulator: MQTT devices publish through the broker",
                {{"broker", broker},
                 {"devices", static_cast<int64_t>(mqttDevices())},
                 {"qos", options_.mqtt_qos},
                 {"apikey", options_.mqtt_apikey}});
}

core::Result<size_t> Simulator::postTelemetry(const std::string& ndjson) {
  auto r = client_.request(
      "POST", "/api/v1/telemetry", ndjson,
      {{"Content-Type", "application/x-ndjson"}, {"Authorization", "Bearer " + options_.key}});
  if (!r.ok()) return r.error();
  if (r->status != 200 && r->status != 207) {
    return core::makeError(core::Errc::kUnavailable,
                           "telemetry: HTTP " + std::to_string(r->status));
  }
  json j = json::parse(r->body, nullptr, false);
  return j.is_object() ? j.value("accepted", size_t{0}) : size_t{0};
}

core::Result<size_t> Simulator::tick() {
  const std::string now = core::formatRfc3339(core::SystemClock::instance().nowUnixMs());
  const double hour = std::fmod(static_cast<double>(step_) / 12.0, 24.0);  // 5 s tick = 5 min
  const double daily = std::sin((hour - 7) / 24.0 * 2 * M_PI);             // peaks mid-afternoon
  const double rush =
      std::exp(-std::pow(hour - 8, 2) / 2) + std::exp(-std::pow(hour - 17.5, 2) / 2);
  std::normal_distribution<double> noise(0, 1);
  std::vector<Reading> readings;
  auto add = [&](const char* attr, const char* object_id, json value, const char* unit = nullptr) {
    readings.push_back(Reading{attr, object_id, std::move(value), unit});
  };
  std::vector<std::string> posts(1);
  size_t lines = 0, mqtt_messages = 0, mqtt_readings = 0;
  for (size_t i = 0; i < devices_.size(); ++i) {
    SimDevice& d = devices_[i];
    readings.clear();
    if (d.type == "AirQualityObserved") {
      double pm25 = d.ward_code == kReplayWard
                        ? pm25_series_[step_ % pm25_series_.size()]
                        : std::max(2.0, d.base * (1 + 0.25 * rush) + 3 * noise(rng_));
      add("pm25", "pm25", round1(pm25), "GQ");
      add("pm10", "pm10", round1(pm25 * 1.6 + 4 * noise(rng_)), "GQ");
      add("no2", "no2", round1(std::max(1.0, 18 + 12 * rush + 3 * noise(rng_))), "GQ");
      add("temperature", "t", round1(26 + 5 * daily + 0.5 * noise(rng_)), "CEL");
      add("relativeHumidity", "h",
          round1(std::clamp(0.78 - 0.12 * daily + 0.02 * noise(rng_), 0.3, 1.0)), "P1");
    } else if (d.type == "WaterObserved") {
      d.base = std::max(0.3, d.base + 0.05 * (d.normal - d.base) + 0.03 * noise(rng_));
      add("height", "lvl", std::round(d.base * 100) / 100, "MTR");
      add("precipitation", "rain", round1(std::max(0.0, 2 * noise(rng_))), "MMT");
    } else if (d.type == "WaterQualityObserved") {
      add("cod", "cod", round1(std::max(5.0, d.base + 8 * noise(rng_))), "M1");
      add("tss", "tss", round1(std::max(5.0, d.base * 0.8 + 6 * noise(rng_))), "M1");
      add("pH", "pH", round1(7.1 + 0.3 * noise(rng_)));
    } else if (d.type == "TrafficFlowObserved") {
      if (i == replay_traffic_) {
        auto [count, speed] = traffic_series_[step_ % traffic_series_.size()];
        add("intensity", "n", count);
        add("averageVehicleSpeed", "v", speed, "KMH");
      } else {
        add("intensity", "n", std::round(std::max(0.0, d.base * (0.3 + rush) + 5 * noise(rng_))));
        add("averageVehicleSpeed", "v",
            round1(std::clamp(45 - 15 * rush + 3 * noise(rng_), 5.0, 70.0)), "KMH");
      }
    } else if (d.type == "WasteContainer") {
      d.base = d.base >= 0.95 ? 0.05 : std::min(1.0, d.base + 0.004 + 0.002 * noise(rng_));
      add("fillingLevel", "fill", std::round(d.base * 100) / 100);
    } else if (d.type == "Streetlight") {
      const bool on = hour < 6 || hour >= 18;
      add("powerState", "on", on ? "on" : "off");
      add("illuminanceLevel", "lux", on ? round1(0.8 + 0.05 * noise(rng_)) : 0.0);
    }
    if (readings.empty()) continue;
    if (mqtt_active_ && !d.device_id.empty()) {
      json payload = json::object();
      for (auto& r : readings) payload[r.object_id] = std::move(r.value);
      payload["TimeInstant"] = now;
      const std::string topic =
          options_.mqtt_topic_prefix + "/" + options_.mqtt_apikey + "/" + d.device_id + "/attrs";
      if (mqtt_.publish(topic, payload.dump())) {
        if (mqtt_down_logged_) core::logInfo("simulator: MQTT publishing again");
        mqtt_down_logged_ = false;
        ++mqtt_messages;
        mqtt_readings += readings.size();
        continue;
      }
      if (!mqtt_down_logged_) {
        core::logWarn(
            "simulator: MQTT publish failed, these devices report over HTTP until the "
            "broker is back");
        mqtt_down_logged_ = true;
      }
      // The values were moved into the payload: rebuild them from it.
      for (auto& r : readings) r.value = payload[r.object_id];
    }
    for (auto& r : readings) {
      json l = {
          {"entity", d.id}, {"attr", r.attr}, {"value", std::move(r.value)}, {"observedAt", now}};
      if (r.unit) l["unitCode"] = r.unit;
      if (lines == kMaxLinesPerPost) {
        posts.emplace_back();
        lines = 0;
      }
      posts.back() += l.dump();
      posts.back() += '\n';
      ++lines;
    }
  }
  ++step_;
  size_t accepted = 0;
  if (mqtt_messages > 0) {
    const uint64_t acked = mqtt_.waitAcknowledged(std::chrono::seconds(10));
    accepted += acked >= mqtt_messages ? mqtt_readings : mqtt_readings * acked / mqtt_messages;
  }
  for (const auto& body : posts) {
    if (body.empty()) continue;
    auto r = postTelemetry(body);
    if (!r.ok()) return r.error();
    accepted += *r;
  }
  return accepted;
}

void Simulator::run(const std::atomic<bool>& stop) {
  if (auto s = setup(); !s.ok()) {
    core::logError("simulator setup failed", {{"error", s.error().message}});
    return;
  }
  core::logInfo("simulator running",
                {{"devices", static_cast<int64_t>(devices_.size())},
                 {"interval_ms", static_cast<int64_t>(options_.interval.count())}});
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    auto accepted = tick();
    if (!accepted.ok())
      core::logWarn("simulator tick failed", {{"error", accepted.error().message}});
    next += options_.interval;
    while (!stop.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace ioc::sim
