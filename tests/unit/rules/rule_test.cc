#include "rules/rule.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/clock.h"

namespace ioc::rules {
namespace {

using json = ioc::Json;

const json kAlert = {{"category", "Env"},
                     {"severity", "Moderate"},
                     {"urgency", "Expected"},
                     {"certainty", "Observed"},
                     {"headline", "PM2.5 {value} at {entityId}"}};

json base(std::string_view kind) {
  json j = {{"id", "r1"}, {"name", "Rule one"}, {"kind", kind}, {"alert", kAlert}};
  if (kind == "threshold") {
    j["target"] = {{"entityType", "AirQualityObserved"}, {"attribute", "pm25"}};
    j["op"] = ">";
    j["value"] = 50;
  } else if (kind == "rate_of_change") {
    j["target"] = {{"entityType", "WaterLevelObserved"}, {"attribute", "level"}};
    j["windowSeconds"] = 600;
    j["maxDelta"] = 0.5;
  } else if (kind == "stale") {
    j["target"] = {{"entityType", "WaterLevelObserved"}};
    j["afterSeconds"] = 900;
  } else if (kind == "geofence") {
    j["target"] = {{"entityType", "Vehicle"},
                   {"area",
                    {{"type", "Polygon"},
                     {"coordinates",
                      {{{107.57, 16.46}, {107.59, 16.46}, {107.59, 16.48}, {107.57, 16.46}}}}}}};
    j["trigger"] = "enter";
  } else if (kind == "count_in_window") {
    j["category"] = "illegal_parking";
    j["count"] = 3;
    j["radiusMeters"] = 200;
    j["windowSeconds"] = 900;
  } else if (kind == "kpi") {
    j["kpi"] = "incidents.overdue";
    j["op"] = ">";
    j["value"] = 10;
  }
  return j;
}

std::optional<geo::Geometry> resolveWard(const std::string& id) {
  if (id != "ward-phu-hoi") return std::nullopt;
  return geo::parseGeoJson(json::parse(R"({"type":"Polygon","coordinates":
      [[[107.58,16.46],[107.60,16.46],[107.60,16.48],[107.58,16.48],[107.58,16.46]]]})"))
      .value();
}

struct BadCase {
  const char* kind;
  const char* patch;    //!< JSON merge patch applied to base(kind); null removes a field
  const char* message;  //!< the error must start with this
};

// Each bad field gets a message that starts with its JSON path.
const BadCase kBadCases[] = {
    {"threshold", R"({"kind": null})", "kind: is required"},
    {"threshold", R"({"kind": "thresh"})",
     "kind: must be one of threshold, rate_of_change, stale, geofence, count_in_window, kpi "
     "(got \"thresh\")"},
    {"threshold", R"({"id": null})", "id: is required"},
    {"threshold", R"({"id": 7})", "id: must be a string (got 7)"},
    {"threshold", R"({"id": "has space"})", "id: must be 1-128 characters"},
    {"threshold", R"({"name": ""})", "name: must not be empty"},
    {"threshold", R"({"version": "2"})", "version: must be an integer (got \"2\")"},
    {"threshold", R"({"version": 0})", "version: must be an integer >= 1"},
    {"threshold", R"({"enabled": "yes"})", "enabled: must be true or false"},
    {"threshold", R"({"forSecond": 600})", "forSecond: unknown field for a threshold rule"},
    {"threshold", R"({"afterSeconds": 600})", "afterSeconds: unknown field for a threshold rule"},
    {"threshold", R"({"target": null})", "target: is required for a threshold rule"},
    {"threshold", R"({"target": "pm25"})", "target: must be an object"},
    {"threshold", R"({"target": {"attribute": null}})",
     "target.attribute: is required for a threshold rule"},
    {"threshold", R"({"target": {"entityType": 5}})", "target.entityType: must be a string"},
    {"threshold", R"({"target": {"colour": "red"}})", "target.colour: unknown field"},
    {"threshold", R"({"target": {"area": {"type": "Point", "coordinates": [107.5, 16.4]}}})",
     "target.area: must be a Polygon or MultiPolygon (got Point)"},
    {"threshold",
     R"({"target": {"area": {"type": "Polygon", "coordinates": [[[107.5,16.4],[107.6,16.4],[107.6,16.5],[107.5,16.5]]]}}})",
     "target.area: Polygon coordinates[0]"},
    {"threshold",
     R"({"target": {"areaId": "ward-phu-hoi", "area": {"type": "Polygon", "coordinates": [[[107.5,16.4],[107.6,16.4],[107.6,16.5],[107.5,16.4]]]}}})",
     "target.area: give either area or areaId, not both"},
    {"threshold", R"({"target": {"areaId": "ward-x"}})", "target.areaId: unknown area \"ward-x\""},
    {"threshold", R"({"op": null})", "op: is required"},
    {"threshold", R"({"op": "=>"})", "op: must be one of >, >=, <, <=, outside (got \"=>\")"},
    {"threshold", R"({"value": null})", "value: is required when op is \">\""},
    {"threshold", R"({"value": "50"})", "value: must be a number (got \"50\")"},
    {"threshold", R"({"value": 1e300})", "value: must be a finite number"},
    {"threshold", R"({"op": "outside", "value": null, "high": 9})",
     "low: is required when op is \"outside\""},
    {"threshold", R"({"op": "outside", "value": null, "low": 9, "high": 6})",
     "high: must be greater than low (9)"},
    {"threshold", R"({"op": "outside", "low": 6, "high": 9})",
     "value: not used when op is \"outside\""},
    {"threshold", R"({"low": 6})", "low: only used when op is \"outside\""},
    {"threshold", R"({"hysteresis": -1})", "hysteresis: must be a finite number >= 0"},
    {"threshold", R"({"op": "outside", "value": null, "low": 6, "high": 9, "hysteresis": 1.5})",
     "hysteresis: must be less than half of high - low"},
    {"threshold", R"({"forSeconds": -5})", "forSeconds: must be a number of seconds between 0"},
    {"threshold", R"({"forSeconds": "10m"})", "forSeconds: must be a number (got \"10m\")"},
    {"threshold", R"({"alert": null})", "alert: is required"},
    {"threshold", R"({"alert": []})", "alert: must be an object"},
    {"threshold", R"({"alert": {"severity": "High"}})",
     "alert.severity: must be one of Extreme, Severe, Moderate, Minor, Unknown (got \"High\")"},
    {"threshold", R"({"alert": {"category": "Weather"}})",
     "alert.category: must be one of Geo, Met, Safety, Security, Rescue, Fire, Health, Env, "
     "Transport, Infra, CBRNE, Other (got \"Weather\")"},
    {"threshold", R"({"alert": {"urgency": "Now"}})", "alert.urgency: must be one of Immediate"},
    {"threshold", R"({"alert": {"certainty": "Sure"}})",
     "alert.certainty: must be one of Observed"},
    {"threshold", R"({"alert": {"certainty": null}})", "alert.certainty: is required"},
    {"threshold", R"({"alert": {"headline": null}})", "alert.headline: is required"},
    {"threshold", R"({"alert": {"headline": "a\nb"}})",
     "alert.headline: must not contain control characters"},
    {"threshold", R"({"alert": {"sound": "siren"}})", "alert.sound: unknown field"},
    {"threshold", R"({"alert": {"expiresSeconds": 0}})",
     "alert.expiresSeconds: must be greater than 0"},
    {"threshold", R"({"suppress": {"from": "x"}})", "suppress: must be an array"},
    {"threshold", R"({"suppress": [{"from": "tomorrow", "to": "2026-03-01T00:00:00Z"}]})",
     "suppress[0].from: not an RFC 3339 date-time"},
    {"threshold", R"({"suppress": [{"from": "2026-03-01T00:00:00Z"}]})",
     "suppress[0].to: is required"},
    {"threshold",
     R"({"suppress": [{"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T09:00:00Z"}]})",
     "suppress[0].to: must be later than from"},
    {"threshold",
     R"({"suppress": [{"from": "2026-03-01T10:00:00Z", "until": "2026-03-01T11:00:00Z"}]})",
     "suppress[0].until: unknown field"},
    {"rate_of_change", R"({"windowSeconds": null})", "windowSeconds: is required"},
    {"rate_of_change", R"({"windowSeconds": 0})", "windowSeconds: must be greater than 0"},
    {"rate_of_change", R"({"maxDelta": null})",
     "maxDelta: a rate_of_change rule needs maxDelta or maxRatePerMinute"},
    {"rate_of_change", R"({"maxDelta": 0})", "maxDelta: must be a finite number > 0"},
    {"rate_of_change", R"({"maxRatePerMinute": -1})",
     "maxRatePerMinute: must be a finite number > 0"},
    {"rate_of_change", R"({"direction": "up"})",
     "direction: must be one of rising, falling, both (got \"up\")"},
    {"rate_of_change", R"({"target": {"attribute": null}})",
     "target.attribute: is required for a rate_of_change rule"},
    {"stale", R"({"afterSeconds": 0})", "afterSeconds: must be greater than 0"},
    {"stale", R"({"afterSeconds": null})", "afterSeconds: is required"},
    {"stale", R"({"target": {"entityType": null}})",
     "target: a stale rule needs target.entityType or target.entityId"},
    {"geofence", R"({"target": {"area": null}})", "target.area: is required for a geofence rule"},
    {"geofence", R"({"trigger": "exit"})", "trigger: must be one of enter, leave, inside"},
    {"geofence", R"({"trigger": null})", "trigger: is required"},
    {"count_in_window", R"({"count": 0})", "count: must be an integer from 1 to 10000"},
    {"count_in_window", R"({"count": 2.5})", "count: must be an integer (got 2.5)"},
    {"count_in_window", R"({"radiusMeters": -1})", "radiusMeters: must be greater than 0"},
    {"count_in_window", R"({"radiusMeters": null})", "radiusMeters: is required"},
    {"count_in_window", R"({"category": null})", "category: is required"},
    {"count_in_window", R"({"target": {"entityId": "urn:x"}})",
     "target.entityId: not used by a count_in_window rule"},
    {"kpi", R"({"kpi": null})", "kpi: is required"},
    {"kpi", R"({"target": {"entityType": "X"}})", "target: a kpi rule has no target"},
};

TEST(RuleValidation, EachBadFieldGetsAClearMessage) {
  for (const BadCase& c : kBadCases) {
    json j = base(c.kind);
    j.merge_patch(json::parse(c.patch));
    auto r = ruleFromJson(j, resolveWard);
    ASSERT_FALSE(r.ok()) << c.kind << " " << c.patch << " was accepted";
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message.rfind(c.message, 0), 0u)
        << c.kind << " " << c.patch << "\n  got:      " << r.error().message
        << "\n  expected: " << c.message << "...";
  }
}

TEST(RuleValidation, NotAnObject) {
  for (const char* text : {"[]", "\"rule\"", "null", "42"}) {
    auto r = ruleFromJson(json::parse(text));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "rule: must be a JSON object");
  }
}

