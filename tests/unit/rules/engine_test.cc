#include "rules/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/clock.h"

namespace ioc::rules {
namespace {

constexpr int64_t kT0 = 1'772'323'200'000;  // 2026-03-01T00:00:00Z

AlertTemplate alertTemplate() {
  AlertTemplate a;
  a.category = Category::kEnv;
  a.severity = Severity::kSevere;
  a.urgency = Urgency::kImmediate;
  a.certainty = Certainty::kObserved;
  a.headline = "{attribute} {value} at {entityId}";
  return a;
}

Rule thresholdRule(std::string id, std::string type, std::string attribute, double value) {
  Rule r;
  r.id = std::move(id);
  r.name = "threshold";
  r.kind = RuleKind::kThreshold;
  r.target.entity_type = std::move(type);
  r.target.attribute = std::move(attribute);
  r.threshold.op = CompareOp::kGt;
  r.threshold.value = value;
  r.alert = alertTemplate();
  return r;
}

geo::Geometry square(double lon, double lat, double half) {
  geo::Geometry g;
  g.type = geo::GeometryType::kPolygon;
  g.polygons = {{{{lon - half, lat - half},
                  {lon + half, lat - half},
                  {lon + half, lat + half},
                  {lon - half, lat + half},
                  {lon - half, lat - half}}}};
  return g;
}

Reading reading(std::string entity, std::string type, std::string attribute, double value,
                int64_t t, std::optional<geo::Position> loc = std::nullopt) {
  return Reading{std::move(entity), std::move(type), std::move(attribute), value, t, loc};
}

void add(Engine& e, Rule r) {
  auto added = e.addRule(std::move(r));
  ASSERT_TRUE(added.ok()) << added.error().message;
}

// The index must keep rules that cannot apply out of a reading's way: 10,000 rules on other
// entity types, other entities, other attributes, other places, other event categories and
// other KPIs, and a reading, an event and a KPI value each examine exactly the one rule that
// applies.
TEST(EngineIndex, TenThousandUnrelatedRulesAreNotEvaluated) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  int n = 0;
  for (int i = 0; i < 4000; ++i) {  // other entity types, same attribute
    add(e, thresholdRule("type-" + std::to_string(i), "Type" + std::to_string(i), "pm25", 50));
    ++n;
  }
  for (int i = 0; i < 2000; ++i) {  // single other entities
    Rule r = thresholdRule("entity-" + std::to_string(i), "", "pm25", 50);
    r.target.entity_id = "urn:ngsi-ld:AirQualityObserved:other-" + std::to_string(i);
    add(e, std::move(r));
    ++n;
  }
  for (int i = 0; i < 1000; ++i) {  // same type, other attributes
    add(e, thresholdRule("attr-" + std::to_string(i), "AirQualityObserved",
                         "attr" + std::to_string(i), 50));
    ++n;
  }
  for (int i = 0; i < 1000; ++i) {  // same type and attribute, wards of Hà Nội (~21 N)
    Rule r = thresholdRule("ward-" + std::to_string(i), "AirQualityObserved", "pm25", 50);
    r.target.area = square(105.5 + 0.06 * (i % 20), 20.8 + 0.06 * (i / 20), 0.02);
    add(e, std::move(r));
    ++n;
  }
  for (int i = 0; i < 1000; ++i) {  // other event categories
    Rule r;
    r.id = "events-" + std::to_string(i);
    r.name = "events";
    r.kind = RuleKind::kCountInWindow;
    r.count = CountParams{"category-" + std::to_string(i), 3, 200, 900'000};
    r.alert = alertTemplate();
    add(e, std::move(r));
    ++n;
  }
  for (int i = 0; i < 1000; ++i) {  // other KPIs
    Rule r;
    r.id = "kpi-" + std::to_string(i);
    r.name = "kpi";
    r.kind = RuleKind::kKpi;
    r.kpi = "kpi-" + std::to_string(i);
    r.threshold.value = 1;
    r.alert = alertTemplate();
    add(e, std::move(r));
    ++n;
  }
  ASSERT_EQ(n, 10'000);

  // The rules that do apply: one per input kind.
  Rule ward = thresholdRule("hue-pm25", "AirQualityObserved", "pm25", 50);
  ward.target.area = square(107.59, 16.47, 0.02);
  add(e, std::move(ward));
  Rule parking;
  parking.id = "parking";
  parking.name = "parking";
  parking.kind = RuleKind::kCountInWindow;
  parking.count = CountParams{"illegal_parking", 2, 200, 900'000};
  parking.alert = alertTemplate();
  add(e, std::move(parking));
  Rule kpi;
  kpi.id = "overdue";
  kpi.name = "overdue";
  kpi.kind = RuleKind::kKpi;
  kpi.kpi = "incidents.overdue";
  kpi.threshold.value = 10;
  kpi.alert = alertTemplate();
  add(e, std::move(kpi));
  EXPECT_EQ(e.rules().size(), 10'003u);

  const geo::Position hue{107.59, 16.47};
  uint64_t before = e.evaluations();
  auto signals = e.onReading(
      reading("urn:ngsi-ld:AirQualityObserved:hue-01", "AirQualityObserved", "pm25", 80, kT0, hue));
  EXPECT_EQ(e.evaluations() - before, 1u);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].rule_id, "hue-pm25");

  before = e.evaluations();
  signals = e.onEvent(Event{"ev-1", "illegal_parking", "Camera", hue, kT0});
  EXPECT_EQ(e.evaluations() - before, 1u);
  EXPECT_TRUE(signals.empty());

  before = e.evaluations();
  signals = e.onKpi("incidents.overdue", 12, kT0);
  EXPECT_EQ(e.evaluations() - before, 1u);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].subject, "incidents.overdue");

