// Matching committed changes against subscriptions: entity selectors, watchedAttributes and
// notificationTrigger, q and geoQ on the new version, expiry, isActive, unit visibility, and the
// type index.
#include "subscription/matcher.h"

#include <gtest/gtest.h>

#include "unit/subscription/test_util.h"

namespace ioc::subscription {
namespace {

using namespace test;
using context::EntityChange;

json sensor(const std::string& id, double temperature, double humidity = 50) {
  return {{"id", id},
          {"type", "Sensor"},
          {"temperature", prop(temperature)},
          {"humidity", prop(humidity)},
          {"location", point(107.58, 16.46)}};
}

bool fires(const Subscription& s, const EntityChange& c, int64_t now = kNow) {
  return matchesChange(s, c, diffAttributes(c.before.get(), c.after.get()), catalog(), now);
}

EntityChange created(context::EntityPtr e) {
  return {e->id, nullptr, e};
}
EntityChange updated(context::EntityPtr before, context::EntityPtr after) {
  return {after->id, before, after};
}
EntityChange deleted(context::EntityPtr e) {
  return {e->id, e, nullptr};
}

TEST(Matcher, SelectorsByTypeIdAndPattern) {
  auto e = entity(sensor("urn:ngsi-ld:Sensor:hue-1", 20));
  EXPECT_TRUE(fires(*make(body()), created(e)));
  EXPECT_FALSE(fires(*make(body({{"entities", {{{"type", "Camera"}}}}})), created(e)));
  EXPECT_TRUE(
      fires(*make(body({{"entities", {{{"type", "Sensor"}, {"id", e->id}}}}})), created(e)));
  EXPECT_FALSE(
      fires(*make(body({{"entities", {{{"type", "Sensor"}, {"id", "urn:ngsi-ld:Sensor:x"}}}}})),
            created(e)));
  EXPECT_TRUE(fires(*make(body({{"entities", {{{"type", "Sensor"}, {"idPattern", "hue-\\d+$"}}}}})),
                    created(e)));
  EXPECT_FALSE(fires(*make(body({{"entities", {{{"type", "Sensor"}, {"idPattern", "^danang"}}}}})),
                     created(e)));
  // Several selectors: any of them.
  EXPECT_TRUE(
      fires(*make(body({{"entities", {{{"type", "Camera"}}, {{"type", "Sensor"}}}}})), created(e)));
}

TEST(Matcher, WatchedAttributesCompareBeforeAndAfter) {
  auto before = entity(sensor("urn:ngsi-ld:Sensor:1", 20, 50));
  auto humidity_changed = entity(sensor("urn:ngsi-ld:Sensor:1", 20, 60));
  auto temperature_changed = entity(sensor("urn:ngsi-ld:Sensor:1", 25, 50));
  auto watch = make(body({{"watchedAttributes", {"temperature"}}}));
  EXPECT_FALSE(fires(*watch, updated(before, humidity_changed)));
  EXPECT_TRUE(fires(*watch, updated(before, temperature_changed)));
  EXPECT_TRUE(fires(*watch, created(before)));  // creation creates the watched attribute
  auto unchanged = entity(sensor("urn:ngsi-ld:Sensor:1", 20, 50));
  EXPECT_FALSE(fires(*watch, updated(before, unchanged)));
  // No watchedAttributes: any attribute.
  EXPECT_TRUE(fires(*make(body()), updated(before, humidity_changed)));
  // watchedAttributes alone select every type.
  json only_watch = body({{"watchedAttributes", {"humidity"}}});
  only_watch.erase("entities");
  EXPECT_TRUE(fires(*make(only_watch), updated(before, humidity_changed)));

  // A deleted watched attribute fires attributeDeleted, not the default triggers.
  json without = sensor("urn:ngsi-ld:Sensor:1", 20);
  without.erase("temperature");
  auto removed = entity(without);
  EXPECT_FALSE(fires(*watch, updated(before, removed)));
  EXPECT_TRUE(fires(*make(body({{"watchedAttributes", {"temperature"}},
                                {"notificationTrigger", {"attributeDeleted"}}})),
                    updated(before, removed)));
}

TEST(Matcher, NotificationTriggers) {
  auto e = entity(sensor("urn:ngsi-ld:Sensor:1", 20));
  auto e2 = entity(sensor("urn:ngsi-ld:Sensor:1", 21));
  auto only_created = make(body({{"notificationTrigger", {"entityCreated"}}}));
  EXPECT_TRUE(fires(*only_created, created(e)));
  EXPECT_FALSE(fires(*only_created, updated(e, e2)));
  EXPECT_FALSE(fires(*make(body()), deleted(e)));  // not among the defaults
  EXPECT_TRUE(fires(*make(body({{"notificationTrigger", {"entityDeleted"}}})), deleted(e)));
  EXPECT_TRUE(fires(*make(body({{"notificationTrigger", {"entityUpdated"}}})), updated(e, e2)));
}

TEST(Matcher, QAndGeoQOnTheNewVersion) {
  auto cool = entity(sensor("urn:ngsi-ld:Sensor:1", 20));
  auto hot = entity(sensor("urn:ngsi-ld:Sensor:1", 35));
  auto s = make(body({{"q", "temperature>30"}}));
  EXPECT_TRUE(fires(*s, updated(cool, hot)));
  EXPECT_FALSE(fires(*s, updated(hot, cool)));
  auto near = make(body({{"geoQ",
                          {{"geometry", "Point"},
                           {"coordinates", {107.59, 16.46}},
                           {"georel", "near;maxDistance==2000"}}}}));
  EXPECT_TRUE(fires(*near, created(cool)));
  auto far = make(body({{"geoQ",
                         {{"geometry", "Point"},
                          {"coordinates", {105.85, 21.03}},
                          {"georel", "near;maxDistance==2000"}}}}));
  EXPECT_FALSE(fires(*far, created(cool)));
}

TEST(Matcher, ExpiryActivityAndPeriodic) {
  auto e = entity(sensor("urn:ngsi-ld:Sensor:1", 20));
  auto s = make(body({{"expiresAt", "2026-03-01T09:00:00Z"}}));
  EXPECT_TRUE(fires(*s, created(e), kNow));
  EXPECT_FALSE(fires(*s, created(e), kNow + 3'600'000));
  EXPECT_FALSE(fires(*make(body({{"isActive", false}})), created(e)));
  EXPECT_FALSE(fires(*make(body({{"timeInterval", 60}})), created(e)));  // timer-driven only
}

TEST(Matcher, OnlyEntitiesWithinTheCreatorsUnit) {
  auto in_ward = entity(sensor("urn:ngsi-ld:Sensor:1", 20), "19789");  // a ward of Huế
  auto in_hanoi = entity(sensor("urn:ngsi-ld:Sensor:2", 20), "01");
  auto hue = make(body(), "46");
  EXPECT_TRUE(fires(*hue, created(in_ward)));
  EXPECT_FALSE(fires(*hue, created(in_hanoi)));
  auto national = make(body(), "");
  EXPECT_TRUE(fires(*national, created(in_hanoi)));
}

TEST(Matcher, IndexByType) {
  auto sensors = make(body());
  auto cameras = make(body({{"entities", {{{"type", "Camera"}}}}}));
  json w = body({{"watchedAttributes", {"x"}}});
  w.erase("entities");
  auto any = make(w);
  auto periodic = make(body({{"timeInterval", 5}}));
  SubscriptionIndex index({sensors, cameras, any, periodic});
  auto c = index.candidates({v("Sensor")});
  EXPECT_EQ(c.size(), 2u);
  EXPECT_NE(std::find(c.begin(), c.end(), sensors), c.end());
  EXPECT_NE(std::find(c.begin(), c.end(), any), c.end());
  EXPECT_EQ(index.candidates({v("Camera"), v("Sensor")}).size(), 3u);
  EXPECT_EQ(index.periodic().size(), 1u);
  EXPECT_TRUE(SubscriptionIndex({cameras}).candidates({v("Sensor")}).empty());
}

}  // namespace
}  // namespace ioc::subscription