TEST(RuleValidation, EveryBaseRuleIsValidAndRoundTrips) {
  for (const char* kind :
       {"threshold", "rate_of_change", "stale", "geofence", "count_in_window", "kpi"}) {
    auto r = ruleFromJson(base(kind));
    ASSERT_TRUE(r.ok()) << kind << ": " << r.error().message;
    const json out = ruleToJson(*r);
    auto back = ruleFromJson(out);
    ASSERT_TRUE(back.ok()) << kind << ": " << back.error().message << "\n" << out.dump();
    EXPECT_EQ(ruleToJson(*back), out) << kind;
  }
}

TEST(RuleValidation, FullRuleRoundTripsWithAreaId) {
  json j = base("threshold");
  j.merge_patch(json::parse(R"({
    "version": 3, "enabled": false, "op": "outside", "value": null, "low": 5.5, "high": 9,
    "hysteresis": 0.25, "forSeconds": 90.5,
    "target": {"areaId": "ward-phu-hoi", "entityId": "urn:ngsi-ld:X:1"},
    "alert": {"description": "{attribute} out of band", "expiresSeconds": 3600},
    "suppress": [{"from": "2026-03-01T08:00:00+07:00", "to": "2026-03-01T09:00:00+07:00"}]})"));
  auto r = ruleFromJson(j, resolveWard);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3);
  EXPECT_FALSE(r->enabled);
  EXPECT_EQ(r->threshold.op, CompareOp::kOutside);
  EXPECT_EQ(r->threshold.for_ms, 90'500);
  EXPECT_EQ(r->target.area_id, "ward-phu-hoi");
  ASSERT_TRUE(r->target.area.has_value());
  EXPECT_EQ(r->target.area->type, geo::GeometryType::kPolygon);
  ASSERT_EQ(r->suppress.size(), 1u);
  EXPECT_EQ(core::formatRfc3339(r->suppress[0].from_ms), "2026-03-01T01:00:00.000Z");
  EXPECT_EQ(r->alert.expires_after_ms, 3'600'000);
  const json out = ruleToJson(*r);
  EXPECT_EQ(out["target"]["areaId"], "ward-phu-hoi");
  EXPECT_FALSE(out["target"].contains("area"));
  auto back = ruleFromJson(out, resolveWard);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(ruleToJson(*back), out);
  // Without the resolver the areaId cannot be read back: the error says which id.
  auto unresolved = ruleFromJson(out);
  ASSERT_FALSE(unresolved.ok());
  EXPECT_EQ(unresolved.error().message, "target.areaId: unknown area \"ward-phu-hoi\"");
}

