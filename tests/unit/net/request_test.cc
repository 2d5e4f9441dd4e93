// Request helpers: percentDecode, queryParam, param, header, and the Responder contract.
#include "net/request.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ioc::net {
namespace {

TEST(PercentDecode, DecodesHexEscapesInBothCases) {
  EXPECT_EQ(percentDecode("a%20b", false), "a b");
  EXPECT_EQ(percentDecode("%41%42%43", false), "ABC");
  EXPECT_EQ(percentDecode("%e2%82%ac", false), "\xE2\x82\xAC");
  EXPECT_EQ(percentDecode("%E2%82%AC", false), "\xE2\x82\xAC");
  EXPECT_EQ(percentDecode("", false), "");
  EXPECT_EQ(percentDecode("plain/path", false), "plain/path");
}

TEST(PercentDecode, EncodedSlashAndDotsAreDecoded) {
  EXPECT_EQ(percentDecode("a%2Fb", false), "a/b");
  EXPECT_EQ(percentDecode("a%2fb", false), "a/b");
  EXPECT_EQ(percentDecode("/%2e%2e/%2E%2E/etc", false), "/../../etc");
}

TEST(PercentDecode, EscapeAtTheVeryEndIsDecoded) {
  EXPECT_EQ(percentDecode("%41", false), "A");
  EXPECT_EQ(percentDecode("x%41", false), "xA");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("a+b", false), "a+b");
  // An encoded plus stays a plus even in query mode.
  EXPECT_EQ(percentDecode("a%2Bb", true), "a+b");
}

TEST(PercentDecode, MalformedEscapesAreKeptLiterally) {
  EXPECT_EQ(percentDecode("%zz", false), "%zz");
  EXPECT_EQ(percentDecode("%g1", false), "%g1");
  EXPECT_EQ(percentDecode("%1g", false), "%1g");
  EXPECT_EQ(percentDecode("100%", false), "100%");
  EXPECT_EQ(percentDecode("%", false), "%");
  EXPECT_EQ(percentDecode("%%41", false), "%A");
}

TEST(PercentDecode, TruncatedEscapeIsKeptLiterally) {
  EXPECT_EQ(percentDecode("%4", false), "%4");
  EXPECT_EQ(percentDecode("ab%4", false), "ab%4");
  EXPECT_EQ(percentDecode("ab%4", true), "ab%4");
}

TEST(PercentDecode, NulByteIsDecodedAsAByte) {
  std::string out = percentDecode("a%00b", false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1], '\0');
}

Request withQuery(std::string query) {
  Request r;
  r.query = std::move(query);
  return r;
}

TEST(QueryParam, MissingParameterIsNullopt) {
  EXPECT_EQ(withQuery("").queryParam("a"), std::nullopt);
  EXPECT_EQ(withQuery("b=1&c=2").queryParam("a"), std::nullopt);
  // A key that only has `a` as a prefix is a different key.
  EXPECT_EQ(withQuery("ab=1").queryParam("a"), std::nullopt);
}

TEST(QueryParam, SimpleValues) {
  Request r = withQuery("a=1&b=two&c=3");
  EXPECT_EQ(r.queryParam("a"), "1");
  EXPECT_EQ(r.queryParam("b"), "two");
  EXPECT_EQ(r.queryParam("c"), "3");
}

TEST(QueryParam, EmptyValueAndBareKeyAreEmptyStrings) {
  Request r = withQuery("a=&b&c=3");
  ASSERT_TRUE(r.queryParam("a").has_value());
  EXPECT_EQ(*r.queryParam("a"), "");
  ASSERT_TRUE(r.queryParam("b").has_value());
  EXPECT_EQ(*r.queryParam("b"), "");
  EXPECT_EQ(r.queryParam("c"), "3");
}

TEST(QueryParam, RepeatedKeyGivesTheFirstValue) {
  EXPECT_EQ(withQuery("a=1&a=2&a=3").queryParam("a"), "1");
  EXPECT_EQ(withQuery("b=0&a=&a=2").queryParam("a"), "");
}

