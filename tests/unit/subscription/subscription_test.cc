// Subscription validation (ETSI GS CIM 009 clause 5.2.12 and friends): what is accepted, how it
// is stored (expanded names), and every refusal naming its reason.
#include "subscription/subscription.h"

#include <gtest/gtest.h>

#include "unit/subscription/test_util.h"

namespace ioc::subscription {
namespace {

using namespace test;

TEST(SubscriptionSpec, MinimalIsAcceptedWithDefaults) {
  auto s = make(body());
  EXPECT_EQ(s->entities.size(), 1u);
  EXPECT_EQ(s->entities[0].type, v("Sensor"));
  EXPECT_EQ(s->format, Format::kNormalized);
  EXPECT_EQ(s->triggers, kDefaultTriggers);
  EXPECT_TRUE(s->active);
  EXPECT_EQ(s->endpoint.scheme, Endpoint::Scheme::kHttp);
  EXPECT_EQ(s->endpoint.host, "127.0.0.1");
  EXPECT_EQ(s->endpoint.port, 9);
  EXPECT_EQ(s->endpoint.target, "/notify");
  EXPECT_EQ(s->endpoint.accept, "application/json");
  EXPECT_STREQ(s->status(kNow), "active");
}

TEST(SubscriptionSpec, NamesAreStoredExpandedAndRenderedCompact) {
  auto s = make(body({{"watchedAttributes", {"temperature"}},
                      {"q", "temperature>30"},
                      {"geoQ",
                       {{"geometry", "Point"},
                        {"coordinates", {107.58, 16.46}},
                        {"georel", "near;maxDistance==2000"}}},
                      {"notification",
                       {{"attributes", {"temperature", "location"}},
                        {"format", "keyValues"},
                        {"endpoint", {{"uri", "http://h/x"}, {"accept", "application/ld+json"}}}}},
                      {"isActive", false},
                      {"expiresAt", "2030-01-01T00:00:00Z"},
                      {"throttling", 5}}));
  EXPECT_EQ(s->spec["watchedAttributes"][0], v("temperature"));
  EXPECT_EQ(s->watched, std::vector<std::string>{v("temperature")});
  EXPECT_TRUE(s->attrs.count(v("temperature")));
  EXPECT_TRUE(s->attrs.count("https://uri.etsi.org/ngsi-ld/location"));
  ASSERT_TRUE(s->geo);
  EXPECT_EQ(s->geo->geoproperty, "https://uri.etsi.org/ngsi-ld/location");
  EXPECT_EQ(s->format, Format::kKeyValues);
  EXPECT_STREQ(s->status(kNow), "paused");
  EXPECT_STREQ(s->status(1'900'000'000'000), "expired");
  DeliveryStatus st;
  st.times_sent = 3;
  st.times_failed = 1;
  st.failed = true;
  st.last_failure_ms = kNow;
  json r = render(*s, st, *context::TermMap::core(), kNow);
  EXPECT_EQ(r["watchedAttributes"], json({"temperature"}));
  EXPECT_EQ(r["entities"][0]["type"], "Sensor");
  EXPECT_EQ(r["notification"]["attributes"], json({"temperature", "location"}));
  EXPECT_EQ(r["notification"]["status"], "failed");
  EXPECT_EQ(r["notification"]["timesSent"], 3);
  EXPECT_EQ(r["notification"]["timesFailed"], 1);
  EXPECT_EQ(r["notification"]["lastFailure"], "2026-03-01T08:00:00.000Z");
  EXPECT_FALSE(r["notification"].contains("lastSuccess"));
  EXPECT_EQ(r["status"], "paused");
  EXPECT_EQ(r["q"], "temperature>30");
}

TEST(SubscriptionSpec, ReadOnlyMembersAreIgnored) {
  json b = body({{"status", "expired"}, {"createdAt", "2020-01-01T00:00:00Z"}});
  b["notification"]["timesSent"] = 99;
  b["notification"]["status"] = "failed";
  auto s = make(b);
  EXPECT_FALSE(s->spec.contains("status"));
  EXPECT_FALSE(s->spec["notification"].contains("timesSent"));
}

TEST(SubscriptionSpec, RefusalsNameTheProblem) {
  auto has = [](const json& b, const std::string& words) {
    std::string why = refusal(b);
    EXPECT_NE(why.find("BadRequestData: "), std::string::npos) << b.dump() << " → " << why;
    EXPECT_NE(why.find(words), std::string::npos) << b.dump() << " → " << why;
  };
  json no_type = body();
  no_type.erase("type");
  has(no_type, "type");
  has(body({{"type", "Entity"}}), "type must be");
  json no_notification = body();
  no_notification.erase("notification");
  has(no_notification, "notification is mandatory");
  has(body({{"color", "red"}}), "unknown member color");
  has(body({{"csf", "x"}}), "not supported");
  has(body({{"entities", json::array()}}), "entities");
  has(body({{"entities", {{{"id", "urn:x:1"}}}}}), "entities[].type is mandatory");
  has(body({{"entities", {{{"type", "T"}, {"id", "not a uri"}}}}}), "entities[].id");
  has(body({{"entities", {{{"type", "T"}, {"idPattern", "(unclosed"}}}}}), "idPattern");
  json neither = body();
  neither.erase("entities");
  has(neither, "entities, watchedAttributes or both");
  has(body({{"watchedAttributes", {"a"}}, {"timeInterval", 10}}), "mutually exclusive");
  has(body({{"throttling", 5}, {"timeInterval", 10}}), "mutually exclusive");
  has(body({{"throttling", 0}}), "throttling must be a number > 0");
  has(body({{"timeInterval", -1}}), "timeInterval");
  has(body({{"watchedAttributes", json::array()}}), "watchedAttributes");
  has(body({{"q", "temperature>>"}}), "q:");
  has(body({{"geoQ", {{"geometry", "Point"}, {"coordinates", {1, 2}}}}}), "geoQ.georel");
  has(body({{"geoQ", {{"geometry", "Point"}, {"coordinates", {1}}, {"georel", "within"}}}}),
      "geoQ");
  has(body({{"expiresAt", "tomorrow"}}), "expiresAt");
  has(body({{"expiresAt", "2020-01-01T00:00:00Z"}}), "past");
  has(body({{"isActive", "yes"}}), "isActive");
  has(body({{"notificationTrigger", {"entityExploded"}}}), "notificationTrigger");
  has(body({{"notification", {{"endpoint", {{"uri", "mqtts://h/x"}}}}}}), "mqtts");
  has(body({{"notification", {{"endpoint", {{"uri", "ftp://h/x"}}}}}}), "https:// or mqtt://");
  has(body({{"notification", {{"endpoint", {{"uri", "mqtt://h"}}}}}}), "topic");
  has(body({{"notification", {{"endpoint", {{"uri", "mqtt://h/a/#"}}}}}}), "wildcards");
  has(body({{"notification", {{"endpoint", {{"uri", "http://h:0/x"}}}}}}), "port");
  has(body({{"notification", {{"format", "html"}, {"endpoint", {{"uri", "http://h/"}}}}}}),
      "format");
  has(body({{"notification", {{"endpoint", {{"uri", "http://h/"}, {"accept", "text/xml"}}}}}}),
      "accept");
  has(body({{"notification", {{"attributes", {"a"}}}}}), "endpoint.uri is mandatory");
  has(body({{"notification",
             {{"endpoint",
               {{"uri", "http://h/"},
                {"receiverInfo", {{{"key", "Content-Length"}, {"value", "1"}}}}}}}}}),
      "receiverInfo may not set");
  has(body({{"notification",
             {{"endpoint",
               {{"uri", "http://h/"},
                {"receiverInfo", {{{"key", "X-A"}, {"value", "a\r\nB: c"}}}}}}}}}),
      "line breaks");
  has(body({{"notification",
             {{"endpoint",
               {{"uri", "mqtt://h/t"},
                {"notifierInfo", {{{"key", "MQTT-QoS"}, {"value", "3"}}}}}}}}}),
      "MQTT-QoS");
  has(body({{"notification",
             {{"endpoint",
               {{"uri", "http://h/t"},
                {"notifierInfo", {{{"key", "MQTT-QoS"}, {"value", "1"}}}}}}}}}),
      "mqtt:// endpoints only");
  Limits small;
  small.max_uri_bytes = 20;
  std::string why = refusal(
      body({{"notification", {{"endpoint", {{"uri", "http://h/a-rather-long-path"}}}}}}), small);
  EXPECT_NE(why.find("longer than 20"), std::string::npos) << why;
}

TEST(SubscriptionSpec, EndpointUris) {
  Endpoint e;
  ASSERT_TRUE(parseEndpointUri("http://[::1]:8080/a/b?c=d", e).ok());
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 8080);
  EXPECT_EQ(e.target, "/a/b?c=d");
  ASSERT_TRUE(parseEndpointUri("http://example.org", e).ok());
  EXPECT_EQ(e.port, 80);
  EXPECT_EQ(e.target, "/");
  EXPECT_FALSE(e.tls);
  ASSERT_TRUE(parseEndpointUri("HTTPS://ops.hue.gov.vn/hooks?k=1", e).ok());
  EXPECT_EQ(e.scheme, Endpoint::Scheme::kHttp);
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.host, "ops.hue.gov.vn");
  EXPECT_EQ(e.port, 443);
  EXPECT_EQ(e.target, "/hooks?k=1");
  ASSERT_TRUE(parseEndpointUri("https://h:8443/", e).ok());
  EXPECT_EQ(e.port, 8443);
  ASSERT_TRUE(parseEndpointUri("mqtt://bob:pw@broker:1884/city/alerts", e).ok());
  EXPECT_EQ(e.scheme, Endpoint::Scheme::kMqtt);
  EXPECT_EQ(e.user, "bob");
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.host, "broker");
  EXPECT_EQ(e.port, 1884);
  EXPECT_EQ(e.target, "city/alerts");
  EXPECT_FALSE(parseEndpointUri("http://user:pw@h/", e).ok());
  EXPECT_FALSE(parseEndpointUri("http://h/a b", e).ok());
}

