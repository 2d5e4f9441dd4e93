// Open311 GeoReport v2 conformance through the real binary: discovery, services, service
// definitions, POST requests (form and multipart with a real JPEG), GET requests with their
// filters and defaults, requests/{id}, tokens and mySociety's servicerequestupdates, each in
// JSON and XML; the Open311 error format for bad input, with nothing stored; privacy of the
// reporter and of hidden reports.
#include <sqlite3.h>

#include <regex>
#include <set>
#include <thread>

#include "integration/harness.h"
#include "integration/support.h"

namespace ioc::it {
namespace {

using json = ioc::Json;

constexpr const char* kJurisdiction = "hue.gov.vn";
// A point inside Phường Phú Xuân (19753), Huế (46).
constexpr const char* kLat = "16.47764";
constexpr const char* kLong = "107.55796";

// An 8x8 baseline JPEG written by libjpeg-turbo (quality 70).
const char* const kJpegBase64 =
    "/9j/4AAQSkZJRgABAQAAAQABAAD/"
    "2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEEx"
    "NDk7Pj4+JS5ESUM8SDc9Pjv/"
    "2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7"
    "Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/"
    "8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3OD"
    "k6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxM"
    "XG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/"
    "8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nz"
    "g5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6ws"
    "PE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCvpGv/"
    "AHfnooorjr4anz7HsZThKX1VaH//"
    "2Q==";

std::string base64Decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// ---- a small, strict XML reader for what Open311 servers send: a declaration, elements,
// character data with the five entities and numeric references, self-closing tags. Anything
// else (attributes, mismatched tags, stray '<' or '&', text after the root) is a failure.
struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  const XmlNode* child(std::string_view n) const {
    for (const auto& c : children) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
  std::string childText(std::string_view n) const {
    const XmlNode* c = child(n);
    return c ? c->text : "<missing " + std::string(n) + ">";
  }
  std::vector<const XmlNode*> all(std::string_view n) const {
    std::vector<const XmlNode*> out;
    for (const auto& c : children) {
      if (c.name == n) out.push_back(&c);
    }
    return out;
  }
};

class XmlReader {
 public:
  explicit XmlReader(std::string_view s) : s_(s) {}

  std::optional<XmlNode> document() {
    constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    if (s_.substr(0, kDecl.size()) != kDecl) return std::nullopt;
    pos_ = kDecl.size();
    skipSpace();
    auto root = element(0);
    skipSpace();
    if (!root || pos_ != s_.size()) return std::nullopt;
    return root;
  }

 private:
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  std::optional<std::string> name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return std::string(s_.substr(start, pos_ - start));
  }
  bool entity(std::string& out) {
    static const std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&amp;", "&"},   {"&lt;", "<"},   {"&gt;", ">"},
        {"&quot;", "\""}, {"&apos;", "'"}, {"&#13;", "\r"}};
    for (const auto& [e, v] : kEntities) {
      if (s_.substr(pos_, e.size()) == e) {
        out += v;
        pos_ += e.size();
        return true;
      }
    }
    return false;
  }
  std::optional<XmlNode> element(int depth) {
    if (depth > 16 || pos_ >= s_.size() || s_[pos_] != '<') return std::nullopt;
    ++pos_;
    XmlNode node;
    auto n = name();
    if (!n) return std::nullopt;
    node.name = *n;
    if (s_.substr(pos_, 2) == "/>") {
      pos_ += 2;
      return node;
    }
    if (pos_ >= s_.size() || s_[pos_] != '>') return std::nullopt;
    ++pos_;
    std::string text;
    while (pos_ < s_.size()) {
      if (s_.substr(pos_, 2) == "</") {
        pos_ += 2;
        auto close = name();
        if (!close || *close != node.name || pos_ >= s_.size() || s_[pos_] != '>') {
          return std::nullopt;
        }
        ++pos_;
        // Mixed content is not Open311: text only in leaves.
        if (!node.children.empty()) {
          for (char c : text) {
            if (!std::isspace(static_cast<unsigned char>(c))) return std::nullopt;
          }
        } else {
          node.text = std::move(text);
        }
        return node;
      }
      if (s_[pos_] == '<') {
        auto child = element(depth + 1);
        if (!child) return std::nullopt;
        node.children.push_back(std::move(*child));
      } else if (s_[pos_] == '&') {
        if (!entity(text)) return std::nullopt;
      } else if (s_[pos_] == '>') {
        return std::nullopt;
      } else {
        text += s_[pos_++];
      }
    }
    return std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<XmlNode> parseXml(const HttpResponse& r) {
  return XmlReader(r.body).document();
}

//! Report documents in the store, counted beside the running server (WAL); -1 if unreadable.
int storedReports(const std::string& data_dir) {
  sqlite3* db = nullptr;
  const std::string path = data_dir + "/cityioc.db";
  int n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM documents WHERE kind = 'report'", -1, &st,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// W3C date-time as the spec returns it, with an offset.
const std::regex kW3c(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2}))");

class Open311 : public testing::Test {
 protected:
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    key_ = addKey(server_.dataDir(), "open311-app", "integration", "46");
    ingest_key_ = addKey(server_.dataDir(), "gauges", "ingest", "46");
    read_key_ = addKey(server_.dataDir(), "dashboard", "read", "46");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    if (server_.running()) {
      ASSERT_TRUE(server_.alive());
      EXPECT_EQ(server_.terminate(), 0) << server_.stderrText();
    }
  }
  uint16_t port() const { return server_.port(); }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }

  HttpResponse get311(const std::string& path) { return get(port(), "/open311/v2/" + path); }

  //! POST requests.{fmt} as application/x-www-form-urlencoded.
  HttpResponse postForm(const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& format = "json") {
    std::string body;
    for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + k + "=" + urlEncode(v);
    RequestOptions o;
    o.body = body;
    o.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    return request(port(), "POST", "/open311/v2/requests." + format, o);
  }

  struct FilePart {
    std::string name, filename, type, data;
  };
  //! POST requests.json as multipart/form-data, laid out as curl -F does.
  HttpResponse postMultipart(const std::vector<std::pair<std::string, std::string>>& fields,
                             const std::vector<FilePart>& files) {
    const std::string boundary = "------------------------6842bed76de5cb0a";
    std::string body;
    for (const auto& [k, v] : fields) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" +
              v + "\r\n";
    }
    for (const auto& f : files) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.name +
              "\"; filename=\"" + f.filename + "\"\r\nContent-Type: " + f.type + "\r\n\r\n" +
              f.data + "\r\n";
    }
    body += "--" + boundary + "--\r\n";
    RequestOptions o;
    o.body = body;
    o.content_type = "multipart/form-data; boundary=" + boundary;
    return request(port(), "POST", "/open311/v2/requests.json", o);
  }

  std::vector<std::pair<std::string, std::string>> pothole(const std::string& description) {
    return {{"api_key", key_},
            {"jurisdiction_id", kJurisdiction},
            {"service_code", "duong-hu-hong"},
            {"lat", kLat},
            {"long", kLong},
            {"description", description},
            {"attribute[muc_do]", "cao"}};
  }

  //! Submits and returns the service_request_id ("" with a failure).
  std::string submit(const std::vector<std::pair<std::string, std::string>>& fields) {
    auto r = postForm(fields);
    EXPECT_EQ(r.status, 201u) << r.describe();
    auto body = r.json();
    if (!body.is_array() || body.size() != 1) return "";
    return body[0].value("service_request_id", "");
  }

  //! Every request the default query returns (the last 90 days, at most 1000).
  size_t countRequests() {
    auto r = get311("requests.json");
    EXPECT_EQ(r.status, 200u) << r.describe();
    return r.json().is_array() ? r.json().size() : 9999;
  }

  ServerProcess server_;
  std::string key_, ingest_key_, read_key_, admin_;
};

