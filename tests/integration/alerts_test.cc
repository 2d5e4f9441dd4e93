// Monitoring through the real server: a rules file loaded at start, readings over HTTP crossing a
// threshold open one alert (a rule that keeps firing counts, it does not open more), VN_AQI is
// computed and written back onto the station, the index itself raises an alert, operators
// acknowledge and resolve (audited), CAP 1.2 XML and the public feed, unit scoping, auto-resolve,
// bad input, and alerts surviving kill -9.
#include <set>

#include "integration/harness.h"
#include "integration/support.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

constexpr const char* kStation = "urn:ngsi-ld:AirQualityObserved:hue-aq-1";

class Alerts : public testing::Test {
 protected:
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    addUserCli(server_.dataDir(), "op-hue", "operator-password-1", "operator", "46");
    ingest_ = addKey(server_.dataDir(), "station", "ingest", "46");
    other_ = addKey(server_.dataDir(), "hanoi", "read", "01");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    operator_ = login(port(), "op-hue", "operator-password-1");
    json station = {{"id", kStation},
                    {"type", "AirQualityObserved"},
                    {"location",
                     {{"type", "GeoProperty"},
                      {"value", {{"type", "Point"}, {"coordinates", {107.585, 16.465}}}}}}};
    auto created = postJson(port(), "/ngsi-ld/v1/entities", station, ingest_);
    ASSERT_EQ(created.status, 201u) << created.describe();
  }
  void TearDown() override {
    if (server_.running()) {
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }

  HttpResponse telemetry(const std::vector<json>& lines) {
    RequestOptions o;
    o.bearer = ingest_;
    o.content_type = "application/x-ndjson";
    for (const auto& l : lines) o.body += l.dump() + "\n";
    return request(port(), "POST", "/api/v1/telemetry", o);
  }
  HttpResponse reading(double pm25, const std::string& at) {
    return telemetry(
        {{{"entity", kStation}, {"attr", "pm25"}, {"value", pm25}, {"observedAt", at}}});
  }
  json alerts(const std::string& query, const std::string& bearer) {
    auto r = get(port(), "/api/v1/alerts" + query, bearer);
    EXPECT_EQ(r.status, 200u) << r.describe();
    return r.json();
  }
  //! The open alert of a rule once it appears (null after 10 s).
  json openAlert(const std::string& rule) {
    json found;
    eventually(
        [&] {
          for (const auto& a : alerts("?status=open&rule=" + rule, admin_)) found = a;
          return !found.is_null();
        },
        10s);
    return found;
  }
  HttpResponse act(const std::string& id, const std::string& action, const std::string& bearer,
                   const json& body = json::object()) {
    return postJson(port(), "/api/v1/alerts/" + id + "/" + action, body, bearer);
  }

  ServerProcess server_{{},
                        {{"CITYIOC_RULES_FILE", IOC_SOURCE_DIR "/tests/data/alerts/rules.json"}}};
  std::string admin_, operator_, ingest_, other_;
};

