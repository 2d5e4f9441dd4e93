// Topic parsing and payload → NGSI-LD attribute mapping of the MQTT ingest.
#include "mqtt/message.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace ioc::mqtt {
namespace {

using json = ioc::Json;

const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20.000Z

DevicePtr sensor() {
  model::Device d;
  d.device_id = "dev1";
  d.apikey = "KEY";
  d.entity_id = "urn:ngsi-ld:WeatherObserved:hue-001";
  d.entity_type = kVocab + "WeatherObserved";
  d.unit_code = "46";
  d.mapping =
      json{{"t", {{"name", kVocab + "temperature"}, {"type", "Property"}, {"unitCode", "CEL"}}},
           {"h", {{"name", kVocab + "relativeHumidity"}, {"type", "Property"}}},
           {"s", {{"name", kVocab + "status"}, {"type", "Property"}}}}
          .dump();
  auto e = makeEntry(d);
  EXPECT_TRUE(e.ok()) << e.error().message;
  return *e;
}

TEST(Topic, IotAgentJsonTopics) {
  auto ids = parseTopic("", "/KEY/dev1/attrs");
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->apikey, "KEY");
  EXPECT_EQ(ids->device_id, "dev1");
  auto prefixed = parseTopic("json", "json/k-1.a:b/sensor_9/attrs");
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->apikey, "k-1.a:b");
  EXPECT_EQ(prefixed->device_id, "sensor_9");
  auto nested = parseTopic("city/hue", "city/hue/KEY/dev1/attrs");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->device_id, "dev1");
}

TEST(Topic, RejectsOtherShapes) {
  for (const char* t :
       {"", "/", "/KEY/dev1", "/KEY/dev1/attrs/x", "/KEY/dev1/cmd", "KEY/dev1/attrs",
        "//dev1/attrs", "/KEY//attrs", "/KEY/a/b/attrs", "/KEY/dev 1/attrs", "/K+/dev1/attrs",
        "/KEY/dev#/attrs", "/KEY/dev1/attrs/", "json/KEY/dev1/attrs"}) {
    EXPECT_FALSE(parseTopic("", t)) << t;
  }
  EXPECT_FALSE(parseTopic("json", "/KEY/dev1/attrs"));
  EXPECT_FALSE(parseTopic("json", "jsonx/KEY/dev1/attrs"));
  EXPECT_FALSE(parseTopic("", "/" + std::string(129, 'k') + "/dev1/attrs"));
  EXPECT_TRUE(parseTopic("", "/" + std::string(128, 'k') + "/dev1/attrs"));
}

TEST(Topic, SubscriptionAndPrefix) {
  EXPECT_EQ(subscriptionFor(""), "/+/+/attrs");
  EXPECT_EQ(subscriptionFor("json"), "json/+/+/attrs");
  EXPECT_TRUE(isValidTopicPrefix(""));
  EXPECT_TRUE(isValidTopicPrefix("city/hue"));
  for (const char* bad : {"json/", "a/+", "#", "a/#/b"})
    EXPECT_FALSE(isValidTopicPrefix(bad)) << bad;
  EXPECT_FALSE(isValidTopicPrefix(std::string("a\0b", 3)));
  EXPECT_FALSE(isValidTopicPrefix(std::string(129, 'p')));
}

TEST(Payload, MapsKnownKeysToNormalizedProperties) {
  auto m = mapPayload(*sensor(), R"({"t": 21.5, "h": 60})", kNow);
  ASSERT_FALSE(m.rejected) << m.detail;
  EXPECT_TRUE(m.partial.empty());
  EXPECT_EQ(m.observation.entity_id, "urn:ngsi-ld:WeatherObserved:hue-001");
  EXPECT_EQ(m.observation.entity_type, kVocab + "WeatherObserved");
  const json& a = m.observation.attrs;
  ASSERT_EQ(a.size(), 2u) << a.dump();
  const json& t = a[kVocab + "temperature"];
  EXPECT_EQ(t["type"], "Property");
  EXPECT_EQ(t["value"], 21.5);
  EXPECT_EQ(t["unitCode"], "CEL");
  EXPECT_FALSE(t.contains("observedAt"));
  EXPECT_EQ(t["createdAt"], kNow) << "Unix milliseconds, rendered as text on output";
  EXPECT_EQ(t["modifiedAt"], kNow);
  const json& h = a[kVocab + "relativeHumidity"];
  EXPECT_EQ(h["value"], 60);
  EXPECT_FALSE(h.contains("unitCode"));
}