//! An Open311 error answer: HTTP `status`, and a body [{code: status, description}] (JSON) or
//! <errors><error><code>status</code><description>…</description></error></errors> (XML).
testing::AssertionResult isOpen311Error(const HttpResponse& r, unsigned status,
                                        const std::string& format = "json") {
  if (r.status != status) return testing::AssertionFailure() << "status " << r.describe();
  if (format == "json") {
    if (r.header("Content-Type").rfind("application/json", 0) != 0) {
      return testing::AssertionFailure() << "content type " << r.header("Content-Type");
    }
    auto body = r.json();
    if (!body.is_array() || body.empty() || body[0].value("code", 0u) != status ||
        body[0].value("description", "").empty()) {
      return testing::AssertionFailure() << "body " << r.body;
    }
    return testing::AssertionSuccess();
  }
  if (r.header("Content-Type").rfind("text/xml", 0) != 0) {
    return testing::AssertionFailure() << "content type " << r.header("Content-Type");
  }
  auto xml = parseXml(r);
  if (!xml || xml->name != "errors" || xml->children.empty() || xml->children[0].name != "error" ||
      xml->children[0].childText("code") != std::to_string(status) ||
      xml->children[0].childText("description").empty()) {
    return testing::AssertionFailure() << "body " << r.body;
  }
  return testing::AssertionSuccess();
}

TEST_F(Open311, DiscoveryInJsonAndXml) {
  auto j = get311("discovery.json");
  ASSERT_EQ(j.status, 200u) << j.describe();
  EXPECT_EQ(j.header("Content-Type"), "application/json; charset=utf-8");
  auto d = j.json();
  for (const char* f : {"changeset", "contact", "key_service"}) {
    EXPECT_FALSE(d.value(f, "").empty()) << f;
  }
  ASSERT_EQ(d["endpoints"].size(), 1u);
  const auto& ep = d["endpoints"][0];
  EXPECT_EQ(ep["specification"], "http://wiki.open311.org/GeoReport_v2");
  EXPECT_EQ(ep["url"], origin() + "/open311/v2");
  EXPECT_EQ(ep["type"], "production");
  EXPECT_EQ(ep["formats"], json({"text/xml", "application/json"}));

  auto x = get311("discovery.xml");
  ASSERT_EQ(x.status, 200u);
  EXPECT_EQ(x.header("Content-Type"), "text/xml; charset=utf-8");
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "discovery");
  EXPECT_EQ(xml->childText("changeset"), d["changeset"]);
  const XmlNode* endpoints = xml->child("endpoints");
  ASSERT_TRUE(endpoints);
  ASSERT_EQ(endpoints->all("endpoint").size(), 1u);
  const XmlNode& endpoint = endpoints->children[0];
  EXPECT_EQ(endpoint.childText("url"), origin() + "/open311/v2");
  const XmlNode* formats = endpoint.child("formats");
  ASSERT_TRUE(formats);
  ASSERT_EQ(formats->all("format").size(), 2u);
  EXPECT_EQ(formats->children[0].text, "text/xml");
  EXPECT_EQ(formats->children[1].text, "application/json");
}

