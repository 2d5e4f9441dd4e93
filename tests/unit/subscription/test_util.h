#pragma once
// Shared pieces of the subscription unit tests.
#include <gtest/gtest.h>

#include <string>

#include "context/entity.h"
#include "core/json.h"
#include "subscription/subscription.h"
#include "units/catalog.h"

namespace ioc::subscription::test {

using json = ioc::Json;

inline constexpr int64_t kNow = 1'772'352'000'000;  // 2026-03-01T08:00:00Z
inline const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";

inline std::string v(const std::string& term) {
  return kVocab + term;
}

inline json prop(const json& value) {
  return {{"type", "Property"}, {"value", value}};
}

inline json point(double lon, double lat) {
  return {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {lon, lat}}}}};
}

//! A subscription body with an HTTP endpoint, plus `extra` members.
inline json body(const json& extra = json::object()) {
  json b = {{"type", "Subscription"},
            {"entities", {{{"type", "Sensor"}}}},
            {"notification", {{"endpoint", {{"uri", "http://127.0.0.1:9/notify"}}}}}};
  for (const auto& [k, val] : extra.items()) b[k] = val;
  return b;
}

//! Validates and builds; a test failure (and an empty subscription) when it does not.
inline SubscriptionPtr make(const json& b, const std::string& unit = "") {
  auto terms = context::TermMap::core();
  auto spec = canonicalize(b, *terms, false);
  EXPECT_TRUE(spec.ok()) << b.dump() << ": " << (spec.ok() ? "" : spec.error().message);
  if (!spec.ok()) return std::make_shared<Subscription>();
  if (!spec->contains("id")) (*spec)["id"] = "urn:ngsi-ld:Subscription:test";
  auto s = build(*spec, *terms, Limits{}, kNow, false);
  EXPECT_TRUE(s.ok()) << b.dump() << ": " << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return std::make_shared<Subscription>();
  s->unit_code = unit;
  s->terms = terms;
  s->context = terms->source();
  return std::make_shared<Subscription>(std::move(*s));
}

//! The BadRequestData message when validation or build refuses `b`, "" when it accepts it.
inline std::string refusal(const json& b, const Limits& limits = {}) {
  auto terms = context::TermMap::core();
  auto spec = canonicalize(b, *terms, false);
  if (!spec.ok()) return spec.error().message;
  (*spec)["id"] = "urn:ngsi-ld:Subscription:test";
  auto s = build(*spec, *terms, limits, kNow, true);
  return s.ok() ? "" : s.error().message;
}

inline context::EntityPtr entity(json b, const std::string& unit = "46") {
  auto e = context::parseEntity(b, *context::TermMap::core(), kNow);
  EXPECT_TRUE(e.ok()) << b.dump();
  if (!e.ok()) return std::make_shared<context::Entity>();
  e->unit_code = unit;
  return std::make_shared<context::Entity>(std::move(*e));
}

inline const units::UnitCatalog& catalog() {
  static const units::UnitCatalog c = [] {
    auto loaded =
        units::UnitCatalog::loadFile(IOC_SOURCE_DIR "/data/admin/vn34_units_2025_full.json");
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      return units::UnitCatalog();
    }
    return std::move(*loaded);
  }();
  return c;
}

}  // namespace ioc::subscription::test
