// The store's JSON writer must produce exactly nlohmann's dump(): stored documents are read back
// by the same parser, and a number printed differently would change its type on reload.
#include "context/json_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace ioc::context {
namespace {

using json = ioc::Json;

void expectSameAsDump(const json& j) {
  EXPECT_EQ(dumpJson(j), j.dump()) << j.dump();
}

TEST(JsonText, ScalarsAsDump) {
  for (const json& j : {json(nullptr),
                        json(true),
                        json(false),
                        json(0),
                        json(-1),
                        json(42u),
                        json(std::numeric_limits<int64_t>::min()),
                        json(std::numeric_limits<uint64_t>::max()),
                        json(0.0),
                        json(-0.0),
                        json(1.0),
                        json(1.5),
                        json(-2.25),
                        json(0.1),
                        json(1e21),
                        json(1e-7),
                        json(123456789.123),
                        json(1e15),
                        json(3.14159265358979),
                        json(std::numeric_limits<double>::max()),
                        json(std::numeric_limits<double>::denorm_min()),
                        json(std::nan("")),
                        json(INFINITY)}) {
    expectSameAsDump(j);
  }
}

TEST(JsonText, StringsNeedingEscapesOrUtf8AsDump) {
  for (const char* s : {"", "plain", "quote \" inside", "back\\slash", "tab\tnew\nline\r",
                        "\x01\x1f control", "Thừa Thiên Huế", "emoji 😀", "del \x7f"}) {
    expectSameAsDump(json(s));
    expectSameAsDump(json{{s, s}});
  }
}

TEST(JsonText, NestedDocumentsAsDump) {
  json entity = {
      {"id", "urn:ngsi-ld:AirQualityObserved:hue-1"},
      {"type", {"https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"}},
      {"https://smartdatamodels.org/dataModel.Environment/pm25",
       {{"type", "Property"},
        {"value", 35.2},
        {"observedAt", "2026-03-01T08:00:00.000Z"},
        {"unitCode", "GQ"}}},
      {"location",
       {{"type", "GeoProperty"},
        {"value", {{"type", "Point"}, {"coordinates", {107.5905, 16.4637}}}}}},
      {"multi", json::array({{{"value", 1}, {"datasetId", "urn:a"}}, {{"value", {1, 2, {}}}}})},
      {"empty", json::object()},
      {"list", json::array()}};
  expectSameAsDump(entity);
}

TEST(JsonText, RandomNumbersAsDump) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::uniform_int_distribution<int> e(-300, 300);
  for (int i = 0; i < 20000; ++i) {
    expectSameAsDump(json(u(rng)));
    expectSameAsDump(json(u(rng) * std::pow(10.0, e(rng))));
    expectSameAsDump(json(static_cast<int64_t>(rng())));
  }
}

}  // namespace
}  // namespace ioc::context
