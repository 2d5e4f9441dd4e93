// `cityioc simulate` drives a running server through its real HTTP paths: NGSI-LD batch upsert
// for the devices, then telemetry lines every tick.
#include <gtest/gtest.h>

#include "core/json.h"
#include "integration/harness.h"

namespace ioc::it {
namespace {

std::string lastLine(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

TEST(Simulate, CreatesTheDemoCityAndReportsReadings) {
  ServerProcess server;
  ASSERT_TRUE(server.start());
  auto key = runCli({"key", "add", "--data", server.dataDir(), "--name", "sim", "--scope",
                     "integration", "--unit", "46"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  const std::string secret = lastLine(key.out);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto run = runCli({"simulate", "--url", url, "--key", secret, "--devices", "60", "--interval-ms",
                     "100", "--ticks", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("tick 2:"), std::string::npos) << run.out;

  // One air-quality station per Huế ward (40), each with a history of two pm25 readings.
  auto count =
      get(server.port(), "/ngsi-ld/v1/entities?type=AirQualityObserved&limit=0&count=true", secret);
  ASSERT_EQ(count.status, 200u) << count.body;
  EXPECT_EQ(count.header("NGSILD-Results-Count"), "40");
  auto history = get(server.port(),
                     "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:hue-19789"
                     "?attrs=pm25",
                     secret);
  ASSERT_EQ(history.status, 200u) << history.body;
  auto j = ioc::Json::parse(history.body);
  ASSERT_TRUE(j.contains("pm25")) << history.body;
  // The Thuận Hoá station replays the real Hanoi series: 94.7 then 88.7 µg/m³.
  ASSERT_EQ(j["pm25"].size(), 2u) << history.body;
  EXPECT_DOUBLE_EQ(j["pm25"][0]["value"].get<double>(), 94.7);
  EXPECT_DOUBLE_EQ(j["pm25"][1]["value"].get<double>(), 88.7);
}

TEST(Simulate, TemporalQueryFormCoversEverySelectedEntity) {
  ServerProcess server;
  ASSERT_TRUE(server.start());
  auto key = runCli({"key", "add", "--data", server.dataDir(), "--name", "sim", "--scope",
                     "integration", "--unit", "46"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  const std::string secret = lastLine(key.out);
  auto run = runCli({"simulate", "--url", "http://127.0.0.1:" + std::to_string(server.port()),
                     "--key", secret, "--devices", "60", "--interval-ms", "100", "--ticks", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // The eight river gauges, newest water level of each.
  auto r = get(server.port(),
               "/ngsi-ld/v1/temporal/entities?type=WaterObserved&attrs=height&lastN=1&count=true",
               secret);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("NGSILD-Results-Count"), "8");
  auto j = ioc::Json::parse(r.body);
  ASSERT_EQ(j.size(), 8u) << r.body;
  for (const auto& e : j) {
    ASSERT_TRUE(e.contains("height")) << e.dump();
    EXPECT_EQ(e["height"].size(), 1u) << e.dump();
  }
  // Three readings each without lastN; a bad timerel is a BadRequestData.
  auto all =
      get(server.port(), "/ngsi-ld/v1/temporal/entities?type=WaterObserved&attrs=height", secret);
  ASSERT_EQ(all.status, 200u) << all.body;
  EXPECT_EQ(ioc::Json::parse(all.body)[0]["height"].size(), 3u) << all.body;
  auto bad =
      get(server.port(), "/ngsi-ld/v1/temporal/entities?type=WaterObserved&timerel=soon", secret);
  EXPECT_EQ(bad.status, 400u) << bad.body;
  auto none = get(server.port(), "/ngsi-ld/v1/temporal/entities", secret);
  EXPECT_EQ(none.status, 400u) << none.body;
}

TEST(Simulate, RefusesBadArgumentsAndBadKeys) {
  EXPECT_NE(runCli({"simulate", "--url", "ftp://x", "--key", "k"}).exit_code, 0);
  EXPECT_NE(
      runCli({"simulate", "--url", "http://127.0.0.1:1", "--key", "k", "--devices", "5"}).exit_code,
      0);
  ServerProcess server;
  ASSERT_TRUE(server.start());
  auto run = runCli({"simulate", "--url", "http://127.0.0.1:" + std::to_string(server.port()),
                     "--key", "ck_wrong", "--ticks", "1"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("401"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace ioc::it
