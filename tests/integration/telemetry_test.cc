// Plain-device telemetry (POST /api/v1/telemetry, NDJSON) and the NGSI-LD temporal API
// (GET /ngsi-ld/v1/temporal/entities/{id}) through the real binary: per-line acceptance and
// rejection, raw history, lastN, timerel, temporalValues, aggregation per period, parameter
// validation, unit scoping, and durability across kill -9.
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

constexpr const char* kErrors = "https://uri.etsi.org/ngsi-ld/errors/";
const std::string kEntityId = "urn:ngsi-ld:AirQualityObserved:tele-hue-1";
const std::string kTemporal = "/ngsi-ld/v1/temporal/entities/" + kEntityId;

//! `cityioc key add`; the key is the last line of its output.
std::string addKeyCli(const std::string& data_dir, const std::string& name,
                      const std::string& scope, const std::string& unit) {
  std::vector<std::string> args = {"key",    "add", "--data",  data_dir,
                                   "--name", name,  "--scope", scope};
  if (!unit.empty()) {
    args.push_back("--unit");
    args.push_back(unit);
  }
  auto r = runCli(args);
  EXPECT_EQ(r.exit_code, 0) << "cityioc key add " << name << ": " << r.out << r.err;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  size_t nl = out.rfind('\n');
  std::string key = nl == std::string::npos ? out : out.substr(nl + 1);
  EXPECT_FALSE(key.empty()) << r.out;
  return key;
}

//! Instants as the server may write them: "…:00Z" and "…:00.000Z" are the same time.
std::string instant(std::string s) {
  if (s.size() > 5 && s.ends_with(".000Z")) s = s.substr(0, s.size() - 5) + "Z";
  return s;
}

//! A raw history [{type, value, observedAt}…] as (value, time) pairs, checking each item's shape.
std::vector<std::pair<double, std::string>> rawSeries(const json& history) {
  std::vector<std::pair<double, std::string>> out;
  if (!history.is_array()) {
    ADD_FAILURE() << "raw history is not an array: " << history.dump();
    return out;
  }
  for (const auto& item : history) {
    EXPECT_EQ(item.value("type", ""), "Property") << item.dump();
    if (!item.contains("value") || !item["value"].is_number() || !item.contains("observedAt") ||
        !item["observedAt"].is_string()) {
      ADD_FAILURE() << "not {type, value, observedAt}: " << item.dump();
      continue;
    }
    out.emplace_back(item["value"].get<double>(), instant(item["observedAt"].get<std::string>()));
  }
  return out;
}

using Series = std::vector<std::pair<double, std::string>>;

//! [[value, time]…] or [[value, start, end]…] with the instants normalized.
json normalizedPairs(const json& rows) {
  json out = json::array();
  if (!rows.is_array()) return rows;
  for (const auto& row : rows) {
    json r = json::array();
    for (const auto& x : row) r.push_back(x.is_string() ? json(instant(x.get<std::string>())) : x);
    out.push_back(r);
  }
  return out;
}

std::string line(const json& j) {
  return j.dump() + "\n";
}

json reading(const std::string& attr, const json& value, const std::string& at,
             const std::string& entity = kEntityId) {
  json j = {{"entity", entity}, {"attr", attr}, {"value", value}};
  if (!at.empty()) j["observedAt"] = at;
  return j;
}

//! Checks an NGSI-LD error answer: status and error type.
testing::AssertionResult isLdError(const HttpResponse& r, unsigned status,
                                   const std::string& type) {
  if (r.status != status) {
    return testing::AssertionFailure() << "status is not " << status << " in " << r.describe();
  }
  if (r.json().value("type", "") != kErrors + type) {
    return testing::AssertionFailure()
           << "type is not " << kErrors << type << " in " << r.describe();
  }
  return testing::AssertionSuccess();
}