TEST(SubscriptionSpec, MqttQosFromNotifierInfo) {
  auto s = make(body({{"notification",
                       {{"endpoint",
                         {{"uri", "mqtt://127.0.0.1:1883/alerts"},
                          {"notifierInfo",
                           {{{"key", "MQTT-QoS"}, {"value", "2"}},
                            {{"key", "MQTT-Version"}, {"value", "mqtt3.1.1"}}}}}}}}}));
  EXPECT_EQ(s->endpoint.qos, 2);
}

TEST(SubscriptionSpec, PatchFragmentsMergeNotificationOneLevel) {
  auto terms = context::TermMap::core();
  auto base = canonicalize(
      body({{"notification", {{"attributes", {"a"}}, {"endpoint", {{"uri", "http://h/one"}}}}}}),
      *terms, false);
  ASSERT_TRUE(base.ok());
  auto frag =
      canonicalize({{"notification", {{"endpoint", {{"uri", "http://h/two"}}}}}}, *terms, true);
  ASSERT_TRUE(frag.ok()) << frag.error().message;
  json merged = mergeSpec(*base, *frag);
  EXPECT_EQ(merged["notification"]["endpoint"]["uri"], "http://h/two");
  EXPECT_EQ(merged["notification"]["attributes"], json({v("a")}));
  EXPECT_FALSE(canonicalize(json::object(), *terms, true).ok());
}

TEST(SubscriptionSpec, NotificationUrnsAreUuids) {
  std::string a = newUrn("Notification"), b = newUrn("Notification");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("urn:ngsi-ld:Notification:", 0), 0u);
  EXPECT_EQ(a.size(), std::string("urn:ngsi-ld:Notification:").size() + 36);
  EXPECT_EQ(a[25 + 14], '4');  // version nibble
}

}  // namespace
}  // namespace ioc::subscription
