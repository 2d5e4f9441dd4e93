#include "sim/simulator.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "ngsild/geo.h"

namespace ioc::sim {

using nlohmann::json;
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
    devices_.push_back(
        SimDevice{"urn:ngsi-ld:" + type + ":hue-" + suffix, type, w.code, w.name, lon, lat, base});
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
    add("WaterObserved", "river-" + std::to_string(i), wardAt(lon, lat), lon, lat, 1.2 + 0.3 * i);
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
  return createEntities();
}

std::string Simulator::readingsNdjson() {
  const std::string now = core::formatRfc3339(core::SystemClock::instance().nowUnixMs());
  const double hour = std::fmod(static_cast<double>(step_) / 12.0, 24.0);  // 5 s tick = 5 min
  const double daily = std::sin((hour - 7) / 24.0 * 2 * M_PI);             // peaks mid-afternoon
  const double rush =
      std::exp(-std::pow(hour - 8, 2) / 2) + std::exp(-std::pow(hour - 17.5, 2) / 2);
  std::normal_distribution<double> noise(0, 1);
  std::string out;
  auto line = [&](const SimDevice& d, const char* attr, json value, const char* unit = nullptr) {
    json l = {{"entity", d.id}, {"attr", attr}, {"value", std::move(value)}, {"observedAt", now}};
    if (unit) l["unitCode"] = unit;
    out += l.dump();
    out += '\n';
  };
  for (auto& d : devices_) {
    if (d.type == "AirQualityObserved") {
      double pm25 = d.ward_code == kReplayWard
                        ? pm25_series_[step_ % pm25_series_.size()]
                        : std::max(2.0, d.base * (1 + 0.25 * rush) + 3 * noise(rng_));
      line(d, "pm25", round1(pm25), "GQ");
      line(d, "pm10", round1(pm25 * 1.6 + 4 * noise(rng_)), "GQ");
      line(d, "no2", round1(std::max(1.0, 18 + 12 * rush + 3 * noise(rng_))), "GQ");
      line(d, "temperature", round1(26 + 5 * daily + 0.5 * noise(rng_)), "CEL");
      line(d, "relativeHumidity",
           round1(std::clamp(0.78 - 0.12 * daily + 0.02 * noise(rng_), 0.3, 1.0)), "P1");
    } else if (d.type == "WaterObserved") {
      d.base = std::max(0.3, d.base + 0.02 * noise(rng_));
      line(d, "height", round1(d.base * 10) / 10, "MTR");
      line(d, "precipitation", round1(std::max(0.0, 2 * noise(rng_))), "MMT");
    } else if (d.type == "WaterQualityObserved") {
      line(d, "cod", round1(std::max(5.0, d.base + 8 * noise(rng_))), "M1");
      line(d, "tss", round1(std::max(5.0, d.base * 0.8 + 6 * noise(rng_))), "M1");
      line(d, "pH", round1(7.1 + 0.3 * noise(rng_)));
    } else if (d.type == "TrafficFlowObserved") {
      if (&d == &*std::find_if(devices_.begin(), devices_.end(), [](const SimDevice& x) {
            return x.type == "TrafficFlowObserved";
          })) {
        auto [count, speed] = traffic_series_[step_ % traffic_series_.size()];
        line(d, "intensity", count);
        line(d, "averageVehicleSpeed", speed, "KMH");
      } else {
        line(d, "intensity", std::round(std::max(0.0, d.base * (0.3 + rush) + 5 * noise(rng_))));
        line(d, "averageVehicleSpeed",
             round1(std::clamp(45 - 15 * rush + 3 * noise(rng_), 5.0, 70.0)), "KMH");
      }
    } else if (d.type == "WasteContainer") {
      d.base = d.base >= 0.95 ? 0.05 : std::min(1.0, d.base + 0.004 + 0.002 * noise(rng_));
      line(d, "fillingLevel", std::round(d.base * 100) / 100);
    } else if (d.type == "Streetlight") {
      const bool on = hour < 6 || hour >= 18;
      line(d, "powerState", on ? "on" : "off");
      line(d, "illuminanceLevel", on ? round1(0.8 + 0.05 * noise(rng_)) : 0.0);
    }
  }
  return out;
}

core::Result<size_t> Simulator::tick() {
  std::string body = readingsNdjson();
  ++step_;
  auto r = client_.request(
      "POST", "/api/v1/telemetry", std::move(body),
      {{"Content-Type", "application/x-ndjson"}, {"Authorization", "Bearer " + options_.key}});
  if (!r.ok()) return r.error();
  if (r->status != 200 && r->status != 207) {
    return core::makeError(core::Errc::kUnavailable,
                           "telemetry: HTTP " + std::to_string(r->status));
  }
  json j = json::parse(r->body, nullptr, false);
  return j.is_object() ? j.value("accepted", size_t{0}) : size_t{0};
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