class Telemetry : public testing::Test {
 protected:
  void SetUp() override {
    key46_ = addKeyCli(server_.dataDir(), "tele-46", "integration", "46");
    key01_ = addKeyCli(server_.dataDir(), "tele-01", "integration", "01");
    ASSERT_TRUE(server_.start());
    auto created = call("POST", "/ngsi-ld/v1/entities",
                        json({{"id", kEntityId},
                              {"type", "AirQualityObserved"},
                              {"status", {{"type", "Property"}, {"value", "online"}}}})
                            .dump());
    ASSERT_EQ(created.status, 201u) << created.describe();
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& key = "",
                    const std::string& content_type = "application/json") {
    RequestOptions o;
    o.bearer = key.empty() ? key46_ : key;
    o.body = body;
    o.content_type = content_type;
    return request(server_.port(), method, target, o);
  }
  HttpResponse telemetry(const std::string& ndjson, const std::string& key = "",
                         const std::string& content_type = "application/x-ndjson") {
    return call("POST", "/api/v1/telemetry", ndjson, key, content_type);
  }
  json history(const std::string& query = "", const std::string& key = "") {
    auto r = call("GET", kTemporal + (query.empty() ? "" : "?" + query), "", key);
    EXPECT_EQ(r.status, 200u) << query << ": " << r.describe();
    return r.json();
  }
  //! Readings of pm25 (08:10 12, 08:40 20, 09:15 30, 09:45 16) and no2 (08:20 7), all good.
  void postGoodReadings() {
    auto r = telemetry(line(reading("pm25", 12, "2026-03-01T08:10:00Z")) +
                       line(reading("no2", 7, "2026-03-01T08:20:00Z")) +
                       line(reading("pm25", 20, "2026-03-01T08:40:00Z")) +
                       line(reading("pm25", 30, "2026-03-01T09:15:00Z")) +
                       line(reading("pm25", 16, "2026-03-01T09:45:00Z")));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.jsonField("accepted"), 5) << r.body;
  }

  ServerProcess server_;
  std::string key46_;
  std::string key01_;
};

// ---------------------------------------------------------------------------------------------
// POST /api/v1/telemetry