  // A reading in Hà Nội meets only the ward rules of its own cell.
  before = e.evaluations();
  signals = e.onReading(reading("urn:ngsi-ld:AirQualityObserved:hn-01", "AirQualityObserved",
                                "pm25", 80, kT0, geo::Position{105.5, 20.8}));
  EXPECT_LE(e.evaluations() - before, 4u);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].rule_id, "ward-0");

  // A removed rule leaves the index.
  EXPECT_EQ(e.removeRule("hue-pm25").size(), 1u);  // its open condition is cleared
  before = e.evaluations();
  e.onReading(reading("urn:ngsi-ld:AirQualityObserved:hue-01", "AirQualityObserved", "pm25", 80,
                      kT0 + 1000, hue));
  EXPECT_EQ(e.evaluations() - before, 0u);
}

TEST(Engine, SignalCarriesRuleFieldsGeometryAndEvidence) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  Rule r = thresholdRule("pm25", "AirQualityObserved", "pm25", 50);
  r.version = 7;
  r.alert.description = "over {value}";
  add(e, r);
  auto s = e.onReading(
      reading("urn:a", "AirQualityObserved", "pm25", 55.5, kT0, geo::Position{107.6, 16.5}));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].kind, SignalKind::kFire);
  EXPECT_EQ(s[0].rule_version, 7);
  EXPECT_EQ(s[0].severity, Severity::kSevere);
  EXPECT_EQ(s[0].category, Category::kEnv);
  EXPECT_EQ(s[0].headline, "pm25 55.5 at urn:a");
  EXPECT_EQ(s[0].description, "over 55.5");
  EXPECT_EQ(s[0].time_ms, kT0);
  ASSERT_TRUE(s[0].geometry.has_value());
  EXPECT_TRUE(geo::equals(*s[0].geometry, geo::Geometry::point(107.6, 16.5)));
  ASSERT_EQ(s[0].evidence.size(), 1u);
  EXPECT_EQ(s[0].evidence[0].kind, "reading");
  EXPECT_EQ(s[0].evidence[0].ref, "urn:a");
  EXPECT_EQ(s[0].evidence[0].value, 55.5);
  ASSERT_NE(s[0].rule, nullptr);
  EXPECT_EQ(s[0].rule->id, "pm25");
}

