#include "rules/alert.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"

namespace ioc::rules {
namespace {

using json = ioc::Json;

constexpr int64_t kT0 = 1'772'323'200'000;  // 2026-03-01T00:00:00Z

Signal signal(SignalKind kind, std::string subject, double value, int64_t t) {
  Signal s;
  s.kind = kind;
  s.rule_id = "r1";
  s.rule_version = 2;
  s.subject = std::move(subject);
  s.category = Category::kMet;
  s.severity = Severity::kExtreme;
  s.urgency = Urgency::kImmediate;
  s.certainty = Certainty::kLikely;
  s.headline = "h " + formatValue(value);
  s.value = value;
  s.time_ms = t;
  s.evidence = {Evidence{"reading", s.subject, "level", value, t}};
  return s;
}

struct Fixture {
  core::FakeClock clock{kT0};
  int next = 0;
  AlertBook book{clock, [this] { return "ALR-" + std::to_string(++next); }};
};

Alert fullAlert() {
  Alert a;
  a.id = "ALR-9";
  a.rule_id = "flood";
  a.rule_version = 4;
  a.subject = "urn:ngsi-ld:FloodMonitoring:an-hoa";
  a.status = AlertStatus::kResolved;
  a.category = Category::kMet;
  a.severity = Severity::kSevere;
  a.urgency = Urgency::kImmediate;
  a.certainty = Certainty::kObserved;
  a.headline = "Ngập 0.4 m tại An Hòa";
  a.description = "Mực nước vượt báo động";
  a.area = geo::Geometry::point(107.56, 16.48);
  a.onset_ms = kT0;
  a.expires_ms = kT0 + 3'600'000;
  a.first_seen_ms = kT0;
  a.last_seen_ms = kT0 + 120'500;
  a.count = 5;
  a.value = 0.4;
  a.evidence = {Evidence{"reading", a.subject, "depth", 0.4, kT0},
                Evidence{"event", "cam-ev-1", "flooding", 0, kT0 + 1}};
  a.resolved_by = "op.hoa";
  a.resolution = "pumps running";
  a.history = {Transition{std::nullopt, AlertStatus::kNew, "system", kT0, "rule fired"},
               Transition{AlertStatus::kNew, AlertStatus::kResolved, "op.hoa", kT0 + 60'000,
                          "pumps running"}};
  return a;
}

TEST(AlertJson, RoundTripsEveryField) {
  const Alert a = fullAlert();
  const json j = alertToJson(a);
  EXPECT_EQ(j["status"], "resolved");
  EXPECT_EQ(j["onset"], "2026-03-01T00:00:00.000Z");
  EXPECT_EQ(j["lastSeen"], "2026-03-01T00:02:00.500Z");
  EXPECT_EQ(j["area"]["type"], "Point");
  EXPECT_FALSE(j["history"][0].contains("from"));
  auto back = alertFromJson(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(alertToJson(*back), j);
  EXPECT_EQ(back->expires_ms, a.expires_ms);
  EXPECT_EQ(back->history[1].from, AlertStatus::kNew);
  EXPECT_EQ(back->evidence[1].ref, "cam-ev-1");
}

TEST(AlertJson, ErrorsNameTheField) {
  const json good = alertToJson(fullAlert());
  struct Bad {
    const char* patch;
    const char* message;
  };
  for (const Bad& b : std::initializer_list<Bad>{
           {R"({"id": null})", "id: is required"},
           {R"({"status": "open"})", "status: unknown value \"open\""},
           {R"({"severity": 3})", "severity: must be a string"},
           {R"({"onset": "yesterday"})", "onset: not an RFC 3339 date-time"},
           {R"({"count": -1})", "count: must be an integer >= 0"},
           {R"({"area": {"coordinates": "x"}})", "area: "},
           {R"({"evidence": [{"kind": "reading"}]})", "evidence[0]: ref: is required"},
           {R"({"history": [{"to": "new", "by": "x"}]})", "history[0]: at: is required"},
       }) {
    json j = good;
    j.merge_patch(json::parse(b.patch));
    auto r = alertFromJson(j);
    ASSERT_FALSE(r.ok()) << b.patch;
    EXPECT_EQ(r.error().message.rfind(b.message, 0), 0u) << b.patch << ": " << r.error().message;
  }
  EXPECT_FALSE(alertFromJson(json::array()).ok());
}

TEST(AlertBook, OpensUpdatesAndResolvesWithTheSignalTime) {
  Fixture f;
  auto c = f.book.apply(signal(SignalKind::kFire, "urn:a", 1, kT0));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].type, ChangeType::kOpened);
  EXPECT_EQ(c[0].alert.id, "ALR-1");
  EXPECT_EQ(c[0].alert.rule_version, 2);
  EXPECT_EQ(c[0].alert.severity, Severity::kExtreme);
  EXPECT_EQ(c[0].alert.certainty, Certainty::kLikely);
  c = f.book.apply(signal(SignalKind::kFire, "urn:a", 2, kT0 + 10));  // a re-fire dedups too
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].type, ChangeType::kUpdated);
  EXPECT_EQ(c[0].alert.count, 2);
  EXPECT_EQ(c[0].alert.first_seen_ms, kT0);
  EXPECT_EQ(c[0].alert.last_seen_ms, kT0 + 10);
  EXPECT_EQ(c[0].alert.headline, "h 2");
  EXPECT_NE(f.book.openFor("r1", "urn:a"), nullptr);
  EXPECT_EQ(f.book.openFor("r1", "urn:b"), nullptr);
  Signal clear = signal(SignalKind::kClear, "urn:a", 0, kT0 + 20);
  clear.reason = "value back";
  c = f.book.apply(clear);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].alert.status, AlertStatus::kResolved);
  EXPECT_EQ(c[0].alert.resolution, "value back");
  EXPECT_EQ(c[0].alert.history.back().at_ms, kT0 + 20);
  EXPECT_EQ(f.book.openFor("r1", "urn:a"), nullptr);
  // A clear with nothing open is a no-op.
  EXPECT_TRUE(f.book.apply(clear).empty());
}

