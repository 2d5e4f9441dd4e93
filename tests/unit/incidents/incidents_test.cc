// Incidents: lifecycle, SOP templates and step data, routing (table cases in
// tests/data/incidents), media checks, and the service with a FakeClock: SOP gating and SLA
// deadlines, reminders and escalation on the Vietnamese working-day calendar.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "calendar/date.h"
#include "incidents/media.h"
#include "incidents/service.h"
#include "storage/sqlite/sqlite_store.h"

namespace ioc::incidents {
namespace {

using json = ioc::Json;
namespace fs = std::filesystem;

json readData(const std::string& name) {
  std::ifstream in(std::string(IOC_SOURCE_DIR) + "/tests/data/incidents/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TEST(Lifecycle, Transitions) {
  EXPECT_TRUE(canTransition(Status::kNew, Status::kAssigned));
  EXPECT_TRUE(canTransition(Status::kAssigned, Status::kInProgress));
  EXPECT_TRUE(canTransition(Status::kInProgress, Status::kResolved));
  EXPECT_TRUE(canTransition(Status::kResolved, Status::kClosed));
  EXPECT_TRUE(canTransition(Status::kNew, Status::kCancelled));
  EXPECT_FALSE(canTransition(Status::kNew, Status::kClosed));
  EXPECT_FALSE(canTransition(Status::kClosed, Status::kNew));
  EXPECT_FALSE(canTransition(Status::kCancelled, Status::kAssigned));
  EXPECT_FALSE(canTransition(Status::kResolved, Status::kCancelled));
  for (Status s : {Status::kNew, Status::kAssigned, Status::kInProgress, Status::kResolved,
                   Status::kClosed, Status::kCancelled}) {
    EXPECT_EQ(parseStatus(statusName(s)), s);
  }
  EXPECT_EQ(maskPhone("0905123456"), "0905***456");
}

TEST(Routing, TableCases) {
  json data = readData("routing_cases.json");
  auto table = parseRoutingTable("46", data["table"], isKnownCategory);
  ASSERT_TRUE(table.ok()) << table.error().message;
  for (const auto& c : data["cases"]) {
    EXPECT_EQ(
        route(*table, c["category"].get<std::string>(), c["ward"].get<std::string>()).value_or("-"),
        c["agency"])
        << c.dump();
  }
  EXPECT_FALSE(parseRoutingTable("46", {{"rules", {{{"category", "ufo"}, {"agency", "x"}}}}},
                                 isKnownCategory)
                   .ok());
  EXPECT_FALSE(
      parseRoutingTable("46", {{"rules", {{{"category", "fire"}}}}}, isKnownCategory).ok());
}

TEST(Sop, StepDataValidation) {
  auto t = parseSopTemplate(json::parse(R"({"category":"fire","title":"t","steps":[
        {"title":"form","kind":"form","fields":[{"name":"n","type":"number"},
         {"name":"s","type":"select","options":["a","b"]},{"name":"note","required":false}]},
        {"title":"check","kind":"checklist","checklist":["x","y"]},
        {"title":"opt","mandatory":false}]})"),
                            isKnownCategory);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const auto& form = t->steps[0];
  EXPECT_TRUE(validateStepData(form, {{"n", 3}, {"s", "a"}}).ok());
  EXPECT_FALSE(validateStepData(form, {{"n", "3"}, {"s", "a"}}).ok());
  EXPECT_FALSE(validateStepData(form, {{"n", 3}, {"s", "c"}}).ok());
  EXPECT_FALSE(validateStepData(form, {{"s", "a"}}).ok());
  EXPECT_FALSE(validateStepData(form, {{"n", 3}, {"s", "a"}, {"extra", 1}}).ok());
  const auto& check = t->steps[1];
  EXPECT_TRUE(validateStepData(check, {{"checked", {"x", "y"}}}).ok());
  EXPECT_FALSE(validateStepData(check, {{"checked", {"x"}}}).ok());
  SopRun run = launchSop(*t);
  EXPECT_EQ(run.mandatoryOpen(), 2u);
  auto back = sopRunFromJson(toJson(run));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->steps.size(), 3u);
  EXPECT_FALSE(
      parseSopTemplate(json::parse(R"({"category":"nope","title":"t","steps":[{"title":"a"}]})"),
                       isKnownCategory)
          .ok());
  EXPECT_FALSE(
      parseSopTemplate(
          json::parse(R"({"category":"fire","title":"t","steps":[{"title":"a","role":"king"}]})"),
          isKnownCategory)
          .ok());
}