TEST(Engine, IgnoresUntrustedGarbage) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  add(e, thresholdRule("pm25", "AirQualityObserved", "pm25", 50));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(e.onReading(reading("", "AirQualityObserved", "pm25", 80, kT0)).empty());
  EXPECT_TRUE(e.onReading(reading("urn:a", "AirQualityObserved", "pm25", nan, kT0)).empty());
  EXPECT_TRUE(e.onReading(reading("urn:a", "AirQualityObserved", "pm25", inf, kT0)).empty());
  EXPECT_TRUE(
      e.onReading(reading("urn:a", "AirQualityObserved", "pm25", 1, kT0, geo::Position{500, 99}))
          .empty());
  EXPECT_TRUE(e.onEvent(Event{"", "x", "", {107, 16}, kT0}).empty());
  EXPECT_TRUE(e.onEvent(Event{"id", "", "", {107, 16}, kT0}).empty());
  EXPECT_TRUE(e.onEvent(Event{"id", "x", "", {nan, 16}, kT0}).empty());
  EXPECT_TRUE(e.onKpi("", 1, kT0).empty());
  EXPECT_TRUE(e.onKpi("k", nan, kT0).empty());
  EXPECT_TRUE(e.tick(kT0).empty());
  // A valid reading still works after all that.
  EXPECT_EQ(e.onReading(reading("urn:a", "AirQualityObserved", "pm25", 80, kT0)).size(), 1u);
}

TEST(Engine, RejectsInvalidRulesAndListsRulesById) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  Rule bad = thresholdRule("bad", "T", "", 1);
  auto r = e.addRule(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("target.attribute:", 0), 0u);
  add(e, thresholdRule("b", "T", "a", 1));
  add(e, thresholdRule("a", "T", "a", 1));
  auto rules = e.rules();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].id, "a");
  EXPECT_EQ(rules[1].id, "b");
  ASSERT_NE(e.findRule("b"), nullptr);
  EXPECT_EQ(e.findRule("c"), nullptr);
  EXPECT_TRUE(e.removeRule("c").empty());
}

TEST(Engine, StaleRuleAddedLaterWatchesKnownEntitiesFromThen) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  e.onReading(reading("urn:g1", "Gauge", "level", 1, kT0));
  clock.set(kT0 + 3'600'000);
  Rule r;
  r.id = "offline";
  r.name = "offline";
  r.kind = RuleKind::kStale;
  r.target.entity_type = "Gauge";
  r.stale.after_ms = 600'000;
  r.alert = alertTemplate();
  add(e, r);
  // Counted from when the rule was added, not from the last reading an hour ago.
  EXPECT_TRUE(e.tick(kT0 + 3'600'000 + 599'999).empty());
  auto s = e.tick(kT0 + 3'600'000 + 600'000);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].subject, "urn:g1");
  EXPECT_EQ(e.entityCount(), 1u);
}

TEST(Engine, RateWindowStaysBounded) {
  core::FakeClock clock(kT0);
  Engine e(clock);
  Rule r;
  r.id = "rate";
  r.name = "rate";
  r.kind = RuleKind::kRateOfChange;
  r.target.attribute = "v";
  r.rate.window_ms = 3'600'000;
  r.rate.max_delta = 1e9;
  r.alert = alertTemplate();
  add(e, r);
  // 20,000 readings inside one window: the window keeps at most kMaxRateSamples of them, and the
  // oldest kept sample moves with it.
  for (int i = 0; i < 20'000; ++i) {
    EXPECT_TRUE(e.onReading(reading("urn:x", "T", "v", i, kT0 + i)).empty());
  }
  SUCCEED();
}

}  // namespace
}  // namespace ioc::rules
