#include "ngsild/geo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ioc::ngsild::geo {
namespace {

using json = ioc::Json;

Geometry parse(const std::string& text) {
  auto r = parseGeoJson(json::parse(text));
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : Geometry{};
}

Geometry pt(double lon, double lat) {
  return Geometry::point(lon, lat);
}

Geometry line(std::vector<Position> v) {
  Geometry g;
  g.type = GeometryType::kLineString;
  g.lines.push_back(std::move(v));
  return g;
}

Geometry multiPoint(std::vector<Position> v) {
  Geometry g;
  g.type = GeometryType::kMultiPoint;
  g.points = std::move(v);
  return g;
}

// Axis-aligned rectangle as a closed counter-clockwise ring.
Ring rect(double x0, double y0, double x1, double y1) {
  return Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
}

Geometry poly(std::vector<Ring> rings) {
  Geometry g;
  g.type = GeometryType::kPolygon;
  g.polygons.push_back(std::move(rings));
  return g;
}

// The running example: a 10 x 10 square with a 2 x 2 hole in the middle.
Geometry squareWithHole() {
  return poly({rect(0, 0, 10, 10), rect(4, 4, 6, 6)});
}

std::string errorOf(const core::Result<Geometry>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
  return r.error().message;
}

std::string parseError(const std::string& text) {
  return errorOf(parseGeoJson(json::parse(text)));
}

bool rel(const std::string& georel, const Geometry& entity, const Geometry& query) {
  auto r = parseGeoRel(georel);
  EXPECT_TRUE(r.ok()) << georel;
  return r.ok() && evaluate(r.value(), entity, query);
}

// Reference even-odd test written independently of geo.cc.
bool refInside(Position p, const Polygon& polygon) {
  bool inside = false;
  for (const Ring& r : polygon) {
    for (size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
      const Position a = r[i];
      const Position b = r[j];
      if (((a.lat > p.lat) != (b.lat > p.lat)) &&
          (p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon)) {
        inside = !inside;
      }
    }
  }
  return inside;
}

// Smallest planar distance (degrees) from p to any edge of the polygon.
double refEdgeDistance(Position p, const Polygon& polygon) {
  double best = 1e300;
  for (const Ring& r : polygon) {
    for (size_t i = 1; i < r.size(); ++i) {
      const double dx = r[i].lon - r[i - 1].lon;
      const double dy = r[i].lat - r[i - 1].lat;
      const double len2 = dx * dx + dy * dy;
      double t = len2 > 0 ? ((p.lon - r[i - 1].lon) * dx + (p.lat - r[i - 1].lat) * dy) / len2 : 0;
      t = std::clamp(t, 0.0, 1.0);
      best =
          std::min(best, std::hypot(p.lon - r[i - 1].lon - t * dx, p.lat - r[i - 1].lat - t * dy));
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Distances

TEST(GeoDistance, KnownDistances) {
  const Position citadel{107.5785, 16.4698};
  const Position station{107.5764, 16.4561};
  const double d = haversineMeters(citadel, station);
  EXPECT_NEAR(d, 1535.0, 1535.0 * 0.01);
  EXPECT_NEAR(distanceMeters(pt(citadel.lon, citadel.lat), pt(station.lon, station.lat)), d, 1e-9);

  // One degree along the equator: 2 pi R / 360.
  EXPECT_NEAR(haversineMeters({0, 0}, {1, 0}), 111195.08, 0.01);
  EXPECT_NEAR(haversineMeters({0, 0}, {0, 1}), 111195.08, 0.01);           // and along a meridian
  EXPECT_NEAR(haversineMeters({179.5, 0}, {-179.5, 0}), 111195.08, 0.01);  // across 180
  EXPECT_NEAR(haversineMeters({0, 90}, {0, -90}), std::numbers::pi * kEarthRadiusM, 1e-6);
  EXPECT_EQ(haversineMeters(citadel, citadel), 0.0);
  EXPECT_DOUBLE_EQ(haversineMeters(citadel, station), haversineMeters(station, citadel));
}

TEST(GeoDistance, PointToGeometries) {
  const Geometry sq = squareWithHole();
  // (12, 5) is 2 degrees of longitude east of the square's edge at latitude 5.
  EXPECT_NEAR(distanceMeters(pt(12, 5), sq), haversineMeters({12, 5}, {10, 5}), 1e-6);
  EXPECT_EQ(distanceMeters(pt(2, 2), sq), 0.0);   // inside
  EXPECT_EQ(distanceMeters(pt(10, 5), sq), 0.0);  // on the edge
  // In the hole: nearest is the hole's edge, 1 degree of longitude west at latitude 5 ... or the
  // hole's other edges; (5, 5) is 1 degree from all four.
  EXPECT_NEAR(distanceMeters(pt(5, 5), sq),
              std::min(haversineMeters({5, 5}, {4, 5}), haversineMeters({5, 5}, {5, 4})), 1.0);
  EXPECT_GT(distanceMeters(pt(5, 5), sq), 0.0);
  // Line to line, parallel, one degree of latitude apart.
  const Geometry l1 = line({{0, 0}, {1, 0}});
  const Geometry l2 = line({{0, 1}, {1, 1}});
  EXPECT_NEAR(distanceMeters(l1, l2), 111195.08, 0.5);
  EXPECT_EQ(distanceMeters(l1, line({{0.5, -1}, {0.5, 1}})), 0.0);  // crossing
  // Polygon to polygon, 0.01 degrees apart in Huế.
  const Geometry a = poly({rect(107.50, 16.40, 107.55, 16.45)});
  const Geometry b = poly({rect(107.56, 16.40, 107.60, 16.45)});
  EXPECT_NEAR(distanceMeters(a, b), haversineMeters({107.55, 16.45}, {107.56, 16.45}), 0.5);
  EXPECT_DOUBLE_EQ(distanceMeters(a, b), distanceMeters(b, a));
}

// The point-to-segment shortcut against brute force: the least haversine distance over 20,001
// points spaced along the segment.
void checkSegmentDistances(double lon0, double lat0, double span_deg, double rel_tol,
                           uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-span_deg, span_deg);
  double worst = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Position a{lon0 + u(rng), lat0 + u(rng)};
    const Position b{lon0 + u(rng), lat0 + u(rng)};
    const Position p{lon0 + u(rng), lat0 + u(rng)};
    constexpr int kSteps = 20000;
    double sampled = 1e300;
    for (int i = 0; i <= kSteps; ++i) {
      const double t = static_cast<double>(i) / kSteps;
      sampled = std::min(
          sampled, haversineMeters(p, {a.lon + t * (b.lon - a.lon), a.lat + t * (b.lat - a.lat)}));
    }
    const double spacing = haversineMeters(a, b) / kSteps;
    const double got = distanceMeters(pt(p.lon, p.lat), line({a, b}));
    // Never below the truth (it measures a real point of the segment) ...
    EXPECT_GE(got, sampled - spacing) << trial;
    // ... and above it by at most the documented relative error.
    EXPECT_LE(got, sampled * (1 + rel_tol) + 1e-6) << trial;
    if (sampled > 1) worst = std::max(worst, (got - sampled) / sampled);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", worst);
  ::testing::Test::RecordProperty("worst_relative_excess", buf);
}

TEST(GeoDistance, PointToSegmentNearHue) {
  checkSegmentDistances(107.6, 16.45, 0.05, 1e-6, 1);
}

TEST(GeoDistance, PointToSegmentAtSixtyDegrees) {
  checkSegmentDistances(10.0, 60.0, 0.25, 2e-5, 2);
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(GeoParse, EveryType) {
  const Geometry p = parse(R"({"type":"Point","coordinates":[107.58,16.47]})");
  EXPECT_EQ(p.type, GeometryType::kPoint);
  ASSERT_EQ(p.points.size(), 1u);
  EXPECT_EQ(p.points[0].lon, 107.58);
  EXPECT_EQ(p.points[0].lat, 16.47);
  EXPECT_EQ(dimension(p), 0);

  const Geometry p3 = parse(R"({"type":"Point","coordinates":[107.58,16.47,12.5]})");
  EXPECT_EQ(p3.points.at(0).lat, 16.47);  // altitude accepted and dropped

  EXPECT_EQ(parse(R"({"type":"MultiPoint","coordinates":[[1,2],[3,4]]})").points.size(), 2u);
  const Geometry ls = parse(R"({"type":"LineString","coordinates":[[1,2],[3,4],[5,6]]})");
  ASSERT_EQ(ls.lines.size(), 1u);
  EXPECT_EQ(ls.lines[0].size(), 3u);
  EXPECT_EQ(dimension(ls), 1);
  EXPECT_EQ(parse(R"({"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8]]]})")
                .lines.size(),
            2u);
  const Geometry pg = parse(
      R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],
                                          [[4,4],[6,4],[6,6],[4,6],[4,4]]]})");
  ASSERT_EQ(pg.polygons.size(), 1u);
  EXPECT_EQ(pg.polygons[0].size(), 2u);  // exterior and one hole
  EXPECT_EQ(dimension(pg), 2);
  const Geometry mp = parse(
      R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],
                                               [[[5,5],[6,5],[6,6],[5,5]]]]})");
  EXPECT_EQ(mp.polygons.size(), 2u);
  const Geometry gc = parse(
      R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},
          {"type":"LineString","coordinates":[[1,2],[3,4]]}]})");
  EXPECT_EQ(gc.members.size(), 2u);
  EXPECT_EQ(dimension(gc), 1);

  // Round trip through toGeoJson.
  for (const Geometry* g : {&p, &ls, &pg, &mp, &gc}) {
    const auto again = parseGeoJson(toGeoJson(*g));
    ASSERT_TRUE(again.ok()) << toGeoJson(*g).dump();
    EXPECT_TRUE(equals(*g, again.value())) << toGeoJson(*g).dump();
  }
}