TEST(Payload, TimeInstantBecomesObservedAtOfEveryAttribute) {
  auto m = mapPayload(*sensor(),
                      R"({"t": 20, "h": 55, "TimeInstant": "2026-03-01T07:30:00+07:00"})", kNow);
  ASSERT_FALSE(m.rejected) << m.detail;
  ASSERT_EQ(m.observation.attrs.size(), 2u);
  for (const auto& [name, inst] : m.observation.attrs.items()) {
    EXPECT_EQ(inst["observedAt"], "2026-03-01T00:30:00.000Z") << name;
  }
}

TEST(Payload, BadTimeInstantDropsTheMessage) {
  for (const char* p : {R"({"t": 1, "TimeInstant": "yesterday"})", R"({"t": 1, "TimeInstant": 5})",
                        R"({"t": 1, "TimeInstant": "2026-03-01T07:30:00"})"}) {
    auto m = mapPayload(*sensor(), p, kNow);
    ASSERT_TRUE(m.rejected) << p;
    EXPECT_EQ(*m.rejected, DropReason::kBadValue) << p;
    EXPECT_TRUE(m.empty());
  }
}

TEST(Payload, StructuredValuesAreProperties) {
  auto m =
      mapPayload(*sensor(), R"({"s": {"battery": "low", "codes": [1, 2]}, "t": [1, 2]})", kNow);
  ASSERT_FALSE(m.rejected);
  EXPECT_EQ(m.observation.attrs[kVocab + "status"]["value"]["battery"], "low");
  EXPECT_EQ(m.observation.attrs[kVocab + "temperature"]["value"], json::array({1, 2}));
  auto text = mapPayload(*sensor(), R"({"s": "ok", "h": true})", kNow);
  EXPECT_EQ(text.observation.attrs[kVocab + "status"]["value"], "ok");
  EXPECT_EQ(text.observation.attrs[kVocab + "relativeHumidity"]["value"], true);
}

TEST(Payload, UnknownKeysAndNullsAreCountedButTheRestIsKept) {
  auto m = mapPayload(*sensor(), R"({"t": 21.5, "zz": 1, "yy": 2, "h": null})", kNow);
  ASSERT_FALSE(m.rejected);
  EXPECT_EQ(std::set<DropReason>(m.partial.begin(), m.partial.end()),
            (std::set<DropReason>{DropReason::kUnknownAttribute, DropReason::kBadValue}));
  EXPECT_EQ(m.partial.size(), 2u);  // each reason once, though two keys were unknown
  ASSERT_EQ(m.observation.attrs.size(), 1u);
  EXPECT_TRUE(m.observation.attrs.contains(kVocab + "temperature"));

  auto none = mapPayload(*sensor(), R"({"zz": 1})", kNow);
  EXPECT_FALSE(none.rejected);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.partial, std::vector<DropReason>{DropReason::kUnknownAttribute});
  EXPECT_TRUE(mapPayload(*sensor(), "{}", kNow).empty());
}

TEST(Payload, RejectsWhatIsNotAJsonObject) {
  for (const char* p : {"", "not json", "{\"t\": ", "[1, 2]", "21.5", "\"t\"", "null",
                        "{\"t\": 1} trailing", "{\"t\": NaN}"}) {
    auto m = mapPayload(*sensor(), p, kNow);
    ASSERT_TRUE(m.rejected) << p;
    EXPECT_EQ(*m.rejected, DropReason::kBadJson) << p;
  }
  // Invalid UTF-8 inside a string.
  auto bad_utf8 = mapPayload(*sensor(), "{\"s\": \"\xff\xfe\"}", kNow);
  ASSERT_TRUE(bad_utf8.rejected);
  EXPECT_EQ(*bad_utf8.rejected, DropReason::kBadJson);
  // Nesting: 32 levels are fine, 33 are not, 60 000 never reach the parser.
  auto nest = [](int n) {
    return "{\"s\": " + std::string(n - 1, '[') + std::string(n - 1, ']') + "}";
  };
  EXPECT_FALSE(mapPayload(*sensor(), nest(32), kNow).rejected);
  auto deep = mapPayload(*sensor(), nest(33), kNow);
  ASSERT_TRUE(deep.rejected);
  EXPECT_EQ(*deep.rejected, DropReason::kBadJson);
  EXPECT_TRUE(mapPayload(*sensor(), std::string(60000, '['), kNow).rejected);
}

