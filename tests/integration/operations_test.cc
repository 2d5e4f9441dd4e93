// The operations centre end to end, through the real binary, a real Mosquitto and WebSocket
// clients: a river gauge publishes over MQTT, its reading crosses a rule's threshold, the alert
// reaches an operator's live stream, the operator escalates it to an incident with the flooding
// SOP, assigns it, the SLA runs out and the incident is escalated up the unit hierarchy, the SOP
// steps are completed and it is resolved; a 114 call and a camera event open routed incidents;
// and an operator of another ward sees none of it, on the API or the stream.
#include <fstream>

#include "integration/harness.h"
#include "integration/support.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

constexpr const char* kGauge = "urn:ngsi-ld:WaterObserved:huong-kim-long";
// A point inside Phường Phú Xuân (19753), Huế (46).
const json kPhuXuan = {{"lon", 107.55796}, {"lat", 16.47764}};
constexpr const char* kPhuXuanCode = "19753";
constexpr const char* kOtherWardCode = "19774";
const std::string kPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
    "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

HttpResponse put(uint16_t port, const std::string& target, const json& body,
                 const std::string& bearer) {
  RequestOptions o;
  o.body = body.dump();
  o.bearer = bearer;
  return request(port, "PUT", target, o);
}

bool hasEntry(const json& inc, const std::string& type) {
  for (const auto& e : inc["timeline"]) {
    if (e["type"] == type) return true;
  }
  return false;
}

class Operations : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mosquitto_.start());
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    operator_ = user("dieu-hanh", "operator", "46");
    other_ = user("phuong-khac", "operator", kOtherWardCode);
    ASSERT_TRUE(eventually(
        [&] { return get(port(), "/metrics").body.find("mqtt_connected 1") != std::string::npos; },
        20s));
  }
  void TearDown() override {
    if (server_.running()) {
      EXPECT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }
  std::string user(const std::string& name, const std::string& role, const std::string& unit) {
    auto r = postJson(port(), "/api/v1/users",
                      {{"username", name},
                       {"password", name + "-password-1"},
                       {"role", role},
                       {"unit_code", unit}},
                      admin_);
    EXPECT_EQ(r.status, 201u) << r.describe();
    return login(port(), name, name + "-password-1");
  }
  std::string key(const std::string& name, const std::string& unit) {
    auto r = postJson(port(), "/api/v1/keys",
                      {{"name", name}, {"scope", "ingest"}, {"unit_code", unit}}, admin_);
    EXPECT_EQ(r.status, 201u) << r.describe();
    return r.json().value("key", "");
  }
  //! A WebSocket client of `token` subscribed to alerts and incidents.
  std::unique_ptr<WsClient> watch(const std::string& token) {
    auto ws = std::make_unique<WsClient>();
    EXPECT_EQ(ws->connect(port(), "/api/v1/stream", token), 101u);
    ws->send({{"op", "subscribe"}, {"topics", {"alerts", "incidents"}}});
    auto ack = ws->readUntil([](const json& m) { return m.value("op", "") == "subscribed"; });
    EXPECT_TRUE(ack.has_value());
    return ws;
  }

  TempDir broker_dir_;
  MosquittoBroker mosquitto_{broker_dir_.path()};
  ServerProcess server_{{},
                        {{"CITYIOC_MQTT_URL", mosquitto_.url()},
                         {"CITYIOC_RULES_FILE", IOC_SOURCE_DIR "/tests/data/alerts/rules.json"},
                         {"CITYIOC_INCIDENTS_CALENDAR", "24x7"},
                         {"CITYIOC_INCIDENTS_TICK_MS", "100"}}};
  std::string admin_, operator_, other_;
};