TEST(GeoParse, BadGeoJsonIsNamed) {
  EXPECT_NE(parseError(R"([1,2])").find("expected a GeoJSON geometry object"), std::string::npos);
  EXPECT_NE(parseError(R"({"coordinates":[1,2]})").find("missing \"type\""), std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Circle","coordinates":[1,2]})").find("unknown geometry type"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"point","coordinates":[1,2]})").find("unknown geometry type"),
            std::string::npos);  // case-sensitive
  EXPECT_NE(parseError(R"({"type":"Feature","geometry":null})").find("got a Feature"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point"})").find("missing \"coordinates\""), std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":"1,2"})").find("got a string"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[1,"2"]})")
                .find("coordinates[1]: expected a number, got a string"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[1,true]})").find("got a boolean"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[200,10]})")
                .find("longitude 200 is outside [-180, 180]"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[10,-90.5]})")
                .find("latitude -90.5 is outside [-90, 90]"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[1]})").find("got an array of 1 number"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[1,2,3,4]})").find("2 or 3 numbers"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Point","coordinates":[[1,2]]})").find("nested 2 deep"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"LineString","coordinates":[[1,2]]})")
                .find("a LineString needs at least 2 positions, got 1"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"MultiPoint","coordinates":[]})").find("at least 1 position"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})")
                .find("Polygon coordinates[0]: ring is not closed"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]})")
                .find("a ring needs at least 4 positions, got 3"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"Polygon","coordinates":[]})").find("exterior ring"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],
                                                           [[[5,5],[6,5],[6,6],[5,5]],
                                                            [[0,0],[1,0],[1,1],[0,1]]]]})")
                .find("MultiPolygon coordinates[1][1]: ring is not closed"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[1,2]]]})")
                .find("coordinates[1]: a LineString needs at least 2 positions"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"GeometryCollection","geometries":[]})").find("no geometries"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"type":"GeometryCollection","geometries":[
                             {"type":"Point","coordinates":[1,2]},
                             {"type":"Point","coordinates":[1,95]}]})")
                .find("geometries[1] (Point) coordinates: latitude 95"),
            std::string::npos);
  // Deeply nested collections are refused rather than recursed into without limit.
  json deep = {{"type", "Point"}, {"coordinates", {1, 2}}};
  for (int i = 0; i < 20; ++i) {
    deep = {{"type", "GeometryCollection"}, {"geometries", json::array({deep})}};
  }
  EXPECT_NE(errorOf(parseGeoJson(deep)).find("nested more than"), std::string::npos);
  // Non-finite numbers can only come from code, not JSON text; they are refused too.
  EXPECT_NE(errorOf(parseGeoJson(json{{"type", "Point"}, {"coordinates", {std::nan(""), 1.0}}}))
                .find("not a finite number"),
            std::string::npos);
}

TEST(GeoParse, QueryGeometry) {
  auto p = parseQueryGeometry("Point", "[8,40]");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(equals(p.value(), pt(8, 40)));
  auto poly = parseQueryGeometry("Polygon",
                                 "[[[100.0,0.0],[101.0,0.0],[101.0,1.0],[100.0,1.0],"
                                 "[100.0,0.0]]]");
  ASSERT_TRUE(poly.ok()) << poly.error().message;
  EXPECT_TRUE(within(pt(100.5, 0.5), poly.value()));
  auto ml = parseQueryGeometry("MultiLineString", " [ [[1,2],[3,4]] ] ");
  ASSERT_TRUE(ml.ok()) << ml.error().message;

  EXPECT_NE(errorOf(parseQueryGeometry("Point", "[8,40")).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Point", "")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Point", "8,40")).find("not valid JSON"), std::string::npos);
  // Wrong nesting for the type, both ways.
  EXPECT_NE(errorOf(parseQueryGeometry("Point", "[[8,40]]")).find("Point coordinates"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Polygon", "[[0,0],[1,0],[1,1],[0,0]]"))
                .find("arrays nested 3 deep), got arrays nested 2 deep"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("LineString", "[[[1,2],[3,4]]]")).find("nested 3 deep"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Point", "{\"x\":1}")).find("got an object"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Point", "[181,0]")).find("longitude 181"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Circle", "[8,40]")).find("unknown type \"Circle\""),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("GeometryCollection", "[]")).find("cannot be used"),
            std::string::npos);
  EXPECT_NE(errorOf(parseQueryGeometry("Point", std::string(5000, '[') + std::string(5000, ']')))
                .find("nested too deeply"),
            std::string::npos);
}

