// Remote @contexts (downloaded once from a local web server started by the test, cached and kept
// across restarts), the /jsonldContexts management API (ETSI GS CIM 009 §5.13), the built-in
// Smart Data Models contexts, type and attribute details (§5.7.5–5.7.10), and `cityioc import
// csv` with the temporal API answering the imported history.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "integration/harness.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

const std::string kBase = "/ngsi-ld/v1";
constexpr const char* kErrors = "https://uri.etsi.org/ngsi-ld/errors/";
const std::string kSdmEnv =
    "https://smart-data-models.github.io/dataModel.Environment/context.jsonld";

std::string linkTo(const std::string& url) {
  return "<" + url +
         ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
}

bool isLdError(const HttpResponse& r, unsigned status, const std::string& type) {
  return r.status == status && r.json().value("type", "") == kErrors + type;
}

//! A tiny HTTP/1.1 server on 127.0.0.1 (one request per connection) serving fixed documents;
//! counts the requests per path. Paths not configured answer 404; "/slow" never answers.
class DocServer {
 public:
  DocServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      throw std::runtime_error("DocServer: bind/listen failed");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~DocServer() { stop(); }
  void stop() {
    if (stop_.exchange(true)) return;
    thread_.join();
    ::close(fd_);
    for (int c : held_) ::close(c);
  }
  void serve(const std::string& path, std::string body, unsigned status = 200) {
    std::lock_guard lock(mu_);
    docs_[path] = {status, std::move(body)};
  }
  int hits(const std::string& path) {
    std::lock_guard lock(mu_);
    return hits_[path];
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 2000) <= 0) break;
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
      const std::string path = sp1 == std::string::npos ? "" : req.substr(sp1 + 1, sp2 - sp1 - 1);
      std::pair<unsigned, std::string> doc{404, "not found"};
      {
        std::lock_guard lock(mu_);
        ++hits_[path];
        if (auto it = docs_.find(path); it != docs_.end()) doc = it->second;
      }
      if (path == "/slow") {
        held_.push_back(c);  // never answered: the client's deadline must end it
        continue;
      }
      std::string res = "HTTP/1.1 " + std::to_string(doc.first) +
                        " X\r\nContent-Type: application/ld+json\r\nContent-Length: " +
                        std::to_string(doc.second.size()) + "\r\nConnection: close\r\n\r\n" +
                        doc.second;
      size_t off = 0;
      while (off < res.size()) {
        ssize_t n = ::write(c, res.data() + off, res.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::pair<unsigned, std::string>> docs_;
  std::map<std::string, int> hits_;
  std::vector<int> held_;
};

std::string addKey(const std::string& data_dir, const std::string& name,
                   const std::string& unit = "") {
  std::vector<std::string> args = {"key",    "add", "--data",  data_dir,
                                   "--name", name,  "--scope", "integration"};
  if (!unit.empty()) {
    args.push_back("--unit");
    args.push_back(unit);
  }
  auto r = runCli(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

HttpResponse call(uint16_t port, const std::string& key, const std::string& method,
                  const std::string& target, const std::string& body = "",
                  const Headers& headers = {}) {
  RequestOptions o;
  o.bearer = key;
  o.body = body;
  o.headers = headers;
  return request(port, method, target, o);
}

json prop(const json& v) {
  return {{"type", "Property"}, {"value", v}};
}

// ---------------------------------------------------------------------------------------------

TEST(RemoteContexts, DownloadedOnceCachedAcrossRestartsAndManaged) {
  DocServer web;
  // Nested: the city context builds on another remote context.
  web.serve(
      "/city2.jsonld",
      json({{"@context", json::array({web.url("/base.jsonld"), {{"pm", "ex:pm25"}}})}}).dump());
  web.serve("/base.jsonld", R"({"@context": {"ex": "https://example.org/air#"}})");
  web.serve("/not-json.jsonld", "<html>hello</html>");
  web.serve("/big.jsonld", "{\"@context\": {\"x\": \"" + std::string(4000, 'x') + "\"}}");
  ServerProcess server({}, {{"CITYIOC_CONTEXT_FETCH_TIMEOUT_MS", "500"},
                            {"CITYIOC_CONTEXT_MAX_DOCUMENT_BYTES", "2048"}});
  const std::string key = addKey(server.dataDir(), "ctx-key");
  ASSERT_TRUE(server.start());
  const uint16_t port = server.port();
  const Headers link = {{"Link", linkTo(web.url("/city2.jsonld"))}};
  const std::string id = "urn:ngsi-ld:AirQualityObserved:remote-1";

  // First sight of the URL on the inline GET route: downloaded on a worker, not an I/O thread.
  auto created = call(port, key, "POST", kBase + "/entities",
                      json({{"id", id}, {"type", "AirQualityObserved"}}).dump());
  ASSERT_EQ(created.status, 201u) << created.describe();
  auto first = call(port, key, "GET", kBase + "/entities/" + id, "", link);
  ASSERT_EQ(first.status, 200u) << first.describe();
  auto appended = call(port, key, "POST", kBase + "/entities/" + id + "/attrs",
                       json({{"pm", prop(42)}}).dump(), link);
  ASSERT_EQ(appended.status, 204u) << appended.describe();
  auto raw = call(port, key, "GET", kBase + "/entities/" + id);
  EXPECT_EQ(raw.json()["https://example.org/air#pm25"], prop(42)) << raw.body;
  auto compacted = call(port, key, "GET", kBase + "/entities/" + id, "", link);
  EXPECT_EQ(compacted.json()["pm"], prop(42)) << compacted.body;
  EXPECT_EQ(web.hits("/city2.jsonld"), 1);
  EXPECT_EQ(web.hits("/base.jsonld"), 1) << "the nested context is fetched once too";

  // Listed as Cached under the original URL; metadata with details=true; served only by origin.
  auto list = get(port, kBase + "/jsonldContexts?kind=Cached");
  ASSERT_EQ(list.status, 200u) << list.describe();
  std::set<std::string> urls;
  for (const auto& u : list.json()) urls.insert(u.get<std::string>());
  EXPECT_TRUE(urls.count(web.url("/city2.jsonld"))) << list.body;
  EXPECT_TRUE(urls.count(web.url("/base.jsonld"))) << list.body;
  EXPECT_TRUE(urls.count(kSdmEnv)) << "built-in contexts are listed as Cached: " << list.body;
  auto hosted = get(port, kBase + "/jsonldContexts?kind=Hosted");
  EXPECT_EQ(hosted.json(), json::array()) << hosted.body;
  EXPECT_TRUE(isLdError(get(port, kBase + "/jsonldContexts?kind=Other"), 400, "BadRequestData"));
  auto details = get(port, kBase + "/jsonldContexts?details=true&kind=Cached");
  json meta;
  for (const auto& m : details.json()) {
    if (m.value("URL", "") == web.url("/city2.jsonld")) meta = m;
  }
  ASSERT_TRUE(meta.is_object()) << details.body;
  EXPECT_EQ(meta["kind"], "Cached");
  EXPECT_TRUE(meta["localId"].is_string());
  EXPECT_TRUE(meta["timestamp"].is_string());
  EXPECT_GE(meta.value("numberOfHits", 0), 1) << meta;
  const std::string by_url = kBase + "/jsonldContexts/" + urlEncode(web.url("/city2.jsonld"));
  EXPECT_TRUE(isLdError(get(port, by_url), 422, "OperationNotSupported"));
  auto one = get(port, by_url + "?details=true");
  ASSERT_EQ(one.status, 200u) << one.describe();
  EXPECT_EQ(one.json()["localId"], meta["localId"]);

  // Failures: not JSON → 400; larger than context.max_document_bytes, unreachable, too slow and
  // 404 → 503 LdContextNotAvailable.
  auto not_json = call(port, key, "GET", kBase + "/entities/" + id, "",
                       {{"Link", linkTo(web.url("/not-json.jsonld"))}});
  EXPECT_TRUE(isLdError(not_json, 400, "BadRequestData")) << not_json.describe();
  for (const std::string& url :
       {web.url("/big.jsonld"), web.url("/missing.jsonld"), web.url("/slow"),
        std::string("http://127.0.0.1:1/nothing-listens-here.jsonld")}) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = call(port, key, "GET", kBase + "/types", "", {{"Link", linkTo(url)}});
    EXPECT_TRUE(isLdError(r, 503, "LdContextNotAvailable")) << url << ": " << r.describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << url;
  }

  // After a restart with the web server gone, the cached copy still works: no new download.
  web.stop();
  ASSERT_EQ(server.terminate(), 0) << server.stderrText();
  ASSERT_TRUE(server.restart());
  auto again = call(server.port(), key, "GET", kBase + "/entities/" + id, "", link);
  ASSERT_EQ(again.status, 200u) << again.describe();
  EXPECT_EQ(again.json()["pm"], prop(42)) << again.body;
  // reload=true needs the origin: 503 and the copy stays; a plain DELETE forgets it.
  const std::string by_url2 = kBase + "/jsonldContexts/" + urlEncode(web.url("/city2.jsonld"));
  auto reload = call(server.port(), key, "DELETE", by_url2 + "?reload=true");
  EXPECT_TRUE(isLdError(reload, 503, "LdContextNotAvailable")) << reload.describe();
  EXPECT_EQ(get(server.port(), by_url2 + "?details=true").status, 200u);
  auto del = call(server.port(), key, "DELETE", by_url2);
  EXPECT_EQ(del.status, 204u) << del.describe();
  EXPECT_EQ(get(server.port(), by_url2 + "?details=true").status, 404u);
  auto gone = call(server.port(), key, "GET", kBase + "/entities/" + id, "", link);
  EXPECT_TRUE(isLdError(gone, 503, "LdContextNotAvailable")) << gone.describe();
}

TEST(RemoteContexts, FetchingCanBeTurnedOffAndHostedReloadIsRefused) {
  DocServer web;
  web.serve("/c.jsonld", R"({"@context": {"a": "https://e.org/a"}})");
  ServerProcess server({}, {{"CITYIOC_CONTEXT_ALLOW_REMOTE_FETCH", "false"}});
  const std::string key = addKey(server.dataDir(), "ctx-off");
  ASSERT_TRUE(server.start());
  auto r = call(server.port(), key, "GET", kBase + "/types", "",
                {{"Link", linkTo(web.url("/c.jsonld"))}});
  EXPECT_TRUE(isLdError(r, 503, "LdContextNotAvailable")) << r.describe();
  EXPECT_EQ(web.hits("/c.jsonld"), 0);
  auto hosted = call(server.port(), key, "POST", kBase + "/jsonldContexts",
                     json({{"@context", {{"a", "https://e.org/a"}}}}).dump());
  ASSERT_EQ(hosted.status, 201u) << hosted.describe();
  const std::string location = hosted.header("Location");
  auto reload = call(server.port(), key, "DELETE", location + "?reload=true");
  EXPECT_TRUE(isLdError(reload, 400, "BadRequestData")) << reload.describe();
  auto meta = get(server.port(), location + "?details=true");
  ASSERT_EQ(meta.status, 200u) << meta.describe();
  EXPECT_EQ(meta.json()["kind"], "Hosted");
  EXPECT_EQ(get(server.port(), location).json()["@context"], json({{"a", "https://e.org/a"}}));
}

// ---------------------------------------------------------------------------------------------

TEST(SmartDataModels, BuiltInContextWorksWithoutNetworkAndTypesHaveDetails) {
  ServerProcess server({}, {{"CITYIOC_CONTEXT_ALLOW_REMOTE_FETCH", "false"}});
  const std::string key = addKey(server.dataDir(), "sdm", "46");
  ASSERT_TRUE(server.start());
  const uint16_t port = server.port();
  const Headers link = {{"Link", linkTo(kSdmEnv)}};
  for (const auto& [id, pm] : {std::pair{"urn:ngsi-ld:AirQualityObserved:hue-1", 12.5},
                               std::pair{"urn:ngsi-ld:AirQualityObserved:hue-2", 30.0}}) {
    auto c =
        call(port, key, "POST", kBase + "/entities",
             json({{"id", id},
                   {"type", "AirQualityObserved"},
                   {"pm25", prop(pm)},
                   {"temperature", prop(31)},
                   {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:1"}}}})
                 .dump(),
             link);
    ASSERT_EQ(c.status, 201u) << c.describe();
  }
  auto raw = call(port, key, "GET", kBase + "/entities/urn:ngsi-ld:AirQualityObserved:hue-1");
  EXPECT_TRUE(raw.json().contains("https://smartdatamodels.org/dataModel.Environment/pm25"))
      << raw.body;

  // GET /types?details=true: EntityType objects, names compacted by the request's context.
  auto types = call(port, key, "GET", kBase + "/types?details=true", "", link);
  ASSERT_EQ(types.status, 200u) << types.describe();
  ASSERT_TRUE(types.json().is_array()) << types.body;
  ASSERT_EQ(types.json().size(), 1u) << types.body;
  json t = types.json()[0];
  EXPECT_EQ(t["type"], "EntityType");
  EXPECT_EQ(t["typeName"], "AirQualityObserved");
  EXPECT_EQ(t["id"], "https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved");
  std::set<std::string> names;
  for (const auto& n : t["attributeNames"]) names.insert(n.get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"pm25", "refDevice", "temperature"})) << t;

  // GET /types/{type}: EntityTypeInfo.
  auto info = call(port, key, "GET", kBase + "/types/AirQualityObserved", "", link);
  ASSERT_EQ(info.status, 200u) << info.describe();
  json i = info.json();
  EXPECT_EQ(i["type"], "EntityTypeInfo");
  EXPECT_EQ(i["typeName"], "AirQualityObserved");
  EXPECT_EQ(i["entityCount"], 2);
  std::map<std::string, json> details;
  for (const auto& a : i["attributeDetails"]) details[a["attributeName"]] = a;
  ASSERT_TRUE(details.count("pm25")) << i;
  EXPECT_EQ(details["pm25"]["id"], "https://smartdatamodels.org/dataModel.Environment/pm25");
  EXPECT_EQ(details["pm25"]["type"], "Attribute");
  EXPECT_EQ(details["pm25"]["attributeTypes"], json({"Property"}));
  EXPECT_EQ(details["refDevice"]["attributeTypes"], json({"Relationship"}));
  EXPECT_TRUE(isLdError(call(port, key, "GET", kBase + "/types/WaterObserved", "", link), 404,
                        "ResourceNotFound"));

  // GET /attributes?details=true and /attributes/{attr}: Attribute objects.
  auto attrs = call(port, key, "GET", kBase + "/attributes?details=true", "", link);
  ASSERT_EQ(attrs.status, 200u) << attrs.describe();
  bool seen = false;
  for (const auto& a : attrs.json()) {
    if (a["attributeName"] == "pm25") {
      seen = true;
      EXPECT_EQ(a["type"], "Attribute");
      EXPECT_EQ(a["typeNames"], json({"AirQualityObserved"}));
    }
  }
  EXPECT_TRUE(seen) << attrs.body;
  auto pm = call(port, key, "GET", kBase + "/attributes/pm25", "", link);
  ASSERT_EQ(pm.status, 200u) << pm.describe();
  EXPECT_EQ(pm.json()["attributeCount"], 2);
  EXPECT_EQ(pm.json()["attributeTypes"], json({"Property"}));
  EXPECT_EQ(pm.json()["typeNames"], json({"AirQualityObserved"}));
  // Without the SDM context, "pm25" is another attribute (default vocabulary): not found.
  EXPECT_TRUE(
      isLdError(call(port, key, "GET", kBase + "/attributes/pm25"), 404, "ResourceNotFound"));
  // Another unit sees none of them.
  const std::string other = addKey(server.dataDir(), "sdm-01", "01");
  auto hidden = call(port, other, "GET", kBase + "/types/AirQualityObserved", "", link);
  EXPECT_TRUE(isLdError(hidden, 404, "ResourceNotFound")) << hidden.describe();
}

// ---------------------------------------------------------------------------------------------

class ImportCsv : public testing::Test {
 protected:
  void SetUp() override {
    // The first 200 hours of the Hanoi US-embassy PM2.5 series, plus two broken rows.
    std::ifstream in(std::string(IOC_SOURCE_DIR) +
                     "/data/series/hanoi_us_embassy_pm25_hourly_2016_2020.csv");
    ASSERT_TRUE(in) << "data/series/hanoi_us_embassy_pm25_hourly_2016_2020.csv is missing";
    csv_ = dir_.path() + "/hanoi.csv";
    std::ofstream out(csv_);
    std::string line;
    for (int i = 0; i < 201 && std::getline(in, line); ++i) {
      out << line << "\n";
      if (i == 0) header_ = line;
      if (i > 0) last_ = line;
    }
    out << "not-a-date,1,2,3,Good,Valid\n";
    out << "2016-01-09T10:00+07:00,abc,2,3,Good,Valid\n";
  }
  //! Good rows of the excerpt whose column `col` is not empty.
  size_t nonEmpty(size_t col) const {
    std::ifstream in(csv_);
    std::string line;
    std::getline(in, line);
    size_t n = 0;
    for (int i = 0; i < 200 && std::getline(in, line); ++i) {
      size_t start = 0;
      for (size_t c = 0; c < col; ++c) start = line.find(',', start) + 1;
      if (line[start] != ',') ++n;
    }
    return n;
  }
  std::vector<std::string> importArgs(const std::string& data) const {
    return {"import",
            "csv",
            "--data",
            data,
            csv_,
            "--entity-type",
            "AirQualityObserved",
            "--entity-id",
            kId,
            "--time-column",
            "datetime_local",
            "--attr",
            "pm25_raw_ugm3=pm25:GQ",
            "--attr",
            "us_aqi=airQualityIndex",
            "--context",
            kSdmEnv,
            "--unit",
            "01"};
  }
  static constexpr const char* kId = "urn:ngsi-ld:AirQualityObserved:hanoi-us-embassy";
  TempDir dir_;
  std::string csv_, header_, last_;
};

TEST_F(ImportCsv, LoadsHistoryThatTheTemporalApiAnswers) {
  TempDir data;
  auto r = runCli(importArgs(data.path()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("202 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad rows: 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 202"), std::string::npos) << "bad rows name their line: " << r.out;
  EXPECT_NE(r.out.find("line 203"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 created"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("100%"), std::string::npos) << "progress on stderr: " << r.err;

  // Missing columns: a clear error and exit code 2, nothing imported.
  auto bad = runCli({"import", "csv", "--data", data.path(), csv_, "--entity-type", "X",
                     "--entity-id", "urn:x:1", "--attr", "pm10=pm10"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("pm10"), std::string::npos) << bad.err;
  EXPECT_EQ(runCli({"import", "csv", "--data", data.path(), csv_}).exit_code, 2);

  const std::string key = addKey(data.path(), "import-reader", "01");
  ServerProcess server({}, {}, data.path());
  ASSERT_TRUE(server.start());
  // The data directory is in use: a second import refuses to run.
  auto locked = runCli(importArgs(data.path()));
  EXPECT_EQ(locked.exit_code, 2) << locked.out << locked.err;
  EXPECT_NE(locked.err.find("in use"), std::string::npos) << locked.err;

  const Headers link = {{"Link", linkTo(kSdmEnv)}};
  // The current value is the newest reading, with its observation time and unit.
  auto e = call(server.port(), key, "GET", std::string(kBase) + "/entities/" + kId, "", link);
  ASSERT_EQ(e.status, 200u) << e.describe();
  // The last good row of the excerpt: datetime,pm25_raw,…,us_aqi,…
  std::vector<std::string> f;
  for (size_t start = 0;;) {
    size_t c = last_.find(',', start);
    f.push_back(last_.substr(start, c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  EXPECT_EQ(e.json()["airQualityIndex"]["value"].get<double>(), std::stod(f[3])) << e.body;
  EXPECT_EQ(e.json()["pm25"]["unitCode"], "GQ") << e.body;
  EXPECT_TRUE(e.json()["pm25"].contains("observedAt")) << e.body;

  // History: every imported hour, oldest first.
  auto h =
      call(server.port(), key, "GET",
           std::string(kBase) + "/temporal/entities/" + kId + "?attrs=airQualityIndex", "", link);
  ASSERT_EQ(h.status, 200u) << h.describe();
  json aqi = h.json()["airQualityIndex"];
  ASSERT_TRUE(aqi.is_array()) << h.body.substr(0, 500);
  EXPECT_EQ(aqi.size(), nonEmpty(3)) << "one point per good row with an AQI reading";
  EXPECT_EQ(aqi[0]["value"].get<double>(), 164) << aqi[0];
  EXPECT_EQ(aqi[0]["observedAt"].get<std::string>().substr(0, 19), "2015-12-31T18:00:00")
      << "2016-01-01T01:00+07:00 is 18:00 UTC the day before: " << aqi[0];
  auto pm =
      call(server.port(), key, "GET",
           std::string(kBase) + "/temporal/entities/" + kId + "?attrs=pm25&options=temporalValues",
           "", link);
  ASSERT_EQ(pm.status, 200u) << pm.describe();
  json values = pm.json()["pm25"]["values"];
  ASSERT_TRUE(values.is_array()) << pm.body.substr(0, 500);
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values[0][0].get<double>(), 94.7) << values[0];
  // Empty cells (hours the station missed) are skipped, not imported as zero.
  EXPECT_EQ(values.size(), nonEmpty(1));
  EXPECT_LT(values.size(), 200u);
  auto audit = runCli({"audit", "verify", "--data", data.path()});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace ioc::it
