// Citizen reports: photo checks and EXIF stripping, the category catalog and its questions, the
// KPI index against a brute-force recount, and the service with a FakeClock: submission,
// tracking, the agencies' workflow, "not fixed" reopening with a fresh working-day SLA,
// privacy of the reporter, moderation, and state surviving a restart.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <random>

#include "calendar/date.h"
#include "reports/photos.h"
#include "reports/service.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::reports {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

std::string segment(uint8_t marker, const std::string& payload) {
  const size_t len = payload.size() + 2;
  return std::string{'\xFF', static_cast<char>(marker), static_cast<char>(len >> 8),
                     static_cast<char>(len & 0xFF)} +
         payload;
}

// A structurally valid JPEG: JFIF, an Exif APP1 carrying a GPS tag name, a scan, EOI.
std::string jpegWithExif() {
  return std::string("\xFF\xD8", 2) + segment(0xE0, std::string("JFIF\0\1\1\0\0\1\0\1\0\0", 14)) +
         segment(0xE1, std::string("Exif\0\0", 6) + "GPSLatitude 16.46") +
         segment(0xDB, std::string(65, '\x01')) + segment(0xDA, std::string(10, '\0')) +
         std::string("\x12\x34\x56", 3) + std::string("\xFF\xD9", 2);
}

std::string pngChunk(const std::string& type, const std::string& data) {
  const size_t n = data.size();
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)} +
         type + data + std::string(4, '\0');
}

std::string pngWithExif() {
  return std::string("\x89PNG\r\n\x1A\n", 8) + pngChunk("IHDR", std::string(13, '\1')) +
         pngChunk("eXIf", "GPS") + pngChunk("IDAT", "xx") + pngChunk("IEND", "");
}

TEST(Photos, JpegExifStrippedUnlessKept) {
  const std::string in = jpegWithExif();
  auto out = cleanPhoto(in, false);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->content_type, "image/jpeg");
  EXPECT_TRUE(out->stripped);
  EXPECT_EQ(out->bytes.find("GPSLatitude"), std::string::npos);
  EXPECT_EQ(out->bytes.size(), in.size() - (4 + 6 + 17));
  auto kept = cleanPhoto(in, true);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->stripped);
  EXPECT_EQ(kept->bytes, in);
}

TEST(Photos, PngExifStripped) {
  auto out = cleanPhoto(pngWithExif(), false);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->content_type, "image/png");
  EXPECT_TRUE(out->stripped);
  EXPECT_EQ(out->bytes.find("eXIf"), std::string::npos);
}

TEST(Photos, FakesAndTruncatedFilesRefused) {
  for (const std::string& bad : {std::string("<script>alert(1)</script>"),
                                 std::string("GIF89a......"), jpegWithExif().substr(0, 40),
                                 pngWithExif().substr(0, 30), std::string("\xFF\xD8\xFF\xD9", 4)}) {
    auto out = cleanPhoto(bad, false);
    ASSERT_FALSE(out.ok()) << bad.size();
    EXPECT_EQ(out.error().code, core::Errc::kUnsupportedMediaType);
  }
}

json catalogJson() {
  return json::parse(
      R"({"jurisdiction": "test", "sla_tiers": [{"name": "simple", "working_days": 3}],
    "services": [
      {"code": "road", "name": "Đường", "sla_tier": "simple", "incident_category": "infrastructure",
       "questions": [
         {"code": "level", "datatype": "singlevaluelist", "required": true,
          "values": [{"key": "low", "name": "Thấp"}, {"key": "high", "name": "Cao"}]},
         {"code": "depth", "datatype": "number"}]},
      {"code": "land", "name": "Đất đai", "handled": false, "redirect": "UBND phường"}]})");
}

TEST(Catalog, AnswersAreChecked) {
  auto c = Catalog::fromJson(catalogJson());
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Service* road = c->find("road");
  ASSERT_NE(road, nullptr);
  EXPECT_EQ(c->workingDays("simple"), 3);
  EXPECT_EQ(c->workingDays("complex"), 10);                      // default tier
  EXPECT_FALSE(c->validateAnswers(*road, json::object()).ok());  // level is required
  EXPECT_FALSE(c->validateAnswers(*road, {{"level", "medium"}}).ok());
  EXPECT_FALSE(c->validateAnswers(*road, {{"level", "low"}, {"depth", "deep"}}).ok());
  EXPECT_FALSE(c->validateAnswers(*road, {{"level", "low"}, {"colour", "red"}}).ok());
  auto ok = c->validateAnswers(*road, {{"level", "high"}, {"depth", "12.5"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["depth"], 12.5);
  EXPECT_FALSE(Catalog::fromJson(json::parse(R"({"services": [{"code": "a", "name": "A",
    "questions": [{"code": "q", "datatype": "singlevaluelist"}]}]})"))
                   .ok());
}