TEST(GeoBBox, Boxes) {
  const BBox b = bbox(squareWithHole());
  EXPECT_EQ(b.min_lon, 0);
  EXPECT_EQ(b.min_lat, 0);
  EXPECT_EQ(b.max_lon, 10);
  EXPECT_EQ(b.max_lat, 10);
  const BBox m = bbox(multiPoint({{107.5, 16.6}, {107.4, 16.3}, {107.8, 16.5}}));
  EXPECT_EQ(m.min_lon, 107.4);
  EXPECT_EQ(m.max_lon, 107.8);
  EXPECT_EQ(m.min_lat, 16.3);
  EXPECT_EQ(m.max_lat, 16.6);
  const BBox c = bbox(parse(R"({"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[-5,3]},
      {"type":"LineString","coordinates":[[1,-2],[4,8]]}]})"));
  EXPECT_EQ(c.min_lon, -5);
  EXPECT_EQ(c.min_lat, -2);
  EXPECT_EQ(c.max_lon, 4);
  EXPECT_EQ(c.max_lat, 8);
  const BBox p = bbox(pt(1, 2));
  EXPECT_TRUE(p.contains(1, 2));
  EXPECT_FALSE(p.contains(1, 2.0001));
  EXPECT_TRUE(b.intersects(p));
  EXPECT_FALSE(b.intersects(bbox(pt(11, 2))));

  // expandBy holds every point at the given distance, in every direction, at several latitudes.
  for (double lat : {0.0, 16.45, 60.0, 85.0, -70.0}) {
    const BBox e = expandBy(bbox(pt(107.6, lat)), 5000);
    for (int k = 0; k < 360; ++k) {
      const double bearing = k * std::numbers::pi / 180;
      // Destination point on the sphere, 5 km away at this bearing.
      const double d = 5000 / kEarthRadiusM;
      const double phi1 = lat * std::numbers::pi / 180;
      const double phi2 = std::asin(std::sin(phi1) * std::cos(d) +
                                    std::cos(phi1) * std::sin(d) * std::cos(bearing));
      const double lam = std::atan2(std::sin(bearing) * std::sin(d) * std::cos(phi1),
                                    std::cos(d) - std::sin(phi1) * std::sin(phi2));
      const Position q{107.6 + lam * 180 / std::numbers::pi, phi2 * 180 / std::numbers::pi};
      EXPECT_NEAR(haversineMeters({107.6, lat}, q), 5000, 1e-6);
      EXPECT_TRUE(e.contains(q.lon, q.lat)) << lat << " " << k;
    }
    EXPECT_LT(e.max_lat - e.min_lat, 2 * 5000 / 111195.08 * 1.001);  // and not much more
  }
  const BBox pole = expandBy(bbox(pt(0, 89.99)), 5000);
  EXPECT_EQ(pole.min_lon, -180);
  EXPECT_EQ(pole.max_lon, 180);
  EXPECT_EQ(pole.max_lat, 90);
}

// ---------------------------------------------------------------------------------------------
// Georel

TEST(GeoRelParse, Forms) {
  auto near = parseGeoRel("near;maxDistance==1000");
  ASSERT_TRUE(near.ok());
  EXPECT_EQ(near->op, GeoRelOp::kNear);
  EXPECT_EQ(near->max_distance_m, 1000.0);
  EXPECT_FALSE(near->min_distance_m.has_value());
  auto nmin = parseGeoRel("near;minDistance==12.5");
  ASSERT_TRUE(nmin.ok());
  EXPECT_EQ(nmin->min_distance_m, 12.5);
  EXPECT_FALSE(nmin->max_distance_m.has_value());
  auto both = parseGeoRel("near;minDistance==10;maxDistance==2000");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->min_distance_m, 10.0);
  EXPECT_EQ(both->max_distance_m, 2000.0);
  EXPECT_EQ(toString(both.value()), "near;maxDistance==2000;minDistance==10");
  EXPECT_EQ(parseGeoRel("near;maxDistance==0")->max_distance_m, 0.0);

  const std::pair<const char*, GeoRelOp> plain[] = {
      {"within", GeoRelOp::kWithin},         {"contains", GeoRelOp::kContains},
      {"intersects", GeoRelOp::kIntersects}, {"disjoint", GeoRelOp::kDisjoint},
      {"equals", GeoRelOp::kEquals},         {"overlaps", GeoRelOp::kOverlaps},
  };
  for (const auto& [text, op] : plain) {
    auto r = parseGeoRel(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(r->op, op);
    EXPECT_EQ(toString(r.value()), text);
  }
}