TEST(Payload, SizeLimit) {
  std::string big = R"({"s": ")" + std::string(kMaxPayloadBytes, 'x') + "\"}";
  auto m = mapPayload(*sensor(), big, kNow);
  ASSERT_TRUE(m.rejected);
  EXPECT_EQ(*m.rejected, DropReason::kTooLarge);
  std::string fits = R"({"s": ")" + std::string(kMaxPayloadBytes - 10, 'x') + "\"}";
  EXPECT_FALSE(mapPayload(*sensor(), fits, kNow).rejected);
}

TEST(Payload, DropReasonNames) {
  std::set<std::string> names;
  for (auto r : kAllDropReasons) names.insert(dropReasonName(r));
  EXPECT_EQ(names, (std::set<std::string>{"bad_topic", "unknown_device", "too_large", "bad_json",
                                          "unknown_attribute", "bad_value", "ingest_failed"}));
}

// mapPayload takes a DOM-free fast path for flat payloads; whatever it answers must be what the
// generic path answers, to the byte.
TEST(Payload, FastPathAnswersLikeTheGenericPath) {
  auto d = sensor();
  const std::vector<std::string> payloads = {
      R"({"t": 21.5, "h": 60})",
      R"({"t": -3, "h": 0, "s": "ok"})",
      R"({"t": 1e3, "s": true, "h": false})",
      R"({"t": 0.1, "h": -0.0, "s": -9223372036854775808})",
      R"({"t": 18446744073709551615})",
      R"({"t": 123456789012345678901234567890})",
      R"({"s": "Hu\u1ebf \"quoted\" \\ }{ ]["})",
      "{\"s\": \"Hu\xe1\xba\xbf\"}",
      R"({"t": 21.5, "TimeInstant": "2026-03-01T07:30:00+07:00"})",
      R"({"TimeInstant": "2026-03-01T07:30:00.5Z", "h": 1})",
      R"({"TimeInstant": "2026-03-01T07:30:00Z"})",
      R"({"TimeInstant": "yesterday", "t": 1})",
      R"({"TimeInstant": 5, "t": 1})",
      R"({"t": 1, "t": 2})",
      " \n{\"t\": 5}\t\r\n ",
      R"({"t": 1} x)",
      R"({"t":5}{"t":6})",
      R"({"t": 1,})",
      R"({"t" 1})",
      R"({"t": 01})",
      R"({"t": tru})",
      R"({"zz": 1, "t": 2})",
      R"({"t": null, "h": 3})",
      R"({"t": [1, 2]})",
      R"({"t": {"v": 1}})",
      "{\"s\": \"\xff\"}",
      "{\"\xff\": 1}",
      R"({})",
      R"({"s": "}"})",
      R"([1])",
      "",
      "   ",
      R"("just a string")",
  };
  size_t points_checked = 0;
  for (const auto& p : payloads) {
    Mapped fast = mapPayload(*d, p, kNow);
    Mapped generic = mapPayloadGeneric(*d, p, kNow);
    // The points the fast path makes are those the broker derives from the attributes (in
    // payload order rather than name order).
    if (fast.observation.points) {
      std::vector<model::Point> made = *fast.observation.points, derived;
      context::collectPoints(fast.observation.entity_id, fast.observation.attrs, nullptr, kNow,
                             derived);
      auto byName = [](const model::Point& x, const model::Point& y) {
        return x.attribute < y.attribute;
      };
      std::sort(made.begin(), made.end(), byName);
      ASSERT_EQ(made.size(), derived.size()) << p;
      points_checked += derived.size();
      for (size_t i = 0; i < derived.size(); ++i) {
        const auto& a = made[i];
        EXPECT_EQ(a.entity_id, derived[i].entity_id) << p;
        EXPECT_EQ(a.attribute, derived[i].attribute) << p;
        EXPECT_EQ(a.at_ms, derived[i].at_ms) << p;
        EXPECT_EQ(a.value, derived[i].value) << p;
      }
    }
    EXPECT_EQ(fast.rejected, generic.rejected) << p;
    EXPECT_EQ(fast.partial, generic.partial) << p;
    EXPECT_EQ(fast.observation.entity_id, generic.observation.entity_id) << p;
    EXPECT_EQ(fast.observation.attrs.dump(), generic.observation.attrs.dump()) << p;
    // Not just equal text: the same JSON types (an unsigned 60 is not a signed 60).
    EXPECT_EQ(fast.observation.attrs, generic.observation.attrs) << p;
    for (const auto& [name, inst] : fast.observation.attrs.items()) {
      EXPECT_EQ(inst["value"].type(), generic.observation.attrs[name]["value"].type()) << p;
    }
  }
  EXPECT_GE(points_checked, 10u);  // the list above yields 13
}

}  // namespace
}  // namespace ioc::mqtt
