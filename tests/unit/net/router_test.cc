// Router: literal and {param} segments, 404 vs 405, HEAD, duplicates, slashes.
#include "net/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ioc::net {
namespace {

Handler noop() {
  return [](RequestPtr, Responder r) { r.send(Response::json(http::status::ok, "{}")); };
}

std::string paramOf(const Router::Match& m, const std::string& name) {
  for (const auto& [k, v] : m.params) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(Router, LiteralRouteMatchesExactly) {
  Router router;
  router.add(http::verb::get, "/api/v1/health", noop());
  auto m = router.match(http::verb::get, "/api/v1/health");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/health");
  EXPECT_EQ(m.route->method, http::verb::get);
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.path_known);
}

TEST(Router, CaptureExtractsParameters) {
  Router router;
  router.add(http::verb::get, "/api/v1/units/{code}", noop());
  router.add(http::verb::get, "/api/v1/units/{code}/events/{seq}", noop());

  auto m = router.match(http::verb::get, "/api/v1/units/AMB-7");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/units/{code}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(paramOf(m, "code"), "AMB-7");

  auto m2 = router.match(http::verb::get, "/api/v1/units/FIRE-1/events/99");
  ASSERT_NE(m2.route, nullptr);
  EXPECT_EQ(m2.route->pattern, "/api/v1/units/{code}/events/{seq}");
  ASSERT_EQ(m2.params.size(), 2u);
  EXPECT_EQ(paramOf(m2, "code"), "FIRE-1");
  EXPECT_EQ(paramOf(m2, "seq"), "99");
}

TEST(Router, LiteralWinsOverCapture) {
  Router router;
  router.add(http::verb::get, "/units/{code}", noop());
  router.add(http::verb::get, "/units/search", noop());
  auto lit = router.match(http::verb::get, "/units/search");
  ASSERT_NE(lit.route, nullptr);
  EXPECT_EQ(lit.route->pattern, "/units/search");
  EXPECT_TRUE(lit.params.empty());

  auto cap = router.match(http::verb::get, "/units/searchx");
  ASSERT_NE(cap.route, nullptr);
  EXPECT_EQ(cap.route->pattern, "/units/{code}");
  EXPECT_EQ(paramOf(cap, "code"), "searchx");
}

TEST(Router, LiteralWinsRegardlessOfRegistrationOrder) {
  Router router;
  router.add(http::verb::get, "/units/search", noop());
  router.add(http::verb::get, "/units/{code}", noop());
  auto m = router.match(http::verb::get, "/units/search");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/units/search");
}

// A literal segment that leads nowhere must not hide a capture route that does match: with
// "/units/{code}" and "/units/stats/daily", "GET /units/stats" is unit "stats". The router
// descends into the literal "stats" node (which has no route of its own) and gives up instead of
// falling back to the capture, answering 404 for a path that a registered pattern matches.
TEST(Router, CaptureStillMatchesWhenLiteralSiblingIsOnlyAPrefix) {
  Router router;
  router.add(http::verb::get, "/units/{code}", noop());
  router.add(http::verb::get, "/units/stats/daily", noop());
  ASSERT_NE(router.match(http::verb::get, "/units/stats/daily").route, nullptr);
  ASSERT_NE(router.match(http::verb::get, "/units/other").route, nullptr);

  auto m = router.match(http::verb::get, "/units/stats");
  ASSERT_NE(m.route, nullptr) << "GET /units/stats matches /units/{code} but the router says 404";
  EXPECT_EQ(m.route->pattern, "/units/{code}");
  EXPECT_EQ(paramOf(m, "code"), "stats");
}

TEST(Router, CaptureStillMatchesWhenLiteralBranchDeadEnds) {
  Router router;
  router.add(http::verb::get, "/units/{code}/history", noop());
  router.add(http::verb::get, "/units/search/recent", noop());
  auto m = router.match(http::verb::get, "/units/search/history");
  ASSERT_NE(m.route, nullptr) << "GET /units/search/history matches /units/{code}/history";
  EXPECT_EQ(paramOf(m, "code"), "search");
}

TEST(Router, UnknownPathIsNotKnown) {
  Router router;
  router.add(http::verb::get, "/a/b", noop());
  router.add(http::verb::get, "/units/{code}", noop());
  for (const char* path : {"/nope", "/a", "/a/b/c", "/units", "/units/x/y", "/"}) {
    auto m = router.match(http::verb::get, path);
    EXPECT_EQ(m.route, nullptr) << path;
    EXPECT_FALSE(m.path_known) << path;
    EXPECT_TRUE(m.allow.empty()) << path;
  }
}

TEST(Router, KnownPathWrongMethodListsAllowedMethods) {
  Router router;
  router.add(http::verb::get, "/items", noop());
  router.add(http::verb::post, "/items", noop());
  auto m = router.match(http::verb::delete_, "/items");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_NE(m.allow.find("GET"), std::string::npos) << m.allow;
  EXPECT_NE(m.allow.find("POST"), std::string::npos) << m.allow;
  EXPECT_EQ(m.allow.find("DELETE"), std::string::npos) << m.allow;
  EXPECT_NE(m.allow.find(", "), std::string::npos) << m.allow;
}

TEST(Router, WrongMethodOnCapturedPath) {
  Router router;
  router.add(http::verb::put, "/units/{code}", noop());
  auto m = router.match(http::verb::get, "/units/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allow, "PUT");
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add(http::verb::get, "/doc", noop());
  auto m = router.match(http::verb::head, "/doc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, http::verb::get);
}

TEST(Router, ExplicitHeadRouteWinsOverGet) {
  Router router;
  router.add(http::verb::get, "/doc", noop());
  router.add(http::verb::head, "/doc", noop());
  auto m = router.match(http::verb::head, "/doc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, http::verb::head);
}

TEST(Router, HeadWithoutGetIs405) {
  Router router;
  router.add(http::verb::post, "/submit", noop());
  auto m = router.match(http::verb::head, "/submit");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allow, "POST");
}

TEST(Router, DuplicateRouteThrows) {
  Router router;
  router.add(http::verb::get, "/x/{id}", noop());
  EXPECT_THROW(router.add(http::verb::get, "/x/{id}", noop()), std::logic_error);
  // Same shape, different spelling of the slashes: still the same route.
  EXPECT_THROW(router.add(http::verb::get, "/x/{id}/", noop()), std::logic_error);
  // Another method on the same pattern is fine.
  EXPECT_NO_THROW(router.add(http::verb::post, "/x/{id}", noop()));
}

TEST(Router, ConflictingCaptureNamesThrow) {
  Router router;
  router.add(http::verb::get, "/x/{id}", noop());
  EXPECT_THROW(router.add(http::verb::post, "/x/{code}", noop()), std::logic_error);
}

TEST(Router, RouteOptionsAreKept) {
  Router router;
  router.add(http::verb::post, "/upload", noop(), RouteOptions{123});
  auto m = router.match(http::verb::post, "/upload");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->options.max_body_bytes, 123u);
  ASSERT_EQ(router.routes().size(), 1u);
}

// Empty segments are ignored: trailing slashes and doubled slashes match the same route.
TEST(Router, TrailingAndDoubleSlashesAreIgnored) {
  Router router;
  router.add(http::verb::get, "/a/b", noop());
  router.add(http::verb::get, "/u/{id}", noop());
  for (const char* path : {"/a/b", "/a/b/", "//a/b", "/a//b", "/a/b//", "a/b"}) {
    auto m = router.match(http::verb::get, path);
    ASSERT_NE(m.route, nullptr) << path;
    EXPECT_EQ(m.route->pattern, "/a/b") << path;
  }
  auto m = router.match(http::verb::get, "/u//7/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(paramOf(m, "id"), "7");
}

TEST(Router, RootRoute) {
  Router router;
  router.add(http::verb::get, "/", noop());
  auto m = router.match(http::verb::get, "/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/");
  EXPECT_EQ(router.match(http::verb::get, "/x").route, nullptr);
}

TEST(Router, WebSocketRouteIsAGetRouteWithAWebSocketHandler) {
  Router router;
  router.addWebSocket("/ws", [](RequestPtr, std::shared_ptr<WebSocketSession>) {});
  auto m = router.match(http::verb::get, "/ws");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, http::verb::get);
  EXPECT_TRUE(static_cast<bool>(m.route->websocket));
  EXPECT_FALSE(static_cast<bool>(m.route->handler));
  auto post = router.match(http::verb::post, "/ws");
  EXPECT_EQ(post.route, nullptr);
  EXPECT_TRUE(post.path_known);
  EXPECT_EQ(post.allow, "GET, HEAD");
}

// add() refuses a second GET route on a path; addWebSocket() must not silently replace one either.
TEST(Router, WebSocketRouteOnExistingGetPathThrows) {
  Router router;
  router.add(http::verb::get, "/live", noop());
  EXPECT_THROW(router.addWebSocket("/live", [](RequestPtr, std::shared_ptr<WebSocketSession>) {}),
               std::logic_error);
  auto m = router.match(http::verb::get, "/live");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(static_cast<bool>(m.route->handler)) << "the GET route was replaced";
}

TEST(Router, FallbackIsStored) {
  Router router;
  EXPECT_FALSE(static_cast<bool>(router.fallback()));
  router.setFallback(noop());
  EXPECT_TRUE(static_cast<bool>(router.fallback()));
}

}  // namespace
}  // namespace ioc::net