TEST(RuleValidation, RulesBuiltInCode) {
  Rule r;
  EXPECT_EQ(validateRule(r).error().message.rfind("id:", 0), 0u);
  r.id = "r1";
  r.name = "n";
  EXPECT_EQ(validateRule(r).error().message.rfind("target.attribute:", 0), 0u);
  r.target.attribute = "pm25";
  EXPECT_EQ(validateRule(r).error().message.rfind("alert.headline:", 0), 0u);
  r.alert.headline = "h";
  EXPECT_TRUE(validateRule(r).ok());
  r.threshold.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(validateRule(r).error().message.rfind("value:", 0), 0u);
  r.threshold.value = 1;
  r.target.area_id = "ward-1";  // named but never resolved
  EXPECT_EQ(validateRule(r).error().message.rfind("target.areaId:", 0), 0u);
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(parseRfc3339("2026-03-01T07:00:00+07:00").value(),
            parseRfc3339("2026-03-01T00:00:00Z").value());
  EXPECT_EQ(parseRfc3339("2026-03-01T00:00:00.25Z").value() -
                parseRfc3339("2026-03-01T00:00:00Z").value(),
            250);
  EXPECT_EQ(parseRfc3339("2024-02-29T12:00:00.123456Z").value() % 1000, 123);
  EXPECT_EQ(core::formatRfc3339(parseRfc3339("2026-11-22T00:11:35.123Z").value()),
            "2026-11-22T00:11:35.123Z");
  EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59Z").value(), -1000);
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* s :
       {"", "2026-03-01", "2026-03-01T00:00:00", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T00:00:00+7:00",
        "2026-03-01T00:00:00.Z", "2026-03-01T00:00:00Zjunk", "2026-03-01 00:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(s).ok()) << s;
  }
}

TEST(Template, ReplacesKnownPlaceholdersOnly) {
  EXPECT_EQ(renderTemplate("{attribute} {value} at {entityId} ({rule}, {count}) {other}", "urn:a",
                           35.5, "pm25", "r1", 4),
            "pm25 35.5 at urn:a (r1, 4) {other}");
  EXPECT_EQ(renderTemplate("unclosed {value", "s", 1, "a", "r", 1), "unclosed {value");
  EXPECT_EQ(renderTemplate("{value}", "s", 35.400000000000006, "a", "r", 1), "35.4");
  EXPECT_EQ(renderTemplate("{value}", "s", 87.33333333, "a", "r", 1), "87.33");
  EXPECT_EQ(renderTemplate("{value}", "s", -0.004, "a", "r", 1), "0");
  EXPECT_EQ(renderTemplate("", "s", 1, "a", "r", 1), "");
  EXPECT_EQ(formatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatValue(40), "40");
  EXPECT_EQ(formatValue(-15), "-15");
}

}  // namespace
}  // namespace ioc::rules