TEST_F(Telemetry, LinesAreAcceptedOrRejectedOneByOne) {
  const std::string body =
      line(reading("pm25", 12, "2026-03-01T08:10:00Z")) +                        // 1 ok
      line(reading("pm25", 20, "2026-03-01T08:40:00Z")) +                        // 2 ok
      line(reading("pm25", 5, "yesterday")) +                                    // 3 bad time
      line(reading("pm25", 1, "", "urn:ngsi-ld:AirQualityObserved:nowhere")) +   // 4 unknown
      "{\"entity\": \"" + kEntityId + "\", \"attr\": \"pm25\", \"value\": \n" +  // 5 malformed
      line(
          {{"entity", kEntityId}, {"attr", "pm25"}, {"observedAt", "2026-03-01T08:50:00Z"}}) +  // 6
      line(reading("pm25", 30, "2026-03-01T09:15:00Z"));  // 7 ok
  auto r = telemetry(body);
  ASSERT_EQ(r.status, 207u) << r.describe();
  json j = r.json();
  EXPECT_EQ(j.value("accepted", -1), 3) << r.body;
  std::vector<int> lines;
  for (const auto& rej : j.value("rejected", json::array())) {
    lines.push_back(rej.value("line", -1));
    EXPECT_TRUE(rej.contains("error") && rej["error"].is_string() &&
                !rej["error"].get<std::string>().empty())
        << rej.dump();
  }
  EXPECT_EQ(lines, (std::vector<int>{3, 4, 5, 6})) << r.body;

  // The last good reading is the attribute's current value; every good one is history.
  auto e = call("GET", "/ngsi-ld/v1/entities/" + kEntityId);
  ASSERT_EQ(e.status, 200u) << e.describe();
  EXPECT_EQ(e.json()["pm25"].value("value", json()), 30) << e.body;
  EXPECT_EQ(instant(e.json()["pm25"].value("observedAt", "")), "2026-03-01T09:15:00Z") << e.body;
  EXPECT_EQ(rawSeries(history()["pm25"]), (Series{{12, "2026-03-01T08:10:00Z"},
                                                  {20, "2026-03-01T08:40:00Z"},
                                                  {30, "2026-03-01T09:15:00Z"}}));
  auto unknown = call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:nowhere");
  EXPECT_EQ(unknown.status, 404u) << "telemetry must not create entities: " << unknown.describe();

  // All good: 200, nothing rejected.
  auto ok = telemetry(line(reading("pm25", 16, "2026-03-01T09:45:00Z")) +
                      line(reading("no2", 7, "2026-03-01T08:20:00Z")));
  ASSERT_EQ(ok.status, 200u) << ok.describe();
  EXPECT_EQ(ok.jsonField("accepted"), 2) << ok.body;
  EXPECT_EQ(ok.jsonField("rejected"), json::array()) << ok.body;

  // Wrong content type: 415 and nothing stored.
  auto xml = telemetry(line(reading("pm25", 99, "2026-03-01T11:00:00Z")), "", "application/xml");
  EXPECT_EQ(xml.status, 415u) << xml.describe();
  EXPECT_TRUE(xml.isProblem());
  EXPECT_EQ(rawSeries(history("attrs=pm25")["pm25"]).size(), 4u);

  // Another unit's key cannot feed this entity: its line is rejected like an unknown entity.
  auto other = telemetry(line(reading("pm25", 666, "2026-03-01T10:00:00Z")), key01_);
  ASSERT_EQ(other.status, 207u) << other.describe();
  EXPECT_EQ(other.jsonField("accepted"), 0) << other.body;
  EXPECT_EQ(rawSeries(history("attrs=pm25")["pm25"]).size(), 4u) << "unit 01 wrote unit 46's data";
  EXPECT_EQ(call("GET", "/ngsi-ld/v1/entities/" + kEntityId).json()["pm25"].value("value", json()),
            16);
}

// ---------------------------------------------------------------------------------------------
// GET /ngsi-ld/v1/temporal/entities/{id}

