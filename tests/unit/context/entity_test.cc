// NGSI-LD entities: parsing of the normalized and concise forms, validation, merging, partial
// updates, removal, rendering, storage records, ids and date-times.
#include "context/entity.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "core/clock.h"

namespace ioc::context {
namespace {

using core::Errc;
using json = ioc::Json;

const std::string kNs = "https://uri.etsi.org/ngsi-ld/";
const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr int64_t kT0 = 1'772'352'000'000;  // 2026-03-01T08:00:00Z
const std::string kT0Text = "2026-03-01T08:00:00.000Z";

const TermMap& core() {
  return *TermMap::core();
}

std::string v(const std::string& term) {
  return kVocab + term;
}

json prop(const json& value) {
  return {{"type", "Property"}, {"value", value}};
}

json point(double lon, double lat) {
  return {{"type", "Point"}, {"coordinates", {lon, lat}}};
}

Entity mustParse(const json& body, int64_t now = kT0) {
  auto e = parseEntity(body, core(), now);
  EXPECT_TRUE(e.ok()) << body.dump() << ": " << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : Entity{};
}

//! The error of parsing `body` as an entity (kInternal with "parsed" if it was accepted).
core::Error parseError(const json& body) {
  auto e = parseEntity(body, core(), kT0);
  return e.ok() ? core::makeError(Errc::kInternal, "parsed") : e.error();
}

// ---------------------------------------------------------------------------------------------
// Parsing: the normalized form

TEST(ParseEntity, NormalizedFormIsExpandedAndTimestamped) {
  json body = {
      {"id", "urn:ngsi-ld:AirQualityObserved:hue-1"},
      {"type", "AirQualityObserved"},
      {"pm25",
       {{"type", "Property"},
        {"value", 27.5},
        {"observedAt", "2026-03-01T08:00:00Z"},
        {"unitCode", "GQ"},
        {"accuracy", {{"type", "Property"}, {"value", 0.9}}}}},
      {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:aq-1"}}},
      {"location", {{"type", "GeoProperty"}, {"value", point(107.59, 16.46)}}},
      {"name",
       {{"type", "LanguageProperty"}, {"languageMap", {{"vi", "Phú Hội"}, {"en", "Phu Hoi"}}}}},
      {"createdAt", "1999-01-01T00:00:00Z"},  // system attributes from clients are ignored
  };
  Entity e = mustParse(body);
  EXPECT_EQ(e.id, "urn:ngsi-ld:AirQualityObserved:hue-1");
  EXPECT_EQ(e.created_at_ms, kT0);
  EXPECT_EQ(e.modified_at_ms, kT0);
  EXPECT_EQ(e.types(), std::vector<std::string>{v("AirQualityObserved")});
  EXPECT_TRUE(e.hasType(v("AirQualityObserved")));
  EXPECT_FALSE(e.hasType("AirQualityObserved"));
  EXPECT_EQ(e.doc["id"], "urn:ngsi-ld:AirQualityObserved:hue-1");
  EXPECT_FALSE(e.doc.contains("createdAt"));
  EXPECT_FALSE(e.doc.contains("pm25")) << "names are stored expanded";

  const json& pm = e.doc[v("pm25")];
  EXPECT_EQ(pm["type"], "Property");
  EXPECT_EQ(pm["value"], 27.5);
  EXPECT_EQ(pm["observedAt"], "2026-03-01T08:00:00Z");
  EXPECT_EQ(pm["unitCode"], "GQ");
  EXPECT_EQ(pm["createdAt"], kT0) << "system times are kept as Unix milliseconds";
  EXPECT_EQ(pm["modifiedAt"], kT0);
  ASSERT_TRUE(pm.contains(v("accuracy"))) << pm.dump();
  EXPECT_EQ(pm[v("accuracy")]["value"], 0.9);
  EXPECT_EQ(pm[v("accuracy")]["type"], "Property");

  EXPECT_EQ(e.doc[v("refDevice")]["object"], "urn:ngsi-ld:Device:aq-1");
  EXPECT_EQ(e.doc[kNs + "location"]["type"], "GeoProperty");
  EXPECT_EQ(e.doc[kNs + "location"]["value"], point(107.59, 16.46));
  EXPECT_EQ(e.doc[kNs + "name"]["type"], "LanguageProperty");
  EXPECT_EQ(e.doc[kNs + "name"]["languageMap"]["vi"], "Phú Hội");
}

TEST(ParseEntity, SeveralTypesAndNamespacedAttributeTypes) {
  Entity e = mustParse({{"id", "urn:ngsi-ld:X:1"},
                        {"type", {"Building", "ngsi-ld:Thing", "https://schema.org/Place"}},
                        {"height", {{"type", kNs + "Property"}, {"value", 12}}}});
  EXPECT_EQ(e.types(),
            (std::vector<std::string>{v("Building"), kNs + "Thing", "https://schema.org/Place"}));
  EXPECT_TRUE(e.hasType("https://schema.org/Place"));
  EXPECT_EQ(e.doc[v("height")]["type"], "Property");
}

TEST(ParseEntity, UsesTheRequestContext) {
  ContextRegistry reg;
  auto terms = reg.resolve(
      {{"pm", "https://example.org/pm25#"}, {"Station", "https://example.org/Station"}});
  ASSERT_TRUE(terms.ok());
  auto e =
      parseEntity({{"id", "urn:ngsi-ld:S:1"}, {"type", "Station"}, {"pm", prop(3)}}, **terms, kT0);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->hasType("https://example.org/Station"));
  EXPECT_TRUE(e->doc.contains("https://example.org/pm25#")) << e->doc.dump();
}

// ---------------------------------------------------------------------------------------------
// Parsing: the concise form

TEST(ParseEntity, ConciseFormIsNormalized) {
  Entity e = mustParse(
      {{"id", "urn:ngsi-ld:X:concise"},
       {"type", "X"},
       {"temperature", 21.5},
       {"label", "north gate"},
       {"open", true},
       {"tags", {"a", "b"}},
       {"address", {{"street", "Lê Lợi"}, {"number", 3}}},
       {"speed", {{"value", 40}, {"unitCode", "KMH"}, {"observedAt", "2026-03-01T08:00:00Z"}}},
       {"owner", {{"object", "urn:ngsi-ld:Person:1"}}},
       {"title", {{"languageMap", {{"vi", "Cổng"}}}}},
       {"area", {{"value", point(1, 2)}}}});
  EXPECT_EQ(e.doc[v("temperature")]["type"], "Property");
  EXPECT_EQ(e.doc[v("temperature")]["value"], 21.5);
  EXPECT_EQ(e.doc[v("label")]["value"], "north gate");
  EXPECT_EQ(e.doc[v("open")]["value"], true);
  EXPECT_EQ(e.doc[v("tags")]["value"], json({"a", "b"}));
  EXPECT_EQ(e.doc[v("address")]["type"], "Property");
  EXPECT_EQ(e.doc[v("address")]["value"], json({{"street", "Lê Lợi"}, {"number", 3}}));
  EXPECT_EQ(e.doc[v("speed")]["type"], "Property");
  EXPECT_EQ(e.doc[v("speed")]["value"], 40);
  EXPECT_EQ(e.doc[v("speed")]["unitCode"], "KMH");
  EXPECT_EQ(e.doc[v("speed")]["observedAt"], "2026-03-01T08:00:00Z");
  EXPECT_EQ(e.doc[v("owner")]["type"], "Relationship");
  EXPECT_EQ(e.doc[v("owner")]["object"], "urn:ngsi-ld:Person:1");
  EXPECT_EQ(e.doc[v("title")]["type"], "LanguageProperty");
  EXPECT_EQ(e.doc[v("area")]["type"], "GeoProperty");
}

TEST(ParseEntity, ConciseGeoPropertyIsABareGeometry) {
  // Concise representation (CIM 009 §4.5.x): a GeoProperty may be given as the GeoJSON geometry
  // itself, e.g. "location": {"type": "Point", "coordinates": [...]}.
  auto e =
      parseEntity({{"id", "urn:ngsi-ld:X:geo"}, {"type", "X"}, {"location", point(107.59, 16.46)}},
                  core(), kT0);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->doc[kNs + "location"]["type"], "GeoProperty");
  EXPECT_EQ(e->doc[kNs + "location"]["value"], point(107.59, 16.46));
}

TEST(ParseEntity, ConciseSubAttributes) {
  Entity e = mustParse(
      {{"id", "urn:ngsi-ld:X:sub"},
       {"type", "X"},
       {"speed",
        {{"value", 40}, {"accuracy", 0.5}, {"measuredBy", {{"object", "urn:ngsi-ld:D:1"}}}}}});
  const json& s = e.doc[v("speed")];
  EXPECT_EQ(s[v("accuracy")]["type"], "Property");
  EXPECT_EQ(s[v("accuracy")]["value"], 0.5);
  EXPECT_EQ(s[v("measuredBy")]["type"], "Relationship");
}

// ---------------------------------------------------------------------------------------------
// Multi-instance attributes

TEST(ParseEntity, DatasetIdInstances) {
  Entity e =
      mustParse({{"id", "urn:ngsi-ld:X:multi"},
                 {"type", "X"},
                 {"speed",
                  {{{"type", "Property"}, {"value", 40}},
                   {{"type", "Property"}, {"value", 41}, {"datasetId", "urn:ngsi-ld:ds:radar"}},
                   {{"value", 42}, {"datasetId", "urn:ngsi-ld:ds:gps"}}}}});
  const json& s = e.doc[v("speed")];
  ASSERT_TRUE(s.is_array()) << s.dump();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_FALSE(s[0].contains("datasetId"));
  EXPECT_EQ(s[1]["datasetId"], "urn:ngsi-ld:ds:radar");
  EXPECT_EQ(s[2]["value"], 42);

  // One instance in an array is just that instance.
  Entity one =
      mustParse({{"id", "urn:ngsi-ld:X:one"},
                 {"type", "X"},
                 {"speed", {{{"type", "Property"}, {"value", 40}, {"datasetId", "urn:ds:a"}}}}});
  EXPECT_TRUE(one.doc[v("speed")].is_object()) << one.doc.dump();

  // Two instances with the same datasetId (or two default ones) are invalid.
  EXPECT_EQ(
      parseError({{"id", "urn:ngsi-ld:X:dup"}, {"type", "X"}, {"speed", {prop(1), prop(2)}}}).code,
      Errc::kInvalidArgument);
  EXPECT_EQ(parseError({{"id", "urn:ngsi-ld:X:dup"},
                        {"type", "X"},
                        {"speed",
                         {{{"value", 1}, {"datasetId", "urn:ds:a"}},
                          {{"value", 2}, {"datasetId", "urn:ds:a"}}}}})
                .code,
            Errc::kInvalidArgument);
  EXPECT_EQ(parseError({{"id", "urn:ngsi-ld:X:ds"},
                        {"type", "X"},
                        {"speed", {{"value", 1}, {"datasetId", "not a uri"}}}})
                .code,
            Errc::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST(ParseEntity, RejectsInvalidEntities) {
  const json ok = {{"id", "urn:ngsi-ld:X:1"}, {"type", "X"}};
  ASSERT_TRUE(parseEntity(ok, core(), kT0).ok());
  auto with = [&](const std::string& k, const json& val) {
    json b = ok;
    b[k] = val;
    return b;
  };
  auto without = [&](const std::string& k) {
    json b = ok;
    b.erase(k);
    return b;
  };
  const std::vector<std::pair<std::string, json>> cases = {
      {"not an object", json::array()},
      {"no id", without("id")},
      {"numeric id", with("id", 5)},
      {"id without scheme", with("id", "station-7")},
      {"id with space", with("id", "urn:ngsi-ld:X:a b")},
      {"no type", without("type")},
      {"empty type", with("type", "")},
      {"empty type list", with("type", json::array())},
      {"numeric type", with("type", 3)},
      {"type list with number", with("type", {"X", 3})},
      {"type list with empty", with("type", {"X", ""})},
      {"Property without value", with("p", {{"type", "Property"}, {"unitCode", "GQ"}})},
      {"Property with null value", with("p", {{"type", "Property"}, {"value", nullptr}})},
      {"bare null", with("p", nullptr)},
      {"Relationship without object", with("r", {{"type", "Relationship"}})},
      {"Relationship to a non-URI", with("r", {{"type", "Relationship"}, {"object", "abc"}})},
      {"Relationship to an empty list",
       with("r", {{"type", "Relationship"}, {"object", json::array()}})},
      {"GeoProperty that is not geometry", with("g", {{"type", "GeoProperty"}, {"value", 5}})},
      {"location that is a Property", with("location", prop(5))},
      {"LanguageProperty without map", with("n", {{"type", "LanguageProperty"}})},
      {"LanguageProperty with empty map",
       with("n", {{"type", "LanguageProperty"}, {"languageMap", json::object()}})},
      {"unknown attribute type", with("p", {{"type", "Temperature"}, {"value", 1}})},
      {"bad observedAt",
       with("p", {{"type", "Property"}, {"value", 1}, {"observedAt", "yesterday"}})},
      {"numeric observedAt", with("p", {{"type", "Property"}, {"value", 1}, {"observedAt", 1}})},
      {"numeric unitCode", with("p", {{"type", "Property"}, {"value", 1}, {"unitCode", 5}})},
      {"empty attribute name", with("", prop(1))},
      {"attribute name too long", with(std::string(257, 'a'), prop(1))},
      {"bad sub-attribute",
       with("p", {{"type", "Property"}, {"value", 1}, {"sub", {{"type", "Property"}}}})},
  };
  for (const auto& [what, body] : cases) {
    auto e = parseEntity(body, core(), kT0);
    ASSERT_FALSE(e.ok()) << what << ": " << body.dump();
    EXPECT_EQ(e.error().code, Errc::kInvalidArgument) << what;
    EXPECT_EQ(e.error().message.rfind("BadRequestData", 0), 0u)
        << what << ": " << e.error().message;
  }
}

TEST(ParseEntity, SubAttributesNestAtMostFourDeep) {
  json deep = prop(1);
  for (int i = 0; i < 3; ++i) deep = {{"type", "Property"}, {"value", i}, {"sub", deep}};
  // 3 levels below the attribute: fine.
  EXPECT_TRUE(
      parseEntity({{"id", "urn:ngsi-ld:X:1"}, {"type", "X"}, {"p", deep}}, core(), kT0).ok());
  for (int i = 0; i < 3; ++i) deep = {{"type", "Property"}, {"value", i}, {"sub", deep}};
  auto e = parseEntity({{"id", "urn:ngsi-ld:X:1"}, {"type", "X"}, {"p", deep}}, core(), kT0);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::kInvalidArgument);
}

TEST(ParseEntity, ExpandedLocationMustBeAGeoPropertyToo) {
  // "location" written as a compact or absolute IRI is the same attribute as "location".
  for (const std::string& name : {std::string("ngsi-ld:location"), kNs + "location"}) {
    auto e = parseEntity({{"id", "urn:ngsi-ld:X:1"}, {"type", "X"}, {name, prop(5)}}, core(), kT0);
    EXPECT_FALSE(e.ok()) << name << " accepted as a plain Property";
  }
}

TEST(ParseAttributes, SkipsIdTypeContextAndSystemMembers) {
  auto a = parseAttributes({{"id", "urn:x:1"},
                            {"type", "X"},
                            {"@context", "https://example.org/c.jsonld"},
                            {"createdAt", "x"},
                            {"modifiedAt", "y"},
                            {"scope", "/a"},
                            {"speed", 3}},
                           core(), kT0);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->size(), 1u) << a->dump();
  EXPECT_EQ((*a)[v("speed")]["value"], 3);
  EXPECT_FALSE(parseAttributes(json::array(), core(), kT0).ok());
}

// ---------------------------------------------------------------------------------------------
// Merging

Entity station() {
  return mustParse({{"id", "urn:ngsi-ld:S:1"},
                    {"type", "S"},
                    {"pm25", {{"type", "Property"}, {"value", 10}, {"unitCode", "GQ"}}},
                    {"no2", prop(20)}});
}

json attrs(const json& body, int64_t now) {
  auto a = parseAttributes(body, core(), now);
  EXPECT_TRUE(a.ok()) << body.dump();
  return a.ok() ? *a : json::object();
}

TEST(MergeAttributes, AppendAddsAndOverwrites) {
  Entity e = station();
  const int64_t t1 = kT0 + 60000;
  auto r =
      mergeAttributes(e, attrs({{"pm25", prop(11)}, {"o3", prop(5)}}, t1), MergeMode::kAppend, t1);
  EXPECT_EQ(r.updated.size(), 2u);
  EXPECT_TRUE(r.not_updated.empty());
  EXPECT_EQ(e.doc[v("pm25")]["value"], 11);
  EXPECT_FALSE(e.doc[v("pm25")].contains("unitCode")) << "append replaces the whole attribute";
  EXPECT_EQ(e.doc[v("pm25")]["createdAt"], kT0) << "createdAt is kept";
  EXPECT_EQ(e.doc[v("pm25")]["modifiedAt"], t1);
  EXPECT_EQ(e.doc[v("o3")]["value"], 5);
  EXPECT_EQ(e.doc[v("no2")]["value"], 20);
  EXPECT_EQ(e.modified_at_ms, t1);
  EXPECT_EQ(e.created_at_ms, kT0);
}

TEST(MergeAttributes, NoOverwriteAddsOnlyWhatIsMissing) {
  Entity e = station();
  auto r = mergeAttributes(e, attrs({{"pm25", prop(99)}, {"o3", prop(5)}}, kT0 + 1),
                           MergeMode::kAppendNoOverwrite, kT0 + 1);
  EXPECT_EQ(r.updated, std::vector<std::string>{v("o3")});
  ASSERT_EQ(r.not_updated.size(), 1u);
  EXPECT_EQ(r.not_updated[0].attribute, v("pm25"));
  EXPECT_FALSE(r.not_updated[0].reason.empty());
  EXPECT_EQ(e.doc[v("pm25")]["value"], 10);
  EXPECT_EQ(e.doc[v("o3")]["value"], 5);
}

TEST(MergeAttributes, UpdateExistingOnlyTouchesExisting) {
  Entity e = station();
  auto r = mergeAttributes(e, attrs({{"pm25", prop(12)}, {"o3", prop(5)}}, kT0 + 1),
                           MergeMode::kUpdateExisting, kT0 + 1);
  EXPECT_EQ(r.updated, std::vector<std::string>{v("pm25")});
  ASSERT_EQ(r.not_updated.size(), 1u);
  EXPECT_EQ(r.not_updated[0].attribute, v("o3"));
  EXPECT_EQ(e.doc[v("pm25")]["value"], 12);
  EXPECT_FALSE(e.doc.contains(v("o3")));

  Entity unchanged = station();
  auto none = mergeAttributes(unchanged, attrs({{"o3", prop(5)}}, kT0 + 5),
                              MergeMode::kUpdateExisting, kT0 + 5);
  EXPECT_TRUE(none.updated.empty());
  EXPECT_EQ(unchanged.modified_at_ms, kT0) << "nothing changed, modifiedAt stays";
}

TEST(MergeAttributes, InstancesAreMatchedByDatasetId) {
  Entity e = station();
  auto r = mergeAttributes(
      e, attrs({{"pm25", {{"value", 30}, {"datasetId", "urn:ngsi-ld:ds:b"}}}}, kT0 + 1),
      MergeMode::kAppend, kT0 + 1);
  EXPECT_EQ(r.updated.size(), 1u);
  ASSERT_TRUE(e.doc[v("pm25")].is_array()) << e.doc.dump();
  ASSERT_EQ(e.doc[v("pm25")].size(), 2u);
  EXPECT_EQ(e.doc[v("pm25")][0]["value"], 10);
  EXPECT_EQ(e.doc[v("pm25")][1]["value"], 30);
  // Replacing the datasetId instance leaves the default one alone.
  mergeAttributes(e, attrs({{"pm25", {{"value", 31}, {"datasetId", "urn:ngsi-ld:ds:b"}}}}, kT0 + 2),
                  MergeMode::kAppend, kT0 + 2);
  ASSERT_EQ(e.doc[v("pm25")].size(), 2u);
  EXPECT_EQ(e.doc[v("pm25")][0]["value"], 10);
  EXPECT_EQ(e.doc[v("pm25")][1]["value"], 31);
  // noOverwrite adds a new datasetId but keeps the existing one.
  auto nr = mergeAttributes(e,
                            attrs({{"pm25",
                                    {{{"value", 1}, {"datasetId", "urn:ngsi-ld:ds:b"}},
                                     {{"value", 2}, {"datasetId", "urn:ngsi-ld:ds:c"}}}}},
                                  kT0 + 3),
                            MergeMode::kAppendNoOverwrite, kT0 + 3);
  EXPECT_EQ(nr.updated, std::vector<std::string>{v("pm25")});
  EXPECT_EQ(nr.not_updated.size(), 1u);
  ASSERT_EQ(e.doc[v("pm25")].size(), 3u);
  EXPECT_EQ(e.doc[v("pm25")][1]["value"], 31);
  EXPECT_EQ(e.doc[v("pm25")][2]["value"], 2);
}

TEST(MergeAttributes, NewMultiInstanceAttributeKeepsEveryInstance) {
  // Appending an attribute the entity does not have yet, given as two datasetId instances, must
  // add both (not keep only the last).
  Entity e = station();
  auto r = mergeAttributes(e,
                           attrs({{"speed",
                                   {{{"value", 40}, {"datasetId", "urn:ngsi-ld:ds:radar"}},
                                    {{"value", 42}, {"datasetId", "urn:ngsi-ld:ds:gps"}}}}},
                                 kT0 + 1),
                           MergeMode::kAppend, kT0 + 1);
  EXPECT_EQ(r.updated, std::vector<std::string>{v("speed")});
  ASSERT_TRUE(e.doc[v("speed")].is_array()) << e.doc[v("speed")].dump();
  EXPECT_EQ(e.doc[v("speed")].size(), 2u) << e.doc[v("speed")].dump();
}

TEST(MergedCopy, AgreesWithMergeAttributesInEveryModeAndLeavesTheOriginalAlone) {
  // Names chosen to fall before, between and after the station's (no2, pm25) in sorted order,
  // plus datasetId cases that take the generic path.
  const std::vector<json> bodies = {
      {{"pm25", prop(11)}},
      {{"aa", prop(1)}, {"pm25", prop(12)}, {"zz", prop(3)}},
      {{"no2", prop(21)}, {"o3", prop(5)}, {"pm25", prop(13)}},
      {{"o3", prop(5)}},
      {{"pm25", {{"value", 30}, {"datasetId", "urn:ngsi-ld:ds:b"}}}},
      {{"speed", {{{"value", 40}, {"datasetId", "urn:ngsi-ld:ds:r"}}, {{"value", 42}}}}},
      // A sub-attribute named by an IRI that sorts before createdAt and datasetId.
      {{"pm25", {{"value", 15}, {"Ab:q", prop(2)}}}},
      {{"pm25", {{"value", 16}, {"Ab:q", prop(2)}, {"datasetId", "urn:ngsi-ld:ds:c"}}}},
  };
  Entity multi = station();
  mergeAttributes(multi, attrs({{"no2", {{"value", 1}, {"datasetId", "urn:ngsi-ld:ds:x"}}}}, kT0),
                  MergeMode::kAppend, kT0);
  Entity sub_first = station();
  mergeAttributes(sub_first, attrs({{"pm25", {{"value", 9}, {"Ab:q", prop(1)}}}}, kT0),
                  MergeMode::kAppend, kT0);
  Entity sub_dataset = station();
  mergeAttributes(
      sub_dataset,
      attrs({{"no2", {{"value", 2}, {"Ab:q", prop(1)}, {"datasetId", "urn:ngsi-ld:ds:y"}}}}, kT0),
      MergeMode::kAppend, kT0);
  ASSERT_TRUE(sub_first.doc[v("pm25")].contains("Ab:q")) << sub_first.doc.dump();
  for (const Entity& base : {station(), multi, sub_first, sub_dataset}) {
    const json original = base.doc;
    for (MergeMode mode :
         {MergeMode::kAppend, MergeMode::kAppendNoOverwrite, MergeMode::kUpdateExisting}) {
      for (const auto& body : bodies) {
        const int64_t t1 = kT0 + 60000;
        Entity expected = base;
        MergeResult want = mergeAttributes(expected, attrs(body, t1), mode, t1);
        MergeResult got;
        Entity next = mergedCopy(base, attrs(body, t1), mode, t1, got);
        const std::string where = body.dump() + " mode " + std::to_string(static_cast<int>(mode));
        EXPECT_EQ(next.doc, expected.doc) << where;
        EXPECT_EQ(next.id, expected.id);
        EXPECT_EQ(next.unit_code, expected.unit_code);
        EXPECT_EQ(next.created_at_ms, expected.created_at_ms);
        EXPECT_EQ(next.modified_at_ms, expected.modified_at_ms) << where;
        EXPECT_EQ(got.updated, want.updated) << where;
        // Without a report (telemetry): the same version.
        Entity quiet = mergedCopy(base, attrs(body, t1), mode, t1);
        EXPECT_EQ(quiet.doc, expected.doc) << where;
        EXPECT_EQ(quiet.modified_at_ms, expected.modified_at_ms) << where;
        ASSERT_EQ(got.not_updated.size(), want.not_updated.size()) << where;
        for (size_t i = 0; i < got.not_updated.size(); ++i) {
          EXPECT_EQ(got.not_updated[i].attribute, want.not_updated[i].attribute) << where;
          EXPECT_EQ(got.not_updated[i].reason, want.not_updated[i].reason) << where;
        }
        EXPECT_EQ(base.doc, original) << "the original version is never touched";
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Partial attribute update

TEST(PatchAttribute, MergesFragmentIntoInstance) {
  Entity e = station();
  const int64_t t1 = kT0 + 1000;
  ASSERT_TRUE(patchAttribute(e, v("pm25"), {{"value", 48}}, core(), t1).ok());
  const json& pm = e.doc[v("pm25")];
  EXPECT_EQ(pm["value"], 48);
  EXPECT_EQ(pm["unitCode"], "GQ") << "untouched members stay";
  EXPECT_EQ(pm["type"], "Property");
  EXPECT_EQ(pm["createdAt"], kT0);
  EXPECT_EQ(pm["modifiedAt"], t1);
  EXPECT_EQ(e.modified_at_ms, t1);

  // Sub-attributes are expanded and validated.
  ASSERT_TRUE(patchAttribute(e, v("pm25"), {{"accuracy", {{"type", "Property"}, {"value", 0.2}}}},
                             core(), t1)
                  .ok());
  EXPECT_EQ(e.doc[v("pm25")][v("accuracy")]["value"], 0.2) << e.doc.dump();
  EXPECT_EQ(e.doc[v("pm25")]["value"], 48);
  // Patching again keeps the sub-attribute (already expanded in the stored instance).
  ASSERT_TRUE(patchAttribute(e, v("pm25"), {{"value", 49}}, core(), t1 + 1).ok());
  EXPECT_EQ(e.doc[v("pm25")][v("accuracy")]["value"], 0.2) << e.doc.dump();
}

TEST(PatchAttribute, ErrorsLeaveTheEntityUnchanged) {
  Entity e = station();
  const json before = e.doc;
  auto missing = patchAttribute(e, v("o3"), {{"value", 1}}, core(), kT0 + 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto no_instance = patchAttribute(e, v("pm25"), {{"value", 1}, {"datasetId", "urn:ngsi-ld:ds:x"}},
                                    core(), kT0 + 1);
  ASSERT_FALSE(no_instance.ok());
  EXPECT_EQ(no_instance.error().code, Errc::kNotFound);
  auto not_object = patchAttribute(e, v("pm25"), json::array(), core(), kT0 + 1);
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().code, Errc::kInvalidArgument);
  auto invalid = patchAttribute(e, v("pm25"), {{"observedAt", "noon"}}, core(), kT0 + 1);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, Errc::kInvalidArgument);
  auto null_value = patchAttribute(e, v("pm25"), {{"value", nullptr}}, core(), kT0 + 1);
  EXPECT_FALSE(null_value.ok());
  EXPECT_EQ(e.doc, before);
  EXPECT_EQ(e.modified_at_ms, kT0);
}

TEST(PatchAttribute, TargetsTheDatasetIdInstance) {
  Entity e = mustParse(
      {{"id", "urn:ngsi-ld:X:1"},
       {"type", "X"},
       {"speed", {prop(1), {{"type", "Property"}, {"value", 2}, {"datasetId", "urn:ds:b"}}}}});
  ASSERT_TRUE(
      patchAttribute(e, v("speed"), {{"value", 20}, {"datasetId", "urn:ds:b"}}, core(), kT0 + 1)
          .ok());
  EXPECT_EQ(e.doc[v("speed")][0]["value"], 1);
  EXPECT_EQ(e.doc[v("speed")][1]["value"], 20);
  EXPECT_EQ(e.doc[v("speed")][1]["datasetId"], "urn:ds:b");
}

// ---------------------------------------------------------------------------------------------
// Removal

TEST(RemoveAttribute, WholeAttributeOrOneInstance) {
  Entity e = mustParse({{"id", "urn:ngsi-ld:X:1"},
                        {"type", "X"},
                        {"a", prop(1)},
                        {"speed",
                         {prop(1),
                          {{"type", "Property"}, {"value", 2}, {"datasetId", "urn:ds:b"}},
                          {{"type", "Property"}, {"value", 3}, {"datasetId", "urn:ds:c"}}}}});
  EXPECT_EQ(removeAttribute(e, v("nope"), "", false).error().code, Errc::kNotFound);
  EXPECT_EQ(removeAttribute(e, "id", "", true).error().code, Errc::kNotFound);
  EXPECT_EQ(removeAttribute(e, "type", "", true).error().code, Errc::kNotFound);
  EXPECT_EQ(removeAttribute(e, v("a"), "urn:ds:x", false).error().code, Errc::kNotFound);
  EXPECT_EQ(removeAttribute(e, v("speed"), "urn:ds:x", false).error().code, Errc::kNotFound);

  ASSERT_TRUE(removeAttribute(e, v("speed"), "urn:ds:b", false).ok());
  ASSERT_EQ(e.doc[v("speed")].size(), 2u);
  ASSERT_TRUE(removeAttribute(e, v("speed"), "", false).ok());
  ASSERT_TRUE(e.doc[v("speed")].is_object()) << "one instance left: no longer an array";
  EXPECT_EQ(e.doc[v("speed")]["datasetId"], "urn:ds:c");
  ASSERT_TRUE(removeAttribute(e, v("speed"), "urn:ds:c", false).ok());
  EXPECT_FALSE(e.doc.contains(v("speed")));

  ASSERT_TRUE(removeAttribute(e, v("a"), "", false).ok());
  EXPECT_FALSE(e.doc.contains(v("a")));
  EXPECT_EQ(e.doc["id"], "urn:ngsi-ld:X:1");
}

TEST(RemoveAttribute, AllInstances) {
  Entity e = mustParse(
      {{"id", "urn:ngsi-ld:X:1"},
       {"type", "X"},
       {"speed", {prop(1), {{"type", "Property"}, {"value", 2}, {"datasetId", "urn:ds:b"}}}}});
  ASSERT_TRUE(removeAttribute(e, v("speed"), "", true).ok());
  EXPECT_FALSE(e.doc.contains(v("speed")));
}

// ---------------------------------------------------------------------------------------------
// Rendering

TEST(RenderEntity, NormalizedIsCompactedWithoutSystemAttributes) {
  Entity e =
      mustParse({{"id", "urn:ngsi-ld:S:1"},
                 {"type", "AirQualityObserved"},
                 {"pm25",
                  {{"type", "Property"},
                   {"value", 27.5},
                   {"unitCode", "GQ"},
                   {"observedAt", "2026-03-01T08:00:00Z"},
                   {"accuracy", prop(0.9)}}},
                 {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:1"}}},
                 {"location", {{"type", "GeoProperty"}, {"value", point(107.59, 16.46)}}}});
  json out = renderEntity(e, core(), {});
  EXPECT_EQ(out,
            json({{"id", "urn:ngsi-ld:S:1"},
                  {"type", "AirQualityObserved"},
                  {"pm25",
                   {{"type", "Property"},
                    {"value", 27.5},
                    {"unitCode", "GQ"},
                    {"observedAt", "2026-03-01T08:00:00Z"},
                    {"accuracy", prop(0.9)}}},
                  {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:1"}}},
                  {"location", {{"type", "GeoProperty"}, {"value", point(107.59, 16.46)}}}}))
      << out.dump(2);
}

TEST(RenderEntity, KeyValuesSysAttrsAndAttrsFilter) {
  Entity e =
      mustParse({{"id", "urn:ngsi-ld:S:1"},
                 {"type", {"A", "B"}},
                 {"pm25", prop(27.5)},
                 {"refDevice", {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:1"}}},
                 {"name", {{"type", "LanguageProperty"}, {"languageMap", {{"vi", "Trạm"}}}}}});
  e.modified_at_ms = kT0 + 5000;
  RenderOptions kv;
  kv.key_values = true;
  EXPECT_EQ(renderEntity(e, core(), kv), json({{"id", "urn:ngsi-ld:S:1"},
                                               {"type", {"A", "B"}},
                                               {"pm25", 27.5},
                                               {"refDevice", "urn:ngsi-ld:Device:1"},
                                               {"name", {{"vi", "Trạm"}}}}));
  RenderOptions sys;
  sys.sys_attrs = true;
  json s = renderEntity(e, core(), sys);
  EXPECT_EQ(s["createdAt"], kT0Text);
  EXPECT_EQ(s["modifiedAt"], core::formatRfc3339(kT0 + 5000));
  EXPECT_EQ(s["pm25"]["createdAt"], kT0Text);
  EXPECT_EQ(s["pm25"]["modifiedAt"], kT0Text);
  // A document written before system times were kept as Unix ms renders the same.
  e.doc[v("pm25")]["createdAt"] = "2020-01-01T00:00:00.000Z";
  EXPECT_EQ(renderEntity(e, core(), sys)["pm25"]["createdAt"], "2020-01-01T00:00:00.000Z");
  // keyValues never carries system attributes.
  kv.sys_attrs = true;
  EXPECT_FALSE(renderEntity(e, core(), kv).contains("createdAt"));

  std::unordered_set<std::string> only = {v("pm25")};
  RenderOptions filtered;
  filtered.attrs = &only;
  json f = renderEntity(e, core(), filtered);
  EXPECT_EQ(f, json({{"id", "urn:ngsi-ld:S:1"}, {"type", {"A", "B"}}, {"pm25", prop(27.5)}}));
}

TEST(RenderEntity, CompactsWithTheRequestContext) {
  ContextRegistry reg;
  auto terms = reg.resolve(
      {{"pm", "https://example.org/pm25#"}, {"Station", "https://example.org/Station"}});
  ASSERT_TRUE(terms.ok());
  auto e =
      parseEntity({{"id", "urn:ngsi-ld:S:1"}, {"type", "Station"}, {"pm", prop(3)}}, **terms, kT0);
  ASSERT_TRUE(e.ok());
  json mine = renderEntity(*e, **terms, {});
  EXPECT_EQ(mine["type"], "Station");
  EXPECT_EQ(mine["pm"], prop(3));
  json plain = renderEntity(*e, core(), {});
  EXPECT_EQ(plain["type"], "https://example.org/Station");
  EXPECT_EQ(plain["https://example.org/pm25#"], prop(3));
}

TEST(RenderEntity, MultiInstanceAttributes) {
  Entity e = mustParse(
      {{"id", "urn:ngsi-ld:X:1"},
       {"type", "X"},
       {"speed", {prop(40), {{"type", "Property"}, {"value", 41}, {"datasetId", "urn:ds:b"}}}}});
  json n = renderEntity(e, core(), {});
  ASSERT_TRUE(n["speed"].is_array());
  EXPECT_EQ(n["speed"][1], json({{"type", "Property"}, {"value", 41}, {"datasetId", "urn:ds:b"}}));
  RenderOptions kv;
  kv.key_values = true;
  EXPECT_EQ(renderEntity(e, core(), kv)["speed"], 40) << "keyValues shows the default instance";
}

TEST(RenderEntity, KeyValuesShowsTheDefaultInstanceWhereverItIs) {
  // The default instance (no datasetId) was added after a datasetId one: keyValues still shows
  // the default instance, as renderEntity's own comment promises.
  Entity e =
      mustParse({{"id", "urn:ngsi-ld:X:1"},
                 {"type", "X"},
                 {"speed", {{"type", "Property"}, {"value", 41}, {"datasetId", "urn:ds:b"}}}});
  mergeAttributes(e, attrs({{"speed", prop(40)}}, kT0 + 1), MergeMode::kAppend, kT0 + 1);
  ASSERT_TRUE(e.doc[v("speed")].is_array());
  RenderOptions kv;
  kv.key_values = true;
  EXPECT_EQ(renderEntity(e, core(), kv)["speed"], 40);
}

// ---------------------------------------------------------------------------------------------
// Records

TEST(Records, RoundTrip) {
  Entity e = station();
  e.unit_code = "46";
  e.modified_at_ms = kT0 + 7;
  auto r = toRecord(e);
  EXPECT_EQ(r.id, "urn:ngsi-ld:S:1");
  EXPECT_EQ(r.type, v("S"));
  EXPECT_EQ(r.unit_code, "46");
  EXPECT_EQ(r.created_at_ms, kT0);
  EXPECT_EQ(r.modified_at_ms, kT0 + 7);
  auto back = fromRecord(r);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, e.id);
  EXPECT_EQ(back->unit_code, "46");
  EXPECT_EQ(back->doc, e.doc);
  EXPECT_EQ(back->created_at_ms, kT0);
  EXPECT_EQ(back->modified_at_ms, kT0 + 7);

  Entity multi = mustParse({{"id", "urn:ngsi-ld:X:2"}, {"type", {"A", "B"}}});
  EXPECT_EQ(toRecord(multi).type, v("A"));

  auto bad = fromRecord({"urn:x:1", "X", "46", "{not json", 1, 2});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInternal);
  EXPECT_FALSE(fromRecord({"urn:x:1", "X", "46", "[1,2]", 1, 2}).ok());
}

// ---------------------------------------------------------------------------------------------
// Ids and date-times

TEST(EntityId, AbsoluteUrisOnly) {
  for (const char* ok : {"urn:ngsi-ld:Thing:1", "https://example.org/e/1", "a:b", "x+y.z-1:abc",
                         "urn:ngsi-ld:Đường:1"}) {
    EXPECT_TRUE(isValidEntityId(ok)) << ok;
  }
  for (const char* bad :
       {"", "ab", ":abc", "1urn:x", "station-7", "urn:a b", "urn:a\tb", "urn:a\"b", "urn:<x>",
        "urn:a\\b", "urn:{x}", "urn:a|b", "urn:a^b", "urn:a`b", "u_n:x"}) {
    EXPECT_FALSE(isValidEntityId(bad)) << bad;
  }
  EXPECT_TRUE(isValidEntityId("urn:" + std::string(508, 'x')));
  EXPECT_FALSE(isValidEntityId("urn:" + std::string(509, 'x')));
}

TEST(DateTime, ParsesIso8601) {
  EXPECT_EQ(*parseDateTime("2026-03-01T08:00:00Z"), kT0);
  EXPECT_EQ(*parseDateTime("2026-03-01t08:00:00z"), kT0);
  EXPECT_EQ(*parseDateTime("2026-03-01T08:00:00.5Z"), kT0 + 500);
  EXPECT_EQ(*parseDateTime("2026-03-01T08:00:00.123456Z"), kT0 + 123);
  EXPECT_EQ(*parseDateTime("2026-03-01T15:00:00+07:00"), kT0);
  EXPECT_EQ(*parseDateTime("2026-03-01T07:30:00-00:30"), kT0);
  EXPECT_EQ(*parseDateTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parseDateTime("2024-02-29T00:00:00Z"), 1'709'164'800'000);
  for (const char* bad : {"", "2026-03-01", "2026-03-01T08:00:00", "2026-03-01 08:00:00Z",
                          "2026-3-01T08:00:00Z", "2026-13-01T08:00:00Z", "2026-00-10T08:00:00Z",
                          "2026-03-32T08:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T08:60:00Z",
                          "2026-03-01T08:00:00.Z", "2026-03-01T08:00:00+0700",
                          "2026-03-01T08:00:00Zjunk", "yesterday", "2026-03-01T08:00:00+07"}) {
    EXPECT_FALSE(parseDateTime(bad).ok()) << bad;
  }
}

TEST(DateTime, RejectsDaysThatTheMonthDoesNotHave) {
  for (const char* bad : {"2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                          "2026-06-31T12:00:00Z"}) {
    auto r = parseDateTime(bad);
    EXPECT_FALSE(r.ok()) << bad << " parsed as " << (r.ok() ? core::formatRfc3339(*r) : "");
  }
}

}  // namespace
}  // namespace ioc::context