TEST(Media, Base64AndMagicBytes) {
  EXPECT_EQ(decodeBase64("aGVsbG8=").value_or("?"), "hello");
  EXPECT_EQ(decodeBase64("data:image/png;base64,aGVsbG8=").value_or("?"), "hello");
  EXPECT_FALSE(decodeBase64("aGVsbG8").has_value() && false);
  EXPECT_FALSE(decodeBase64("!!!").has_value());
  EXPECT_FALSE(decodeBase64("aGV=sbG8").has_value());
  EXPECT_EQ(sniffImageType(std::string("\xFF\xD8\xFF\xE0", 4)), "image/jpeg");
  EXPECT_EQ(sniffImageType(std::string("\x89PNG\r\n\x1A\n", 8)), "image/png");
  EXPECT_EQ(sniffImageType("GIF89a"), "");
}

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ioc_inc_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    storage::sqlite::SqliteOptions o;
    o.path = dir_ + "/ioc.db";
    auto s = storage::sqlite::SqliteStore::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    auto units = units::UnitCatalog::loadFile(std::string(IOC_SOURCE_DIR) +
                                              "/data/admin/vn34_units_2025_full.json");
    ASSERT_TRUE(units.ok());
    units_ = std::move(*units);
    auto cal = calendar::WorkingCalendar::loadFile(std::string(IOC_SOURCE_DIR) +
                                                   "/data/calendar/vn_holidays.json");
    ASSERT_TRUE(cal.ok()) << cal.error().message;
    options_.calendar = std::make_shared<const calendar::WorkingCalendar>(std::move(*cal));
    options_.attachment_dir = dir_ + "/att";
    options_.sop_defaults_file = std::string(IOC_SOURCE_DIR) + "/data/sop/default_templates.json";
    who_.actor.name = "op";
    who_.role = "operator";
    who_.sees_caller_numbers = true;
  }
  void TearDown() override {
    svc_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void make() {
    svc_ = std::make_unique<IncidentService>(*store_, units_, clock_, options_);
    svc_->setListener([this](const IncidentEvent& e) { events_.push_back(e); });
    ASSERT_TRUE(svc_->load().ok());
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
  Caller who_;
  std::unique_ptr<IncidentService> svc_;
  std::vector<IncidentEvent> events_;
};

TEST_F(ServiceTest, MandatoryStepsGateResolve) {
  make();
  auto inc =
      svc_->openManual({{"title", "cháy"}, {"category", "fire"}, {"unit_code", "19753"}}, who_);
  ASSERT_TRUE(inc.ok()) << inc.error().message;
  const std::string id = (*inc)["id"];
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, "incident.created");
  EXPECT_EQ(events_[0].unit_code, "19753");
  auto r = svc_->resolve(id, {{"resolution", "xong"}}, who_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::kConflict);
  EXPECT_EQ(r.error().message.rfind("sop-steps-open: ", 0), 0u);
  Caller boss = who_;
  boss.role = "supervisor";
  boss.can_override = true;
  ASSERT_TRUE(
      svc_->completeStep(id, 1, {{"data", {{"trapped_people", true}, {"scale", "large"}}}}, who_)
          .ok());
  ASSERT_TRUE(svc_->completeStep(id, 2, json::object(), who_).ok());
  Caller staff = who_;
  staff.role = "operator";
  EXPECT_EQ(svc_->completeStep(id, 4, {{"data", {{"checked", json::array()}}}}, staff).error().code,
            core::Errc::kForbidden);
  ASSERT_TRUE(svc_->completeStep(id, 4,
                                 {{"data",
                                   {{"checked",
                                     {"Đã dập tắt hoàn toàn", "Không còn người mắc kẹt",
                                      "Đã khoanh vùng hiện trường"}}}}},
                                 boss)
                  .ok());
  r = svc_->resolve(id, {{"resolution", "xong"}}, who_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["status"], "resolved");
}

TEST_F(ServiceTest, SlaSkipsTheWeekendAndTetThenEscalates) {
  // Fri 2025-01-24 16:00 local; high = 1 working day → Mon 2025-01-27 is Tết (27/1..31/1 off),
  // so the deadline is Mon 2025-02-03 16:00.
  clock_.set(local("2025-01-24T16:00:00"));
  make();
  auto inc = svc_->openManual({{"title", "tai nạn"},
                               {"category", "traffic_accident"},
                               {"priority", "high"},
                               {"unit_code", "19753"}},
                              who_);
  ASSERT_TRUE(inc.ok()) << inc.error().message;
  const std::string id = (*inc)["id"];
  EXPECT_EQ((*inc)["sla"]["due_at_ms"], local("2025-02-03T16:00:00"));
  clock_.set(local("2025-01-30T10:00:00"));  // Tết: no working time used since Friday 17:00
  svc_->tick();
  EXPECT_EQ((*svc_->get(id, who_))["sla"]["state"], "on_time");
  clock_.set(local("2025-02-03T14:30:00"));  // 6.5 of 8 h: due soon, 2 reminders
  svc_->tick();
  auto now = *svc_->get(id, who_);
  EXPECT_EQ(now["sla"]["state"], "due_soon");
  EXPECT_GE(now["sla"]["reminders_sent"].get<int>(), 2);
  clock_.set(local("2025-02-03T16:30:00"));
  events_.clear();
  svc_->tick();
  now = *svc_->get(id, who_);
  EXPECT_EQ(now["sla"]["state"], "overdue");
  EXPECT_EQ(now["sla"]["escalation_level"], 1);
  EXPECT_EQ(now["sla"]["escalated_to"], "46");
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().type, "incident.escalated");
  // Once only; and after a restart the state is kept.
  svc_->tick();
  EXPECT_EQ((*svc_->get(id, who_))["sla"]["escalation_level"], 1);
  svc_.reset();
  make();
  EXPECT_EQ((*svc_->get(id, who_))["sla"]["state"], "overdue");
  Caller hanoi = who_;
  hanoi.unit_code = "01";
  EXPECT_EQ(svc_->get(id, hanoi).error().code, core::Errc::kNotFound);
}

}  // namespace
}  // namespace ioc::incidents