TEST(AlertBook, OperatorTransitionsUseTheClock) {
  Fixture f;
  (void)f.book.apply(signal(SignalKind::kFire, "urn:a", 1, kT0));
  f.clock.set(kT0 + 5000);
  auto ack = f.book.acknowledge("ALR-1", "op.lan", "on it");
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->alert.history.back().at_ms, kT0 + 5000);
  EXPECT_EQ(ack->alert.history.back().note, "on it");
  auto again = f.book.acknowledge("ALR-1", "op.lan");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, core::Errc::kConflict);
  EXPECT_EQ(again.error().message, "alert ALR-1 is acknowledged and cannot be acknowledged");
  EXPECT_EQ(f.book.close("ALR-404", "x").error().code, core::Errc::kNotFound);
}

TEST(AlertBook, EvidenceKeepsTheFirstAndTheLatest) {
  Fixture f;
  for (int i = 0; i < 50; ++i) (void)f.book.apply(signal(SignalKind::kUpdate, "urn:a", i, kT0 + i));
  const Alert* a = f.book.openFor("r1", "urn:a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->count, 50);
  ASSERT_EQ(a->evidence.size(), kMaxAlertEvidence);
  EXPECT_EQ(a->evidence.front().value, 0);
  EXPECT_EQ(a->evidence.back().value, 49);
  EXPECT_EQ(a->history.front().note, "rule still firing");
}

TEST(AlertBook, SuppressionComesFromTheSignalsRule) {
  Fixture f;
  auto rule = std::make_shared<Rule>();
  rule->suppress = {SuppressWindow{kT0 + 100, kT0 + 200}};
  Signal s = signal(SignalKind::kFire, "urn:a", 1, kT0 + 150);
  s.rule = rule;
  EXPECT_TRUE(f.book.apply(s).empty());
  EXPECT_EQ(f.book.suppressedCount(), 1u);
  s.time_ms = kT0 + 200;  // the window is half-open
  EXPECT_EQ(f.book.apply(s).size(), 1u);
  s.rule = nullptr;  // no rule attached: nothing to suppress by
  s.time_ms = kT0 + 150;
  EXPECT_EQ(f.book.apply(s).size(), 1u);
  EXPECT_EQ(f.book.suppressedCount(), 1u);
}

TEST(AlertBook, ExpiryAndAreaComeFromTheRule) {
  Fixture f;
  auto rule = std::make_shared<Rule>();
  rule->alert.expires_after_ms = 60'000;
  geo::Geometry area;
  area.type = geo::GeometryType::kPolygon;
  area.polygons = {{{{107, 16}, {108, 16}, {108, 17}, {107, 16}}}};
  rule->target.area = area;
  Signal s = signal(SignalKind::kFire, "urn:a", 1, kT0);
  s.rule = rule;
  auto c = f.book.apply(s);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].alert.expires_ms, kT0 + 60'000);
  ASSERT_TRUE(c[0].alert.area.has_value());
  EXPECT_EQ(c[0].alert.area->type, geo::GeometryType::kPolygon);
}

TEST(AlertBook, RestoreAndForget) {
  Fixture f;
  Alert open = fullAlert();
  open.id = "ALR-100";
  open.status = AlertStatus::kAcknowledged;
  ASSERT_TRUE(f.book.restore(open).ok());
  EXPECT_EQ(f.book.restore(open).error().code, core::Errc::kAlreadyExists);
  Alert twin = open;
  twin.id = "ALR-101";
  EXPECT_EQ(f.book.restore(twin).error().code, core::Errc::kConflict);
  // A signal for the restored alert's rule and subject updates it.
  Signal s = signal(SignalKind::kUpdate, open.subject, 0.5, kT0 + 1000);
  s.rule_id = open.rule_id;
  auto c = f.book.apply(s);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].alert.id, "ALR-100");
  EXPECT_EQ(c[0].alert.count, open.count + 1);
  EXPECT_EQ(c[0].alert.status, AlertStatus::kAcknowledged);

  EXPECT_FALSE(f.book.forget("ALR-100"));  // not closed
  ASSERT_TRUE(f.book.resolve("ALR-100", "op", "done").ok());
  ASSERT_TRUE(f.book.close("ALR-100", "op").ok());
  EXPECT_TRUE(f.book.forget("ALR-100"));
  EXPECT_EQ(f.book.find("ALR-100"), nullptr);
  EXPECT_EQ(f.book.size(), 0u);
}

}  // namespace
}  // namespace ioc::rules