TEST(GeoRelParse, Errors) {
  const auto err = [](const char* text) {
    auto r = parseGeoRel(text);
    EXPECT_FALSE(r.ok()) << text;
    if (r.ok()) return std::string();
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
    return r.error().message;
  };
  EXPECT_NE(err("").find("empty"), std::string::npos);
  EXPECT_NE(err("inside").find("unknown relation"), std::string::npos);
  EXPECT_NE(err("Within").find("unknown relation"), std::string::npos);
  EXPECT_NE(err("near").find("needs maxDistance"), std::string::npos);
  EXPECT_NE(err("near;").find("expected maxDistance==N"), std::string::npos);
  EXPECT_NE(err("near;maxDistance=1000").find("expected maxDistance==N"), std::string::npos);
  EXPECT_NE(err("near;distance==1000").find("unknown near parameter"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==").find("must be a number"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==abc").find("must be a number"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==10m").find("must be a number"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==inf").find("must be a number"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==nan").find("must be a number"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==-5").find("must not be negative"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==5;maxDistance==6").find("given twice"), std::string::npos);
  EXPECT_NE(err("near;minDistance==50;maxDistance==10").find("larger than"), std::string::npos);
  EXPECT_NE(err("within;maxDistance==10").find("takes no parameters"), std::string::npos);
  EXPECT_NE(err("near;maxDistance==10;").find("expected maxDistance==N"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Relations on hand-made cases. Square: (0,0)-(10,10) with hole (4,4)-(6,6).

TEST(GeoRelations, PointAndSquareWithHole) {
  const Geometry sq = squareWithHole();
  struct Case {
    const char* what;
    Position p;
    bool within;
    bool intersects;
  };
  const Case cases[] = {
      {"inside", {2, 2}, true, true},
      {"on an edge", {10, 5}, false, true},
      {"on a corner", {0, 0}, false, true},
      {"in the hole", {5, 5}, false, false},
      {"on the hole's edge", {4, 5}, false, true},
      {"outside", {11, 5}, false, false},
      {"outside, level with the hole", {-1, 5}, false, false},
  };
  for (const Case& c : cases) {
    const Geometry p = pt(c.p.lon, c.p.lat);
    EXPECT_EQ(rel("within", p, sq), c.within) << c.what;
    EXPECT_EQ(rel("intersects", p, sq), c.intersects) << c.what;
    EXPECT_EQ(rel("intersects", sq, p), c.intersects) << c.what;
    EXPECT_EQ(rel("disjoint", p, sq), !c.intersects) << c.what;
    EXPECT_EQ(rel("contains", sq, p), c.within) << c.what;
    EXPECT_FALSE(rel("contains", p, sq)) << c.what;
    EXPECT_FALSE(rel("overlaps", p, sq)) << c.what;  // different dimensions
    EXPECT_FALSE(rel("equals", p, sq)) << c.what;
  }
}

TEST(GeoRelations, PolygonAndPolygon) {
  const Geometry sq = squareWithHole();
  const Geometry inner = poly({rect(1, 1, 3, 3)});
  EXPECT_TRUE(rel("within", inner, sq));
  EXPECT_TRUE(rel("contains", sq, inner));
  EXPECT_FALSE(rel("within", sq, inner));
  EXPECT_FALSE(rel("overlaps", inner, sq));
  EXPECT_TRUE(rel("intersects", inner, sq));

  // Sharing two edges with the outer square is still within.
  const Geometry corner = poly({rect(0, 0, 3, 3)});
  EXPECT_TRUE(rel("within", corner, sq));
  EXPECT_FALSE(rel("overlaps", corner, sq));

  // Covering the hole: its boundary lies in the square, but the hole does not.
  const Geometry over_hole = poly({rect(3, 3, 7, 7)});
  EXPECT_FALSE(rel("within", over_hole, sq));
  EXPECT_FALSE(rel("contains", sq, over_hole));
  EXPECT_TRUE(rel("intersects", over_hole, sq));
  EXPECT_TRUE(rel("overlaps", over_hole, sq));

  // Exactly the hole: touches the square along the hole's edge only.
  const Geometry hole = poly({rect(4, 4, 6, 6)});
  EXPECT_FALSE(rel("within", hole, sq));
  EXPECT_TRUE(rel("intersects", hole, sq));
  EXPECT_FALSE(rel("disjoint", hole, sq));
  EXPECT_FALSE(rel("overlaps", hole, sq));

  // Inside the hole, not touching: disjoint.
  const Geometry in_hole = poly({rect(4.5, 4.5, 5.5, 5.5)});
  EXPECT_TRUE(rel("disjoint", in_hole, sq));
  EXPECT_FALSE(rel("within", in_hole, sq));
  EXPECT_GT(distanceMeters(in_hole, sq), 50000);

  // A polygon with the same hole is within; equal polygons are within each other.
  EXPECT_TRUE(rel("within", sq, squareWithHole()));
  EXPECT_TRUE(rel("contains", sq, squareWithHole()));
  EXPECT_TRUE(rel("equals", sq, squareWithHole()));
  EXPECT_FALSE(rel("overlaps", sq, squareWithHole()));
  // The square without its hole contains the holed one, not the other way round.
  const Geometry solid = poly({rect(0, 0, 10, 10)});
  EXPECT_TRUE(rel("within", sq, solid));
  EXPECT_FALSE(rel("within", solid, sq));
  EXPECT_FALSE(rel("equals", sq, solid));

  // Overlapping squares.
  const Geometry a = poly({rect(0, 0, 2, 2)});
  const Geometry b = poly({rect(1, 1, 3, 3)});
  EXPECT_TRUE(rel("overlaps", a, b));
  EXPECT_TRUE(rel("overlaps", b, a));
  EXPECT_TRUE(rel("intersects", a, b));
  EXPECT_FALSE(rel("within", a, b));
  EXPECT_FALSE(rel("contains", a, b));

  // Edge to edge: touching, not overlapping.
  const Geometry right = poly({rect(2, 0, 4, 2)});
  EXPECT_TRUE(rel("intersects", a, right));
  EXPECT_FALSE(rel("overlaps", a, right));
  EXPECT_FALSE(rel("within", a, right));
  EXPECT_EQ(distanceMeters(a, right), 0.0);

  // Far apart.
  const Geometry far = poly({rect(20, 20, 21, 21)});
  EXPECT_TRUE(rel("disjoint", far, sq));
  EXPECT_FALSE(rel("intersects", far, sq));
  EXPECT_FALSE(rel("overlaps", far, sq));
}

TEST(GeoRelations, LinesAndPolygons) {
  const Geometry sq = squareWithHole();
  const Geometry crossing = line({{-1, 2}, {11, 2}});
  EXPECT_TRUE(rel("intersects", crossing, sq));
  EXPECT_FALSE(rel("within", crossing, sq));
  EXPECT_FALSE(rel("contains", sq, crossing));
  EXPECT_FALSE(rel("overlaps", crossing, sq));  // different dimensions
  EXPECT_FALSE(rel("disjoint", crossing, sq));

  const Geometry inside = line({{1, 1}, {3, 2}, {2, 8}});
  EXPECT_TRUE(rel("within", inside, sq));
  EXPECT_TRUE(rel("contains", sq, inside));

  const Geometry through_hole = line({{1, 5}, {9, 5}});
  EXPECT_FALSE(rel("within", through_hole, sq));
  EXPECT_TRUE(rel("intersects", through_hole, sq));

  // Along the edge: in the square's closure but not its interior, so not within (DE-9IM).
  const Geometry along = line({{0, 0}, {5, 0}});
  EXPECT_FALSE(rel("within", along, sq));
  EXPECT_TRUE(rel("intersects", along, sq));
  // Along the edge and then inside: within.
  EXPECT_TRUE(rel("within", line({{0, 0}, {5, 0}, {5, 3}}), sq));

  // Entirely in the hole.
  const Geometry in_hole = line({{4.5, 4.5}, {5.5, 5.5}});
  EXPECT_TRUE(rel("disjoint", in_hole, sq));

  // A polygon with a line poking out of it ... the line does not contain the polygon.
  EXPECT_FALSE(rel("within", sq, crossing));
}

TEST(GeoRelations, LinesAndPoints) {
  const Geometry l = line({{0, 0}, {2, 0}});
  EXPECT_TRUE(rel("within", pt(1, 0), l));
  EXPECT_FALSE(rel("within", pt(0, 0), l));  // an endpoint is the line's boundary
  EXPECT_TRUE(rel("intersects", pt(0, 0), l));
  EXPECT_TRUE(rel("disjoint", pt(1, 0.001), l));

  // Crossing lines share a point: they intersect but do not overlap.
  const Geometry x = line({{1, -1}, {1, 1}});
  EXPECT_TRUE(rel("intersects", l, x));
  EXPECT_FALSE(rel("overlaps", l, x));
  // Collinear, partly shared: overlap.
  const Geometry shifted = line({{1, 0}, {3, 0}});
  EXPECT_TRUE(rel("overlaps", l, shifted));
  EXPECT_TRUE(rel("overlaps", shifted, l));
  EXPECT_FALSE(rel("within", shifted, l));
  EXPECT_TRUE(rel("within", line({{0.5, 0}, {1.5, 0}}), l));
  EXPECT_TRUE(rel("contains", l, line({{0.5, 0}, {1.5, 0}})));
  // End to end, collinear: touch at one point.
  const Geometry next = line({{2, 0}, {3, 0}});
  EXPECT_TRUE(rel("intersects", l, next));
  EXPECT_FALSE(rel("overlaps", l, next));
  EXPECT_TRUE(rel("disjoint", l, line({{2.0000001, 0}, {3, 0}})));
  // Collinear with coordinates that are not exact in binary.
  const Geometry d1 = line({{0.1, 0.1}, {0.7, 0.7}});
  const Geometry d2 = line({{0.3, 0.3}, {0.9, 0.9}});
  EXPECT_TRUE(rel("overlaps", d1, d2));
  EXPECT_TRUE(rel("within", line({{0.3, 0.3}, {0.6, 0.6}}), d1));
  // Parallel, not collinear.
  EXPECT_TRUE(rel("disjoint", d1, line({{0.1, 0.1000001}, {0.7, 0.7000001}})));
}

TEST(GeoRelations, SharedEdgeWithInterpolatedVertex) {
  // A ward-like triangle, and a polygon inside it whose edge runs along the triangle's edge from
  // a vertex to a point 30% along it (coordinates that are not exact in binary).
  const Position a{107.5, 16.4};
  const Position b{107.6, 16.45};
  const Position c{107.55, 16.5};
  const Position m{a.lon + 0.3 * (b.lon - a.lon), a.lat + 0.3 * (b.lat - a.lat)};
  const Geometry outer = poly({Ring{a, b, c, a}});
  const Geometry inner = poly({Ring{a, m, {107.55, 16.45}, a}});
  EXPECT_TRUE(rel("within", inner, outer));
  EXPECT_TRUE(rel("contains", outer, inner));
  EXPECT_FALSE(rel("overlaps", inner, outer));
  EXPECT_FALSE(rel("within", pt(m.lon, m.lat), outer));  // on the edge
  EXPECT_TRUE(rel("intersects", pt(m.lon, m.lat), outer));
}

TEST(GeoRelations, MultiGeometries) {
  Geometry mp;
  mp.type = GeometryType::kMultiPolygon;
  mp.polygons.push_back({rect(0, 0, 1, 1)});
  mp.polygons.push_back({rect(5, 5, 6, 6)});
  EXPECT_TRUE(rel("within", pt(5.5, 5.5), mp));
  EXPECT_FALSE(rel("within", pt(3, 3), mp));
  EXPECT_FALSE(rel("within", poly({rect(0.5, 0.5, 5.5, 5.5)}), mp));
  EXPECT_TRUE(rel("overlaps", poly({rect(0.5, 0.5, 5.5, 5.5)}), mp));

  const Geometry sq = poly({rect(0, 0, 10, 10)});
  // One point inside and one on the edge: within (interiors meet, nothing outside).
  EXPECT_TRUE(rel("within", multiPoint({{5, 5}, {10, 3}}), sq));
  // All on the edge: not within.
  EXPECT_FALSE(rel("within", multiPoint({{0, 5}, {10, 3}}), sq));
  // One outside: not within, but intersects.
  EXPECT_FALSE(rel("within", multiPoint({{5, 5}, {12, 3}}), sq));
  EXPECT_TRUE(rel("intersects", multiPoint({{5, 5}, {12, 3}}), sq));
  // Multipoints sharing some points overlap.
  EXPECT_TRUE(rel("overlaps", multiPoint({{1, 1}, {20, 20}}), multiPoint({{1, 1}, {30, 30}})));
  EXPECT_FALSE(rel("overlaps", multiPoint({{1, 1}}), multiPoint({{1, 1}, {30, 30}})));
  EXPECT_TRUE(rel("within", multiPoint({{1, 1}}), multiPoint({{1, 1}, {30, 30}})));

  // A collection inside the square.
  const Geometry gc = parse(R"({"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[1,1]},
      {"type":"LineString","coordinates":[[2,2],[3,3]]},
      {"type":"Polygon","coordinates":[[[4,4],[5,4],[5,5],[4,4]]]}]})");
  EXPECT_TRUE(rel("within", gc, sq));
  EXPECT_TRUE(rel("intersects", gc, pt(2.5, 2.5)));
  EXPECT_TRUE(rel("disjoint", gc, pt(2.5, 2.6)));
}

TEST(GeoRelations, Equals) {
  const Geometry a = parse(R"({"type":"LineString","coordinates":[[107.5,16.4],[107.6,16.5]]})");
  EXPECT_TRUE(rel("equals", a, line({{107.5, 16.4}, {107.6, 16.5}})));
  EXPECT_TRUE(rel("equals", a, line({{107.5 + 5e-10, 16.4}, {107.6, 16.5 - 5e-10}})));
  EXPECT_FALSE(rel("equals", a, line({{107.5 + 1e-8, 16.4}, {107.6, 16.5}})));
  EXPECT_FALSE(rel("equals", a, line({{107.6, 16.5}, {107.5, 16.4}})));  // structural
  EXPECT_FALSE(rel("equals", pt(1, 2), multiPoint({{1, 2}})));           // types differ
  EXPECT_TRUE(rel("equals", pt(1, 2), pt(1, 2)));
  EXPECT_FALSE(rel("equals", squareWithHole(), poly({rect(0, 0, 10, 10)})));
}

TEST(GeoRelations, Near) {
  const Position p{107.5785, 16.4698};
  const Position q{107.5764, 16.4561};
  const double d = haversineMeters(p, q);
  EXPECT_TRUE(
      rel("near;maxDistance==" + std::to_string(d + 1), pt(p.lon, p.lat), pt(q.lon, q.lat)));
  EXPECT_FALSE(
      rel("near;maxDistance==" + std::to_string(d - 1), pt(p.lon, p.lat), pt(q.lon, q.lat)));
  EXPECT_TRUE(
      rel("near;minDistance==" + std::to_string(d - 1), pt(p.lon, p.lat), pt(q.lon, q.lat)));
  EXPECT_FALSE(
      rel("near;minDistance==" + std::to_string(d + 1), pt(p.lon, p.lat), pt(q.lon, q.lat)));
  EXPECT_TRUE(rel("near;minDistance==1000;maxDistance==2000", pt(p.lon, p.lat), pt(q.lon, q.lat)));
  EXPECT_FALSE(rel("near;minDistance==2000;maxDistance==3000", pt(p.lon, p.lat), pt(q.lon, q.lat)));

  // To a polygon: the distance is to its nearest edge; inside it is 0.
  const Geometry block = poly({rect(107.57, 16.44, 107.58, 16.45)});
  const double to_edge = haversineMeters({107.5764, 16.4561}, {107.5764, 16.45});
  EXPECT_NEAR(distanceMeters(pt(q.lon, q.lat), block), to_edge, 0.01);
  EXPECT_TRUE(rel("near;maxDistance==" + std::to_string(to_edge + 1), pt(q.lon, q.lat), block));
  EXPECT_FALSE(rel("near;maxDistance==" + std::to_string(to_edge - 1), pt(q.lon, q.lat), block));
  EXPECT_TRUE(rel("near;maxDistance==0", pt(107.575, 16.445), block));
  EXPECT_FALSE(rel("near;minDistance==1", pt(107.575, 16.445), block));
  // Entity is a line, query a point.
  const Geometry road = line({{107.57, 16.46}, {107.59, 16.46}});
  const double to_road = haversineMeters({107.5785, 16.4698}, {107.5785, 16.46});
  EXPECT_NEAR(distanceMeters(road, pt(p.lon, p.lat)), to_road, 0.5);
  EXPECT_TRUE(rel("near;maxDistance==1100", road, pt(p.lon, p.lat)));
  EXPECT_FALSE(rel("near;maxDistance==1000", road, pt(p.lon, p.lat)));

  GeoRel none;  // a hand-built near without distances matches nothing
  none.op = GeoRelOp::kNear;
  EXPECT_FALSE(evaluate(none, pt(1, 1), pt(1, 1)));
}

// Random points against a concave polygon with a hole: within and intersects agree with an
// independent ray-casting test away from the edges, and the relations stay consistent.
TEST(GeoRelations, RandomPointsAgreeWithReference) {
  const Polygon shape = {
      Ring{{107.50, 16.40},
           {107.70, 16.40},
           {107.70, 16.55},
           {107.60, 16.47},
           {107.50, 16.55},
           {107.50, 16.40}},
      Ring{{107.55, 16.42}, {107.58, 16.42}, {107.58, 16.45}, {107.55, 16.45}, {107.55, 16.42}},
  };
  Geometry g;
  g.type = GeometryType::kPolygon;
  g.polygons.push_back(shape);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lon(107.45, 107.75);
  std::uniform_real_distribution<double> lat(16.35, 16.60);
  int inside = 0;
  for (int i = 0; i < 5000; ++i) {
    const Position p{lon(rng), lat(rng)};
    if (refEdgeDistance(p, shape) < 1e-7) continue;
    const bool ref = refInside(p, shape);
    inside += ref;
    const Geometry gp = pt(p.lon, p.lat);
    ASSERT_EQ(within(gp, g), ref) << p.lon << "," << p.lat;
    ASSERT_EQ(intersects(gp, g), ref) << p.lon << "," << p.lat;
    ASSERT_EQ(contains(g, gp), ref);
    ASSERT_EQ(distanceMeters(gp, g) == 0.0, ref);
  }
  EXPECT_GT(inside, 1000);
  EXPECT_LT(inside, 4000);
}

// Every pair of grid-aligned rectangles on a 5 x 5 lattice (many shared edges, corners and
// collinear overlaps), placed in Huế, against closed-form answers for rectangles.
TEST(GeoRelations, AllRectanglePairsOnALattice) {
  struct R {
    int x0, y0, x1, y1;
  };
  std::vector<R> rects;
  for (int x0 = 0; x0 < 5; ++x0) {
    for (int x1 = x0 + 1; x1 < 5; ++x1) {
      for (int y0 = 0; y0 < 5; ++y0) {
        for (int y1 = y0 + 1; y1 < 5; ++y1) rects.push_back({x0, y0, x1, y1});
      }
    }
  }
  const auto lon = [](int i) { return 107.5 + 0.01 * i; };
  const auto lat = [](int i) { return 16.4 + 0.01 * i; };
  std::vector<Geometry> geoms;
  for (size_t k = 0; k < rects.size(); ++k) {
    const R& r = rects[k];
    Ring ring = rect(lon(r.x0), lat(r.y0), lon(r.x1), lat(r.y1));
    if (k % 2 == 1) std::reverse(ring.begin(), ring.end());  // clockwise too
    if (k % 3 == 1) {                                        // start at another corner
      ring.pop_back();
      std::rotate(ring.begin(), ring.begin() + 1, ring.end());
      ring.push_back(ring.front());
    }
    geoms.push_back(poly({ring}));
  }
  int counts[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < rects.size(); ++i) {
    for (size_t j = 0; j < rects.size(); ++j) {
      const R& a = rects[i];
      const R& b = rects[j];
      const bool touch = a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
      const bool open = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
      const bool a_in_b = a.x0 >= b.x0 && a.x1 <= b.x1 && a.y0 >= b.y0 && a.y1 <= b.y1;
      const bool b_in_a = b.x0 >= a.x0 && b.x1 <= a.x1 && b.y0 >= a.y0 && b.y1 <= a.y1;
      const Geometry& ga = geoms[i];
      const Geometry& gb = geoms[j];
      ASSERT_EQ(intersects(ga, gb), touch) << i << " " << j;
      ASSERT_EQ(within(ga, gb), a_in_b) << i << " " << j;
      ASSERT_EQ(contains(ga, gb), b_in_a) << i << " " << j;
      ASSERT_EQ(overlaps(ga, gb), open && !a_in_b && !b_in_a) << i << " " << j;
      ASSERT_EQ(distanceMeters(ga, gb) == 0.0, touch) << i << " " << j;
      counts[0] += touch;
      counts[1] += open;
      counts[2] += a_in_b;
      counts[3] += open && !a_in_b && !b_in_a;
    }
  }
  // Lattice points (and half-way points) against every rectangle.
  for (size_t k = 0; k < rects.size(); ++k) {
    const R& r = rects[k];
    for (int hx = 0; hx <= 8; ++hx) {
      for (int hy = 0; hy <= 8; ++hy) {
        const Geometry p = pt(107.5 + 0.005 * hx, 16.4 + 0.005 * hy);
        const bool closed = hx >= 2 * r.x0 && hx <= 2 * r.x1 && hy >= 2 * r.y0 && hy <= 2 * r.y1;
        const bool strict = hx > 2 * r.x0 && hx < 2 * r.x1 && hy > 2 * r.y0 && hy < 2 * r.y1;
        ASSERT_EQ(intersects(p, geoms[k]), closed) << k << " " << hx << " " << hy;
        ASSERT_EQ(within(p, geoms[k]), strict) << k << " " << hx << " " << hy;
      }
    }
  }
  // Horizontal and vertical segments (in half steps) against every rectangle, and collinear
  // horizontal segments against each other.
  struct S {
    int a, b, c;  // from a to b (half steps) at c (half steps)
  };
  std::vector<S> segs;
  for (int a = 0; a <= 8; ++a) {
    for (int b = a + 1; b <= 8; ++b) {
      for (int c = 0; c <= 8; ++c) segs.push_back({a, b, c});
    }
  }
  const auto hx = [](int h) { return 107.5 + 0.005 * h; };
  const auto hy = [](int h) { return 16.4 + 0.005 * h; };
  for (const S& sg : segs) {
    const Geometry horizontal = line({{hx(sg.a), hy(sg.c)}, {hx(sg.b), hy(sg.c)}});
    const Geometry vertical = line({{hx(sg.c), hy(sg.a)}, {hx(sg.c), hy(sg.b)}});
    for (size_t k = 0; k < rects.size(); ++k) {
      const R& r = rects[k];
      const int x0 = 2 * r.x0, x1 = 2 * r.x1, y0 = 2 * r.y0, y1 = 2 * r.y1;
      const bool h_meets = y0 <= sg.c && sg.c <= y1 && sg.a <= x1 && x0 <= sg.b;
      const bool h_within = y0 < sg.c && sg.c < y1 && x0 <= sg.a && sg.b <= x1;
      ASSERT_EQ(intersects(horizontal, geoms[k]), h_meets) << k << " h " << sg.a << sg.b << sg.c;
      ASSERT_EQ(within(horizontal, geoms[k]), h_within) << k << " h " << sg.a << sg.b << sg.c;
      const bool v_meets = x0 <= sg.c && sg.c <= x1 && sg.a <= y1 && y0 <= sg.b;
      const bool v_within = x0 < sg.c && sg.c < x1 && y0 <= sg.a && sg.b <= y1;
      ASSERT_EQ(intersects(vertical, geoms[k]), v_meets) << k << " v " << sg.a << sg.b << sg.c;
      ASSERT_EQ(within(vertical, geoms[k]), v_within) << k << " v " << sg.a << sg.b << sg.c;
    }
  }
  for (const S& s1 : segs) {
    if (s1.c != 4) continue;
    const Geometry l1 = line({{hx(s1.a), hy(4)}, {hx(s1.b), hy(4)}});
    for (const S& s2 : segs) {
      if (s2.c != 4) continue;
      const Geometry l2 = line({{hx(s2.a), hy(4)}, {hx(s2.b), hy(4)}});
      const bool meets = s1.a <= s2.b && s2.a <= s1.b;
      const bool shared = s1.a < s2.b && s2.a < s1.b;
      const bool in = s2.a <= s1.a && s1.b <= s2.b;
      const bool in_rev = s1.a <= s2.a && s2.b <= s1.b;
      ASSERT_EQ(intersects(l1, l2), meets);
      ASSERT_EQ(within(l1, l2), in);
      ASSERT_EQ(overlaps(l1, l2), shared && !in && !in_rev) << s1.a << s1.b << " " << s2.a << s2.b;
    }
  }
  // The lattice exercises every outcome.
  for (int c : counts) EXPECT_GT(c, 100);
}

TEST(GeoInteriorPoint, InsideAndCentroid) {
  const Polygon holed = {rect(0, 0, 10, 10), rect(4, 4, 6, 6)};
  const auto ip = interiorPoint(holed);
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(refInside(*ip, holed));
  EXPECT_GT(refEdgeDistance(*ip, holed), 0.1);
  // The centroid of a symmetric holed square is its centre, which lies in the hole.
  const Position c = centroid(holed);
  EXPECT_NEAR(c.lon, 5, 1e-12);
  EXPECT_NEAR(c.lat, 5, 1e-12);
  EXPECT_FALSE(within(pt(c.lon, c.lat), poly(holed)));
  // An L shape: centroid by hand. Areas 4 (0..2 x 0..2) and 2 (2..4 x 0..1).
  const Polygon ell = {Ring{{0, 0}, {4, 0}, {4, 1}, {2, 1}, {2, 2}, {0, 2}, {0, 0}}};
  const Position lc = centroid(ell);
  EXPECT_NEAR(lc.lon, (4 * 1.0 + 2 * 3.0) / 6, 1e-12);
  EXPECT_NEAR(lc.lat, (4 * 1.0 + 2 * 0.5) / 6, 1e-12);
  // Clockwise rings give the same centroid.
  Polygon cw = ell;
  std::reverse(cw[0].begin(), cw[0].end());
  EXPECT_NEAR(centroid(cw).lon, lc.lon, 1e-12);
  // No area: no interior point.
  EXPECT_FALSE(interiorPoint({Ring{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}).has_value());
}

// ---------------------------------------------------------------------------------------------
// PointGrid

std::vector<uint32_t> bruteBox(const std::vector<std::optional<Position>>& pts, const BBox& box) {
  std::vector<uint32_t> out;
  for (uint32_t id = 0; id < pts.size(); ++id) {
    if (pts[id] && box.contains(pts[id]->lon, pts[id]->lat)) out.push_back(id);
  }
  return out;
}

std::vector<uint32_t> bruteNear(const std::vector<std::optional<Position>>& pts, Position c,
                                double m) {
  std::vector<uint32_t> out;
  for (uint32_t id = 0; id < pts.size(); ++id) {
    if (pts[id] && haversineMeters(c, *pts[id]) <= m) out.push_back(id);
  }
  return out;
}

TEST(GeoPointGrid, MatchesBruteForceInHue) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> lon(107.4, 107.8);
  std::uniform_real_distribution<double> lat(16.3, 16.6);
  std::uniform_real_distribution<double> unit(0, 1);
  constexpr uint32_t kN = 10000;
  std::vector<std::optional<Position>> pts(kN);
  PointGrid grid;
  for (uint32_t id = 0; id < kN; ++id) {
    pts[id] = Position{lon(rng), lat(rng)};
    ASSERT_TRUE(grid.insert(id, pts[id]->lon, pts[id]->lat));
  }
  EXPECT_EQ(grid.size(), kN);

  const auto check = [&](const char* phase) {
    for (int q = 0; q < 150; ++q) {
      // Boxes from tiny to larger than the area (walking all occupied cells).
      const double w = q % 10 == 0 ? 1.0 : 0.2 * unit(rng) * unit(rng);
      const double x = 107.4 + unit(rng) * 0.4 - w / 2;
      const double y = 16.3 + unit(rng) * 0.3 - w / 2;
      const BBox box{x, y, x + w, y + w * 0.7};
      ASSERT_EQ(grid.query(box), bruteBox(pts, box)) << phase << " box " << q;
    }
    for (int q = 0; q < 60; ++q) {
      const Position c{lon(rng), lat(rng)};
      const double m = q % 3 == 0 ? 100.0 : 5000.0 * unit(rng);
      ASSERT_EQ(grid.queryNear(c, m), bruteNear(pts, c, m)) << phase << " near " << q;
    }
  };
  check("after insert");

  // A box whose edge passes exactly through a point includes it.
  const Position p7 = *pts[7];
  const auto edge = grid.query(BBox{p7.lon, p7.lat, p7.lon + 0.001, p7.lat + 0.001});
  EXPECT_TRUE(std::binary_search(edge.begin(), edge.end(), 7u));
  EXPECT_TRUE(std::binary_search(edge.begin(), edge.end(), 7u));
  const auto self = grid.queryNear(p7, 0);
  EXPECT_TRUE(std::binary_search(self.begin(), self.end(), 7u));

  // Remove a third, move a tenth, re-check.
  for (uint32_t id = 0; id < kN; id += 3) {
    ASSERT_TRUE(grid.remove(id));
    pts[id].reset();
  }
  EXPECT_FALSE(grid.remove(0));
  EXPECT_FALSE(grid.remove(kN + 5));
  for (uint32_t id = 1; id < kN; id += 10) {
    pts[id] = Position{lon(rng), lat(rng)};
    ASSERT_TRUE(grid.insert(id, pts[id]->lon, pts[id]->lat));  // insert again moves it
  }
  const auto live = static_cast<size_t>(
      std::count_if(pts.begin(), pts.end(), [](const auto& p) { return p.has_value(); }));
  EXPECT_EQ(grid.size(), live);
  EXPECT_FALSE(grid.find(0).has_value());
  ASSERT_TRUE(grid.find(1).has_value());
  EXPECT_EQ(grid.find(1)->lon, pts[1]->lon);
  check("after remove and move");

  // Invalid positions are refused without changing anything.
  EXPECT_FALSE(grid.insert(1, 181, 16));
  EXPECT_FALSE(grid.insert(1, 107, std::nan("")));
  EXPECT_EQ(grid.find(1)->lon, pts[1]->lon);
  EXPECT_TRUE(grid.query(BBox{1, 1, 0, 0}).empty());  // inverted box
  EXPECT_TRUE(grid.queryNear({107.6, 16.45}, -1).empty());
  grid.clear();
  EXPECT_EQ(grid.size(), 0u);
  EXPECT_TRUE(grid.query(BBox{-180, -90, 180, 90}).empty());
}

TEST(GeoPointGrid, HundredThousandPoints) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> lon(107.4, 107.8);
  std::uniform_real_distribution<double> lat(16.3, 16.6);
  std::vector<std::optional<Position>> pts(100000);
  PointGrid grid(0.005);
  for (uint32_t id = 0; id < pts.size(); ++id) {
    pts[id] = Position{lon(rng), lat(rng)};
    grid.insert(id, pts[id]->lon, pts[id]->lat);
  }
  for (int q = 0; q < 5; ++q) {
    const Position c{lon(rng), lat(rng)};
    const auto got = grid.queryNear(c, 1000);
    EXPECT_EQ(got, bruteNear(pts, c, 1000));
    EXPECT_GT(got.size(), 50u);  // about 100,000 * pi / (0.4 * 0.3 * 111^2 * cos 16.5) ~ 220
  }
}

// ---------------------------------------------------------------------------------------------
// Huế ward boundaries (2025), when the shared data set is present.

struct Ward {
  std::string code_name;
  std::string name;
  Geometry geometry;
};

size_t g_ward_features = 0;  // features in the file, parsed or not

// Parsed once for all the tests below (the file is 2.7 MB).
const std::vector<Ward>& loadWards() {
  static const std::vector<Ward> wards = [] {
    const std::filesystem::path path = IOC_SOURCE_DIR "/../shared/data/geo/hue_wards_2025.geojson";
    std::vector<Ward> out;
    if (!std::filesystem::exists(path)) return out;
    std::ifstream in(path);
    const json fc = json::parse(in);
    g_ward_features = fc.at("features").size();
    for (const json& f : fc.at("features")) {
      auto g = parseGeoJson(f.at("geometry"));
      EXPECT_TRUE(g.ok()) << f.at("properties").dump() << ": " << (g.ok() ? "" : g.error().message);
      if (!g.ok()) continue;
      out.push_back(Ward{f.at("properties").at("codeName").get<std::string>(),
                         f.at("properties").at("name").get<std::string>(), std::move(g.value())});
    }
    return out;
  }();
  return wards;
}

const Ward* findWard(const std::vector<Ward>& wards, const std::string& code_name) {
  for (const Ward& w : wards) {
    if (w.code_name == code_name) return &w;
  }
  return nullptr;
}

TEST(GeoHueWards, EveryWardParsesAndOwnsItsInteriorPoint) {
  const auto& wards = loadWards();
  if (wards.empty()) GTEST_SKIP() << "hue_wards_2025.geojson not present";
  EXPECT_EQ(wards.size(), g_ward_features);  // every feature parsed
  EXPECT_EQ(wards.size(), 40u);              // the 40 wards and communes in this data set
  for (const Ward& w : wards) {
    ASSERT_EQ(w.geometry.type, GeometryType::kMultiPolygon) << w.name;
    const BBox box = bbox(w.geometry);
    EXPECT_GE(box.min_lon, 107.0) << w.name;
    EXPECT_LE(box.max_lon, 108.3) << w.name;
    // The interior point of the ward's largest polygon is within that ward and no other.
    const Polygon* largest = &w.geometry.polygons.front();
    for (const Polygon& p : w.geometry.polygons) {
      if (p.front().size() > largest->front().size()) largest = &p;
    }
    const auto ip = interiorPoint(*largest);
    ASSERT_TRUE(ip.has_value()) << w.name;
    EXPECT_TRUE(refInside(*ip, *largest)) << w.name;
    int owners = 0;
    for (const Ward& other : wards) {
      if (within(pt(ip->lon, ip->lat), other.geometry)) {
        ++owners;
        EXPECT_EQ(other.code_name, w.code_name) << w.name << " point also in " << other.name;
      }
    }
    EXPECT_EQ(owners, 1) << w.name;
  }
}

TEST(GeoHueWards, ThuanHoa) {
  const auto& wards = loadWards();
  if (wards.empty()) GTEST_SKIP() << "hue_wards_2025.geojson not present";
  const Ward* th = findWard(wards, "thuan_hoa");
  ASSERT_NE(th, nullptr);
  ASSERT_EQ(th->geometry.polygons.size(), 1u);
  const Polygon& shape = th->geometry.polygons.front();

  // Its centroid, if the independent ray cast says the centroid is inside (and not within a
  // hair of the edge); otherwise the computed interior point, checked the same way.
  const Position c = centroid(shape);
  const bool centroid_inside = refInside(c, shape) && refEdgeDistance(c, shape) > 1e-6;
  const Position probe = centroid_inside ? c : interiorPoint(shape).value();
  ASSERT_TRUE(refInside(probe, shape));
  RecordProperty("probe", (centroid_inside ? std::string("centroid ") : std::string("interior ")) +
                              std::to_string(probe.lon) + "," + std::to_string(probe.lat));
  EXPECT_TRUE(within(pt(probe.lon, probe.lat), th->geometry));
  EXPECT_TRUE(rel("within", pt(probe.lon, probe.lat), th->geometry));
  EXPECT_TRUE(rel("intersects", th->geometry, pt(probe.lon, probe.lat)));
  EXPECT_TRUE(rel("contains", th->geometry, pt(probe.lon, probe.lat)));
  EXPECT_EQ(distanceMeters(pt(probe.lon, probe.lat), th->geometry), 0.0);

  // Landmarks as this data set places them (each also checked by the reference ray cast): Huế
  // railway station in Thuận Hoá, the Citadel across the river in Phú Xuân.
  const Geometry station = pt(107.5764, 16.4561);
  const Geometry citadel = pt(107.5785, 16.4698);
  EXPECT_TRUE(refInside({107.5764, 16.4561}, shape));
  EXPECT_TRUE(rel("within", station, th->geometry));
  EXPECT_FALSE(rel("within", citadel, th->geometry));
  EXPECT_TRUE(rel("disjoint", citadel, th->geometry));
  EXPECT_GT(distanceMeters(citadel, th->geometry), 0.0);
  EXPECT_LT(distanceMeters(citadel, th->geometry), 1535.0);
  const Ward* px = findWard(wards, "phu_xuan");
  ASSERT_NE(px, nullptr);
  EXPECT_TRUE(rel("within", citadel, px->geometry));

  // Neighbouring wards share boundary: they touch but do not overlap, and neither is within the
  // other.
  EXPECT_TRUE(rel("intersects", th->geometry, px->geometry));
  EXPECT_FALSE(rel("overlaps", th->geometry, px->geometry));
  EXPECT_FALSE(rel("within", th->geometry, px->geometry));
  EXPECT_TRUE(rel("equals", th->geometry, th->geometry));
  EXPECT_TRUE(rel("within", th->geometry, th->geometry));
}

// The intended use: the grid pre-selects by box, then within() decides.
TEST(GeoHueWards, GridThenWithinMatchesBruteForce) {
  const auto& wards = loadWards();
  if (wards.empty()) GTEST_SKIP() << "hue_wards_2025.geojson not present";
  const Ward* th = findWard(wards, "thuan_hoa");
  ASSERT_NE(th, nullptr);
  const BBox box = bbox(th->geometry);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> lon(box.min_lon - 0.02, box.max_lon + 0.02);
  std::uniform_real_distribution<double> lat(box.min_lat - 0.02, box.max_lat + 0.02);
  PointGrid grid;
  std::vector<Position> pts;
  for (uint32_t id = 0; id < 3000; ++id) {
    pts.push_back({lon(rng), lat(rng)});
    grid.insert(id, pts.back().lon, pts.back().lat);
  }
  std::vector<uint32_t> via_grid;
  for (uint32_t id : grid.query(box)) {
    if (within(pt(pts[id].lon, pts[id].lat), th->geometry)) via_grid.push_back(id);
  }
  std::vector<uint32_t> brute;
  for (uint32_t id = 0; id < pts.size(); ++id) {
    if (refInside(pts[id], th->geometry.polygons.front())) brute.push_back(id);
  }
  EXPECT_EQ(via_grid, brute);
  EXPECT_GT(brute.size(), 100u);
}

}  // namespace
}  // namespace ioc::ngsild::geo
