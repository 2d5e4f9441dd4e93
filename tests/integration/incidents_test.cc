// Incidents through the real binary: hotline intake with routing and SOP launch, camera events
// with snapshots and de-duplication, assignment and referral on the timeline, SOP gating of
// resolve, SLA overdue and escalation on a 24/7 calendar, unit scoping, bad input, and
// durability across kill -9.
#include <filesystem>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

// A point inside Phường Phú Xuân (19753), Huế (46).
const json kPhuXuan = {{"lon", 107.55796}, {"lat", 16.47764}};
// 1x1 PNG.
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

class Incidents : public testing::Test {
 protected:
  explicit Incidents(Env env = {}) : server_({}, std::move(env)) {}
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    auto r = put(port(), "/api/v1/routing-tables/46",
                 {{"rules",
                   {{{"category", "fire"}, {"agency", "PCCC Huế"}},
                    {{"category", "traffic_violation"}, {"agency", "CSGT Huế"}}}},
                  {"default_agency", "Trung tâm IOC Huế"}},
                 admin_);
    ASSERT_EQ(r.status, 200u) << r.describe();
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }

  std::string userToken(const std::string& name, const std::string& role, const std::string& unit) {
    json body = {{"username", name}, {"password", name + "-password-1"}, {"role", role}};
    if (!unit.empty()) body["unit_code"] = unit;
    auto r = postJson(port(), "/api/v1/users", body, admin_);
    EXPECT_EQ(r.status, 201u) << r.describe();
    return login(port(), name, name + "-password-1");
  }
  std::string ingestKey(const std::string& unit) {
    auto r = postJson(port(), "/api/v1/keys",
                      {{"name", "cams"}, {"scope", "ingest"}, {"unit_code", unit}}, admin_);
    EXPECT_EQ(r.status, 201u) << r.describe();
    return r.json().value("key", "");
  }
  json fireCall(const std::string& token) {
    auto r = postJson(port(), "/api/v1/hotline-calls",
                      {{"line", "114"},
                       {"caller_number", "0905123456"},
                       {"summary", "Cháy nhà dân trên đường Lê Lợi"},
                       {"location", kPhuXuan}},
                      token);
    EXPECT_EQ(r.status, 201u) << r.describe();
    return r.json();
  }
  size_t total(const std::string& token = "") {
    return get(port(), "/api/v1/incidents", token.empty() ? admin_ : token)
        .json()
        .value("total", size_t{999});
  }
  static bool hasEntry(const json& inc, const std::string& type) {
    for (const auto& e : inc["timeline"]) {
      if (e["type"] == type) return true;
    }
    return false;
  }

  ServerProcess server_;
  std::string admin_;
};

TEST_F(Incidents, HotlineFireCallIsRoutedWithTheFireSop) {
  json inc = fireCall(admin_);
  EXPECT_EQ(inc["category"], "fire");
  EXPECT_EQ(inc["priority"], "critical");
  EXPECT_EQ(inc["status"], "new");
  EXPECT_EQ(inc["ward_code"], "19753");
  EXPECT_EQ(inc["unit_code"], "19753");
  EXPECT_EQ(inc["agency"], "PCCC Huế");
  EXPECT_EQ(inc["source"]["kind"], "hotline");
  EXPECT_EQ(inc["source"]["line"], "114");
  EXPECT_EQ(inc["sop"]["template_id"], "fire");
  EXPECT_EQ(inc["sop"]["progress"]["done"], 0);
  EXPECT_GE(inc["sop"]["progress"]["mandatory_open"].get<int>(), 1);
  EXPECT_EQ(inc["sla"]["state"], "on_time");
  EXPECT_TRUE(inc["sla"]["due_at"].is_string());
  EXPECT_TRUE(std::string(inc["id"]).rfind("INC-", 0) == 0) << inc["id"];
  EXPECT_TRUE(hasEntry(inc, "created"));
  EXPECT_TRUE(hasEntry(inc, "routed"));
  EXPECT_TRUE(hasEntry(inc, "sop_launched"));
  // Caller numbers are masked for leaders.
  std::string leader = userToken("lead1", "leader", "46");
  auto seen = get(port(), "/api/v1/incidents/" + inc["id"].get<std::string>(), leader);
  ASSERT_EQ(seen.status, 200u) << seen.describe();
  EXPECT_EQ(seen.json()["source"]["caller_number"], "0905***456");
  EXPECT_EQ(inc["source"]["caller_number"], "0905123456");
  // Audited.
  auto audit = get(port(), "/api/v1/audit?limit=200", admin_);
  EXPECT_NE(audit.body.find("incident.open"), std::string::npos);
}

