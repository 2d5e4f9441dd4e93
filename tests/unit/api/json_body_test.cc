#include "api/json_body.h"

#include <gtest/gtest.h>

#include <string>

namespace ioc::api {
namespace {

using core::Errc;
using json = ioc::Json;

//! {"a":{"a":...1...}} with `depth` objects.
std::string nestedObjects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

//! Unparseable input is kMalformedInput (400); parseable JSON that is not an object is
//! kInvalidArgument (422).
void expectRejected(std::string_view body, Errc code, const std::string& message_part) {
  auto r = parseJsonObject(body);
  ASSERT_FALSE(r.ok()) << "accepted: " << body.substr(0, 80);
  EXPECT_EQ(r.error().code, code) << core::errcName(r.error().code) << " for "
                                  << body.substr(0, 80);
  EXPECT_NE(r.error().message.find(message_part), std::string::npos)
      << "'" << r.error().message << "' for " << body.substr(0, 80);
}

void expectMalformed(std::string_view body, const std::string& message_part) {
  expectRejected(body, Errc::kMalformedInput, message_part);
}

TEST(ParseJsonObject, AcceptsAnObject) {
  auto r = parseJsonObject(R"({"name":"Huế","n":3,"ok":true,"list":[1,2,{"x":null}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["name"], "Huế");
  EXPECT_EQ((*r)["n"], 3);
  EXPECT_EQ((*r)["list"][2]["x"], nullptr);
  auto spaced = parseJsonObject(" \n\t{ } \n");
  ASSERT_TRUE(spaced.ok());
  EXPECT_TRUE(spaced->empty());
}

TEST(ParseJsonObject, Empty) {
  expectMalformed("", "empty");
}

TEST(ParseJsonObject, InvalidUtf8) {
  expectMalformed("{\"a\":\"\xff\"}", "UTF-8");
  expectMalformed("{\"a\":\"\xc3\"}", "UTF-8");                   // truncated sequence
  expectMalformed("{\"\xe2\x82\":1}", "UTF-8");                   // truncated in a key
  expectMalformed("{\"a\":\"\xc0\xaf\"}", "");                    // overlong '/'
  expectMalformed("{\"a\":\"\xed\xa0\x80\"}", "");                // UTF-16 surrogate
  EXPECT_TRUE(parseJsonObject("{\"a\":\"\xe1\xbb\x87\"}").ok());  // ệ
}

TEST(ParseJsonObject, DepthLimit) {
  ASSERT_EQ(kMaxJsonDepth, 32);
  auto at_limit = parseJsonObject(nestedObjects(32));
  EXPECT_TRUE(at_limit.ok()) << at_limit.error().message;
  expectMalformed(nestedObjects(33), "nested deeper than 32");
  expectMalformed(nestedObjects(5000), "nested deeper than 32");
  // Arrays count too.
  std::string arrays = "{\"a\":" + std::string(31, '[') + std::string(31, ']') + "}";
  EXPECT_TRUE(parseJsonObject(arrays).ok());
  std::string too_deep = "{\"a\":" + std::string(32, '[') + std::string(32, ']') + "}";
  expectMalformed(too_deep, "nested");
  // Depth is the maximum, not the total: many siblings at a shallow depth are fine.
  std::string wide = "{\"a\":[";
  for (int i = 0; i < 200; ++i) wide += std::string(i ? "," : "") + "[[1]]";
  wide += "]}";
  EXPECT_TRUE(parseJsonObject(wide).ok());
}

TEST(ParseJsonObject, BracketsInsideStringsDoNotCount) {
  const std::string brackets(100, '[');
  auto r = parseJsonObject("{\"a\":\"" + brackets + "\",\"" + std::string(50, '{') + "\":1}");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["a"], brackets);
  // An escaped quote does not end the string...
  EXPECT_TRUE(parseJsonObject(R"({"a":"\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})").ok());
  // ...but an escaped backslash followed by a quote does, and what follows counts again.
  std::string after = R"({"a":"\\","b":)" + nestedObjects(32) + "}";
  expectMalformed(after, "nested");
}

TEST(ParseJsonObject, Malformed) {
  for (const char* bad :
       {"{", "}", "{\"a\":}", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{} {}", "{\"a\":1} x",
        "   ", "{\"a\":tru}", "{\"a\":01}", "{\"a\":\"\x01\"}", "{\"a\":1 /* c */}", "]]]]{}"}) {
    expectMalformed(bad, "");
  }
  expectMalformed("{\"a\":", "malformed");
  expectMalformed("{\"a\":1,}", "malformed");
}

TEST(ParseJsonObject, NonObjects) {
  for (const char* not_object : {"[]", "[{}]", "1", "\"s\"", "null", "true"}) {
    expectRejected(not_object, Errc::kInvalidArgument, "expected a JSON object");
  }
}

TEST(JsonDepth, CountsOutsideStrings) {
  EXPECT_EQ(jsonDepth("", 32), 0);
  EXPECT_EQ(jsonDepth("1", 32), 0);
  EXPECT_EQ(jsonDepth("{}", 32), 1);
  EXPECT_EQ(jsonDepth(R"({"a":[1,{"b":[]}]})", 32), 4);
  EXPECT_EQ(jsonDepth(R"({"a":[]}{"b":[]})", 32), 2);  // max, not sum
  EXPECT_EQ(jsonDepth(R"({"a":"[[[{{{"})", 32), 1);
  EXPECT_EQ(jsonDepth(R"({"a":"\"[[["})", 32), 1);
  EXPECT_EQ(jsonDepth(R"({"a":"\\",  "b":[[]]})", 32), 3);
  EXPECT_EQ(jsonDepth(R"(["\\\"[", [[]]])", 32), 3);
}

TEST(JsonDepth, StopsPastTheLimit) {
  // Returns as soon as the limit is exceeded rather than scanning everything.
  EXPECT_EQ(jsonDepth(std::string(100000, '['), 32), 33);
  EXPECT_EQ(jsonDepth(std::string(5, '['), 2), 3);
  EXPECT_EQ(jsonDepth(std::string(5, '['), 5), 5);
}

TEST(StringField, MissingNullPresentWrongTypeTooLong) {
  json obj = json::parse(R"({"s":"héllo","n":5,"z":null,"o":{},"a":["x"],"b":true})");
  auto missing = stringField(obj, "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto null = stringField(obj, "z");
  ASSERT_TRUE(null.ok());
  EXPECT_FALSE(null->has_value());
  auto s = stringField(obj, "s");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ(**s, "héllo");
  for (const char* wrong : {"n", "o", "a", "b"}) {
    auto r = stringField(obj, wrong);
    ASSERT_FALSE(r.ok()) << wrong;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message, std::string(wrong) + " must be a string");
  }
  // max_len counts bytes: "héllo" is 6.
  EXPECT_TRUE(stringField(obj, "s", 6).ok());
  auto long_r = stringField(obj, "s", 5);
  ASSERT_FALSE(long_r.ok());
  EXPECT_EQ(long_r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(long_r.error().message.find("s is longer than 5 bytes"), std::string::npos);
  json big = {{"name", std::string(1025, 'x')}};
  EXPECT_FALSE(stringField(big, "name").ok());  // default cap 1024
  json ok = {{"name", std::string(1024, 'x')}};
  EXPECT_TRUE(stringField(ok, "name").ok());
}

TEST(BoolField, Values) {
  json obj = json::parse(R"({"t":true,"f":false,"z":null,"s":"true","n":1})");
  auto t = boolField(obj, "t");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_TRUE(**t);
  auto f = boolField(obj, "f");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_FALSE(**f);
  auto z = boolField(obj, "z");
  ASSERT_TRUE(z.ok());
  EXPECT_FALSE(z->has_value());
  auto missing = boolField(obj, "missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  for (const char* wrong : {"s", "n"}) {
    auto r = boolField(obj, wrong);
    ASSERT_FALSE(r.ok()) << wrong;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message, std::string(wrong) + " must be true or false");
  }
}

TEST(OnlyFields, RejectsUnknownMembers) {
  json obj = json::parse(R"({"username":"a","password":"b"})");
  EXPECT_TRUE(onlyFields(obj, {"username", "password", "role"}).ok());
  EXPECT_TRUE(onlyFields(json::object(), {}).ok());
  auto r = onlyFields(obj, {"username"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message, "unknown field password");
  auto typo = onlyFields(json::parse(R"({"usernme":"a"})"), {"username", "password"});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("usernme"), std::string::npos);
  // Prefixes and case variants are not the same field.
  EXPECT_FALSE(onlyFields(json::parse(R"({"user":1})"), {"username"}).ok());
  EXPECT_FALSE(onlyFields(json::parse(R"({"Username":1})"), {"username"}).ok());
}

net::Request requestWith(const char* content_type, std::string body) {
  net::Request req;
  if (content_type) req.raw.set(net::http::field::content_type, content_type);
  req.raw.body() = std::move(body);
  return req;
}

TEST(ReadJsonBody, ChecksTheMediaTypeThenParses) {
  for (const char* ok_type : {"application/json", "application/json; charset=utf-8",
                              "application/json ;charset=utf-8", "application/ld+json"}) {
    auto r = readJsonBody(requestWith(ok_type, R"({"a":1})"));
    ASSERT_TRUE(r.ok()) << ok_type << ": " << r.error().message;
    EXPECT_EQ((*r)["a"], 1);
  }
  for (const char* bad_type :
       {static_cast<const char*>(nullptr), "", "text/plain", "application/jsonx",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json"}) {
    auto r = readJsonBody(requestWith(bad_type, R"({"a":1})"));
    ASSERT_FALSE(r.ok()) << (bad_type ? bad_type : "(none)");
    EXPECT_EQ(r.error().code, Errc::kUnsupportedMediaType) << (bad_type ? bad_type : "(none)");
    EXPECT_NE(r.error().message.find("application/json"), std::string::npos) << r.error().message;
  }
  // A correct type does not excuse a bad body.
  auto not_object = readJsonBody(requestWith("application/json", "[1]"));
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(not_object.error().message, "expected a JSON object");
  auto malformed = readJsonBody(requestWith("application/json", "{\"a\":"));
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::kMalformedInput);
  auto empty = readJsonBody(requestWith("application/json", ""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::kMalformedInput);
}

// KNOWN BUG (fails until fixed): media type and subtype are case-insensitive (RFC 9110
// section 8.3.1), but readJsonBody in src/api/json_body.cc compares them byte for byte, so a client
// sending "Application/JSON" gets 415.
TEST(ReadJsonBody, MediaTypeIsCaseInsensitive) {
  for (const char* type :
       {"Application/JSON", "application/JSON; charset=UTF-8", "APPLICATION/LD+JSON"}) {
    auto r = readJsonBody(requestWith(type, R"({"a":1})"));
    EXPECT_TRUE(r.ok()) << type << ": " << (r.ok() ? "" : r.error().message);
  }
}

}  // namespace
}  // namespace ioc::api
