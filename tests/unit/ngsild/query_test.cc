#include "ngsild/query.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ioc::ngsild {
namespace {

using json = ioc::Json;

// A normalized entity exercising every attribute shape the evaluator knows.
const json& car() {
  static const json kCar = json::parse(R"({
    "id": "urn:ngsi-ld:Vehicle:A4567", "type": "Vehicle",
    "brandName": {"type": "Property", "value": "Mercedes"},
    "speed": {"type": "Property", "value": 55, "observedAt": "2017-12-24T12:30:00Z",
              "unitCode": "KMH", "accuracy": {"type": "Property", "value": 0.5}},
    "rpm": {"type": "Property", "value": 2500, "createdAt": 1514117400000,
            "modifiedAt": "2017-12-24T12:20:00.000Z"},
    "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
                 "observedAt": "2017-07-29T12:00:04Z",
                 "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"}},
    "isMonitoredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Camera:C1"},
    "electric": {"type": "Property", "value": false},
    "tags": {"type": "Property", "value": ["red", "fast", "german"]},
    "temperature": {"type": "Property", "value": 22.5, "observedAt": "2017-12-24T12:00:00+01:00"},
    "capacity": {"type": "Property", "value": 8},
    "address": {"type": "Property", "value": {"city": "Berlin", "street": "Unter den Linden",
                                              "zip": "10117", "geo": {"floor": 3}}},
    "sensor": {"type": "Property", "value": "s1",
               "rawdata": {"type": "Property",
                           "value": {"airquality.particulate": 40,
                                     "airquality": {"particulate": 41}}}},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.4, 52.5]}},
    "name": {"type": "LanguageProperty",
             "languageMap": {"en": "Brandenburg Gate", "de": "Brandenburger Tor"}},
    "inspected": {"type": "Property", "value": "2021-03-15"},
    "opensAt": {"type": "Property", "value": "08:30:00"},
    "seats": [{"type": "Property", "value": 4, "datasetId": "urn:ngsi-ld:Dataset:front"},
              {"type": "Property", "value": 7, "datasetId": "urn:ngsi-ld:Dataset:back"}],
    "code": {"type": "Property", "value": "42"},
    "quote": {"type": "Property", "value": "say \"hi\"; ok"},
    "https://example.org/ns#colour": {"type": "Property", "value": "blue"},
    "big": {"type": "Property", "value": 9007199254740993},
    "negative": {"type": "Property", "value": -3.5}
  })");
  return kCar;
}

struct Case {
  const char* q;
  bool expected;
  const char* entity = nullptr;  // JSON; nullptr means car()
};