TEST(Notice, TellsTheReporterInBothLanguagesAndOnlyPublicChanges) {
  Report before;
  before.id = "PA-261207-00001";
  before.code = "ABCDE12345";
  before.status = Status::kTriaged;
  before.updates.push_back({1, 0, "submitted", Status::kNew, "", "citizen", true, {}});
  Report after = before;
  after.updates.push_back({2, 0, "comment", Status::kTriaged, "gọi điện lực", "op", false, {}});
  EXPECT_FALSE(citizenVisibleChange(&before, after));  // an internal note is no news
  after.status = Status::kAssigned;
  after.agency = "Điện lực Huế";
  after.updates.push_back(
      {3, 0, "assigned", Status::kAssigned, "Chuyển đến Điện lực Huế", "op", true, {}});
  EXPECT_TRUE(citizenVisibleChange(&before, after));
  EXPECT_TRUE(citizenVisibleChange(nullptr, after));

  CitizenNotice n = composeNotice(after, "https://ioc.hue.gov.vn");
  EXPECT_EQ(n.title, "Phản ánh PA-261207-00001: Đã chuyển đơn vị xử lý");
  EXPECT_NE(n.body.find("Chuyển đến Điện lực Huế"), std::string::npos);
  EXPECT_NE(n.body.find("assigned to an agency"), std::string::npos);
  EXPECT_EQ(n.body.find("ABCDE12345"), std::string::npos);  // followers never see the code
  EXPECT_EQ(n.body.find("gọi điện lực"), std::string::npos);
  EXPECT_NE(n.mail_text.find("https://ioc.hue.gov.vn/#/portal?track=ABCDE12345"),
            std::string::npos);
  EXPECT_EQ(composeNotice(after, "").mail_text.find("http"), std::string::npos);
}

