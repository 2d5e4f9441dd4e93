// Time-series retention through the API: an admin sets and clears per-attribute overrides, bad
// bodies are refused, the settings survive a restart and every change is audited.
#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

class Retention : public testing::Test {
 protected:
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    if (server_.running()) {
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body) {
    RequestOptions o;
    o.bearer = admin_;
    o.body = body;
    return request(port(), method, path, o);
  }

  ServerProcess server_{{}, {{"CITYIOC_TIMESERIES_RAW_RETENTION_DAYS", "90"}}};
  std::string admin_;
};

TEST_F(Retention, OverridesAreSetListedClearedAndKeptAcrossRestarts) {
  const std::string base = "/api/v1/timeseries/retention";
  auto shown = get(port(), base, admin_);
  ASSERT_EQ(shown.status, 200u) << shown.describe();
  EXPECT_EQ(shown.json(),
            json({{"rawDays", 90}, {"minuteRollupDays", 400}, {"attributes", json::object()}}));

  auto set = send("PUT", base + "/pm25", R"({"rawDays": 30})");
  ASSERT_EQ(set.status, 200u) << set.describe();
  EXPECT_EQ(set.json()["attributes"], json({{"pm25", 30}}));
  for (const char* bad : {R"({"rawDays": -1})", R"({"rawDays": 1.5})", R"({"days": 3})",
                          R"({"rawDays": 40000})", R"([30])", "not json"}) {
    auto r = send("PUT", base + "/pm25", bad);
    // 422 where the body is JSON of the wrong shape (the API's convention), else 400.
    EXPECT_TRUE(r.status == 400u || r.status == 422u) << bad << " → " << r.describe();
    EXPECT_TRUE(r.isProblem()) << r.describe();
  }
  ASSERT_EQ(server_.terminate(), 0) << server_.stderrText();
  ASSERT_TRUE(server_.restart());
  admin_ = login(port(), kAdminUser, kAdminPassword);
  EXPECT_EQ(get(port(), base, admin_).json()["attributes"], json({{"pm25", 30}}));

  EXPECT_EQ(send("DELETE", base + "/pm25", "").status, 204u);
  auto again = send("DELETE", base + "/pm25", "");
  EXPECT_EQ(again.status, 404u) << again.describe();
  EXPECT_EQ(get(port(), base, admin_).json()["attributes"], json::object());

  auto audit = get(port(), "/api/v1/audit?limit=100", admin_);
  ASSERT_EQ(audit.status, 200u) << audit.describe();
  std::vector<std::string> actions;
  for (const auto& e : audit.jsonField("items")) {
    const std::string action = e.value("action", "");
    if (action.rfind("timeseries.retention.", 0) == 0) actions.push_back(action);
  }
  EXPECT_EQ(actions.size(), 2u) << audit.body;
}

}  // namespace
}  // namespace ioc::it