TEST_F(Telemetry, TemporalHistory) {
  ASSERT_NO_FATAL_FAILURE(postGoodReadings());

  // Raw: every reading in time order, per attribute.
  json all = history();
  EXPECT_EQ(all.value("id", ""), kEntityId);
  EXPECT_EQ(all.value("type", ""), "AirQualityObserved");
  EXPECT_EQ(rawSeries(all["pm25"]), (Series{{12, "2026-03-01T08:10:00Z"},
                                            {20, "2026-03-01T08:40:00Z"},
                                            {30, "2026-03-01T09:15:00Z"},
                                            {16, "2026-03-01T09:45:00Z"}}))
      << all.dump();
  EXPECT_EQ(rawSeries(all["no2"]), (Series{{7, "2026-03-01T08:20:00Z"}})) << all.dump();
  EXPECT_FALSE(all.contains("status")) << "text values have no numeric history";

  json only = history("attrs=no2");
  EXPECT_FALSE(only.contains("pm25")) << only.dump();
  EXPECT_EQ(rawSeries(only["no2"]).size(), 1u);

  // lastN: the newest N per attribute, still in time order.
  json last = history("lastN=1");
  EXPECT_EQ(rawSeries(last["pm25"]), (Series{{16, "2026-03-01T09:45:00Z"}})) << last.dump();
  EXPECT_EQ(rawSeries(last["no2"]), (Series{{7, "2026-03-01T08:20:00Z"}})) << last.dump();
  EXPECT_EQ(rawSeries(history("lastN=2&attrs=pm25")["pm25"]),
            (Series{{30, "2026-03-01T09:15:00Z"}, {16, "2026-03-01T09:45:00Z"}}));

  // timerel.
  json before = history("timerel=before&timeAt=" + urlEncode("2026-03-01T09:00:00Z"));
  EXPECT_EQ(rawSeries(before["pm25"]),
            (Series{{12, "2026-03-01T08:10:00Z"}, {20, "2026-03-01T08:40:00Z"}}))
      << before.dump();
  EXPECT_EQ(rawSeries(before["no2"]).size(), 1u);
  json after = history("timerel=after&timeAt=" + urlEncode("2026-03-01T09:00:00Z"));
  EXPECT_EQ(rawSeries(after["pm25"]),
            (Series{{30, "2026-03-01T09:15:00Z"}, {16, "2026-03-01T09:45:00Z"}}))
      << after.dump();
  EXPECT_TRUE(!after.contains("no2") || after["no2"].empty()) << after.dump();
  json between = history("timerel=between&timeAt=" + urlEncode("2026-03-01T08:30:00Z") +
                         "&endTimeAt=" + urlEncode("2026-03-01T09:30:00Z"));
  EXPECT_EQ(rawSeries(between["pm25"]),
            (Series{{20, "2026-03-01T08:40:00Z"}, {30, "2026-03-01T09:15:00Z"}}))
      << between.dump();
  EXPECT_TRUE(!between.contains("no2") || between["no2"].empty()) << between.dump();
  // Offsets are honoured: 16:00+07:00 is 09:00Z.
  json offset = history("timerel=before&timeAt=" + urlEncode("2026-03-01T16:00:00+07:00"));
  EXPECT_EQ(rawSeries(offset["pm25"]).size(), 2u) << offset.dump();

  // temporalValues: [[value, time]…].
  json tv = history("options=temporalValues&attrs=pm25");
  ASSERT_TRUE(tv.contains("pm25")) << tv.dump();
  EXPECT_EQ(tv["pm25"].value("type", ""), "Property") << tv.dump();
  EXPECT_EQ(normalizedPairs(tv["pm25"].value("values", json())),
            json::parse(R"([[12, "2026-03-01T08:10:00Z"], [20, "2026-03-01T08:40:00Z"],
                            [30, "2026-03-01T09:15:00Z"], [16, "2026-03-01T09:45:00Z"]])"))
      << tv.dump();

  // Aggregation per hour: 08:00–09:00 has 12 and 20; 09:00–10:00 has 30 and 16.
  json ag = history("aggrMethods=totalCount,sum,avg,min,max&aggrPeriodDuration=PT1H");
  ASSERT_TRUE(ag.contains("pm25")) << ag.dump();
  const json& pm = ag["pm25"];
  EXPECT_EQ(pm.value("type", ""), "Property") << pm.dump();
  const char* h8 = "2026-03-01T08:00:00Z";
  const char* h9 = "2026-03-01T09:00:00Z";
  const char* h10 = "2026-03-01T10:00:00Z";
  EXPECT_EQ(normalizedPairs(pm.value("totalCount", json())), json({{2, h8, h9}, {2, h9, h10}}))
      << pm.dump();
  EXPECT_EQ(normalizedPairs(pm.value("sum", json())), json({{32, h8, h9}, {46, h9, h10}}));
  EXPECT_EQ(normalizedPairs(pm.value("avg", json())), json({{16, h8, h9}, {23, h9, h10}}));
  EXPECT_EQ(normalizedPairs(pm.value("min", json())), json({{12, h8, h9}, {16, h9, h10}}));
  EXPECT_EQ(normalizedPairs(pm.value("max", json())), json({{20, h8, h9}, {30, h9, h10}}));
  EXPECT_EQ(normalizedPairs(ag["no2"].value("sum", json())), json({{7, h8, h9}})) << ag.dump();
  // Aggregation after a time filter.
  json ag_after =
      history("aggrMethods=sum&aggrPeriodDuration=PT1H&attrs=pm25&timerel=after&timeAt=" +
              urlEncode("2026-03-01T08:30:00Z"));
  EXPECT_EQ(normalizedPairs(ag_after["pm25"].value("sum", json())),
            json({{20, h8, h9}, {46, h9, h10}}))
      << ag_after.dump();

  // Bad parameters: 400 BadRequestData.
  for (const std::string& bad :
       {"timerel=during&timeAt=" + urlEncode("2026-03-01T09:00:00Z"), std::string("timerel=before"),
        std::string("timerel=before&timeAt=yesterday"),
        "timerel=between&timeAt=" + urlEncode("2026-03-01T09:00:00Z"),
        "timerel=between&timeAt=" + urlEncode("2026-03-01T09:00:00Z") +
            "&endTimeAt=" + urlEncode("2026-03-01T08:00:00Z"),
        "timeAt=" + urlEncode("2026-03-01T09:00:00Z"), std::string("aggrMethods=median"),
        std::string("aggrMethods=sum,stddev&aggrPeriodDuration=PT1H"),
        std::string("aggrMethods=sum&aggrPeriodDuration=an-hour"), std::string("lastN=0"),
        std::string("lastN=abc")}) {
    auto r = call("GET", kTemporal + "?" + bad);
    EXPECT_TRUE(isLdError(r, 400, "BadRequestData")) << bad;
  }

  // Unit scoping: unit 01 neither sees the entity's history nor learns that it exists.
  auto other = call("GET", kTemporal, "", key01_);
  EXPECT_TRUE(isLdError(other, 404, "ResourceNotFound")) << other.describe();
  auto missing = call("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:X:none");
  EXPECT_TRUE(isLdError(missing, 404, "ResourceNotFound"));
}