TEST(Kpis, IndexAgreesWithARecount) {
  KpiIndex index;
  std::mt19937 rng(7);
  const int64_t now = 1'000'000'000;
  const std::vector<std::string> agencies = {"A", "B", "C"};
  std::vector<KpiRecord> all;
  std::vector<std::string> keep;  // the index holds views: keep the strings alive
  keep.reserve(3000);
  for (int i = 0; i < 1000; ++i) {
    KpiRecord r;
    r.created_ms = static_cast<int64_t>(rng() % 900'000'000);
    r.due_ms = r.created_ms + 50'000'000;
    r.open = rng() % 3 == 0;
    r.first_resolved_ms =
        r.open && rng() % 2 ? 0 : r.created_ms + static_cast<int64_t>(rng() % 100'000'000);
    if (r.open && r.first_resolved_ms) r.reopened = true;
    if (!r.open && rng() % 2) r.rating = 1 + static_cast<int>(rng() % 5);
    keep.push_back(agencies[rng() % 3]);
    r.agency = keep.back();
    r.unit = "46";
    all.push_back(r);
    index.put(static_cast<size_t>(i + 1), r);
  }
  KpiIndex::Query q;
  q.from_ms = 100'000'000;
  q.to_ms = 800'000'000;
  json out = index.query(q, now);
  for (const auto& g : out["groups"]) {
    int64_t received = 0, resolved = 0, on_time = 0, overdue = 0, rated = 0, happy = 0;
    for (const auto& r : all) {
      if (r.agency != g["key"].get<std::string>() || r.created_ms < q.from_ms ||
          r.created_ms >= q.to_ms)
        continue;
      ++received;
      if (!r.open) {
        ++resolved;
        on_time += r.first_resolved_ms <= r.due_ms;
      } else {
        overdue += now > r.due_ms;
      }
      if (r.rating) {
        ++rated;
        happy += r.rating >= 4;
      }
    }
    EXPECT_EQ(g["received"], received);
    EXPECT_EQ(g["resolved"], resolved);
    EXPECT_EQ(g["on_time"], on_time);
    EXPECT_EQ(g["open_overdue"], overdue);
    EXPECT_NEAR(g["on_time_pct"].get<double>(), 100.0 * on_time / (resolved + overdue), 0.051);
    EXPECT_NEAR(g["satisfaction_pct"].get<double>(), 100.0 * happy / rated, 0.051);
    EXPECT_GT(received, 100);
  }
  EXPECT_EQ(out["groups"].size(), 3u);
}

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_rep_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    openStore();
    auto units = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                              "/data/admin/vn34_units_2025_full.json");
    ASSERT_TRUE(units.ok());
    units_ = std::move(*units);
    auto cal = calendar::WorkingCalendar::loadFile(std::string(IOC_SOURCE_DIR) +
                                                   "/data/calendar/vn_holidays.json");
    ASSERT_TRUE(cal.ok()) << cal.error().message;
    options_.calendar = std::make_shared<const calendar::WorkingCalendar>(std::move(*cal));
    options_.photo_dir = dir_ + "/photos";
    options_.route = [](const std::string&, const std::string& category, const std::string&) {
      return category == "infrastructure" ? std::optional<std::string>("Công ty Công viên")
                                          : std::nullopt;
    };
    staff_.actor.name = "op";
    staff_.role = "operator";
  }
  void TearDown() override {
    svc_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void openStore() {
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void make() {
    auto c = Catalog::fromJson(catalogJson());
    ASSERT_TRUE(c.ok());
    svc_ = std::make_unique<ReportService>(*store_, units_, clock_, std::move(*c), options_);
    svc_->setListener([this](const ReportEvent& e) { events_.push_back(e.type); });
    ASSERT_TRUE(svc_->load().ok());
  }
  core::Result<ReportService::Receipt> submit(Submission s) {
    std::promise<core::Result<ReportService::Receipt>> done;
    auto f = done.get_future();
    svc_->submit(std::move(s),
                 [&](core::Result<ReportService::Receipt> r) { done.set_value(std::move(r)); });
    return f.get();
  }
  static Submission road() {
    Submission s;
    s.service_code = "road";
    s.description = "Ổ gà lớn trước số 12 Lê Lợi";
    s.lat = 16.4637;
    s.lon = 107.5909;
    s.unit_code = "46";
    s.attributes = {{"level", "high"}};
    s.reporter.name = "Nguyễn Văn A";
    s.reporter.phone = "0905123456";
    return s;
  }
  static int64_t local(const char* text) {
    auto t = calendar::parseLocalDateTime(text);
    EXPECT_TRUE(t.ok()) << text;
    return t.ok() ? *t : 0;
  }

  std::string dir_;
  std::unique_ptr<storage::sqlite::SqliteStore> store_;
  units::UnitCatalog units_;
  core::FakeClock clock_;
  ServiceOptions options_;
  Caller staff_;
  std::unique_ptr<ReportService> svc_;
  std::vector<std::string> events_;
};

TEST_F(ServiceTest, BadSubmissionsStoreNothing) {
  make();
  auto unknown = road();
  unknown.service_code = "ufo";
  auto redirect = road();
  redirect.service_code = "land";
  auto nowhere = road();
  nowhere.lat.reset();
  nowhere.lon.reset();
  auto script = road();
  script.description = "xem <script>alert(1)</script>";
  auto fake = road();
  fake.photos.push_back({"not an image", "a.jpg"});
  auto missing = road();
  missing.attributes = json::object();
  for (auto* s : {&unknown, &redirect, &nowhere, &script, &fake, &missing}) {
    auto r = submit(*s);
    EXPECT_FALSE(r.ok()) << s->description;
  }
  EXPECT_NE(submit(redirect).error().message.find("UBND phường"), std::string::npos);
  EXPECT_EQ(svc_->size(), 0u);
  EXPECT_TRUE(!fs::exists(options_.photo_dir) || fs::is_empty(options_.photo_dir));
  EXPECT_TRUE(store_->listDocuments(kReportKind)->empty());
}

TEST_F(ServiceTest, LifeOfAReportWithNotFixedReopen) {
  clock_.set(local("2026-04-24T09:00:00"));  // Friday before Reunification Day
  make();
  auto s = road();
  s.photos.push_back({jpegWithExif(), "x.jpg"});
  auto receipt = submit(s);
  ASSERT_TRUE(receipt.ok()) << receipt.error().message;
  EXPECT_EQ(receipt->code.size(), 10u);
  json tracked = *svc_->track(receipt->code);
  EXPECT_EQ(tracked["status"], "new");
  EXPECT_EQ(tracked["agency"], "Công ty Công viên");
  EXPECT_EQ(tracked["photos"].size(), 1u);
  EXPECT_FALSE(tracked.contains("reporter"));
  EXPECT_EQ(tracked.dump().find("0905123456"), std::string::npos);
  // 3 working days from Fri 24 Apr: Mon 27 is off (Hùng Kings' day falls on Sunday 26), so
  // 28, 29, then 30 Apr, 1 May and the weekend are skipped: Mon 4 May.
  EXPECT_EQ(tracked["due_at"], core::formatRfc3339(local("2026-05-04T09:00:00")));
  auto photo = svc_->photo(receipt->id, 1);
  ASSERT_TRUE(photo.ok());
  EXPECT_EQ(photo->first.find("GPSLatitude"), std::string::npos);

  const std::string id = receipt->id;
  EXPECT_EQ(
      svc_->act(id, "resolve", {{"resolution", "fixed"}, {"answer", "x"}}, staff_).error().code,
      core::Errc::kConflict);  // not yet with an agency
  ASSERT_TRUE(svc_->act(id, "triage", json::object(), staff_).ok());
  ASSERT_TRUE(svc_->act(id, "assign", json::object(), staff_).ok());
  ASSERT_TRUE(svc_->act(id, "start", json::object(), staff_).ok());
  EXPECT_FALSE(svc_->rate(receipt->code, {{"rating", 5}}, staff_.actor).ok());  // still open
  clock_.set(local("2026-04-28T10:00:00"));
  auto resolved = svc_->act(id, "resolve", {{"resolution", "fixed"}, {"answer", "Đã vá"}}, staff_);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ((*resolved)["extended_status"], "FIXED");
  auto rated = svc_->rate(receipt->code, {{"rating", 2}, {"fixed", false}}, staff_.actor);
  ASSERT_TRUE(rated.ok()) << rated.error().message;
  EXPECT_EQ((*rated)["status"], "assigned");
  EXPECT_EQ((*rated)["reopen_count"], 1);
  EXPECT_EQ((*rated)["extended_status"], "REOPENED");
  // Fresh SLA from Tue 28 Apr 10:00: 29 Apr, 4 May, 5 May (30 Apr, 1 May, the weekend skipped).
  EXPECT_EQ((*rated)["due_at"], core::formatRfc3339(local("2026-05-05T10:00:00")));
  EXPECT_NE(std::find(events_.begin(), events_.end(), "report.reopened"), events_.end());
  // Resolved again: one rating per resolution.
  ASSERT_TRUE(
      svc_->act(id, "resolve", {{"resolution", "fixed"}, {"answer", "Đã vá lại"}}, staff_).ok());
  EXPECT_TRUE((*svc_->track(receipt->code))["can_rate"]);
  ASSERT_TRUE(svc_->rate(receipt->code, {{"rating", 5}}, staff_.actor).ok());
  EXPECT_FALSE((*svc_->track(receipt->code))["can_rate"]);
  EXPECT_EQ(svc_->rate(receipt->code, {{"rating", 1}}, staff_.actor).error().code,
            core::Errc::kConflict);

  // Staff never see the reporter; reports:identity does, and that view is audited.
  json staff_view = *svc_->get(id, staff_);
  EXPECT_EQ(staff_view.dump().find("Nguyễn Văn A"), std::string::npos);
  EXPECT_FALSE(svc_->reporter(id, staff_).ok());
  Caller lead = staff_;
  lead.sees_reporter = true;
  auto who = svc_->reporter(id, lead);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ((*who)["phone"], "0905123456");
  storage::AuditFilter f;
  auto audit = store_->listAudit(f);
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(std::any_of(audit->begin(), audit->end(),
                          [](const auto& e) { return e.action == "report.reporter_view"; }));

  // Restart: everything is back, including the tracking code and the reopen.
  svc_.reset();
  make();
  json again = *svc_->track(receipt->code);
  EXPECT_EQ(again["status"], "resolved");
  EXPECT_EQ(again["rating"], 5);
  EXPECT_EQ(again["reopen_count"], 1);
  EXPECT_EQ(again["timeline"].size(), tracked["timeline"].size() + 8);
}

TEST_F(ServiceTest, ModerationHidesAndRedacts) {
  make();
  auto s = road();
  s.photos.push_back({jpegWithExif(), "x.jpg"});
  auto receipt = submit(s);
  ASSERT_TRUE(receipt.ok());
  EXPECT_FALSE(svc_->moderate(receipt->id, "hide", json::object(), staff_).ok());  // no reason
  ASSERT_TRUE(
      svc_->moderate(receipt->id, "redact-photo", {{"n", 1}, {"reason", "a face"}}, staff_).ok());
  EXPECT_FALSE(svc_->photo(receipt->id, 1).ok());
  ASSERT_TRUE(svc_->moderate(receipt->id, "hide", {{"reason", "abuse"}}, staff_).ok());
  EXPECT_EQ(svc_->findPublic(receipt->id), nullptr);
  EXPECT_TRUE(svc_->queryPublic({}).empty());
  EXPECT_TRUE(svc_->get(receipt->id, staff_).ok());  // staff still see it
}

TEST_F(ServiceTest, DuplicatesNearbyAndScope) {
  make();
  ASSERT_TRUE(submit(road()).ok());
  auto far = road();
  far.lat = 16.50;
  ASSERT_TRUE(submit(far).ok());
  auto near = svc_->duplicates("road", 16.4638, 107.5910, 200);
  ASSERT_EQ(near.size(), 1u);
  EXPECT_LT(near[0]["distance_m"].get<double>(), 20);
  Caller other = staff_;
  other.unit_code = "01";  // Hà Nội: sees none of Huế's reports
  EXPECT_EQ(svc_->list({}, other).total, 0u);
  EXPECT_EQ(svc_->list({}, staff_).total, 2u);
}

}  // namespace
}  // namespace ioc::reports