TEST_F(Operations, GaugeReadingOverMqttBecomesAnAlertThenAnIncidentWorkedToResolution) {
  // The city's set-up: who handles what in Huế, and (for the test) a 1.8 s SLA.
  ASSERT_EQ(put(port(), "/api/v1/routing-tables/46",
                {{"rules",
                  {{{"category", "flooding"}, {"agency", "Công ty Thoát nước Huế"}},
                   {{"category", "fire"}, {"agency", "PCCC Huế"}}}},
                 {"default_agency", "Trung tâm IOC Huế"}},
                admin_)
                .status,
            200u);
  ASSERT_EQ(put(port(), "/api/v1/sla-policies",
                {{"policies",
                  {{{"category", "*"},
                    {"priority", "*"},
                    {"duration", {{"working_hours", 0.0005}}},
                    {"reminders_pct", {50}},
                    {"due_soon_pct", 75}}}}},
                admin_)
                .status,
            200u);
  // The gauge belongs to Phú Xuân ward; it reports over MQTT.
  const std::string ward_key = key("gauge", kPhuXuanCode);
  json gauge = {
      {"id", kGauge},
      {"type", "WaterObserved"},
      {"location",
       {{"type", "GeoProperty"},
        {"value", {{"type", "Point"}, {"coordinates", {kPhuXuan["lon"], kPhuXuan["lat"]}}}}}}};
  ASSERT_EQ(postJson(port(), "/ngsi-ld/v1/entities", gauge, ward_key).status, 201u);
  auto device = postJson(
      port(), "/api/v1/devices",
      {{"device_id", "kim-long"},
       {"apikey", "HUE"},
       {"entity_id", kGauge},
       {"entity_type", "WaterObserved"},
       {"attributes",
        {{{"object_id", "lvl"}, {"name", "height"}, {"type", "Property"}, {"unitCode", "MTR"}}}}},
      ward_key);
  ASSERT_EQ(device.status, 201u) << device.describe();
  auto ops = watch(operator_);
  auto outsider = watch(other_);

  ASSERT_TRUE(
      publish(mosquitto_.port(), "/HUE/kim-long/attrs", R"({"lvl": 3.42})", broker_dir_.path()));
  auto alert = ops->readUntil([](const json& m) {
    return m.value("topic", "") == "alerts" && m["data"].value("ruleId", "") == "river-high";
  });
  ASSERT_TRUE(alert.has_value()) << "no alert on the operator's stream";
  const std::string alert_id = (*alert)["data"]["id"];
  EXPECT_EQ((*alert)["data"]["subject"], kGauge);
  EXPECT_EQ((*alert)["data"]["severity"], "Severe");

  auto escalated =
      postJson(port(), "/api/v1/alerts/" + alert_id + "/escalate", json::object(), operator_);
  ASSERT_EQ(escalated.status, 201u) << escalated.describe();
  json inc = escalated.json();
  const std::string id = inc["id"];
  EXPECT_EQ(inc["category"], "flooding");
  EXPECT_EQ(inc["priority"], "high");
  EXPECT_EQ(inc["agency"], "Công ty Thoát nước Huế");
  EXPECT_EQ(inc["sop"]["template_id"], "flooding");
  EXPECT_EQ(get(port(), "/api/v1/alerts/" + alert_id, operator_).json()["status"], "acknowledged");
  auto streamed = ops->readUntil([&](const json& m) {
    return m.value("topic", "") == "incidents" && m.value("key", "") == id;
  });
  EXPECT_TRUE(streamed.has_value()) << "no incident on the operator's stream";

  const std::string base = "/api/v1/incidents/" + id;
  auto assigned = postJson(port(), base + "/assign", {{"assignee", "doi-thoat-nuoc-1"}}, operator_);
  ASSERT_EQ(assigned.status, 200u) << assigned.describe();
  EXPECT_EQ(assigned.json()["status"], "assigned");
  ASSERT_TRUE(eventually(
      [&] {
        inc = get(port(), base, operator_).json();
        return inc["sla"]["state"] == "overdue" && hasEntry(inc, "escalated");
      },
      15s))
      << inc.dump(2);

  auto refused = postJson(port(), base + "/resolve", {{"resolution", "nước đã rút"}}, operator_);
  EXPECT_EQ(refused.status, 409u) << refused.describe();
  auto step = [&](int n, const json& body) {
    auto r = postJson(port(), base + "/steps/" + std::to_string(n) + "/complete", body, admin_);
    EXPECT_EQ(r.status, 200u) << "step " << n << ": " << r.describe();
  };
  step(1, {{"data", {{"depth_cm", 40}, {"roads_closed", true}}}});
  step(2, json::object());
  step(4, json::object());
  auto resolved = postJson(port(), base + "/resolve", {{"resolution", "nước đã rút"}}, operator_);
  ASSERT_EQ(resolved.status, 200u) << resolved.describe();
  EXPECT_EQ(resolved.json()["status"], "resolved");

  // Other intakes open routed incidents too.
  auto call = postJson(port(), "/api/v1/hotline-calls",
                       {{"line", "114"},
                        {"caller_number", "0905123456"},
                        {"summary", "Cháy kho gần chợ Đông Ba"},
                        {"location", kPhuXuan}},
                       operator_);
  ASSERT_EQ(call.status, 201u) << call.describe();
  EXPECT_EQ(call.json()["agency"], "PCCC Huế");
  auto camera = postJson(port(), "/api/v1/camera-events",
                         {{"camera_id", "cam-phu-xuan-3"},
                          {"event_type", "fire_smoke"},
                          {"confidence", 0.9},
                          {"time", "2026-11-22T08:00:00Z"},
                          {"location", kPhuXuan},
                          {"snapshot", kPngBase64}},
                         ward_key);
  ASSERT_EQ(camera.status, 201u) << camera.describe();
  EXPECT_EQ(camera.json()["incident"]["agency"], "PCCC Huế");

  // Another ward's operator saw none of it.
  EXPECT_TRUE(get(port(), "/api/v1/alerts", other_).json().empty());
  EXPECT_EQ(get(port(), "/api/v1/incidents", other_).json().value("total", -1), 0);
  EXPECT_EQ(get(port(), base, other_).status, 404u);
  auto leaked = outsider->readUntil(
      [](const json& m) {
        const std::string topic = m.value("topic", "");
        return topic == "alerts" || topic == "incidents";
      },
      2s);
  EXPECT_FALSE(leaked.has_value()) << leaked->dump();
}

}  // namespace
}  // namespace ioc::it