const Case kCases[] = {
    // == and != on strings, quoted and unquoted (spec examples).
    {"brandName==Mercedes", true},
    {"brandName==\"Mercedes\"", true},
    {"brandName!=Mercedes", false},
    {"brandName!=BMW", true},
    {"brandName==mercedes", false},
    // Ordering on numbers.
    {"speed>50", true},
    {"speed>55", false},
    {"speed>=55", true},
    {"speed<55", false},
    {"speed<=55", true},
    {"speed<60.5", true},
    {"speed==55.0", true},
    {"speed==5.5e1", true},
    {"negative<-3", true},
    {"negative>=-3.4", false},
    {"big==9007199254740993", true},  // exact integer comparison, beyond double precision
    {"big==9007199254740992", false},
    // Types never mix.
    {"speed==\"55\"", false},
    {"speed!=\"55\"", false},
    {"code==42", false},
    {"code==\"42\"", true},
    {"speed.observedAt>5", false},
    // Ordering on strings.
    {"brandName>Audi", true},
    {"brandName<Audi", false},
    // Patterns.
    {"brandName~=Merc", true},
    {"brandName~=^merc", false},
    {"brandName~=(?i)^merc", true},
    {"brandName~=\"^(Mercedes|BMW)$\"", true},
    {"brandName~=(Audi|Merc)", true},
    {"brandName~=\"Mer;c\"|speed>50", true},
    {"brandName!~=^BMW", true},
    {"brandName!~=Merc", false},
    {"speed~=5", false},
    {"speed!~=5", false},
    {"brandName~=[A-Z]e.c", true},
    // Ranges.
    {"speed==50..60", true},
    {"speed==55..55", true},
    {"speed==56..60", false},
    {"speed!=50..60", false},
    {"speed!=60..70", true},
    {"brandName==A..N", true},
    {"brandName==\"N\"..\"Z\"", false},
    {"temperature.observedAt==2017-12-24T10:00:00Z..2017-12-24T11:30:00Z", true},
    // Value lists.
    {"brandName==BMW,Mercedes,Audi", true},
    {"brandName==BMW,Audi", false},
    {"brandName!=BMW,Audi", true},
    {"brandName!=BMW,Mercedes", false},
    {"speed==1,55,\"x\"", true},
    // Booleans.
    {"electric==false", true},
    {"electric==true", false},
    {"electric!=true", true},
    {"electric==\"false\"", false},
    {"electric==0", false},
    // DateTime (offsets honoured), Date, Time.
    {"temperature.observedAt>=2017-12-24T11:00:00Z", true},
    // System times are kept as Unix ms (createdAt here) or, when written before, as text: both
    // compare as date-times; a plain number does not.
    {"rpm.createdAt==2017-12-24T12:10:00Z", true},
    {"rpm.createdAt>2017-12-24T12:00:00Z", true},
    {"rpm.createdAt<2017-12-24T12:10:00Z", false},
    {"rpm.createdAt>=2017-12-24T13:10:00+01:00", true},
    {"rpm.modifiedAt>2017-12-24T12:10:00Z", true},
    {"rpm>2017-12-24T12:10:00Z", false},
    {"temperature.observedAt>2017-12-24T11:00:00Z", false},
    {"temperature.observedAt==2017-12-24T11:00:00.000Z", true},
    {"temperature.observedAt<2017-12-24T12:30:00+01:00", true},
    {"speed.observedAt>=2017-12-24T12:00:00Z", true},
    {"speed.observedAt<2017-01-01T00:00:00Z", false},
    {"inspected>2021-01-31", true},
    {"inspected<=2021-03-14", false},
    {"opensAt<09:00:00", true},
    {"opensAt>=08:30", true},
    // Dotted sub-attributes and metadata.
    {"speed.unitCode==KMH", true},
    {"speed.accuracy<1", true},
    {"speed.accuracy>1", false},
    {"speed.accuracy", true},
    {"speed.missing", false},
    {"speed.observedAt", true},
    {"rpm.observedAt", false},
    {"speed.observedAt>=2017-12-24", true},  // Date vs DateTime: compared as strings
    {"speed.value", false},                  // "value" is not a sub-attribute
    {"isParked.providedBy==urn:ngsi-ld:Person:Bob", true},
    {"isParked.observedAt>2017-07-01T00:00:00Z", true},
    // Brackets into compound values.
    {"address[city]==Berlin", true},
    {"address[city]==Hamburg", false},
    {"address[geo][floor]>=3", true},
    {"address[zip]==10117", false},
    {"address[zip]==\"10117\"", true},
    {"address[city]", true},
    {"address[country]", false},
    {"!address[country]", true},
    {"sensor.rawdata[airquality.particulate]==40", true},
    {"sensor.rawdata[airquality][particulate]==41", true},
    {"name[de]==\"Brandenburger Tor\"", true},
    {"location[type]==Point", true},
    {"location", true},
    // Relationships compare their object, with == and != only.
    {"isParked==urn:ngsi-ld:OffStreetParking:Downtown1", true},
    {"isParked==\"urn:ngsi-ld:OffStreetParking:Downtown1\"", true},
    {"isParked!=urn:ngsi-ld:OffStreetParking:Downtown1", false},
    {"isParked!=urn:ngsi-ld:OffStreetParking:Other", true},
    {"isParked>urn:a", false},
    {"isParked~=Downtown", false},
    // Multi-instance attributes (several datasetIds).
    {"seats==7", true},
    {"seats>5", true},
    {"seats<4", false},
    {"seats!=4", false},
    {"seats!=5", true},
    {"seats.datasetId==urn:ngsi-ld:Dataset:back", true},
    // Array values: == any element, != none.
    {"tags==fast", true},
    {"tags==blue", false},
    {"tags!=blue", true},
    {"tags!=red", false},
    {"tags~=^ger", true},
    // LanguageProperty: any language's string.
    {"name==\"Brandenburger Tor\"", true},
    {"name~=Gate", true},
    // Existence and non-existence.
    {"isMonitoredBy", true},
    {"!isMonitoredBy", false},
    {"owner", false},
    {"!owner", true},
    {"owner==x", false},
    {"owner!=x", false},
    {"owner<5", false},
    // Precedence: ';' binds tighter than '|'; parentheses override.
    {"((speed>50|rpm>3000);brandName==Mercedes)", true},
    {"((speed>60|rpm>3000);brandName==Mercedes)", false},
    {"brandName==Mercedes|speed>60;rpm>3000", true},
    {"speed>60;rpm>3000|brandName==Mercedes", true},
    {"(brandName==Mercedes|speed>60);rpm>3000", false},
    {"speed>60|rpm>2000;brandName==BMW", false},
    {"(temperature>=20;temperature<=25)|capacity<=10", true},
    {"(temperature>=20;temperature<=25)|capacity<=10", false,
     R"({"temperature":{"type":"Property","value":30},"capacity":{"type":"Property","value":20}})"},
    {"(temperature>=20;temperature<=25)|capacity<=10", true,
     R"({"temperature":{"type":"Property","value":30},"capacity":{"type":"Property","value":5}})"},
    {"((((speed>50))))", true},
    {" ( speed > 50 ; rpm < 3000 ) ", true},
    // Full IRIs as names; escapes in strings.
    {"https://example.org/ns#colour==blue", true},
    {"quote==\"say \\\"hi\\\"; ok\"", true},
    {"quote~=\"\\\"hi\\\"\"", true},
    // Malformed entities never match.
    {"speed>1", false, R"([1,2,3])"},
    {"speed>1", false, R"({"speed": 5})"},
    {"speed>1", false, R"({"speed": {"type": "Property", "value": null}})"},
    {"speed", false, R"(null)"},
    {"!speed", true, R"({"speed": [1, 2]})"},
};

