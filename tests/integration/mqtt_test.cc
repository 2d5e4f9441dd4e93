// MQTT device telemetry through a real Mosquitto broker: devices provisioned over HTTP, FIWARE IoT
// Agent JSON messages (/{apikey}/{device_id}/attrs) published with mosquitto_pub at QoS 1, the
// readings visible through NGSI-LD, bad messages counted in /metrics without hurting the
// connection, durability across kill -9, reconnection after a broker restart, and readings
// queued by the broker while cityioc was down.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "integration/harness.h"
#include "integration/support.h"

namespace ioc::it {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

constexpr const char* kEntity = "urn:ngsi-ld:WeatherObserved:hue-001";

//! The value of one sample in a Prometheus text exposition; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}
std::string dropped(const std::string& reason) {
  return "mqtt_messages_dropped_total{reason=\"" + reason + "\"}";
}

json deviceSpec(const std::string& device_id = "dev1") {
  return {
      {"device_id", device_id},
      {"apikey", "KEY"},
      {"entity_id", kEntity},
      {"entity_type", "WeatherObserved"},
      {"attributes",
       {{{"object_id", "t"}, {"name", "temperature"}, {"type", "Property"}, {"unitCode", "CEL"}},
        {{"object_id", "h"}, {"name", "relativeHumidity"}, {"type", "Property"}}}}};
}

class Mqtt : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kMosquitto)) {
      GTEST_SKIP() << kMosquitto << " is not installed (scripts/deps installs package mosquitto)";
    }
    if (!fs::exists(kMosquittoPub)) {
      GTEST_SKIP() << kMosquittoPub
                   << " is not installed (scripts/deps installs package mosquitto-clients)";
    }
    broker_ = std::make_unique<MosquittoBroker>(dir_.path());
    ASSERT_TRUE(broker_->start());
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{},
        Env{{"CITYIOC_MQTT_URL", broker_->url()}, {"CITYIOC_MQTT_CLIENT_ID", "cityioc-it"}});
    key_ = addKey(server_->dataDir(), "hue-gateway", "integration", "46");
    other_key_ = addKey(server_->dataDir(), "hanoi-gateway", "integration", "01");
    ASSERT_FALSE(key_.empty());
    ASSERT_TRUE(server_->start());
    ASSERT_TRUE(waitConnected(true)) << server_->stderrText();
  }
  void TearDown() override {
    if (server_ && server_->running()) {
      ASSERT_TRUE(server_->alive());
      EXPECT_EQ(server_->terminate(), 0) << server_->stderrText();
    }
    server_.reset();
    broker_.reset();
  }
  uint16_t port() const { return server_->port(); }
  std::string metrics() { return get(port(), "/metrics").body; }
  bool waitConnected(bool want, std::chrono::milliseconds timeout = 20s) {
    return eventually([&] { return sample(metrics(), "mqtt_connected") == (want ? 1 : 0); },
                      timeout);
  }
  void provision(const json& spec = deviceSpec()) {
    auto r = postJson(port(), "/api/v1/devices", spec, key_);
    ASSERT_EQ(r.status, 201u) << r.describe();
  }
  testing::AssertionResult send(const std::string& payload,
                                const std::string& topic = "/KEY/dev1/attrs") {
    return publish(broker_->port(), topic, payload, dir_.path());
  }
  json entity() {
    auto r = get(port(), "/ngsi-ld/v1/entities/" + std::string(kEntity), key_);
    return r.status == 200 ? r.json() : json();
  }
  //! Polls the entity until its temperature has `value` (bounded).
  bool waitTemperature(double value, std::chrono::milliseconds timeout = 10s) {
    return eventually(
        [&] {
          json e = entity();
          return e.is_object() && e.contains("temperature") &&
                 e["temperature"].value("value", json()) == json(value);
        },
        timeout);
  }

  TempDir dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<ServerProcess> server_;
  std::string key_, other_key_;
};