TEST_F(Telemetry, LastNIsTheNewestReadingEvenWithALongHistory) {
  // A sensor reporting every second has more than 100,000 readings after about 28 hours; lastN=1
  // must still be the newest one, not whatever follows the oldest 100,000. The long history is
  // written straight into the store while the server is stopped (through the API it takes
  // minutes under the sanitizers); the newest reading goes through the API.
  auto first = telemetry(line(reading("pm25", 1, "2025-12-31T23:59:59Z")));
  ASSERT_EQ(first.status, 200u) << first.describe();
  ASSERT_EQ(server_.terminate(), 0) << server_.stderrText();
  sqlite3* db = nullptr;
  const std::string path = server_.dataDir() + "/cityioc.db";
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  sqlite3_busy_timeout(db, 5000);
  // 100,000 readings, one a second from 2026-01-01T00:00:00Z, in the series of pm25.
  const std::string sql =
      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) "
      "INSERT INTO points_log(series_id, at_ms, value) SELECT s.id, 1767225600000 + i * 1000, 1 "
      "FROM n, series s WHERE s.entity_id = '" +
      kEntityId + "' AND s.attribute = 'https://uri.etsi.org/ngsi-ld/default-context/pm25'";
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err ? err : "";
  sqlite3_free(err);
  const int inserted = sqlite3_changes(db);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
  ASSERT_EQ(inserted, 100000) << "the store's schema changed: adapt this test";
  ASSERT_TRUE(server_.restart());

  auto fresh = telemetry(line(reading("pm25", 99, "2026-03-01T00:00:00Z")));
  ASSERT_EQ(fresh.status, 200u) << fresh.describe();
  json last = history("lastN=1&attrs=pm25");
  EXPECT_EQ(rawSeries(last["pm25"]), (Series{{99, "2026-03-01T00:00:00Z"}}));
  json recent = history("attrs=pm25&timerel=after&timeAt=" + urlEncode("2026-02-01T00:00:00Z"));
  EXPECT_EQ(rawSeries(recent["pm25"]), (Series{{99, "2026-03-01T00:00:00Z"}}));
}