// Parses a query the test knows to be valid.
std::shared_ptr<const Query> must(std::string_view q) {
  auto r = parseQuery(q);
  if (!r.ok()) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

class EvalTest : public ::testing::TestWithParam<Case> {};

TEST_P(EvalTest, Matches) {
  const Case& c = GetParam();
  const json entity = c.entity ? json::parse(c.entity) : car();
  auto q = parseQuery(c.q);
  ASSERT_TRUE(q.ok()) << c.q << ": " << q.error().message;
  EXPECT_EQ(matches(**q, entity), c.expected) << c.q;
}

INSTANTIATE_TEST_SUITE_P(Table, EvalTest, ::testing::ValuesIn(kCases));

struct BadCase {
  std::string q;
  const char* message;  // expected substring of the error message
};

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '(') + "a" +
         std::string(static_cast<size_t>(depth), ')');
}

std::string manyTerms(int n) {
  std::string q = "a0";
  for (int i = 1; i < n; ++i) q += ";a" + std::to_string(i);
  return q;
}

const BadCase kBadCases[] = {
    {"", "position 1: empty query"},
    {"   ", "empty query"},
    {"(speed>50", "position 10: missing ')' to close the '(' at position 1"},
    {"((speed>50)", "missing ')'"},
    {"speed>50)", "position 9: ')' without a matching '('"},
    {"speed=50", "position 6: unknown operator '=' (did you mean '=='?)"},
    {"speed=>50", "did you mean '=='"},
    {"speed<>50", "misspelt operator"},
    {"speed===50", "misspelt operator"},
    {"speed>", "missing value after '>'"},
    {"speed>50;", "query ends"},
    {";speed>50", "position 1: expected an attribute name, found ';'"},
    {"speed>50||rpm>1", "expected an attribute name, found '|'"},
    {"speed>50 rpm>1", "unexpected 'r' after the value"},
    {"brandName==\"Merc", "position 12: unterminated string"},
    {"brandName==\"a\\qb\"", "unknown escape"},
    {"brandName==a\"b", "inside an unquoted value"},
    {"brandName==\"a\"b", "unexpected 'b' after the value"},
    {"brandName~=\"abc", "unterminated pattern"},
    {"brandName~=", "missing pattern"},
    {"brandName~=(", "invalid regular expression"},
    {"brandName~=[a-", "invalid regular expression"},
    {"brandName~=a{2,1}", "invalid regular expression"},
    {"brandName~=(a)\\1", "invalid regular expression"},
    {"brandName~=" + std::string(257, 'a'), "more than the 256 allowed"},
    {"speed.>5", "stray '.'"},
    {"speed..x", "stray '.'"},
    {".speed", "stray '.'"},
    {"spe{ed>5", "'{' is not allowed in an attribute name"},
    {"!!speed", "'!' is not allowed in an attribute name"},
    {"spe\x01"
     "ed",
     "byte 0x01 is not allowed"},
    {"address[city", "'[' without a matching ']'"},
    {"address[]==x", "empty key"},
    {"address[city].x==1", "sub-attributes must come before the brackets"},
    {"address]", "']' without a matching '['"},
    {"!speed>50", "cannot be combined with an operator"},
    {"speed>1,2", "value list is only allowed with == or !="},
    {"speed<=1..2", "range is only allowed with == or !="},
    {"electric>true", "true/false only compare with == or !="},
    {"speed==1..\"b\"", "two numbers or two strings"},
    {"speed==true..false", "not true/false"},
    {"speed==1..2..3", "after a range"},
    {"speed==1,,2", "missing value after ','"},
    {"speed==1e999", "out of range"},
    {"speed>5" + std::string(4096, ' '), "more than the 4096 allowed"},
    {nested(17), "nested deeper than 16"},
    {manyTerms(101), "more than 100 terms"},
};

class ParseErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseErrorTest, RejectedWithUsefulMessage) {
  const BadCase& c = GetParam();
  auto q = parseQuery(c.q);
  ASSERT_FALSE(q.ok()) << c.q;
  EXPECT_EQ(q.error().code, core::Errc::kInvalidArgument) << c.q;
  EXPECT_NE(q.error().message.find(c.message), std::string::npos)
      << c.q << " -> " << q.error().message;
  EXPECT_NE(q.error().message.find("position "), std::string::npos) << q.error().message;
}

INSTANTIATE_TEST_SUITE_P(Table, ParseErrorTest, ::testing::ValuesIn(kBadCases));

TEST(QueryLimits, AcceptsUpToTheLimits) {
  EXPECT_TRUE(parseQuery(nested(16)).ok());
  EXPECT_TRUE(parseQuery(manyTerms(100)).ok());
  EXPECT_TRUE(parseQuery("a~=" + std::string(256, 'a')).ok());
  std::string q = "speed>5";
  q += std::string(4096 - q.size(), ' ');
  EXPECT_TRUE(parseQuery(q).ok());
}

TEST(QueryRegex, HostilePatternsStayFast) {
  // Catastrophic backtracking for a backtracking engine; the Thompson executor stays linear.
  auto q = parseQuery("v~=(a+)+b");
  ASSERT_TRUE(q.ok()) << q.error().message;
  const json e = {{"v", {{"type", "Property"}, {"value", std::string(4000, 'a') + "c"}}}};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(matches(**q, e));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  // The most expensive pattern the complexity bound lets through, on the longest subject.
  auto worst = parseQuery("v~=[ab]{290}c");
  ASSERT_TRUE(worst.ok()) << worst.error().message;
  const json longest = {
      {"v", {{"type", "Property"}, {"value", std::string(kMaxRegexSubject, 'a')}}}};
  const auto start2 = std::chrono::steady_clock::now();
  EXPECT_FALSE(matches(**worst, longest));
  EXPECT_LT(std::chrono::steady_clock::now() - start2, std::chrono::seconds(10));

  // Repetition counts that multiply the automaton are refused.
  auto complex = parseQuery("v~=(a{100}){100}");
  ASSERT_FALSE(complex.ok());
  EXPECT_NE(complex.error().message.find("too complex"), std::string::npos)
      << complex.error().message;

  // A pattern whose automaton would be enormous is refused, not built.
  auto huge = parseQuery("v~=((a{1000}){1000}){1000}");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("invalid regular expression"), std::string::npos);
}

TEST(QueryRegex, OverlongSubjectsNeitherMatchNorNotMatch) {
  const json e = {{"v", {{"type", "Property"}, {"value", std::string(kMaxRegexSubject + 1, 'a')}}}};
  EXPECT_FALSE(matches(*must("v~=a"), e));
  EXPECT_FALSE(matches(*must("v!~=b"), e));
  const json ok = {{"v", {{"type", "Property"}, {"value", std::string(kMaxRegexSubject, 'a')}}}};
  EXPECT_TRUE(matches(*must("v~=a$"), ok));
  EXPECT_TRUE(matches(*must("v!~=b"), ok));
}

TEST(QueryAttributes, ReferencedOnceInOrder) {
  auto q = parseQuery(
      "((speed>50|rpm>3000);brandName==Mercedes);speed.observedAt>2017-01-01T00:00:00Z|!owner|"
      "address[city]==Berlin|https://example.org/ns#colour.x==1");
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(referencedAttributes(**q),
            (std::vector<std::string>{"speed", "rpm", "brandName", "owner", "address",
                                      "https://example.org/ns#colour.x"}));
}