TEST_F(Incidents, AssignReassignAndReferAreOnTheTimeline) {
  const std::string id = fireCall(admin_)["id"];
  const std::string base = "/api/v1/incidents/" + id;
  auto r = postJson(port(), base + "/assign", {{"assignee", "doi-pccc-1"}}, admin_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["status"], "assigned");
  r = postJson(port(), base + "/assign", {{"assignee", "doi-pccc-2"}}, admin_);
  EXPECT_EQ(r.status, 409u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  r = postJson(port(), base + "/reassign", {{"assignee", "doi-pccc-2"}}, admin_);
  EXPECT_EQ(r.status, 422u) << r.describe();
  r = postJson(port(), base + "/reassign",
               {{"assignee", "doi-pccc-2"}, {"reason", "đội 1 đang làm nhiệm vụ khác"}}, admin_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["assignee"], "doi-pccc-2");
  bool found = false;
  const json reassigned = r.json();
  for (const auto& e : reassigned["timeline"]) {
    if (e["type"] == "reassigned") {
      found = true;
      EXPECT_EQ(e["data"]["reason"], "đội 1 đang làm nhiệm vụ khác");
      EXPECT_EQ(e["data"]["from_assignee"], "doi-pccc-1");
      EXPECT_EQ(e["actor"], "admin");
    }
  }
  EXPECT_TRUE(found);
  r = postJson(port(), base + "/refer",
               {{"agency", "Công an phường"}, {"reason", "có dấu hiệu phạm tội"}}, admin_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["agency"], "Công an phường");
  EXPECT_EQ(r.json()["status"], "new");
  EXPECT_TRUE(hasEntry(r.json(), "referred"));
  r = postJson(port(), base + "/comments", {{"text", "Đã liên hệ lại người gọi"}}, admin_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_TRUE(hasEntry(r.json(), "comment"));
}

TEST_F(Incidents, ResolveIsRefusedWhileMandatoryStepsAreOpen) {
  const std::string id = fireCall(admin_)["id"];
  const std::string base = "/api/v1/incidents/" + id;
  auto r = postJson(port(), base + "/resolve", {{"resolution", "đã dập tắt"}}, admin_);
  ASSERT_EQ(r.status, 409u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  EXPECT_EQ(r.json()["type"], "urn:cityioc:problem:sop-steps-open");
  // Step 1 is a form for operators: bad data is refused, an agency user may not do it.
  std::string staff = userToken("staff1", "agency_staff", "46");
  std::string op = userToken("op1", "operator", "46");
  r = postJson(port(), base + "/steps/1/complete",
               {{"data", {{"trapped_people", false}, {"scale", "small"}}}}, staff);
  EXPECT_EQ(r.status, 403u) << r.describe();
  r = postJson(port(), base + "/steps/1/complete", {{"data", {{"scale", "huge"}}}}, op);
  EXPECT_EQ(r.status, 422u) << r.describe();
  r = postJson(port(), base + "/steps/1/complete",
               {{"data", {{"trapped_people", false}, {"scale", "small"}}}}, op);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["sop"]["steps"][0]["status"], "done");
  EXPECT_EQ(r.json()["sop"]["steps"][0]["completed_by"], "op1");
  r = postJson(port(), base + "/steps/2/complete", json::object(), op);
  ASSERT_EQ(r.status, 200u) << r.describe();
  r = postJson(port(), base + "/steps/4/complete",
               {{"data", {{"checked", {"Đã dập tắt hoàn toàn"}}}}}, staff);
  EXPECT_EQ(r.status, 422u) << r.describe();
  r = postJson(
      port(), base + "/steps/4/complete",
      {{"data",
        {{"checked",
          {"Đã dập tắt hoàn toàn", "Không còn người mắc kẹt", "Đã khoanh vùng hiện trường"}}}}},
      staff);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["sop"]["progress"]["mandatory_open"], 0);
  r = postJson(port(), base + "/close", json::object(), admin_);
  EXPECT_EQ(r.status, 409u) << r.describe();  // not resolved yet
  r = postJson(port(), base + "/resolve", {{"resolution", "đã dập tắt"}}, op);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["status"], "resolved");
  r = postJson(port(), base + "/close", json::object(), op);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(r.json()["status"], "closed");
}