TEST_F(Mqtt, ReadingsBecomeEntityAttributesAndSurviveKill9) {
  provision();
  ASSERT_TRUE(send(R"({"t": 21.5, "h": 60})"));
  ASSERT_TRUE(waitTemperature(21.5)) << entity().dump() << "\n" << server_->stderrText();
  json e = entity();
  EXPECT_EQ(e["type"], "WeatherObserved");
  EXPECT_EQ(e["temperature"]["type"], "Property");
  EXPECT_EQ(e["temperature"]["unitCode"], "CEL");
  EXPECT_EQ(e["relativeHumidity"]["value"], 60);
  EXPECT_FALSE(e["relativeHumidity"].contains("unitCode"));
  // The entity belongs to the device's unit: invisible to another province's key.
  EXPECT_EQ(get(port(), "/ngsi-ld/v1/entities/" + std::string(kEntity), other_key_).status, 404u);
  EXPECT_EQ(sample(metrics(), "mqtt_messages_total"), 1);
  EXPECT_GE(sample(metrics(), "mqtt_ingest_batch_size_count"), 1);

  // Committed readings are durable: kill -9, restart, still there. (Readings become visible a
  // moment before their commit completes, so the test waits for the commit count.)
  ASSERT_TRUE(
      eventually([&] { return sample(metrics(), "mqtt_messages_committed_total") == 1; }, 10s));
  server_->kill9();
  ASSERT_TRUE(server_->restart());
  json after = entity();
  ASSERT_TRUE(after.is_object()) << server_->stderrText();
  EXPECT_EQ(after["temperature"]["value"], 21.5);
  EXPECT_EQ(after["relativeHumidity"]["value"], 60);
  // The device too; and the new process ingests again.
  auto devices = get(port(), "/api/v1/devices", key_);
  ASSERT_EQ(devices.status, 200u) << devices.describe();
  EXPECT_EQ(devices.json()["total"], 1);
  ASSERT_TRUE(waitConnected(true));
  ASSERT_TRUE(send(R"({"t": 22.0})"));
  ASSERT_TRUE(waitTemperature(22.0)) << entity().dump();
  EXPECT_EQ(entity()["relativeHumidity"]["value"], 60);  // merged, not replaced
}

TEST_F(Mqtt, BadMessagesAreDroppedAndCountedAndTheConnectionCarriesOn) {
  provision();
  ASSERT_TRUE(send("this is not json"));
  ASSERT_TRUE(send("[1, 2, 3]"));
  ASSERT_TRUE(send(R"({"t": 1})", "/KEY/ghost/attrs"));
  ASSERT_TRUE(send(R"({"t": 1})", "/WRONGKEY/dev1/attrs"));
  ASSERT_TRUE(send(R"({"zz": 5, "t": 18.5})"));
  ASSERT_TRUE(send(R"({"t": null})"));
  ASSERT_TRUE(send(R"({"t": 1, "TimeInstant": "yesterday"})"));
  ASSERT_TRUE(send(R"({"s": ")" + std::string(70 * 1024, 'x') + "\"}"));
  ASSERT_TRUE(send(std::string("{\"t\": \"\xff\"}")));
  // A valid reading after all of them still arrives.
  ASSERT_TRUE(send(R"({"t": 23.5})"));
  ASSERT_TRUE(waitTemperature(23.5)) << entity().dump() << "\n" << server_->stderrText();

  std::string m = metrics();
  EXPECT_EQ(sample(m, "mqtt_messages_total"), 10) << m;
  EXPECT_TRUE(
      eventually([&] { return sample(metrics(), "mqtt_messages_committed_total") == 2; }, 10s));
  EXPECT_EQ(sample(m, dropped("bad_json")), 3) << m;
  EXPECT_EQ(sample(m, dropped("unknown_device")), 2) << m;
  EXPECT_EQ(sample(m, dropped("unknown_attribute")), 1) << m;
  EXPECT_EQ(sample(m, dropped("bad_value")), 2) << m;
  EXPECT_EQ(sample(m, dropped("too_large")), 1) << m;
  EXPECT_EQ(sample(m, dropped("ingest_failed")), 0) << m;
  EXPECT_EQ(sample(m, "mqtt_connected"), 1) << m;
  // Drops are logged, but not one line per message.
  EXPECT_NE(server_->stderrText().find("mqtt message dropped"), std::string::npos);
}

TEST_F(Mqtt, TimeInstantBecomesObservedAt) {
  provision();
  ASSERT_TRUE(send(R"({"t": 19.25, "h": 70, "TimeInstant": "2026-03-01T07:30:00+07:00"})"));
  ASSERT_TRUE(waitTemperature(19.25)) << entity().dump();
  json e = entity();
  EXPECT_EQ(e["temperature"]["observedAt"], "2026-03-01T00:30:00.000Z") << e.dump();
  EXPECT_EQ(e["relativeHumidity"]["observedAt"], "2026-03-01T00:30:00.000Z") << e.dump();
}