TEST(QueryExpander, ExpandsTheFirstSegmentOnly) {
  const std::map<std::string, std::string, std::less<>> context = {
      {"speed", "https://uri.fiware.org/ns/data-models#speed"},
      {"address", "https://schema.org/address"},
  };
  std::vector<std::string> asked;
  const TermExpander expand = [&](std::string_view term) {
    asked.emplace_back(term);
    const auto it = context.find(term);
    return it == context.end() ? "https://uri.etsi.org/ngsi-ld/default-context/" + std::string(term)
                               : it->second;
  };
  auto q = parseQuery("speed.observedAt>2020-01-01T00:00:00Z;address[city]==Hanoi;!rpm", expand);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(asked, (std::vector<std::string>{"speed", "address", "rpm"}));
  EXPECT_EQ(referencedAttributes(**q),
            (std::vector<std::string>{"https://uri.fiware.org/ns/data-models#speed",
                                      "https://schema.org/address",
                                      "https://uri.etsi.org/ngsi-ld/default-context/rpm"}));
  const json expanded = json::parse(R"({
    "https://uri.fiware.org/ns/data-models#speed":
        {"type": "Property", "value": 3, "observedAt": "2021-05-01T00:00:00Z"},
    "https://schema.org/address": {"type": "Property", "value": {"city": "Hanoi"}}
  })");
  EXPECT_TRUE(matches(**q, expanded));
  // The compact names are not what the entity is keyed by any more.
  const json compact = json::parse(R"({
    "speed": {"type": "Property", "value": 3, "observedAt": "2021-05-01T00:00:00Z"},
    "address": {"type": "Property", "value": {"city": "Hanoi"}}
  })");
  EXPECT_FALSE(matches(**q, compact));
}

TEST(QueryExpander, FailuresBecomeErrors) {
  const TermExpander throws = [](std::string_view term) -> std::string {
    throw std::runtime_error("unknown term " + std::string(term));
  };
  auto q = parseQuery(
      "a;bogus>1", [&](std::string_view t) { return t == "bogus" ? throws(t) : std::string(t); });
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, core::Errc::kInvalidArgument);
  EXPECT_EQ(q.error().message,
            "invalid q at position 3: cannot expand attribute name 'bogus': unknown term bogus");

  auto empty = parseQuery("a", [](std::string_view) { return std::string(); });
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("expands to nothing"), std::string::npos);
}

TEST(QueryRobustness, RandomInputNeverThrowsOrCrashes) {
  static constexpr std::string_view kPieces[] = {"speed",
                                                 "brandName",
                                                 "tags",
                                                 "seats",
                                                 "address",
                                                 "isParked",
                                                 "name",
                                                 ".",
                                                 "[",
                                                 "]",
                                                 "[city]",
                                                 "==",
                                                 "!=",
                                                 ">",
                                                 ">=",
                                                 "<",
                                                 "<=",
                                                 "~=",
                                                 "!~=",
                                                 "=",
                                                 "!",
                                                 ";",
                                                 "|",
                                                 "(",
                                                 ")",
                                                 "\"",
                                                 "\\",
                                                 ",",
                                                 "..",
                                                 "5",
                                                 "-1.5e3",
                                                 "true",
                                                 "Mercedes",
                                                 "2017-12-24T12:00:00Z",
                                                 "urn:ngsi-ld:X:1",
                                                 "(?i)",
                                                 "*",
                                                 "+",
                                                 "{2}",
                                                 " ",
                                                 "\x01",
                                                 "https://e.org/a#b"};
  std::mt19937 rng(20240611);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string q;
    const int n = static_cast<int>(rng() % 12) + 1;
    for (int k = 0; k < n; ++k) q += kPieces[rng() % std::size(kPieces)];
    auto r = parseQuery(q);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument) << q;
      EXPECT_NE(r.error().message.find("position "), std::string::npos) << q;
      continue;
    }
    ++parsed;
    (void)matches(**r, car());
    (void)referencedAttributes(**r);
  }
  EXPECT_GT(parsed, 100);
}

TEST(QueryThreads, OneQueryManyThreads) {
  auto q = parseQuery("(brandName~=(?i)^MERC;speed==50..60)|tags==fast");
  ASSERT_TRUE(q.ok()) << q.error().message;
  const auto query = *q;
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) hits += matches(*query, car()) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(hits.load(), 8 * 200);
}

}  // namespace
}  // namespace ioc::ngsild
