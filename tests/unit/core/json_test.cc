// ioc::Json: nlohmann::basic_json with sorted-vector objects must behave as nlohmann::json (a
// std::map per object) does — same members, order, output and comparisons — and parse objects
// whose keys come in any order without quadratic work.
#include "core/json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace {

using ioc::Json;
using Reference = nlohmann::json;

//! A random document of nested objects and arrays whose keys arrive in random order, with
//! duplicates.
std::string randomDocument(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> pick(0, 9);
  const int kind = depth > 3 ? pick(rng) % 3 : pick(rng);
  if (kind == 0) return std::to_string(rng() % 1000);
  if (kind == 1) return "\"s" + std::to_string(rng() % 50) + "\"";
  if (kind == 2) return rng() % 2 ? "true" : "null";
  const int n = static_cast<int>(rng() % 12);
  std::string out = kind < 6 ? "{" : "[";
  for (int i = 0; i < n; ++i) {
    if (i) out += ",";
    if (kind < 6) out += "\"k" + std::to_string(rng() % 15) + "\":";
    out += randomDocument(rng, depth + 1);
  }
  return out + (kind < 6 ? "}" : "]");
}

TEST(Json, ParsesAndPrintsAsNlohmannsOwnTypeDoes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::string text = randomDocument(rng, 0);
    const Json ours = Json::parse(text);
    const Reference reference = Reference::parse(text);
    ASSERT_EQ(ours.dump(), reference.dump()) << text;
    ASSERT_EQ(Json::parse(ours.dump()), ours) << text;
  }
}

TEST(Json, ALaterDuplicateKeyWinsAsWithNlohmann) {
  const char* text = R"({"b":1,"a":2,"b":3,"c":{"x":1,"x":{"y":2}}})";
  EXPECT_EQ(Json::parse(text).dump(), Reference::parse(text).dump());
  EXPECT_EQ(Json::parse(text)["b"], 3);
}

TEST(Json, KeysInReverseOrderParseIntoASortedObject) {
  std::string text = "{";
  for (int i = 20000; i > 0; --i) text += (i == 20000 ? "\"" : ",\"") + std::to_string(i) + "\":1";
  text += "}";
  const Json j = Json::parse(text);
  ASSERT_EQ(j.size(), 20000u);
  EXPECT_EQ(j.dump(), Reference::parse(text).dump());
  EXPECT_TRUE(j.contains("19999"));
  EXPECT_EQ(j.begin().key(), "1");
}

TEST(Json, ObjectsEditLikeMaps) {
  Json j = Json::object();
  for (const char* k : {"m", "c", "x", "a", "c"}) j[k] = std::string(k) + "!";
  EXPECT_EQ(j.dump(), R"({"a":"a!","c":"c!","m":"m!","x":"x!"})");
  EXPECT_EQ(j.erase("m"), 1u);
  EXPECT_EQ(j.erase("zz"), 0u);
  j.erase(j.find("a"));
  EXPECT_EQ(j.dump(), R"({"c":"c!","x":"x!"})");
  EXPECT_NE(j.find(std::string_view("x")), j.end());
  EXPECT_EQ(j.value("c", ""), "c!");
  j.update(Json{{"b", 1}, {"x", 2}});
  EXPECT_EQ(j.dump(), R"({"b":1,"c":"c!","x":2})");
  EXPECT_LT(Json({{"a", 1}}), Json({{"a", 2}}));
  EXPECT_EQ(Json({{"b", 1}, {"a", 2}}), Json::parse(R"({"a":2,"b":1})"));
  auto bad = Json::parse(R"({"a":)", nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(bad.is_discarded());
  EXPECT_THROW({ Json thrown = Json::parse("{\"a\" 1}"); }, Json::parse_error);
}

}  // namespace