TEST_F(Mqtt, DevicesAreValidatedScopedAndRemovable) {
  // Validation answers problem+json.
  json bad = deviceSpec();
  bad["device_id"] = "dev/1";
  auto r = postJson(port(), "/api/v1/devices", bad, key_);
  EXPECT_EQ(r.status, 422u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  bad = deviceSpec();
  bad["entity_id"] = "not a uri";
  EXPECT_EQ(postJson(port(), "/api/v1/devices", bad, key_).status, 422u);
  bad = deviceSpec();
  bad["attributes"][0]["type"] = "Relationship";
  EXPECT_EQ(postJson(port(), "/api/v1/devices", bad, key_).status, 422u);
  RequestOptions raw;
  raw.bearer = key_;
  raw.body = "{not json";
  auto malformed = request(port(), "POST", "/api/v1/devices", raw);
  EXPECT_EQ(malformed.status, 400u) << malformed.describe();
  EXPECT_TRUE(malformed.isProblem());

  provision();
  auto dup = postJson(port(), "/api/v1/devices", deviceSpec(), key_);
  EXPECT_EQ(dup.status, 409u) << dup.describe();
  EXPECT_TRUE(dup.isProblem());
  auto one = get(port(), "/api/v1/devices/KEY/dev1", key_);
  ASSERT_EQ(one.status, 200u) << one.describe();
  EXPECT_EQ(one.json()["entity_type"], "WeatherObserved");
  EXPECT_EQ(one.json()["unit_code"], "46");

  // Another province neither sees nor removes it.
  auto theirs = get(port(), "/api/v1/devices", other_key_);
  ASSERT_EQ(theirs.status, 200u);
  EXPECT_EQ(theirs.json()["total"], 0);
  EXPECT_EQ(get(port(), "/api/v1/devices/KEY/dev1", other_key_).status, 404u);
  RequestOptions del;
  del.bearer = other_key_;
  auto refused = request(port(), "DELETE", "/api/v1/devices/KEY/dev1", del);
  EXPECT_EQ(refused.status, 404u) << refused.describe();
  EXPECT_TRUE(refused.isProblem());
  // Read-only keys cannot provision.
  const std::string reader = addKey(server_->dataDir(), "reader", "read", "46");
  EXPECT_EQ(postJson(port(), "/api/v1/devices", deviceSpec("dev9"), reader).status, 403u);

  // Removed by its own unit: 204, then its messages are unknown.
  del.bearer = key_;
  EXPECT_EQ(request(port(), "DELETE", "/api/v1/devices/KEY/dev1", del).status, 204u);
  EXPECT_EQ(request(port(), "DELETE", "/api/v1/devices/KEY/dev1", del).status, 404u);
  ASSERT_TRUE(send(R"({"t": 1})"));
  EXPECT_TRUE(eventually([&] { return sample(metrics(), dropped("unknown_device")) == 1; }, 10s));
}

TEST_F(Mqtt, ReconnectsAfterTheBrokerRestarts) {
  provision();
  broker_->stop();
  ASSERT_TRUE(waitConnected(false)) << server_->stderrText();
  ASSERT_TRUE(broker_->start());
  // Subscribed again on reconnect (this broker kept no session).
  ASSERT_TRUE(waitConnected(true, 40s)) << server_->stderrText();
  ASSERT_TRUE(send(R"({"t": 24.5})"));
  ASSERT_TRUE(waitTemperature(24.5)) << server_->stderrText();
}

TEST_F(Mqtt, ReadingsSentWhileDownArriveAfterRestart) {
  provision();
  // A clean stop: the broker keeps the persistent session and queues QoS 1 messages for it.
  ASSERT_EQ(server_->terminate(), 0) << server_->stderrText();
  ASSERT_TRUE(send(R"({"t": 30.5})"));
  ASSERT_TRUE(server_->restart());
  ASSERT_TRUE(waitTemperature(30.5)) << entity().dump() << "\n" << server_->stderrText();
}

//! "simulating 60 devices (N over MQTT) …" → N; -1 when the line is missing.
int mqttDevicesIn(const std::string& out) {
  const size_t at = out.find(" over MQTT)");
  const size_t open = out.rfind('(', at);
  if (at == std::string::npos || open == std::string::npos) return -1;
  return std::stoi(out.substr(open + 1, at - open - 1));
}

// The demo city through the real broker: `cityioc simulate --mqtt` provisions its air-quality,
// river, streetlight and waste-bin devices over the API and publishes their readings as IoT Agent
// JSON; they become entities whose values change from tick to tick. The others stay on HTTP.
TEST_F(Mqtt, SimulatedCityPublishesThroughTheBroker) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port());
  auto run = runCli({"simulate", "--url", url, "--key", key_, "--devices", "60", "--interval-ms",
                     "100", "--ticks", "3", "--mqtt", broker_->url()});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // 40 air-quality stations (one per ward), 8 river gauges, 2 bins and 3 streetlights.
  ASSERT_EQ(mqttDevicesIn(run.out), 53) << run.out << run.err;
  auto devices = get(port(), "/api/v1/devices?limit=1", key_);
  ASSERT_EQ(devices.status, 200u) << devices.describe();
  EXPECT_EQ(devices.json()["total"], 53);
  // Every message of the three ticks is durable (QoS 1: the broker acknowledged each one).
  ASSERT_TRUE(
      eventually([&] { return sample(metrics(), "mqtt_messages_committed_total") == 3 * 53; }, 20s))
      << metrics() << server_->stderrText();
  std::string m = metrics();
  for (const char* reason : {"bad_json", "unknown_device", "unknown_attribute", "bad_value"}) {
    EXPECT_EQ(sample(m, dropped(reason)), 0) << reason;
  }

  // The river gauges are entities with the MQTT readings (mapped names and units) next to the
  // location the simulator created over NGSI-LD.
  auto rivers = get(port(), "/ngsi-ld/v1/entities?type=WaterObserved&limit=100", key_);
  ASSERT_EQ(rivers.status, 200u) << rivers.describe();
  json list = rivers.json();
  ASSERT_TRUE(list.is_array()) << rivers.body;
  ASSERT_EQ(list.size(), 8u) << rivers.body;
  for (const auto& e : list) {
    ASSERT_TRUE(e.contains("height") && e.contains("location")) << e.dump();
    EXPECT_EQ(e["height"]["unitCode"], "MTR") << e.dump();
    EXPECT_TRUE(e["height"].contains("observedAt")) << e.dump();
  }
  // Values change: the Thuận Hoá station replays the Hanoi series (94.7, 88.7, then the third
  // hour), and its history holds one point per tick.
  const std::string station = "urn:ngsi-ld:AirQualityObserved:hue-19789";
  auto now = get(port(), "/ngsi-ld/v1/entities/" + station, key_);
  ASSERT_EQ(now.status, 200u) << now.describe();
  const double third = now.json()["pm25"]["value"].get<double>();
  auto history = get(port(), "/ngsi-ld/v1/temporal/entities/" + station + "?attrs=pm25", key_);
  ASSERT_EQ(history.status, 200u) << history.describe();
  json pm25 = history.json()["pm25"];
  ASSERT_EQ(pm25.size(), 3u) << history.body;
  EXPECT_DOUBLE_EQ(pm25[0]["value"].get<double>(), 94.7);
  EXPECT_DOUBLE_EQ(pm25[1]["value"].get<double>(), 88.7);
  EXPECT_DOUBLE_EQ(pm25[2]["value"].get<double>(), third);
  // HTTP devices still report over HTTP (the wastewater monitors are not MQTT devices).
  auto wq = get(port(), "/ngsi-ld/v1/entities?type=WaterQualityObserved&limit=10", key_);
  ASSERT_EQ(wq.status, 200u);
  ASSERT_EQ(wq.json().size(), 5u) << wq.body;
  EXPECT_TRUE(wq.json()[0].contains("cod")) << wq.body;
}