TEST_F(Open311, ServiceListAndDefinitionsInJsonAndXml) {
  auto j = get311("services.json?jurisdiction_id=hue.gov.vn");
  ASSERT_EQ(j.status, 200u) << j.describe();
  auto list = j.json();
  ASSERT_TRUE(list.is_array());
  std::vector<std::string> codes;
  for (const auto& s : list) {
    codes.push_back(s.value("service_code", ""));
    EXPECT_EQ(s["type"], "realtime");
    EXPECT_TRUE(s["metadata"].is_boolean());
    EXPECT_TRUE(s["keywords"].is_string());
    EXPECT_FALSE(s.value("service_name", "").empty());
    EXPECT_FALSE(s.value("group", "").empty());
  }
  // The city's catalogue minus the two matters it does not take (nowhere to send them).
  EXPECT_EQ(codes.size(), 13u);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "khieu-nai-to-cao"), 0);
  auto road = std::find_if(list.begin(), list.end(),
                           [](const json& s) { return s["service_code"] == "duong-hu-hong"; });
  ASSERT_NE(road, list.end());
  EXPECT_EQ((*road)["metadata"], true);  // it has a question
  auto order = std::find_if(list.begin(), list.end(),
                            [](const json& s) { return s["service_code"] == "an-ninh-trat-tu"; });
  ASSERT_NE(order, list.end());
  EXPECT_EQ((*order)["metadata"], false);
  EXPECT_EQ((*order)["service_name"], "An ninh trật tự");  // UTF-8 kept

  auto x = get311("services.xml");
  ASSERT_EQ(x.status, 200u);
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "services");
  auto services = xml->all("service");
  ASSERT_EQ(services.size(), codes.size());
  for (size_t i = 0; i < services.size(); ++i) {
    EXPECT_EQ(services[i]->childText("service_code"), codes[i]);
    EXPECT_EQ(services[i]->childText("service_name"), list[i]["service_name"]);
    EXPECT_EQ(services[i]->childText("metadata"), list[i]["metadata"] ? "true" : "false");
  }

  auto en = get311("services.json?locale=en").json();
  ASSERT_EQ(en.size(), codes.size());
  for (const auto& s : en) {
    if (s["service_code"] == "an-ninh-trat-tu") {
      EXPECT_EQ(s["service_name"], "Security and public order");
    }
  }

  auto def = get311("services/duong-hu-hong.json");
  ASSERT_EQ(def.status, 200u) << def.describe();
  auto dj = def.json();
  EXPECT_EQ(dj["service_code"], "duong-hu-hong");
  ASSERT_EQ(dj["attributes"].size(), 1u);
  const auto& a = dj["attributes"][0];
  EXPECT_EQ(a["code"], "muc_do");
  EXPECT_EQ(a["datatype"], "singlevaluelist");
  EXPECT_EQ(a["required"], true);
  EXPECT_EQ(a["variable"], true);
  EXPECT_EQ(a["order"], 1);
  ASSERT_EQ(a["values"].size(), 3u);
  EXPECT_EQ(a["values"][2], json({{"key", "cao"}, {"name", "Cao: có thể gây tai nạn"}}));

  auto dx = get311("services/duong-hu-hong.xml");
  auto dxml = parseXml(dx);
  ASSERT_TRUE(dxml) << dx.body;
  EXPECT_EQ(dxml->name, "service_definition");
  EXPECT_EQ(dxml->childText("service_code"), "duong-hu-hong");
  const XmlNode* attrs = dxml->child("attributes");
  ASSERT_TRUE(attrs);
  ASSERT_EQ(attrs->all("attribute").size(), 1u);
  const XmlNode& attr = attrs->children[0];
  EXPECT_EQ(attr.childText("required"), "true");
  const XmlNode* values = attr.child("values");
  ASSERT_TRUE(values);
  ASSERT_EQ(values->all("value").size(), 3u);
  EXPECT_EQ(values->children[2].childText("key"), "cao");
  EXPECT_EQ(values->children[2].childText("name"), "Cao: có thể gây tai nạn");

  // A number question and a service without questions.
  auto depth = get311("services/ngap-ung.json").json();
  EXPECT_EQ(depth["attributes"][0]["datatype"], "number");
  EXPECT_FALSE(depth["attributes"][0].contains("values"));
  auto none = get311("services/an-ninh-trat-tu.xml");
  auto nxml = parseXml(none);
  ASSERT_TRUE(nxml) << none.body;
  ASSERT_TRUE(nxml->child("attributes"));
  EXPECT_TRUE(nxml->child("attributes")->children.empty());
}

TEST_F(Open311, UnknownThingsAreOpen311Errors) {
  EXPECT_TRUE(isOpen311Error(get311("services/khong-co.json"), 404));
  EXPECT_TRUE(isOpen311Error(get311("services/khong-co.xml"), 404, "xml"));
  // Not taken here: not a service (the description says where to go).
  auto redirect = get311("services/khieu-nai-to-cao.json");
  EXPECT_TRUE(isOpen311Error(redirect, 404));
  EXPECT_NE(redirect.body.find("Ban Tiếp công dân"), std::string::npos) << redirect.body;
  EXPECT_TRUE(isOpen311Error(get311("services.json?jurisdiction_id=hanoi.gov.vn"), 404));
  EXPECT_TRUE(isOpen311Error(get311("services.xml?jurisdiction_id=hanoi.gov.vn"), 404, "xml"));
  EXPECT_EQ(get311("services.json?jurisdiction_id=").status, 200u);  // empty = not sent
  EXPECT_TRUE(isOpen311Error(get311("requests/PA-000000-00000.json"), 404));
  EXPECT_TRUE(isOpen311Error(get311("requests/PA-000000-00000.xml"), 404, "xml"));
  EXPECT_TRUE(isOpen311Error(get311("tokens/no-such-token.json"), 404));
  EXPECT_TRUE(isOpen311Error(get311("services.csv"), 404));
  EXPECT_TRUE(isOpen311Error(get311("nothing.xml"), 404, "xml"));
  EXPECT_TRUE(isOpen311Error(get311("requests.json?status=pending"), 400));
  EXPECT_TRUE(isOpen311Error(get311("requests.json?start_date=yesterday"), 400));
  EXPECT_TRUE(isOpen311Error(get311("requests.json?start_date=%zz"), 400));
}