TEST_F(Alerts, RulesFileIsLoadedAndListed) {
  auto r = get(port(), "/api/v1/rules", operator_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  std::set<std::string> ids;
  for (const auto& rule : r.json()) ids.insert(rule["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"aqi-bad", "pm25-high", "river-high"}));
  auto one = get(port(), "/api/v1/rules/pm25-high", operator_);
  EXPECT_EQ(one.json()["value"], 50);
  EXPECT_EQ(one.json()["public"], true);
  EXPECT_EQ(get(port(), "/api/v1/rules", "").status, 401u);
}

TEST_F(Alerts, ThresholdOpensOneAlertThatCountsAcknowledgesAndAutoResolves) {
  ASSERT_EQ(reading(20, "2026-11-22T06:00:00Z").status, 200u);
  ASSERT_EQ(reading(80, "2026-11-22T06:10:00Z").status, 200u);
  json a = openAlert("pm25-high");
  ASSERT_FALSE(a.is_null()) << alerts("", admin_).dump();
  EXPECT_EQ(a["status"], "new");
  EXPECT_EQ(a["subject"], kStation);
  EXPECT_EQ(a["severity"], "Moderate");
  EXPECT_EQ(a["unitCode"], "46");
  EXPECT_EQ(a["headline"], std::string("PM2.5 80 at ") + kStation);
  const std::string id = a["id"];
  // Still above: the same alert counts; no second one opens.
  ASSERT_EQ(reading(90, "2026-11-22T06:20:00Z").status, 200u);
  ASSERT_TRUE(eventually(
      [&] { return get(port(), "/api/v1/alerts/" + id, admin_).json().value("count", 0) == 2; },
      10s));
  EXPECT_EQ(alerts("?rule=pm25-high", admin_).size(), 1u);

  auto ack = act(id, "acknowledge", operator_, {{"note", "đã cử cán bộ kiểm tra"}});
  ASSERT_EQ(ack.status, 200u) << ack.describe();
  EXPECT_EQ(ack.json()["status"], "acknowledged");
  auto again = act(id, "acknowledge", operator_);
  EXPECT_EQ(again.status, 409u) << again.describe();
  EXPECT_TRUE(again.isProblem());

  // Within the hysteresis band (> 45) it stays; below it resolves by itself.
  ASSERT_EQ(reading(48, "2026-11-22T06:30:00Z").status, 200u);
  ASSERT_EQ(reading(30, "2026-11-22T06:40:00Z").status, 200u);
  ASSERT_TRUE(eventually(
      [&] { return get(port(), "/api/v1/alerts/" + id, admin_).json()["status"] == "resolved"; },
      10s));
  auto resolved = get(port(), "/api/v1/alerts/" + id, admin_).json();
  EXPECT_EQ(resolved["resolvedBy"], "system");
  auto close = act(id, "close", operator_, {{"note", "xong"}});
  EXPECT_EQ(close.status, 200u) << close.describe();

  auto audit = get(port(), "/api/v1/audit?action=alert.acknowledge", admin_);
  ASSERT_EQ(audit.status, 200u) << audit.describe();
  EXPECT_NE(audit.body.find("alert:" + id), std::string::npos) << audit.body;
}

TEST_F(Alerts, VnAqiIsWrittenBackAndRaisesItsOwnAlert) {
  // Three hours at 100 µg/m³: NowCast 100 → VN_AQI 150 + 50 × (100 − 80) / 70 = 164 (Xấu / Bad).
  ASSERT_EQ(telemetry({{{"entity", kStation},
                        {"attr", "pm25"},
                        {"value", 100},
                        {"observedAt", "2026-11-22T04:30:00Z"}},
                       {{"entity", kStation},
                        {"attr", "pm25"},
                        {"value", 100},
                        {"observedAt", "2026-11-22T05:30:00Z"}}})
                .status,
            200u);
  ASSERT_EQ(reading(100, "2026-11-22T06:30:00Z").status, 200u);
  json entity;
  ASSERT_TRUE(eventually(
      [&] {
        entity = get(port(), std::string("/ngsi-ld/v1/entities/") + kStation, admin_).json();
        return entity.contains("airQualityIndex") && entity["airQualityIndex"]["value"] == 164 &&
               entity["airQualityIndex"]["observedAt"] == "2026-11-22T06:30:00.000Z";
      },
      10s))
      << entity.dump();
  EXPECT_EQ(entity["airQualityLevel"]["value"], "Bad");
  json a = openAlert("aqi-bad");
  ASSERT_FALSE(a.is_null());
  EXPECT_EQ(a["severity"], "Severe");
  EXPECT_EQ(a["value"], 164);
}

TEST_F(Alerts, ABacklogReplayedInOneBatchKeepsEveryDerivedIndexInTheHistory) {
  // Four hours at 100 µg/m³ in one request: the worker hears them together and writes the
  // station once, but the AQI of each hour with enough data (NowCast needs two of the last
  // three hours: 04:30, 05:30, 06:30) stays in the history, each 164.
  std::vector<json> lines;
  for (const char* at : {"2026-11-22T03:30:00Z", "2026-11-22T04:30:00Z", "2026-11-22T05:30:00Z",
                         "2026-11-22T06:30:00Z"}) {
    lines.push_back({{"entity", kStation}, {"attr", "pm25"}, {"value", 100}, {"observedAt", at}});
  }
  ASSERT_EQ(telemetry(lines).status, 200u);
  const std::string history = std::string("/ngsi-ld/v1/temporal/entities/") + kStation +
                              "?attrs=airQualityIndex&timerel=after&timeAt=2026-11-22T00:00:00Z";
  json aqi;
  ASSERT_TRUE(eventually(
      [&] {
        aqi = get(port(), history, admin_).json()["airQualityIndex"];
        return aqi.is_array() && aqi.size() >= 3;
      },
      10s))
      << aqi.dump();
  ASSERT_EQ(aqi.size(), 3u) << aqi.dump();
  const char* hours[] = {"2026-11-22T04:30:00.000Z", "2026-11-22T05:30:00.000Z",
                         "2026-11-22T06:30:00.000Z"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(aqi[i]["value"], 164) << aqi.dump();
    EXPECT_EQ(aqi[i]["observedAt"], hours[i]) << aqi.dump();
  }
  json entity = get(port(), std::string("/ngsi-ld/v1/entities/") + kStation, admin_).json();
  EXPECT_EQ(entity["airQualityIndex"]["observedAt"], hours[2]) << entity.dump();
}

TEST_F(Alerts, CapXmlAndPublicFeed) {
  ASSERT_EQ(reading(70, "2026-11-22T06:00:00Z").status, 200u);
  json a = openAlert("pm25-high");
  ASSERT_FALSE(a.is_null());
  const std::string id = a["id"];
  auto cap = get(port(), "/api/v1/alerts/" + id + ".cap", operator_);
  ASSERT_EQ(cap.status, 200u) << cap.describe();
  EXPECT_NE(cap.header("Content-Type").find("application/cap+xml"), std::string::npos);
  for (const std::string& part : std::vector<std::string>{
           "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">", "<identifier>" + id,
           "<status>Actual</status>", "<msgType>Alert</msgType>", "<scope>Public</scope>",
           "<category>Env</category>", "<severity>Moderate</severity>",
           "<urgency>Expected</urgency>", "<certainty>Observed</certainty>",
           "<language>vi-VN</language>", "<areaDesc>"}) {
    EXPECT_NE(cap.body.find(part), std::string::npos) << part << "\n" << cap.body;
  }
  EXPECT_NE(cap.body.find("+07:00</sent>"), std::string::npos) << cap.body;
  // Citizens: no credentials, no readings or entity internals beyond the warning itself.
  auto feed = get(port(), "/api/v1/public/alerts");
  ASSERT_EQ(feed.status, 200u) << feed.describe();
  ASSERT_EQ(feed.json().size(), 1u) << feed.body;
  EXPECT_EQ(feed.json()[0]["id"], id);
  EXPECT_FALSE(feed.json()[0].contains("evidence"));
  EXPECT_EQ(get(port(), "/api/v1/public/alerts/" + id + ".cap").status, 200u);
  EXPECT_EQ(get(port(), "/api/v1/alerts/" + id).status, 401u);
}

TEST_F(Alerts, AnotherUnitSeesNothingAndCannotAct) {
  ASSERT_EQ(reading(70, "2026-11-22T06:00:00Z").status, 200u);
  json a = openAlert("pm25-high");
  ASSERT_FALSE(a.is_null());
  EXPECT_TRUE(alerts("", other_).empty());
  EXPECT_EQ(get(port(), "/api/v1/alerts/" + a["id"].get<std::string>(), other_).status, 404u);
  // A read key may look but never act; an ingest key may not even look.
  EXPECT_EQ(act(a["id"], "acknowledge", other_).status, 403u);
  EXPECT_EQ(get(port(), "/api/v1/alerts", ingest_).status, 403u);
}

TEST_F(Alerts, RulesCrudValidatesAndVersions) {
  json rule = {{"id", "bin-full"},
               {"name", "Bin full"},
               {"kind", "threshold"},
               {"target", {{"entityType", "WasteContainer"}, {"attribute", "fillingLevel"}}},
               {"op", ">="},
               {"value", 0.9},
               {"alert",
                {{"category", "Infra"},
                 {"severity", "Minor"},
                 {"urgency", "Expected"},
                 {"certainty", "Observed"},
                 {"headline", "{entityId} full"}}}};
  auto created = postJson(port(), "/api/v1/rules", rule, admin_);
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_EQ(created.json()["version"], 1);
  EXPECT_EQ(postJson(port(), "/api/v1/rules", rule, admin_).status, 409u);
  rule["value"] = 0.8;
  RequestOptions o;
  o.bearer = admin_;
  o.body = rule.dump();
  auto replaced = request(port(), "PUT", "/api/v1/rules/bin-full", o);
  ASSERT_EQ(replaced.status, 200u) << replaced.describe();
  EXPECT_EQ(replaced.json()["version"], 2);
  // Operators may not change rules; bad rules say what is wrong.
  EXPECT_EQ(postJson(port(), "/api/v1/rules", rule, operator_).status, 403u);
  json bad = rule;
  bad["id"] = "bad";
  bad["alert"]["severity"] = "High";
  auto refused = postJson(port(), "/api/v1/rules", bad, admin_);
  EXPECT_EQ(refused.status, 422u) << refused.describe();
  EXPECT_TRUE(refused.isProblem());
  EXPECT_NE(refused.body.find("alert.severity"), std::string::npos) << refused.body;
  EXPECT_EQ(get(port(), "/api/v1/rules/bad", admin_).status, 404u);
  EXPECT_EQ(request(port(), "DELETE", "/api/v1/rules/bin-full", {{}, "", "", admin_}).status, 204u);
  EXPECT_EQ(get(port(), "/api/v1/rules/bin-full", admin_).status, 404u);
}

TEST_F(Alerts, AlertsSurviveKill9) {
  ASSERT_EQ(reading(70, "2026-11-22T06:00:00Z").status, 200u);
  json a = openAlert("pm25-high");
  ASSERT_FALSE(a.is_null());
  ASSERT_EQ(act(a["id"], "acknowledge", operator_).status, 200u);
  server_.kill9();
  ASSERT_TRUE(server_.restart());
  admin_ = login(port(), kAdminUser, kAdminPassword);
  auto back = get(port(), "/api/v1/alerts/" + a["id"].get<std::string>(), admin_);
  ASSERT_EQ(back.status, 200u) << back.describe();
  EXPECT_EQ(back.json()["status"], "acknowledged");
  // The condition still holds after the restart: it folds into the same alert.
  ASSERT_EQ(reading(75, "2026-11-22T06:05:00Z").status, 200u);
  ASSERT_TRUE(eventually(
      [&] {
        return get(port(), "/api/v1/alerts/" + a["id"].get<std::string>(), admin_)
                   .json()
                   .value("count", 0) >= 2;
      },
      10s));
  EXPECT_EQ(alerts("?rule=pm25-high", admin_).size(), 1u);
}

}  // namespace
}  // namespace ioc::it
