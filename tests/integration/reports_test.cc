// Citizen reports through the real binary: the life of a report from an anonymous multipart
// submission with photos to the agency's answer, a "not fixed" rating and the reopen; privacy of
// the reporter against agency staff (and the audited view of those allowed); unit scoping; bad
// input that stores nothing; rate limits; and the 10,000 real San Francisco 311 cases replayed
// through the import API with the KPIs checked against a recount done here. Citizens hear of
// changes: the public tracking stream, their account's notifications and the reporter's email.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "calendar/working_calendar.h"
#include "integration/harness.h"
#include "integration/support.h"
#include "unit/notify/fake_smtp.h"

namespace ioc::it {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

// Phường Phú Xuân (19753), Huế (46).
constexpr double kLat = 16.47764, kLon = 107.55796;
const std::string kBoundary = "----cityioc-test-boundary";

std::string segment(uint8_t marker, const std::string& payload) {
  const size_t len = payload.size() + 2;
  return std::string{'\xFF', static_cast<char>(marker), static_cast<char>(len >> 8),
                     static_cast<char>(len & 0xFF)} +
         payload;
}

// A JPEG whose Exif block carries a location, as phones write them.
std::string jpegWithGps() {
  return std::string("\xFF\xD8", 2) + segment(0xE0, std::string("JFIF\0\1\1\0\0\1\0\1\0\0", 14)) +
         segment(0xE1, std::string("Exif\0\0", 6) + "GPSLatitude=16.4776") +
         segment(0xDB, std::string(65, '\x01')) + segment(0xDA, std::string(10, '\0')) +
         std::string("\x12\x34\x56", 3) + std::string("\xFF\xD9", 2);
}

struct Part {
  std::string name, filename, type, data;
};

std::string multipart(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\n";
    if (!p.type.empty()) body += "Content-Type: " + p.type + "\r\n";
    body += "\r\n" + p.data + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

HttpResponse postMultipart(uint16_t port, const std::string& target, const std::vector<Part>& parts,
                           const std::string& bearer = "") {
  RequestOptions o;
  o.body = multipart(parts);
  o.content_type = "multipart/form-data; boundary=" + kBoundary;
  o.bearer = bearer;
  return request(port, "POST", target, o);
}

std::vector<Part> roadReport(const std::string& description) {
  return {{"service_code", "", "", "duong-hu-hong"},
          {"description", "", "", description},
          {"lat", "", "", std::to_string(kLat)},
          {"long", "", "", std::to_string(kLon)},
          {"attribute[muc_do]", "", "", "cao"},
          {"name", "", "", "Trần Thị Bình"},
          {"phone", "", "", "0914555666"}};
}

class Reports : public testing::Test {
 protected:
  explicit Reports(Env env = {}) : server_({}, std::move(env)) {}
  void SetUp() override {
    addUserCli(server_.dataDir(), kAdminUser, kAdminPassword, "admin");
    ASSERT_TRUE(server_.start());
    admin_ = login(port(), kAdminUser, kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    RequestOptions o;
    o.body = json{{"rules", {{{"category", "infrastructure"}, {"agency", "Công ty Hạ tầng Huế"}}}}}
                 .dump();
    o.bearer = admin_;
    auto r = request(port(), "PUT", "/api/v1/routing-tables/46", o);
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
  json act(const std::string& id, const std::string& action, const json& body,
           const std::string& who, unsigned expect = 200) {
    auto r = postJson(port(), "/api/v1/reports/" + id + "/" + action, body, who);
    EXPECT_EQ(r.status, expect) << action << ": " << r.describe();
    return r.json();
  }

  ServerProcess server_;
  std::string admin_;
};

TEST_F(Reports, LifeOfAnAnonymousReportWithPhotosToReopen) {
  auto parts = roadReport("Ổ gà sâu giữa đường, xe máy dễ ngã");
  parts.push_back({"photo", "o-ga.jpg", "image/jpeg", jpegWithGps()});
  parts.push_back({"photo", "o-ga-2.jpg", "image/jpeg", jpegWithGps()});
  auto sub = postMultipart(port(), "/api/v1/reports", parts);
  ASSERT_EQ(sub.status, 201u) << sub.describe();
  const std::string code = sub.jsonField("tracking_code");
  const std::string id = sub.jsonField("id");
  ASSERT_EQ(code.size(), 10u);
  EXPECT_EQ(sub.header("Location"), "/api/v1/reports/track/" + code);
  EXPECT_EQ(sub.jsonField("ward_code"), "19753");
  EXPECT_EQ(sub.jsonField("agency"), "Công ty Hạ tầng Huế");
  EXPECT_EQ(sub.body.find("0914555666"), std::string::npos);

  auto photo = get(port(), "/api/v1/reports/" + id + "/photos/1");
  ASSERT_EQ(photo.status, 200u);
  EXPECT_EQ(photo.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(photo.body.find("GPSLatitude"), std::string::npos);  // EXIF location removed
  EXPECT_EQ(photo.body.substr(0, 2), std::string("\xFF\xD8", 2));

  // While a neighbour submits the same pothole, the open report is suggested.
  auto dup = get(
      port(), "/api/v1/reports/duplicates?service_code=duong-hu-hong&lat=16.47770&long=107.55790");
  ASSERT_EQ(dup.status, 200u);
  ASSERT_EQ(dup.jsonField("items").size(), 1u);
  EXPECT_EQ(dup.jsonField("items")[0]["id"], id);

  const std::string op = userToken("op1", "operator", "46");
  const std::string agency = userToken("agency1", "agency_staff", "46");
  const std::string supervisor = userToken("sup1", "supervisor", "46");
  const std::string hanoi = userToken("hn1", "operator", "01");
  act(id, "triage", json::object(), op);
  act(id, "assign", json::object(), op);
  act(id, "start", {{"note", "Đã cử đội đến hiện trường"}}, agency);
  RequestOptions ev;
  ev.body = jpegWithGps();
  ev.content_type = "image/jpeg";
  ev.bearer = agency;
  ASSERT_EQ(request(port(), "POST", "/api/v1/reports/" + id + "/evidence", ev).status, 201u);
  act(id, "resolve", {{"resolution", "fixed"}, {"answer", "Đã vá ổ gà ngày hôm nay"}}, agency);

  auto tracked = get(port(), "/api/v1/reports/track/" + code);
  ASSERT_EQ(tracked.status, 200u);
  EXPECT_EQ(tracked.jsonField("status"), "resolved");
  EXPECT_EQ(tracked.jsonField("agency_answer"), "Đã vá ổ gà ngày hôm nay");
  EXPECT_EQ(tracked.jsonField("photos").size(), 3u);
  std::vector<std::string> kinds;
  for (const auto& u : tracked.jsonField("timeline")) kinds.push_back(u["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"submitted", "triaged", "assigned", "started",
                                             "evidence", "resolved"}));
  EXPECT_EQ(tracked.body.find("op1"), std::string::npos);  // staff names stay internal

  auto rated = postJson(port(), "/api/v1/reports/track/" + code + "/rate",
                        {{"rating", 1}, {"fixed", false}, {"comment", "Vẫn còn ổ gà"}});
  ASSERT_EQ(rated.status, 200u) << rated.describe();
  EXPECT_EQ(rated.jsonField("status"), "assigned");
  EXPECT_EQ(rated.jsonField("reopen_count"), 1);
  EXPECT_EQ(rated.jsonField("extended_status"), "REOPENED");

  // Privacy: agency staff never see who reported; the supervisor may, and it is audited.
  auto as_agency = get(port(), "/api/v1/reports/" + id, agency);
  ASSERT_EQ(as_agency.status, 200u);
  for (const char* secret : {"Trần Thị Bình", "0914555666"}) {
    EXPECT_EQ(as_agency.body.find(secret), std::string::npos);
    EXPECT_EQ(get(port(), "/api/v1/reports?limit=500", agency).body.find(secret),
              std::string::npos);
  }
  EXPECT_EQ(get(port(), "/api/v1/reports/" + id + "/reporter", agency).status, 403u);
  auto identity = get(port(), "/api/v1/reports/" + id + "/reporter", supervisor);
  ASSERT_EQ(identity.status, 200u) << identity.describe();
  EXPECT_EQ(identity.jsonField("phone"), "0914555666");
  auto audit = get(port(), "/api/v1/audit?limit=500", admin_);
  EXPECT_NE(audit.body.find("report.reporter_view"), std::string::npos);

  // Another city's operator sees none of it.
  EXPECT_EQ(get(port(), "/api/v1/reports/" + id, hanoi).status, 404u);
  EXPECT_EQ(get(port(), "/api/v1/reports", hanoi).jsonField("total"), 0);

  // Escalation opens a linked incident for the operations console.
  auto esc = postJson(port(), "/api/v1/reports/" + id + "/escalate", json::object(), op);
  ASSERT_EQ(esc.status, 201u) << esc.describe();
  EXPECT_EQ(esc.json()["incident"]["source"]["kind"], "citizen_report");
  EXPECT_EQ(get(port(), "/api/v1/reports/" + id, op).jsonField("incident_id"),
            esc.json()["incident"]["id"]);

  // kill -9: the acknowledged report, its reopen and photos are all there after a restart.
  server_.kill9();
  ASSERT_TRUE(server_.restart());
  auto again = get(port(), "/api/v1/reports/track/" + code);
  ASSERT_EQ(again.status, 200u);
  EXPECT_EQ(again.jsonField("reopen_count"), 1);
  EXPECT_EQ(get(port(), "/api/v1/reports/" + id + "/photos/2").status, 200u);
}

TEST_F(Reports, BadInputIsRefusedAndNothingIsStored) {
  auto wrong = roadReport("x");
  wrong[0].data = "khong-co";
  EXPECT_EQ(postMultipart(port(), "/api/v1/reports", wrong).status, 422u);
  auto nowhere = roadReport("không có vị trí");
  nowhere.erase(nowhere.begin() + 2, nowhere.begin() + 4);
  EXPECT_EQ(postMultipart(port(), "/api/v1/reports", nowhere).status, 422u);
  auto script = roadReport("<script>alert('x')</script>");
  auto r = postMultipart(port(), "/api/v1/reports", script);
  EXPECT_EQ(r.status, 422u);
  EXPECT_TRUE(r.isProblem());
  auto fake = roadReport("ảnh giả");
  fake.push_back({"photo", "a.jpg", "image/jpeg", "#!/bin/sh\nrm -rf /\n"});
  EXPECT_EQ(postMultipart(port(), "/api/v1/reports", fake).status, 415u);
  auto big = roadReport("ảnh quá lớn");
  std::string huge = jpegWithGps();
  huge.insert(huge.size() - 2, std::string(6 * 1024 * 1024, '\x55'));
  big.push_back({"photo", "big.jpg", "image/jpeg", huge});
  EXPECT_EQ(postMultipart(port(), "/api/v1/reports", big).status, 413u);
  auto redirect = postJson(port(), "/api/v1/reports",
                           {{"service_code", "tranh-chap-dat-dai"},
                            {"description", "tranh chấp"},
                            {"location", {{"lat", kLat}, {"long", kLon}}}});
  EXPECT_EQ(redirect.status, 422u);
  EXPECT_NE(redirect.body.find("UBND"), std::string::npos);  // where to go instead
  EXPECT_EQ(get(port(), "/api/v1/reports", admin_).jsonField("total"), 0);
  const fs::path photos = fs::path(server_.dataDir()) / "attachments" / "reports";
  EXPECT_TRUE(!fs::exists(photos) || fs::is_empty(photos));
}

TEST_F(Reports, CitizenAccountsFollowAndGetLockedWhenAbusive) {
  auto signup =
      postJson(port(), "/api/v1/citizens",
               {{"username", "nguoidan1"}, {"password", "mat-khau-dai-1"}, {"unit_code", "46"}});
  ASSERT_EQ(signup.status, 201u) << signup.describe();
  EXPECT_EQ(signup.jsonField("role"), "citizen");
  EXPECT_EQ(postJson(port(), "/api/v1/citizens", {{"username", "x"}, {"password", "y"}}).status,
            422u);
  const std::string citizen = login(port(), "nguoidan1", "mat-khau-dai-1");
  ASSERT_FALSE(citizen.empty());
  EXPECT_EQ(get(port(), "/api/v1/reports", citizen).status, 403u);  // staff views are not theirs
  auto mine = postJson(port(), "/api/v1/reports",
                       {{"service_code", "chieu-sang"},
                        {"description", "Đèn tắt cả dãy phố"},
                        {"location", {{"lat", kLat}, {"long", kLon}}}},
                       citizen);
  ASSERT_EQ(mine.status, 201u) << mine.describe();
  auto other = postJson(port(), "/api/v1/reports",
                        {{"service_code", "cay-xanh"},
                         {"description", "Cây nghiêng sắp đổ"},
                         {"location", {{"lat", kLat}, {"long", kLon}}}});
  ASSERT_EQ(other.status, 201u);
  const std::string other_id = other.jsonField("id");
  auto follow =
      postJson(port(), "/api/v1/reports/" + other_id + "/follow", json::object(), citizen);
  ASSERT_EQ(follow.status, 200u) << follow.describe();
  EXPECT_EQ(follow.jsonField("followers"), 1);

  const std::string supervisor = userToken("sup2", "supervisor", "46");
  const std::string op = userToken("op2", "operator", "46");
  const std::string lock =
      "/api/v1/reports/moderation/accounts/" + signup.jsonField("id").dump() + "/lock";
  EXPECT_EQ(postJson(port(), lock, {{"reason", "spam"}}, op).status, 403u);
  EXPECT_EQ(postJson(port(), lock, json::object(), supervisor).status,
            422u);  // a reason is required
  auto locked = postJson(port(), lock, {{"reason", "gửi tin rác liên tục"}}, supervisor);
  ASSERT_EQ(locked.status, 200u) << locked.describe();
  EXPECT_EQ(get(port(), "/api/v1/auth/me", citizen).status, 401u);  // sessions end with the lock
  RequestOptions o;
  o.body = json{{"username", "nguoidan1"}, {"password", "mat-khau-dai-1"}}.dump();
  EXPECT_EQ(request(port(), "POST", "/api/v1/auth/login", o).status, 401u);
  // Staff accounts are not locked through moderation.
  auto staff_lock =
      postJson(port(), "/api/v1/reports/moderation/accounts/1/lock", {{"reason", "x"}}, supervisor);
  EXPECT_EQ(staff_lock.status, 422u);
}

//! The relay the server mails citizens through; one per test binary, shared by the fixtures.
notify::fake::FakeSmtp& relay() {
  static notify::fake::FakeSmtp smtp;
  return smtp;
}

class ReportNotices : public Reports {
 protected:
  ReportNotices()
      : Reports({{"CITYIOC_SMTP_HOST", "127.0.0.1"},
                 {"CITYIOC_SMTP_PORT", std::to_string(relay().port())},
                 {"CITYIOC_REPORTS_PUBLIC_URL", "https://ioc.hue.gov.vn"}}) {}
  //! Mail to `address` so far, each as headers + body.
  std::vector<std::string> mailTo(const std::string& address) {
    std::vector<std::string> out;
    for (const auto& m : relay().messages()) {
      if (m.find("To: " + address) != std::string::npos) out.push_back(m);
    }
    return out;
  }
};

TEST_F(ReportNotices, CitizensHearOfChangesTheyCanSee) {
  auto signup =
      postJson(port(), "/api/v1/citizens",
               {{"username", "theodoi1"}, {"password", "mat-khau-dai-2"}, {"unit_code", "46"}});
  ASSERT_EQ(signup.status, 201u) << signup.describe();
  const std::string follower = login(port(), "theodoi1", "mat-khau-dai-2");
  auto bad_email = postJson(port(), "/api/v1/reports",
                            {{"service_code", "chieu-sang"},
                             {"description", "Đèn tắt"},
                             {"reporter", {{"email", "a@b, c@d.vn"}}},
                             {"location", {{"lat", kLat}, {"long", kLon}}}});
  EXPECT_EQ(bad_email.status, 422u) << bad_email.describe();

  // An anonymous reporter who leaves an address; the receipt is mailed at once.
  auto sub = postJson(port(), "/api/v1/reports",
                      {{"service_code", "chieu-sang"},
                       {"description", "Cả dãy đèn đường tắt từ tối qua"},
                       {"reporter", {{"email", "nguoi.bao@example.vn"}}},
                       {"location", {{"lat", kLat}, {"long", kLon}}}});
  ASSERT_EQ(sub.status, 201u) << sub.describe();
  const std::string id = sub.jsonField("id"), code = sub.jsonField("tracking_code");
  ASSERT_TRUE(eventually([&] { return mailTo("nguoi.bao@example.vn").size() == 1; }, 10s));
  EXPECT_NE(mailTo("nguoi.bao@example.vn")[0].find(code), std::string::npos);

  // The tracking page listens; the follower's app listens on its account's notifications.
  EXPECT_EQ(get(port(), "/api/v1/reports/track/NOSUCHCODE/stream").status, 404u);
  RawConnection page(port());
  ASSERT_TRUE(page.send("GET /api/v1/reports/track/" + code +
                        "/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
  std::string head = page.readUntil("report tracking", 10s);
  ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  ASSERT_EQ(postJson(port(), "/api/v1/reports/" + id + "/follow", json::object(), follower).status,
            200u);
  WsClient app;
  ASSERT_EQ(app.connect(port(), "/api/v1/stream", follower), 101u);
  app.send({{"op", "subscribe"}, {"topics", {"notifications"}}});
  ASSERT_TRUE(app.readUntil([](const json& m) { return m.value("op", "") == "subscribed"; }));

  const std::string op = userToken("op3", "operator", "46");
  act(id, "comment", {{"text", "ghi chú nội bộ: gọi điện lực"}}, op);  // internal: no news
  act(id, "assign", {{"agency", "Điện lực Huế"}, {"reason", "đèn của điện lực"}}, op);
  std::string pushed;  // whole events, until the assignment's
  for (int i = 0; i < 10 && pushed.find("\"status\":\"assigned\"") == std::string::npos; ++i) {
    pushed = page.readUntil("\n\n", 10s);
  }
  EXPECT_NE(pushed.find("event: tracking"), std::string::npos) << pushed;
  EXPECT_NE(pushed.find("Điện lực Huế"), std::string::npos) << pushed;
  EXPECT_EQ(pushed.find("ghi chú nội bộ"), std::string::npos) << pushed;
  auto note = app.readUntil([](const json& m) { return m.value("topic", "") == "notifications"; });
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->dump().find(id), std::string::npos) << note->dump();
  EXPECT_EQ(note->dump().find(code), std::string::npos);  // followers never get the code

  ASSERT_TRUE(eventually([&] { return mailTo("nguoi.bao@example.vn").size() == 2; }, 10s));
  const std::string mail = mailTo("nguoi.bao@example.vn")[1];
  EXPECT_NE(mail.find("https://ioc.hue.gov.vn/#/portal?track=" + code), std::string::npos) << mail;
  EXPECT_NE(mail.find("Đã chuyển đơn vị xử lý"), std::string::npos) << mail;
  EXPECT_EQ(mail.find("ghi chú nội bộ"), std::string::npos);
  std::this_thread::sleep_for(300ms);  // the internal comment mailed nothing
  EXPECT_EQ(mailTo("nguoi.bao@example.vn").size(), 2u);

  // The follower's account lists the report (without the reporter's code).
  auto mine = get(port(), "/api/v1/citizens/me/reports", follower);
  ASSERT_EQ(mine.status, 200u) << mine.describe();
  ASSERT_EQ(mine.jsonField("items").size(), 1u);
  EXPECT_EQ(mine.jsonField("items")[0]["relation"], "follower");
  EXPECT_EQ(mine.body.find(code), std::string::npos);
  EXPECT_EQ(get(port(), "/api/v1/citizens/me/reports?limit=0", follower).status, 422u);
  EXPECT_EQ(get(port(), "/api/v1/citizens/me/reports").status, 401u);
}

class ReportLimits : public Reports {
 protected:
  ReportLimits() : Reports({{"CITYIOC_REPORTS_SUBMISSIONS_PER_MINUTE", "3"}}) {}
};

TEST_F(ReportLimits, SubmissionsPerClientAreLimited) {
  const json body = {{"service_code", "chieu-sang"},
                     {"description", "Đèn đường không sáng"},
                     {"location", {{"lat", kLat}, {"long", kLon}}},
                     {"emergency", false}};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(postJson(port(), "/api/v1/reports", body).status, 201u);
  auto r = postJson(port(), "/api/v1/reports", body);
  EXPECT_EQ(r.status, 429u);
  EXPECT_FALSE(r.header("Retry-After").empty());
}

// ---------------------------------------------------------------------------------------------
// The San Francisco replay

std::vector<std::string> csvRow(std::istream& in) {
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (int c; (c = in.get()) != EOF;) {
    if (quoted) {
      if (c == '"' && in.peek() == '"') {
        field += '"';
        in.get();
      } else if (c == '"') {
        quoted = false;
      } else {
        field += static_cast<char>(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      field += static_cast<char>(c);
    }
  }
  if (!row.empty() || !field.empty()) row.push_back(std::move(field));
  return row;
}

// "04/30/2014 02:51:52 PM" → "2014-04-30T14:51:52+07:00" (replayed as Huế local time).
std::string sfTime(const std::string& t) {
  int mo = 0, d = 0, y = 0, h = 0, mi = 0, s = 0;
  char ampm[3] = {};
  if (std::sscanf(t.c_str(), "%d/%d/%d %d:%d:%d %2s", &mo, &d, &y, &h, &mi, &s, ampm) != 7)
    return "";
  if (std::string(ampm) == "PM" && h != 12) h += 12;
  if (std::string(ampm) == "AM" && h == 12) h = 0;
  char out[40];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", y, mo, d, h, mi, s);
  return out;
}

std::string serviceFor(const std::string& category) {
  static const std::map<std::string, std::string> kMap = {
      {"Street and Sidewalk Cleaning", "ve-sinh-moi-truong"},
      {"Graffiti Private Property", "trat-tu-do-thi"},
      {"Graffiti Public Property", "trat-tu-do-thi"},
      {"Abandoned Vehicle", "trat-tu-do-thi"},
      {"Illegal Postings", "trat-tu-do-thi"},
      {"Blocked Street or SideWalk", "trat-tu-do-thi"},
      {"Street Defects", "duong-hu-hong"},
      {"Sidewalk or Curb", "duong-hu-hong"},
      {"Sewer Issues", "ngap-ung"},
      {"Streetlights", "chieu-sang"},
      {"Tree Maintenance", "cay-xanh"},
      {"Rec and Park Requests", "cay-xanh"},
      {"Noise Report", "o-nhiem-moi-truong"},
      {"Homeless Concerns", "an-ninh-trat-tu"},
      {"Encampments", "an-ninh-trat-tu"},
      {"MUNI Feedback", "an-toan-giao-thong"},
  };
  auto it = kMap.find(category);
  return it == kMap.end() ? "khac" : it->second;
}

int tierDays(const std::string& service) {
  static const std::map<std::string, int> kDays = {{"an-ninh-trat-tu", 1},
                                                   {"an-toan-giao-thong", 1},
                                                   {"cay-xanh", 1},
                                                   {"ngap-ung", 1},
                                                   {"trat-tu-do-thi", 3},
                                                   {"ve-sinh-moi-truong", 3},
                                                   {"chieu-sang", 3},
                                                   {"duong-hu-hong", 3},
                                                   {"o-nhiem-moi-truong", 10},
                                                   {"khac", 10}};
  return kDays.at(service);
}

// The instant of sfTime()'s output.
int64_t instant(const std::string& t) {
  std::tm tm{};
  std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
              &tm.tm_min, &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (static_cast<int64_t>(timegm(&tm)) - 7 * 3600) * 1000;
}

struct Expected {
  int64_t received = 0, resolved = 0, on_time = 0, open_overdue = 0;
  std::vector<int64_t> hours_ms;
};

TEST_F(Reports, SanFrancisco311ReplayKpisMatchARecount) {
  std::ifstream in(std::string(IOC_SOURCE_DIR) +
                   "/../shared/data/citizen_reports/sf311_cases_sample_10k.csv");
  if (!in) GTEST_SKIP() << "../shared/data is not here (a user's clone)";
  auto cal = calendar::WorkingCalendar::loadFile(std::string(IOC_SOURCE_DIR) +
                                                 "/data/calendar/vn_holidays.json");
  ASSERT_TRUE(cal.ok());
  const auto header = csvRow(in);
  ASSERT_EQ(header[0], "CaseID");
  std::map<std::string, Expected> expected;
  json batch = json::array();
  size_t sent = 0;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto flush = [&] {
    if (batch.empty()) return;
    auto r = postJson(port(), "/api/v1/reports/import", batch, admin_);
    ASSERT_EQ(r.status, 201u) << r.body.substr(0, 500);
    EXPECT_EQ(r.jsonField("imported"), batch.size());
    sent += batch.size();
    batch = json::array();
  };
  for (auto row = csvRow(in); row.size() >= 16; row = csvRow(in)) {
    const std::string created = sfTime(row[1]), closed = sfTime(row[2]);
    const double lat = std::atof(row[14].c_str()), lon = std::atof(row[15].c_str());
    if (created.empty() || lat < 37.6 || lat > 37.9 || lon < -122.6 || lon > -122.3) continue;
    const bool is_closed = row[4] == "Closed" && !closed.empty() && closed >= created;
    // San Francisco's extent laid over Huế's wards.
    json rec = {{"service_code", serviceFor(row[7])},
                {"description", row[8]},
                {"lat", 16.40 + (lat - 37.70) * (0.12 / 0.12)},
                {"long", 107.52 + (lon + 122.52) * (0.14 / 0.17)},
                {"unit_code", "46"},
                {"created_at", created},
                {"agency", row[6]},
                {"status", is_closed ? "closed" : "open"}};
    if (is_closed) rec["resolved_at"] = closed;
    batch.push_back(rec);
    // The recount: the same definitions, from the raw rows.
    Expected& e = expected[row[6]];
    const int64_t c_ms = instant(created);
    auto due = cal->addWorkingDays(c_ms, tierDays(serviceFor(row[7])));
    ASSERT_TRUE(due.ok());
    ++e.received;
    if (is_closed) {
      const int64_t r_ms = instant(closed);
      ++e.resolved;
      e.on_time += r_ms <= *due;
      e.hours_ms.push_back(r_ms - c_ms);
    } else if (now > *due) {
      ++e.open_overdue;
    }
    if (batch.size() == 1000) flush();
  }
  flush();
  ASSERT_GT(sent, 9000u);

  auto kpis = get(port(), "/api/v1/reports/kpis?group_by=agency", admin_);
  ASSERT_EQ(kpis.status, 200u) << kpis.describe();
  EXPECT_EQ(kpis.json()["total"]["received"], sent);
  size_t checked = 0;
  for (const auto& g : kpis.jsonField("groups")) {
    auto it = expected.find(g["key"].get<std::string>());
    ASSERT_NE(it, expected.end()) << g.dump();
    Expected& e = it->second;
    EXPECT_EQ(g["received"], e.received) << it->first;
    EXPECT_EQ(g["resolved"], e.resolved) << it->first;
    EXPECT_EQ(g["on_time"], e.on_time) << it->first;
    EXPECT_EQ(g["open_overdue"], e.open_overdue) << it->first;
    if (e.resolved + e.open_overdue > 0) {
      EXPECT_NEAR(g["on_time_pct"].get<double>(), 100.0 * e.on_time / (e.resolved + e.open_overdue),
                  0.051);
    }
    if (!e.hours_ms.empty()) {
      std::sort(e.hours_ms.begin(), e.hours_ms.end());
      const double median_h = e.hours_ms[(e.hours_ms.size() - 1) / 2] / 3.6e6;
      EXPECT_NEAR(g["median_hours_to_resolve"].get<double>(), median_h, 0.006) << it->first;
    }
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
  // A period filter: only 2015's cases.
  auto year = get(port(),
                  "/api/v1/reports/kpis?group_by=none&from=2015-01-01T00:00:00%2B07:00"
                  "&to=2016-01-01T00:00:00%2B07:00",
                  admin_);
  ASSERT_EQ(year.status, 200u);
  EXPECT_GT(year.json()["total"]["received"].get<int64_t>(), 100);
  EXPECT_LT(year.json()["total"]["received"].get<int64_t>(), static_cast<int64_t>(sent));
}

}  // namespace
}  // namespace ioc::it