TEST_F(Mqtt, SimulatorFallsBackToHttpWithoutABroker) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port());
  broker_->stop();
  auto run = runCli({"simulate", "--url", url, "--key", key_, "--devices", "60", "--interval-ms",
                     "100", "--ticks", "2", "--mqtt", broker_->url()});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(mqttDevicesIn(run.out), 0) << run.out;
  EXPECT_NE(run.out.find("tick 2:"), std::string::npos) << run.out;
  // Logged once, not once per device or tick.
  const std::string said = "MQTT not used";
  const size_t first = run.err.find(said);
  EXPECT_NE(first, std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(said, first + 1), std::string::npos) << run.err;
  auto station = get(
      port(), "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:hue-19789?attrs=pm25",
      key_);
  ASSERT_EQ(station.status, 200u) << station.describe();
  EXPECT_EQ(station.json()["pm25"].size(), 2u) << station.body;
}

// serve --demo with mqtt.url: the demo city's MQTT devices publish through the server's broker.
TEST(MqttDemo, DemoCityDevicesPublishOverMqtt) {
  if (!fs::exists(kMosquitto)) GTEST_SKIP() << kMosquitto << " is not installed";
  TempDir dir;
  MosquittoBroker broker(dir.path());
  ASSERT_TRUE(broker.start());
  ServerProcess server({"--demo"}, Env{{"CITYIOC_MQTT_URL", broker.url()}});
  const std::string key = addKey(server.dataDir(), "reader", "read", "46");
  ASSERT_TRUE(server.start());
  const std::string station = "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:hue-19789";
  // Two different readings of the replaying station arrive through MQTT (a tick every 5 s).
  std::set<double> seen;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = get(server.port(), station, key);
        if (r.status == 200 && r.json().contains("pm25")) {
          seen.insert(r.json()["pm25"]["value"].get<double>());
        }
        return seen.size() >= 2;
      },
      40s))
      << server.stderrText();
  const std::string m = get(server.port(), "/metrics").body;
  EXPECT_GE(sample(m, "mqtt_messages_committed_total"), 2 * 40) << m;  // ≥ 2 ticks of stations
  EXPECT_NE(server.stderrText().find("MQTT devices publish through the broker"), std::string::npos)
      << server.stderrText();
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