TEST_F(Incidents, CameraFireSmokeWithSnapshotIsDeduplicated) {
  const std::string key = ingestKey("46");
  json event = {{"camera_id", "cam-hue-007"}, {"event_type", "fire_smoke"},
                {"confidence", 0.92},         {"time", "2025-06-01T08:00:00Z"},
                {"location", kPhuXuan},       {"snapshot", kPngBase64}};
  auto r = postJson(port(), "/api/v1/camera-events", event, key);
  ASSERT_EQ(r.status, 201u) << r.describe();
  EXPECT_FALSE(r.json()["deduplicated"].get<bool>());
  json inc = r.json()["incident"];
  EXPECT_EQ(inc["category"], "fire");
  EXPECT_EQ(inc["priority"], "critical");
  EXPECT_EQ(inc["agency"], "PCCC Huế");
  ASSERT_EQ(inc["attachments"].size(), 1u);
  EXPECT_EQ(inc["attachments"][0]["content_type"], "image/png");
  const std::string id = inc["id"];
  r = postJson(port(), "/api/v1/camera-events", event, key);
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_TRUE(r.json()["deduplicated"].get<bool>());
  EXPECT_EQ(r.json()["incident_id"], id);
  EXPECT_EQ(r.json()["incident"]["source"]["count"], 2);
  EXPECT_TRUE(hasEntry(r.json()["incident"], "camera_event_repeated"));
  EXPECT_EQ(total(), 1u);
  auto file = get(port(), "/api/v1/incidents/" + id + "/attachments/1", admin_);
  ASSERT_EQ(file.status, 200u) << file.describe();
  EXPECT_EQ(file.header("Content-Type"), "image/png");
  EXPECT_EQ(file.body.substr(1, 3), "PNG");
  // Another type from the same camera is another incident.
  event["event_type"] = "illegal_parking";
  event.erase("snapshot");
  r = postJson(port(), "/api/v1/camera-events", event, key);
  ASSERT_EQ(r.status, 201u) << r.describe();
  EXPECT_EQ(r.json()["incident"]["category"], "illegal_parking");
}

TEST_F(Incidents, BadInputIsAProblemAndNothingIsStored) {
  const std::string key = ingestKey("46");
  auto expect = [&](const HttpResponse& r, unsigned st) {
    EXPECT_EQ(r.status, st) << r.describe();
    EXPECT_TRUE(r.isProblem());
  };
  expect(postJson(port(), "/api/v1/incidents",
                  {{"title", "x"}, {"category", "alien_invasion"}, {"location", kPhuXuan}}, admin_),
         422);
  expect(postJson(port(), "/api/v1/hotline-calls",
                  {{"line", "114"}, {"caller_number", "0905"}, {"summary", "cháy"}}, admin_),
         422);  // neither location nor address
  expect(postJson(port(), "/api/v1/hotline-calls",
                  {{"line", "999"}, {"caller_number", "0905"}, {"summary", "x"}, {"address", "a"}},
                  admin_),
         422);
  json event = {{"camera_id", "cam-1"}, {"event_type", "fire_smoke"}, {"location", kPhuXuan}};
  json bad64 = event;
  bad64["snapshot"] = "!!!not base64!!!";
  expect(postJson(port(), "/api/v1/camera-events", bad64, key), 400);
  json fake = event;
  fake["snapshot"] = "R0lGODlhAQABAAAAACw=";  // GIF, not JPEG/PNG
  expect(postJson(port(), "/api/v1/camera-events", fake, key), 422);
  json noloc = event;
  noloc.erase("location");
  expect(postJson(port(), "/api/v1/camera-events", noloc, key), 422);
  json badtype = event;
  badtype["event_type"] = "ufo";
  expect(postJson(port(), "/api/v1/camera-events", badtype, key), 422);
  RequestOptions o;
  o.body = "{not json";
  o.bearer = admin_;
  expect(request(port(), "POST", "/api/v1/incidents", o), 400);
  EXPECT_EQ(total(), 0u);
  EXPECT_FALSE(std::filesystem::exists(server_.dataDir() + "/attachments/incidents") &&
               !std::filesystem::is_empty(server_.dataDir() + "/attachments/incidents"));
}