TEST_F(Telemetry, DeletedEntityHistoryIsNotHandedToAnotherUnit) {
  // Unit 46 records readings, then deletes the entity; unit 01 later creates an entity with the
  // same id. Unit 01 must not read unit 46's measurements through the temporal API.
  ASSERT_NO_FATAL_FAILURE(postGoodReadings());
  auto del = call("DELETE", "/ngsi-ld/v1/entities/" + kEntityId);
  ASSERT_EQ(del.status, 204u) << del.describe();
  auto created = call("POST", "/ngsi-ld/v1/entities",
                      json({{"id", kEntityId}, {"type", "AirQualityObserved"}}).dump(), key01_);
  ASSERT_EQ(created.status, 201u) << created.describe();
  json seen = history("", key01_);
  EXPECT_TRUE(!seen.contains("pm25") || seen["pm25"].empty())
      << "unit 01 reads unit 46's readings: " << seen.dump();
  EXPECT_TRUE(!seen.contains("no2") || seen["no2"].empty()) << seen.dump();
}

TEST_F(Telemetry, LocationReadingsStayGeoProperties) {
  // "location" is a GeoProperty everywhere else in the API (a plain Property is rejected); a
  // tracker's position sent as telemetry must not turn it into a Property that geo-queries
  // ignore, and a number is no location at all.
  const json where = {{"type", "Point"}, {"coordinates", {107.59, 16.46}}};
  auto r = telemetry(line(reading("location", where, "2026-03-01T08:00:00Z")) +
                     line(reading("location", 5, "2026-03-01T08:01:00Z")));
  ASSERT_TRUE(r.status == 200u || r.status == 207u) << r.describe();
  std::vector<int> rejected;
  for (const auto& rej : r.json().value("rejected", json::array())) {
    rejected.push_back(rej.value("line", -1));
  }
  EXPECT_TRUE(std::find(rejected.begin(), rejected.end(), 2) != rejected.end())
      << "a number was accepted as a location: " << r.body;
  auto e = call("GET", "/ngsi-ld/v1/entities/" + kEntityId);
  ASSERT_EQ(e.status, 200u) << e.describe();
  if (e.json().contains("location")) {
    EXPECT_EQ(e.json()["location"].value("type", ""), "GeoProperty") << e.body;
  }
  const bool first_accepted = std::find(rejected.begin(), rejected.end(), 1) == rejected.end();
  if (first_accepted) {
    auto near = call("GET", "/ngsi-ld/v1/entities?type=AirQualityObserved&georel=" +
                                urlEncode("near;maxDistance==100") +
                                "&geometry=Point&coordinates=" + urlEncode("[107.59,16.46]"));
    ASSERT_EQ(near.status, 200u) << near.describe();
    EXPECT_EQ(near.json().size(), 1u)
        << "the reported position is invisible to geo-queries: " << near.body;
  }
}

// ---------------------------------------------------------------------------------------------
// Durability

TEST_F(Telemetry, AcknowledgedReadingsSurviveKill9) {
  ASSERT_NO_FATAL_FAILURE(postGoodReadings());
  auto r = telemetry(line(reading("pm25", 50, "2026-03-01T10:30:00Z")));
  ASSERT_EQ(r.status, 200u) << r.describe();
  server_.kill9();
  ASSERT_TRUE(server_.restart());

  json all = history();
  EXPECT_EQ(rawSeries(all["pm25"]), (Series{{12, "2026-03-01T08:10:00Z"},
                                            {20, "2026-03-01T08:40:00Z"},
                                            {30, "2026-03-01T09:15:00Z"},
                                            {16, "2026-03-01T09:45:00Z"},
                                            {50, "2026-03-01T10:30:00Z"}}))
      << all.dump();
  EXPECT_EQ(rawSeries(all["no2"]).size(), 1u) << all.dump();
  auto e = call("GET", "/ngsi-ld/v1/entities/" + kEntityId);
  ASSERT_EQ(e.status, 200u) << e.describe();
  EXPECT_EQ(e.json()["pm25"].value("value", json()), 50) << e.body;
  EXPECT_TRUE(isLdError(call("GET", kTemporal, "", key01_), 404, "ResourceNotFound"))
      << "scoping survives the restart";
}

}  // namespace
}  // namespace ioc::it