// mqtt.commit_interval_ms: readings (acknowledged by libmosquitto before cityioc sees them) wait
// for the next group commit; an API write brings it forward, a clean stop commits them.
TEST(MqttCommitInterval, ReadingsWaitForAnApiWriteOrACleanStop) {
  if (!fs::exists(kMosquitto) || !fs::exists(kMosquittoPub)) {
    GTEST_SKIP() << "mosquitto or mosquitto_pub is not installed (scripts/deps)";
  }
  TempDir dir;
  MosquittoBroker broker(dir.path());
  ASSERT_TRUE(broker.start());
  ServerProcess server(
      {}, Env{{"CITYIOC_MQTT_URL", broker.url()}, {"CITYIOC_MQTT_COMMIT_INTERVAL_MS", "5000"}});
  const std::string key = addKey(server.dataDir(), "gw", "integration", "46");
  ASSERT_TRUE(server.start());
  auto committed = [&] {
    return sample(get(server.port(), "/metrics").body, "mqtt_messages_committed_total");
  };
  ASSERT_TRUE(eventually(
      [&] { return sample(get(server.port(), "/metrics").body, "mqtt_connected") == 1; }, 20s));
  ASSERT_EQ(postJson(server.port(), "/api/v1/devices", deviceSpec(), key).status, 201u);
  auto temperature = [&] {
    auto r = get(server.port(), "/ngsi-ld/v1/entities/" + std::string(kEntity), key);
    return r.status == 200 ? r.json()["temperature"].value("value", json()) : json();
  };

  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(publish(broker.port(), "/KEY/dev1/attrs", R"({"t": 24.5})", dir.path()));
  ASSERT_TRUE(eventually([&] { return temperature() == json(24.5); }, 10s));
  const double before = committed();
  if (std::chrono::steady_clock::now() - sent < 4s) {  // well inside the interval
    EXPECT_EQ(before, 0) << "committed before the interval with nothing to bring it forward";
  }
  // An API write commits at once, and the waiting reading with it.
  auto created = postJson(server.port(), "/ngsi-ld/v1/entities",
                          {{"id", "urn:ngsi-ld:Thing:bring-forward"}, {"type", "Thing"}}, key);
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_EQ(committed(), 1);

  // A clean stop commits what waits; the restarted server has it.
  ASSERT_TRUE(publish(broker.port(), "/KEY/dev1/attrs", R"({"t": 25.5})", dir.path()));
  ASSERT_TRUE(eventually([&] { return temperature() == json(25.5); }, 10s));
  ASSERT_EQ(server.terminate(), 0) << server.stderrText();
  ASSERT_TRUE(server.restart());
  EXPECT_EQ(temperature(), json(25.5)) << server.stderrText();
  EXPECT_EQ(server.terminate(), 0) << server.stderrText();
}

TEST(MqttOff, WithoutAUrlThereIsNoClientButDevicesCanBeProvisioned) {
  ServerProcess server;
  const std::string key = addKey(server.dataDir(), "gw", "integration", "46");
  ASSERT_TRUE(server.start());
  std::string m = get(server.port(), "/metrics").body;
  EXPECT_EQ(m.find("mqtt_connected"), std::string::npos) << m;
  auto r = postJson(server.port(), "/api/v1/devices", deviceSpec(), key);
  EXPECT_EQ(r.status, 201u) << r.describe();
  EXPECT_EQ(server.stderrText().find("mqtt connecting"), std::string::npos);
  EXPECT_EQ(server.terminate(), 0);
}

TEST(MqttOff, BadSettingsStopStartup) {
  ServerProcess server({}, {{"CITYIOC_MQTT_URL", "tcp://127.0.0.1:1883"}});
  EXPECT_FALSE(server.start());
  EXPECT_NE(server.stderrText().find("mqtt.url"), std::string::npos) << server.stderrText();
}

}  // namespace
}  // namespace ioc::it