TEST_F(Open311, PostFormThenReadItBackInJsonAndXml) {
  const std::string description =
      "Ổ gà lớn giữa đường Lê Lợi: sâu > 30cm & rộng < 1m, \"rất\" nguy hiểm\nxe máy dễ ngã";
  auto fields = pothole(description);
  fields.insert(fields.end(), {{"email", "nguyen.van.a@example.vn"},
                               {"first_name", "Văn A"},
                               {"last_name", "Nguyễn"},
                               {"phone", "0905123456"},
                               {"device_id", "android-42"},
                               {"account_id", "acc-7"},
                               {"media_url", "https://example.org/photos/1.jpg"}});
  auto r = postForm(fields);
  ASSERT_EQ(r.status, 201u) << r.describe();
  EXPECT_EQ(r.header("Content-Type"), "application/json; charset=utf-8");
  auto receipt = r.json();
  ASSERT_TRUE(receipt.is_array());
  ASSERT_EQ(receipt.size(), 1u);
  const std::string id = receipt[0].value("service_request_id", "");
  ASSERT_FALSE(id.empty());
  EXPECT_FALSE(receipt[0].contains("token"));  // realtime: the id, not a token
  EXPECT_NE(receipt[0].value("service_notice", "").find("3 ngày làm việc"), std::string::npos)
      << receipt;

  auto one = get311("requests/" + id + ".json?jurisdiction_id=hue.gov.vn");
  ASSERT_EQ(one.status, 200u) << one.describe();
  auto list = one.json();
  ASSERT_EQ(list.size(), 1u);
  const auto& q = list[0];
  EXPECT_EQ(q["service_request_id"], id);
  EXPECT_EQ(q["status"], "open");
  EXPECT_EQ(q["service_code"], "duong-hu-hong");
  EXPECT_EQ(q["service_name"], "Đường sá, hố ga hư hỏng");
  EXPECT_EQ(q["description"], description);
  EXPECT_DOUBLE_EQ(q["lat"].get<double>(), 16.47764);
  EXPECT_DOUBLE_EQ(q["long"].get<double>(), 107.55796);
  EXPECT_EQ(q["media_url"], "https://example.org/photos/1.jpg");  // no photo: the one given
  EXPECT_TRUE(std::regex_match(q.value("requested_datetime", ""), kW3c)) << q;
  EXPECT_TRUE(std::regex_match(q.value("updated_datetime", ""), kW3c)) << q;
  EXPECT_TRUE(std::regex_match(q.value("expected_datetime", ""), kW3c)) << q;  // the SLA
  // The reporter's identity is nobody's business here.
  for (const char* secret : {"nguyen.van.a", "0905123456", "Nguyễn", "Văn A", "android-42"}) {
    EXPECT_EQ(one.body.find(secret), std::string::npos) << secret;
  }

  auto x = get311("requests/" + id + ".xml");
  ASSERT_EQ(x.status, 200u) << x.describe();
  EXPECT_EQ(x.header("Content-Type"), "text/xml; charset=utf-8");
  EXPECT_NE(x.body.find("sâu &gt; 30cm &amp; rộng &lt; 1m"), std::string::npos) << x.body;
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "service_requests");
  ASSERT_EQ(xml->all("request").size(), 1u);
  const XmlNode& req = xml->children[0];
  EXPECT_EQ(req.childText("service_request_id"), id);
  EXPECT_EQ(req.childText("status"), "open");
  EXPECT_EQ(req.childText("description"), description);  // round-trips exactly
  EXPECT_EQ(req.childText("requested_datetime"), q["requested_datetime"]);
  EXPECT_EQ(req.childText("lat"), "16.47764");

  // POST answering in XML.
  auto px = postForm(pothole("Ổ gà thứ hai"), "xml");
  ASSERT_EQ(px.status, 201u) << px.describe();
  auto pxml = parseXml(px);
  ASSERT_TRUE(pxml) << px.body;
  EXPECT_EQ(pxml->name, "service_requests");
  ASSERT_EQ(pxml->all("request").size(), 1u);
  const std::string id2 = pxml->children[0].childText("service_request_id");
  EXPECT_NE(id2, id);
  EXPECT_EQ(get311("requests/" + id2 + ".json").status, 200u);

  // Both in the list, newest first; the comma list of ids finds exactly them.
  auto all = get311("requests.json").json();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["service_request_id"], id2);
  auto both = get311("requests.json?service_request_id=" + id + "," + id2 + ",PA-nope").json();
  std::set<std::string> ids;
  for (const auto& b : both) ids.insert(b["service_request_id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{id, id2}));
}

TEST_F(Open311, PostMultipartWithARealJpeg) {
  const std::string jpeg = base64Decode(kJpegBase64);
  ASSERT_EQ(jpeg.substr(0, 2), "\xFF\xD8");
  auto fields = pothole("Ổ gà, có ảnh");
  auto r = postMultipart(fields, {{"media", "ảnh 1.jpg", "image/jpeg", jpeg}});
  ASSERT_EQ(r.status, 201u) << r.describe();
  const std::string id = r.json()[0].value("service_request_id", "");
  ASSERT_FALSE(id.empty());

  auto q = get311("requests/" + id + ".json").json()[0];
  const std::string media = q.value("media_url", "");
  EXPECT_EQ(media, origin() + "/api/v1/reports/" + id + "/photos/1");
  // The URL works: the native API serves the (cleaned) photo.
  auto photo = get(port(), media.substr(origin().size()));
  EXPECT_EQ(photo.status, 200u) << photo.describe();
  EXPECT_EQ(photo.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(photo.body.substr(0, 2), "\xFF\xD8");

  // extensions=true: the photo and the update history.
  auto ext = get311("requests/" + id + ".json?extensions=true").json()[0];
  ASSERT_TRUE(ext.contains("extended_attributes")) << ext;
  EXPECT_EQ(ext["extended_attributes"]["channel"], "open311");
  ASSERT_EQ(ext["extended_attributes"]["photos"].size(), 1u);
  EXPECT_EQ(ext["extended_attributes"]["photos"][0]["media_url"], media);
  ASSERT_FALSE(ext["notes"].empty());
  EXPECT_EQ(ext["notes"][0]["type"], "submitted");
  EXPECT_FALSE(get311("requests/" + id + ".json").json()[0].contains("extended_attributes"));
}

TEST_F(Open311, BadSubmissionsAreOpen311ErrorsAndStoreNothing) {
  const std::string jpeg = base64Decode(kJpegBase64);
  auto without = [&](const std::string& name) {
    auto f = pothole("thiếu " + name);
    f.erase(std::remove_if(f.begin(), f.end(), [&](const auto& p) { return p.first == name; }),
            f.end());
    return f;
  };
  auto with = [&](const std::string& name, const std::string& value) {
    auto f = pothole("sai " + name);
    for (auto& [k, v] : f) {
      if (k == name) v = value;
    }
    if (std::none_of(f.begin(), f.end(), [&](const auto& p) { return p.first == name; })) {
      f.emplace_back(name, value);
    }
    return f;
  };

  EXPECT_TRUE(isOpen311Error(postForm(with("service_code", "khong-co")), 404));
  EXPECT_TRUE(isOpen311Error(postForm(with("service_code", "khong-co"), "xml"), 404, "xml"));
  EXPECT_TRUE(isOpen311Error(postForm(without("service_code")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(with("service_code", "khieu-nai-to-cao")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(without("lat")), 400));  // long alone
  {
    auto f = without("lat");
    f.erase(std::remove_if(f.begin(), f.end(), [](const auto& p) { return p.first == "long"; }),
            f.end());
    EXPECT_TRUE(isOpen311Error(postForm(f), 400));  // no location at all
    f.emplace_back("address_id", "12345");
    EXPECT_TRUE(isOpen311Error(postForm(f), 400));  // no address register here
  }
  EXPECT_TRUE(isOpen311Error(postForm(with("lat", "91")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(with("long", "107.5abc")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(without("api_key")), 403));
  EXPECT_TRUE(isOpen311Error(postForm(with("api_key", "cs_not-a-key")), 403));
  EXPECT_TRUE(isOpen311Error(postForm(with("api_key", "cs_not-a-key"), "xml"), 403, "xml"));
  EXPECT_TRUE(isOpen311Error(postForm(with("api_key", read_key_)), 403));  // wrong scope
  EXPECT_TRUE(isOpen311Error(postForm(with("api_key", admin_)), 403));     // a session
  EXPECT_TRUE(isOpen311Error(postForm(with("jurisdiction_id", "hanoi.gov.vn")), 404));
  EXPECT_TRUE(isOpen311Error(postForm(without("attribute[muc_do]")), 400));  // required
  EXPECT_TRUE(isOpen311Error(postForm(with("attribute[muc_do]", "rat_cao")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(with("attribute[khong_co]", "x")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(with("media_url", "javascript:alert(1)")), 400));
  EXPECT_TRUE(isOpen311Error(postForm(with("description", "<script>alert(1)</script>")), 400));
  {
    RequestOptions o;
    o.body = "api_key=" + key_ + "&service_code=duong-hu-hong&description=%zz";
    o.content_type = "application/x-www-form-urlencoded";
    EXPECT_TRUE(isOpen311Error(request(port(), "POST", "/open311/v2/requests.json", o), 400));
    o.body = "api_key=" + key_ + "&service_code=duong-hu-hong&description=%C3%28";  // not UTF-8
    EXPECT_TRUE(isOpen311Error(request(port(), "POST", "/open311/v2/requests.json", o), 400));
    o.body = json({{"api_key", key_}, {"service_code", "duong-hu-hong"}}).dump();
    o.content_type = "application/json";
    EXPECT_TRUE(isOpen311Error(request(port(), "POST", "/open311/v2/requests.json", o), 415));
    o.body = "--b\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n" + key_ + "\r\n";
    o.content_type = "multipart/form-data; boundary=b";  // truncated: no closing boundary
    EXPECT_TRUE(isOpen311Error(request(port(), "POST", "/open311/v2/requests.json", o), 400));
  }
  // A fake image: text with a .jpg name and an image/jpeg type.
  auto fake = postMultipart(pothole("ảnh giả"),
                            {{"media", "x.jpg", "image/jpeg", "<?php echo 'not an image'; ?>"}});
  EXPECT_TRUE(isOpen311Error(fake, 415));
  // A photo above the 5 MB per-photo limit (inside the route's 30 MB body limit).
  std::string big =
      jpeg.substr(0, jpeg.size() - 2) + std::string(6 * 1024 * 1024, '\0') + "\xFF\xD9";
  EXPECT_TRUE(isOpen311Error(
      postMultipart(pothole("ảnh quá lớn"), {{"media", "big.jpg", "image/jpeg", big}}), 413));
  // A good photo with a fake one: the report is refused whole.
  EXPECT_FALSE(postMultipart(pothole("một tốt một giả"),
                             {{"media", "a.jpg", "image/jpeg", jpeg},
                              {"media", "b.jpg", "image/jpeg", "GIF89a not a jpeg"}})
                   .status == 201u);
  // A file in another field is not silently dropped.
  EXPECT_TRUE(isOpen311Error(
      postMultipart(pothole("sai trường"), {{"photo", "a.jpg", "image/jpeg", jpeg}}), 400));

  EXPECT_EQ(countRequests(), 0u);
  EXPECT_EQ(storedReports(server_.dataDir()), 0);
  // …and the same key still works.
  EXPECT_FALSE(submit(pothole("hợp lệ")).empty());
  EXPECT_EQ(countRequests(), 1u);
  EXPECT_EQ(storedReports(server_.dataDir()), 1);
}

TEST_F(Open311, KeysOfScopeIngestAndQueryStringParameters) {
  // Some clients send api_key and jurisdiction_id in the URL and the rest in the body.
  RequestOptions o;
  o.body = "service_code=chieu-sang&address_string=" + urlEncode("12 Lê Lợi, Phú Xuân, Huế") +
           "&attribute%5Bso_cot%5D=HX-0042";
  o.content_type = "application/x-www-form-urlencoded";
  auto r = request(
      port(), "POST",
      "/open311/v2/requests.json?api_key=" + urlEncode(ingest_key_) + "&jurisdiction_id=hue.gov.vn",
      o);
  ASSERT_EQ(r.status, 201u) << r.describe();
  const std::string id = r.json()[0].value("service_request_id", "");
  auto q = get311("requests/" + id + ".json").json()[0];
  EXPECT_EQ(q["address"], "12 Lê Lợi, Phú Xuân, Huế");
  EXPECT_FALSE(q.contains("lat"));
  auto ext = get311("requests/" + id + ".json?extensions=true").json()[0];
  EXPECT_EQ(ext["extended_attributes"]["attributes"],
            json::parse(R"([{"code":"so_cot","value":"HX-0042"}])"));
}

TEST_F(Open311, FiltersAndTheDateWindow) {
  const std::string road = submit(pothole("đường"));
  auto light = pothole("đèn");
  for (auto& [k, v] : light) {
    if (k == "service_code") v = "chieu-sang";
  }
  light.erase(std::remove_if(light.begin(), light.end(),
                             [](const auto& p) { return p.first == "attribute[muc_do]"; }),
              light.end());
  const std::string lamp = submit(light);
  ASSERT_FALSE(road.empty());
  ASSERT_FALSE(lamp.empty());
  auto idsOf = [&](const std::string& query) {
    auto r = get311("requests.json" + query);
    EXPECT_EQ(r.status, 200u) << query << " " << r.describe();
    std::set<std::string> out;
    for (const auto& q : r.json()) out.insert(q["service_request_id"].get<std::string>());
    return out;
  };
  using Ids = std::set<std::string>;
  EXPECT_EQ(idsOf(""), (Ids{road, lamp}));
  EXPECT_EQ(idsOf("?service_code=chieu-sang"), Ids{lamp});
  EXPECT_EQ(idsOf("?service_code=chieu-sang,duong-hu-hong"), (Ids{road, lamp}));
  EXPECT_EQ(idsOf("?service_code=cay-xanh"), Ids{});
  EXPECT_EQ(idsOf("?status=open"), (Ids{road, lamp}));
  EXPECT_EQ(idsOf("?status=closed"), Ids{});
  EXPECT_EQ(idsOf("?status=open,closed&service_code=duong-hu-hong"), Ids{road});
  // service_request_id overrides the other arguments.
  EXPECT_EQ(idsOf("?service_request_id=" + road + "&service_code=chieu-sang&status=closed"),
            Ids{road});

  const auto now = std::chrono::system_clock::now();
  auto w3c = [](std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
    return std::string(buf);
  };
  using std::chrono::hours;
  EXPECT_EQ(idsOf("?start_date=" + w3c(now - hours(1)) + "&end_date=" + w3c(now + hours(1))),
            (Ids{road, lamp}));
  EXPECT_EQ(idsOf("?start_date=" + w3c(now + hours(1))), Ids{});
  EXPECT_EQ(idsOf("?end_date=" + w3c(now - hours(1))), Ids{});
  // Only end_date: the 90 days before it.
  EXPECT_EQ(idsOf("?end_date=" + w3c(now + hours(24))), (Ids{road, lamp}));
  // Only start_date: 90 days from it, so 100 days ago reaches 10 days ago, not today.
  EXPECT_EQ(idsOf("?start_date=" + w3c(now - hours(24 * 100))), Ids{});
  // A date alone, and an offset sent with an unencoded '+' (a space once decoded).
  EXPECT_EQ(idsOf("?start_date=2000-01-01&end_date=2000-02-01"), Ids{});
  std::time_t tt = std::chrono::system_clock::to_time_t(now - hours(1) + hours(7));
  char local[40];
  std::strftime(local, sizeof local, "%Y-%m-%dT%H:%M:%S+07:00", std::gmtime(&tt));
  EXPECT_EQ(idsOf(std::string("?start_date=") + local), (Ids{road, lamp}));
  EXPECT_TRUE(isOpen311Error(get311("requests.json?start_date=2026-01-01T00:00:00Z&end_date="
                                    "2026-06-01T00:00:00Z"),
                             400));  // more than 90 days
  EXPECT_TRUE(
      isOpen311Error(get311("requests.xml?start_date=2026-02-01&end_date=2026-01-01"), 400, "xml"));
  EXPECT_TRUE(isOpen311Error(get311("requests.json?end_date=2026-13-01"), 400));

  // XML lists carry the same requests.
  auto x = get311("requests.xml?service_code=chieu-sang");
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "service_requests");
  ASSERT_EQ(xml->all("request").size(), 1u);
  EXPECT_EQ(xml->children[0].childText("service_request_id"), lamp);
  auto empty = parseXml(get311("requests.xml?service_code=cay-xanh"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->name, "service_requests");
  EXPECT_TRUE(empty->children.empty());
}

TEST_F(Open311, AtMostOneThousandRecordsByDefault) {
  // 1,001 reports from eight clients at once (they share group commits).
  std::atomic<int> created{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = c; i < 1001; i += 8) {
        auto f = pothole("ổ gà số " + std::to_string(i));
        f[0].second = i % 2 ? key_ : ingest_key_;
        try {
          auto r = postForm(f);
          (r.status == 201u ? created : failed)++;
        } catch (const std::exception&) {
          failed++;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_EQ(failed.load(), 0);
  ASSERT_EQ(created.load(), 1001);
  auto list = get311("requests.json").json();
  ASSERT_EQ(list.size(), 1000u);
  std::set<std::string> ids;
  for (const auto& q : list) ids.insert(q["service_request_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 1000u);
  auto xml = parseXml(get311("requests.xml"));
  ASSERT_TRUE(xml);
  EXPECT_EQ(xml->all("request").size(), 1000u);
}

//! The stored report (documents table, kind "report"), read beside the running server (WAL).
json storedReport(const std::string& data_dir, const std::string& id) {
  sqlite3* db = nullptr;
  const std::string path = data_dir + "/cityioc.db";
  json out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT doc FROM documents WHERE kind = 'report' AND id = ?", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
      out = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), nullptr, false);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST_F(Open311, TokensResolveToTheirRequest) {
  const std::string id = submit(pothole("ổ gà có token"));
  ASSERT_FALSE(id.empty());
  json stored = storedReport(server_.dataDir(), id);
  ASSERT_TRUE(stored.is_object()) << "the store's schema changed: adapt this test";
  EXPECT_EQ(stored["channel"], "open311");
  const std::string token = stored.value("token", "");
  ASSERT_FALSE(token.empty()) << stored;
  auto j = get311("tokens/" + token + ".json?jurisdiction_id=hue.gov.vn");
  ASSERT_EQ(j.status, 200u) << j.describe();
  EXPECT_EQ(j.json(),
            json::parse(R"([{"service_request_id":")" + id + R"(","token":")" + token + R"("}])"));
  auto x = get311("tokens/" + token + ".xml");
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "service_requests");
  ASSERT_EQ(xml->all("request").size(), 1u);
  EXPECT_EQ(xml->children[0].childText("service_request_id"), id);
  EXPECT_EQ(xml->children[0].childText("token"), token);
  EXPECT_TRUE(isOpen311Error(get311("tokens/" + token + "x.xml"), 404, "xml"));
}

TEST_F(Open311, DefaultWindowIsTheLastNinetyDays) {
  // Historical reports, 10, 50, 100 and 200 days old, through the native import.
  const auto now = std::chrono::system_clock::now();
  auto daysAgo = [&](int d) {
    std::time_t tt = std::chrono::system_clock::to_time_t(now - std::chrono::hours(24 * d));
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
    return std::string(buf);
  };
  json records = json::array();
  for (int d : {10, 50, 100, 200}) {
    records.push_back({{"service_code", "cay-xanh"},
                       {"description", "cây đổ " + std::to_string(d) + " ngày trước"},
                       {"lat", 16.47764},
                       {"long", 107.55796},
                       {"created_at", daysAgo(d)},
                       {"status", "open"}});
  }
  auto imported = postJson(port(), "/api/v1/reports/import", records, admin_);
  ASSERT_LT(imported.status, 300u) << imported.describe();
  auto ages = [&](const std::string& query) {
    std::set<std::string> out;
    for (const auto& q : get311("requests.json" + query).json()) {
      out.insert(q.value("description", ""));
    }
    return out;
  };
  using Set = std::set<std::string>;
  EXPECT_EQ(ages(""), (Set{"cây đổ 10 ngày trước", "cây đổ 50 ngày trước"}));
  EXPECT_EQ(ages("?start_date=" + daysAgo(120)),
            (Set{"cây đổ 100 ngày trước", "cây đổ 50 ngày trước"}));  // 120 → 30 days ago
  EXPECT_EQ(ages("?end_date=" + daysAgo(95)), (Set{"cây đổ 100 ngày trước"}));  // 185 → 95
  EXPECT_EQ(ages("?start_date=" + daysAgo(210) + "&end_date=" + daysAgo(150)),
            (Set{"cây đổ 200 ngày trước"}));
  // Asking by id reaches past the window.
  auto old = get311("requests.json?start_date=" + daysAgo(210) + "&end_date=" + daysAgo(150))
                 .json()[0]["service_request_id"]
                 .get<std::string>();
  EXPECT_EQ(get311("requests.json?service_request_id=" + old).json().size(), 1u);
  EXPECT_EQ(get311("requests/" + old + ".json").status, 200u);
}

TEST_F(Open311, StaffWorkShowsAsServiceRequestUpdates) {
  const std::string jpeg = base64Decode(kJpegBase64);
  auto r = postMultipart(pothole("ổ gà cần vá"), {{"media", "a.jpg", "image/jpeg", jpeg}});
  ASSERT_EQ(r.status, 201u) << r.describe();
  const std::string id = r.json()[0].value("service_request_id", "");
  auto act = [&](const std::string& action, const json& body) {
    auto a = postJson(port(), "/api/v1/reports/" + id + "/" + action, body, admin_);
    EXPECT_EQ(a.status, 200u) << action << " " << a.describe();
  };
  act("triage", json::object());
  act("assign", {{"agency", "Công ty Quản lý đường bộ Huế"}});
  act("start", {{"note", "Đội vá đường đã đến"}});
  act("resolve", {{"resolution", "fixed"}, {"answer", "Đã vá ổ gà ngày hôm nay."}});

  auto q = get311("requests/" + id + ".json").json()[0];
  EXPECT_EQ(q["status"], "closed");
  EXPECT_EQ(q["status_notes"], "Đã vá ổ gà ngày hôm nay.");
  EXPECT_EQ(q["agency_responsible"], "Công ty Quản lý đường bộ Huế");
  EXPECT_EQ(get311("requests.json?status=closed").json().size(), 1u);
  EXPECT_EQ(get311("requests.json?status=open").json().size(), 0u);
  auto ext = get311("requests/" + id + ".json?extensions=true").json()[0];
  EXPECT_EQ(ext["extended_attributes"]["extended_status"], "FIXED");
  EXPECT_EQ(ext["extended_attributes"]["resolution"], "fixed");

  auto u = get311("servicerequestupdates.json");
  ASSERT_EQ(u.status, 200u) << u.describe();
  std::vector<json> mine;
  for (const auto& up : u.json()) {
    if (up["service_request_id"] == id) mine.push_back(up);
  }
  ASSERT_GE(mine.size(), 5u) << u.body;  // submitted, triaged, assigned, started, resolved
  EXPECT_EQ(mine.front()["status"], "open");
  EXPECT_EQ(mine.front()["external_status_code"], "submitted");
  EXPECT_EQ(mine.front()["media_url"], origin() + "/api/v1/reports/" + id + "/photos/1");
  EXPECT_EQ(mine.back()["status"], "fixed");
  EXPECT_EQ(mine.back()["description"], "Đã vá ổ gà ngày hôm nay.");
  bool in_progress = false;
  long last_id = 0;
  for (const auto& up : mine) {
    in_progress = in_progress || up["status"] == "in_progress";
    const long update_id = std::stol(up["update_id"].get<std::string>());
    EXPECT_GT(update_id, last_id);  // oldest first, unique
    last_id = update_id;
    EXPECT_TRUE(std::regex_match(up.value("updated_datetime", ""), kW3c)) << up;
  }
  EXPECT_TRUE(in_progress) << u.body;

  auto x = get311("servicerequestupdates.xml?jurisdiction_id=hue.gov.vn");
  auto xml = parseXml(x);
  ASSERT_TRUE(xml) << x.body;
  EXPECT_EQ(xml->name, "service_request_updates");
  auto items = xml->all("request_update");
  ASSERT_EQ(items.size(), u.json().size());
  EXPECT_EQ(items.back()->childText("status"), "fixed");
  EXPECT_EQ(items.back()->childText("service_request_id"), id);
  // A window that ended before the report: nothing.
  EXPECT_TRUE(get311("servicerequestupdates.json?end_date=2020-01-01T00:00:00Z").json().empty());
}

TEST_F(Open311, HiddenReportsAndRedactedPhotosAreNotPublished) {
  const std::string jpeg = base64Decode(kJpegBase64);
  auto r = postMultipart(pothole("ảnh có mặt người"), {{"media", "a.jpg", "image/jpeg", jpeg}});
  ASSERT_EQ(r.status, 201u) << r.describe();
  const std::string id = r.json()[0].value("service_request_id", "");
  const std::string other = submit(pothole("phản ánh khác"));

  auto redact = postJson(port(), "/api/v1/reports/" + id + "/moderation/redact-photo",
                         {{"n", 1}, {"reason", "lộ mặt người đi đường"}}, admin_);
  ASSERT_EQ(redact.status, 200u) << redact.describe();
  auto q = get311("requests/" + id + ".json?extensions=true").json()[0];
  EXPECT_EQ(q["media_url"], "");
  EXPECT_TRUE(q["extended_attributes"]["photos"].empty());
  EXPECT_EQ(get311("requests/" + id + ".xml").body.find("/photos/1"), std::string::npos);
  for (const auto& up : get311("servicerequestupdates.json").json()) {
    EXPECT_EQ(up["media_url"], "") << up;
  }

  auto hide = postJson(port(), "/api/v1/reports/" + id + "/moderation/hide",
                       {{"reason", "nội dung xúc phạm"}}, admin_);
  ASSERT_EQ(hide.status, 200u) << hide.describe();
  EXPECT_TRUE(isOpen311Error(get311("requests/" + id + ".json"), 404));
  EXPECT_TRUE(isOpen311Error(get311("requests/" + id + ".xml"), 404, "xml"));
  auto list = get311("requests.json").json();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["service_request_id"], other);
  EXPECT_TRUE(get311("requests.json?service_request_id=" + id).json().empty());
  for (const auto& up : get311("servicerequestupdates.json").json()) {
    EXPECT_NE(up["service_request_id"], id);
  }
}

}  // namespace
}  // namespace ioc::it