TEST(QueryParam, ValuesArePercentAndPlusDecoded) {
  Request r = withQuery("q=hello+world&p=a%26b%3Dc&s=50%25");
  EXPECT_EQ(r.queryParam("q"), "hello world");
  EXPECT_EQ(r.queryParam("p"), "a&b=c");
  EXPECT_EQ(r.queryParam("s"), "50%");
}

TEST(QueryParam, KeysArePercentAndPlusDecoded) {
  Request r = withQuery("%61=1&my+key=2&x%5By%5D=3");
  EXPECT_EQ(r.queryParam("a"), "1");
  EXPECT_EQ(r.queryParam("my key"), "2");
  EXPECT_EQ(r.queryParam("x[y]"), "3");
}

TEST(QueryParam, ValueMayContainEqualsSigns) {
  EXPECT_EQ(withQuery("f=a=b").queryParam("f"), "a=b");
}

TEST(QueryParam, EmptyPairsAreSkipped) {
  Request r = withQuery("&&a=1&&");
  EXPECT_EQ(r.queryParam("a"), "1");
  EXPECT_EQ(r.queryParam("b"), std::nullopt);
}

TEST(RequestAccessors, ParamAndHeader) {
  Request r;
  r.params = {{"code", "U-7"}, {"id", "42"}};
  r.raw.set(http::field::if_none_match, "\"abc\"");
  EXPECT_EQ(r.param("code"), "U-7");
  EXPECT_EQ(r.param("id"), "42");
  EXPECT_EQ(r.param("nope"), "");
  EXPECT_EQ(r.header(http::field::if_none_match), "\"abc\"");
  EXPECT_EQ(r.header(http::field::authorization), "");
}

struct Captured {
  std::vector<Response> responses;
  Responder make() {
    return Responder([this](Response&& r) { responses.push_back(std::move(r)); });
  }
};

TEST(Responder, SendDeliversOnceAndLaterSendsAreIgnored) {
  Captured cap;
  {
    Responder r = cap.make();
    r.send(Response::json(http::status::created, "{\"a\":1}"));
    r.send(Response::json(http::status::ok, "{\"b\":2}"));
  }
  ASSERT_EQ(cap.responses.size(), 1u);
  EXPECT_EQ(cap.responses[0].status, http::status::created);
  EXPECT_EQ(cap.responses[0].body, "{\"a\":1}");
}

TEST(Responder, DroppedWithoutSendAnswers500) {
  Captured cap;
  { Responder r = cap.make(); }
  ASSERT_EQ(cap.responses.size(), 1u);
  EXPECT_EQ(cap.responses[0].status, http::status::internal_server_error);
}

TEST(Responder, MovedFromResponderDoesNotAnswer) {
  Captured cap;
  {
    Responder a = cap.make();
    Responder b(std::move(a));
    b.send(Response::json(http::status::ok, "{}"));
  }
  ASSERT_EQ(cap.responses.size(), 1u);
  EXPECT_EQ(cap.responses[0].status, http::status::ok);
}

// The header promises that "a Responder dropped without sending answers 500". Move-assigning
// over a Responder that has not answered yet drops its channel too, so that request must get
// its 500 as well; otherwise the client waits until the connection is torn down.
TEST(Responder, MoveAssignOverUnansweredResponderAnswers500) {
  Captured first;
  Captured second;
  {
    Responder a = first.make();
    Responder b = second.make();
    a = std::move(b);
    a.send(Response::json(http::status::ok, "{}"));
  }
  ASSERT_EQ(second.responses.size(), 1u);
  EXPECT_EQ(second.responses[0].status, http::status::ok);
  ASSERT_EQ(first.responses.size(), 1u) << "the overwritten Responder never answered";
  EXPECT_EQ(first.responses[0].status, http::status::internal_server_error);
}

}  // namespace
}  // namespace ioc::net