TEST_F(Incidents, OtherUnitsNeitherSeeNorTouchIt) {
  const std::string id = fireCall(admin_)["id"];
  std::string hanoi = userToken("hn-op", "operator", "01");
  std::string hue = userToken("hue-op", "operator", "46");
  EXPECT_EQ(get(port(), "/api/v1/incidents/" + id, hanoi).status, 404u);
  EXPECT_EQ(total(hanoi), 0u);
  auto r = postJson(port(), "/api/v1/incidents/" + id + "/assign", {{"assignee", "x"}}, hanoi);
  EXPECT_EQ(r.status, 404u) << r.describe();
  EXPECT_TRUE(r.isProblem());
  EXPECT_EQ(get(port(), "/api/v1/incidents/" + id, hue).status, 200u);
  EXPECT_EQ(total(hue), 1u);
  // A Hà Nội operator cannot open an incident located in Huế.
  r = postJson(port(), "/api/v1/incidents",
               {{"title", "x"}, {"category", "fire"}, {"location", kPhuXuan}}, hanoi);
  EXPECT_EQ(r.status, 403u) << r.describe();
  // Citizens have no incident access at all.
  std::string citizen = userToken("cit1", "citizen", "46");
  EXPECT_EQ(get(port(), "/api/v1/incidents", citizen).status, 403u);
}

TEST_F(Incidents, SurvivesKillNine) {
  const std::string id = fireCall(admin_)["id"];
  auto r = postJson(port(), "/api/v1/incidents/" + id + "/assign", {{"assignee", "doi-1"}}, admin_);
  ASSERT_EQ(r.status, 200u);
  server_.kill9();
  ASSERT_TRUE(server_.restart());
  admin_ = login(port(), kAdminUser, kAdminPassword);
  auto g = get(port(), "/api/v1/incidents/" + id, admin_);
  ASSERT_EQ(g.status, 200u) << g.describe();
  EXPECT_EQ(g.json()["status"], "assigned");
  EXPECT_EQ(g.json()["agency"], "PCCC Huế");
  EXPECT_EQ(g.json()["sop"]["template_id"], "fire");
  // Numbering continues.
  json second = fireCall(admin_);
  EXPECT_NE(second["id"], id);
}

class IncidentSla : public Incidents {
 protected:
  IncidentSla()
      : Incidents({{"CITYIOC_INCIDENTS_CALENDAR", "24x7"}, {"CITYIOC_INCIDENTS_TICK_MS", "100"}}) {}
};

TEST_F(IncidentSla, OverdueIncidentIsEscalatedUpTheUnitHierarchy) {
  auto r = put(port(), "/api/v1/sla-policies",
               {{"policies",
                 {{{"category", "*"},
                   {"priority", "*"},
                   {"duration", {{"working_hours", 0.0005}}},  // 1.8 s
                   {"reminders_pct", {50}},
                   {"due_soon_pct", 75}}}}},
               admin_);
  ASSERT_EQ(r.status, 200u) << r.describe();
  const std::string id = fireCall(admin_)["id"];
  json inc;
  ASSERT_TRUE(eventually(
      [&] {
        inc = get(port(), "/api/v1/incidents/" + id, admin_).json();
        return inc["sla"]["state"] == "overdue" && hasEntry(inc, "escalated");
      },
      15s))
      << inc.dump(2);
  EXPECT_TRUE(hasEntry(inc, "reminder"));
  EXPECT_EQ(inc["sla"]["escalation_level"], 1);
  EXPECT_EQ(inc["sla"]["escalated_to"], "46");
  auto list = get(port(), "/api/v1/incidents?overdue=true", admin_).json();
  EXPECT_EQ(list["total"], 1);
  auto audit = get(port(), "/api/v1/audit?limit=500", admin_);
  EXPECT_NE(audit.body.find("sla_policies.put"), std::string::npos);
}

}  // namespace
}  // namespace ioc::it
