#include "ngsild/geo.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <utility>

namespace ioc::ngsild::geo {
namespace {

using core::Errc;
using json = ioc::Json;

constexpr double kDegToRad = std::numbers::pi / 180.0;
constexpr int kMaxCollectionDepth = 8;  // GeometryCollections nested deeper are refused
constexpr int kMaxQueryNesting = 16;    // brackets in a query's coordinates string

// ---------------------------------------------------------------------------------------------
// Parsing

std::string fmtNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array: {
      if (j.empty()) return "an empty array";
      const bool all_numbers =
          std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_number(); });
      if (all_numbers) {
        return "an array of " + std::to_string(j.size()) + (j.size() == 1 ? " number" : " numbers");
      }
      if (j.front().is_array()) return "an array of arrays";
      return "an array of mixed values";
    }
    default:
      return "an unsupported JSON value";
  }
}

// How deeply arrays nest along the first element of each level, or -1 if an empty array ends the
// chain (then the size checks give the better message).
int nestingDepth(const json& j) {
  int depth = 0;
  const json* cur = &j;
  while (cur->is_array()) {
    ++depth;
    if (cur->empty()) return -1;
    cur = &cur->front();
  }
  return depth;
}

int expectedDepth(GeometryType t) {
  switch (t) {
    case GeometryType::kPoint:
      return 1;
    case GeometryType::kMultiPoint:
    case GeometryType::kLineString:
      return 2;
    case GeometryType::kMultiLineString:
    case GeometryType::kPolygon:
      return 3;
    case GeometryType::kMultiPolygon:
      return 4;
    case GeometryType::kGeometryCollection:
      return 0;
  }
  return 0;
}

const char* depthShape(GeometryType t) {
  switch (t) {
    case GeometryType::kPoint:
      return "a position [longitude, latitude]";
    case GeometryType::kMultiPoint:
    case GeometryType::kLineString:
      return "an array of positions";
    case GeometryType::kMultiLineString:
      return "an array of lines (arrays of positions)";
    case GeometryType::kPolygon:
      return "an array of rings (arrays of positions)";
    case GeometryType::kMultiPolygon:
      return "an array of polygons (arrays of rings of positions)";
    case GeometryType::kGeometryCollection:
      return "members";
  }
  return "";
}

std::optional<GeometryType> typeFromName(std::string_view name) {
  static constexpr std::pair<std::string_view, GeometryType> kNames[] = {
      {"Point", GeometryType::kPoint},
      {"MultiPoint", GeometryType::kMultiPoint},
      {"LineString", GeometryType::kLineString},
      {"MultiLineString", GeometryType::kMultiLineString},
      {"Polygon", GeometryType::kPolygon},
      {"MultiPolygon", GeometryType::kMultiPolygon},
      {"GeometryCollection", GeometryType::kGeometryCollection},
  };
  for (const auto& [n, t] : kNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

// Reads one geometry; on failure sets err_ (a complete message) and returns false.
class Reader {
 public:
  const std::string& error() const { return err_; }

  bool geometry(const json& j, const std::string& where, int depth, Geometry& out) {
    const std::string at = where.empty() ? "GeoJSON geometry" : where;
    if (!j.is_object())
      return fail(at + ": expected a GeoJSON geometry object, got " + describe(j));
    const auto type_it = j.find("type");
    if (type_it == j.end() || !type_it->is_string()) {
      return fail(at + ": missing \"type\" (a string such as \"Point\")");
    }
    const auto& name = type_it->get_ref<const std::string&>();
    if (name == "Feature" || name == "FeatureCollection") {
      return fail(at + ": expected a geometry, got a " + name);
    }
    const auto type = typeFromName(name);
    if (!type) return fail(at + ": unknown geometry type \"" + name + "\"");
    out.type = *type;
    if (*type == GeometryType::kGeometryCollection) {
      if (depth >= kMaxCollectionDepth) {
        return fail(at + ": GeometryCollections nested more than " +
                    std::to_string(kMaxCollectionDepth) + " deep");
      }
      const auto g_it = j.find("geometries");
      if (g_it == j.end() || !g_it->is_array()) {
        return fail(at + ": GeometryCollection needs a \"geometries\" array");
      }
      if (g_it->empty()) return fail(at + ": GeometryCollection has no geometries");
      for (size_t i = 0; i < g_it->size(); ++i) {
        Geometry member;
        const std::string member_at = (where.empty() ? std::string("GeometryCollection") : where) +
                                      " geometries[" + std::to_string(i) + "]";
        if (!geometry((*g_it)[i], member_at, depth + 1, member)) return false;
        out.members.push_back(std::move(member));
      }
      return true;
    }
    const auto c_it = j.find("coordinates");
    if (c_it == j.end()) return fail(prefix(where, name) + ": missing \"coordinates\"");
    return coordinates(*type, *c_it, prefix(where, name), out);
  }

  bool coordinates(GeometryType type, const json& c, const std::string& label, Geometry& out) {
    out.type = type;
    const std::string at = label + " coordinates";
    if (!c.is_array()) {
      return fail(at + ": expected " + depthShape(type) + ", got " + describe(c));
    }
    const int depth = nestingDepth(c);
    const int want = expectedDepth(type);
    if (depth != -1 && depth != want) {
      return fail(at + ": expected " + depthShape(type) + " (arrays nested " +
                  std::to_string(want) + " deep), got arrays nested " + std::to_string(depth) +
                  " deep");
    }
    switch (type) {
      case GeometryType::kPoint: {
        Position p;
        if (!position(c, at, p)) return false;
        out.points.push_back(p);
        return true;
      }
      case GeometryType::kMultiPoint:
        return positions(c, at, 1, "MultiPoint needs at least 1 position", out.points);
      case GeometryType::kLineString: {
        LineString line;
        if (!positions(c, at, 2, "a LineString needs at least 2 positions", line)) return false;
        out.lines.push_back(std::move(line));
        return true;
      }
      case GeometryType::kMultiLineString: {
        if (!nonEmptyArray(c, at, "MultiLineString needs at least 1 line")) return false;
        for (size_t i = 0; i < c.size(); ++i) {
          LineString line;
          if (!positions(c[i], at + "[" + std::to_string(i) + "]", 2,
                         "a LineString needs at least 2 positions", line)) {
            return false;
          }
          out.lines.push_back(std::move(line));
        }
        return true;
      }
      case GeometryType::kPolygon: {
        Polygon poly;
        if (!polygon(c, at, poly)) return false;
        out.polygons.push_back(std::move(poly));
        return true;
      }
      case GeometryType::kMultiPolygon: {
        if (!nonEmptyArray(c, at, "MultiPolygon needs at least 1 polygon")) return false;
        for (size_t i = 0; i < c.size(); ++i) {
          Polygon poly;
          if (!polygon(c[i], at + "[" + std::to_string(i) + "]", poly)) return false;
          out.polygons.push_back(std::move(poly));
        }
        return true;
      }
      case GeometryType::kGeometryCollection:
        break;
    }
    return fail(at + ": GeometryCollection has no coordinates");
  }

 private:
  static std::string prefix(const std::string& where, const std::string& name) {
    return where.empty() ? name : where + " (" + name + ")";
  }

  bool fail(std::string message) {
    err_ = std::move(message);
    return false;
  }

  bool nonEmptyArray(const json& j, const std::string& at, const char* empty_message) {
    if (!j.is_array()) return fail(at + ": expected an array, got " + describe(j));
    if (j.empty()) return fail(at + ": " + empty_message);
    return true;
  }

  bool position(const json& j, const std::string& at, Position& out) {
    if (!j.is_array() || j.size() < 2 || j.size() > 3) {
      return fail(at + ": expected a position [longitude, latitude] (2 or 3 numbers), got " +
                  describe(j));
    }
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_number()) {
        return fail(at + "[" + std::to_string(i) + "]: expected a number, got " + describe(j[i]));
      }
      if (!std::isfinite(j[i].get<double>())) {
        return fail(at + "[" + std::to_string(i) + "]: not a finite number");
      }
    }
    const double lon = j[0].get<double>();
    const double lat = j[1].get<double>();
    if (lon < -180.0 || lon > 180.0) {
      return fail(at + ": longitude " + fmtNumber(lon) + " is outside [-180, 180]");
    }
    if (lat < -90.0 || lat > 90.0) {
      return fail(at + ": latitude " + fmtNumber(lat) + " is outside [-90, 90]");
    }
    out = Position{lon, lat};
    return true;
  }

  bool positions(const json& j, const std::string& at, size_t min_count, const char* too_few,
                 std::vector<Position>& out) {
    if (!j.is_array()) return fail(at + ": expected an array of positions, got " + describe(j));
    if (j.size() < min_count) {
      return fail(at + ": " + too_few + ", got " + std::to_string(j.size()));
    }
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      Position p;
      if (!position(j[i], at + "[" + std::to_string(i) + "]", p)) return false;
      out.push_back(p);
    }
    return true;
  }

  bool polygon(const json& j, const std::string& at, Polygon& out) {
    if (!nonEmptyArray(j, at, "a Polygon needs an exterior ring")) return false;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string ring_at = at + "[" + std::to_string(i) + "]";
      Ring ring;
      if (!positions(j[i], ring_at, 4, "a ring needs at least 4 positions", ring)) return false;
      if (ring.front().lon != ring.back().lon || ring.front().lat != ring.back().lat) {
        return fail(ring_at + ": ring is not closed (first and last positions differ)");
      }
      out.push_back(std::move(ring));
    }
    return true;
  }

  std::string err_;
};

core::Error invalid(std::string message) {
  return core::makeError(Errc::kInvalidArgument, std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Planar primitives (degrees)

struct Seg {
  Position a;
  Position b;
};

enum class Loc { kExterior, kBoundary, kInterior };

bool samePos(Position p, Position q, double eps = kBoundaryEpsDeg) {
  return std::abs(p.lon - q.lon) <= eps && std::abs(p.lat - q.lat) <= eps;
}

double cross(Position o, Position a, Position b) {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

// Planar distance (degrees) from p to segment ab.
double segDistDeg(Position p, Position a, Position b) {
  const double dx = b.lon - a.lon;
  const double dy = b.lat - a.lat;
  const double len2 = dx * dx + dy * dy;
  double t = 0;
  if (len2 > 0) t = std::clamp(((p.lon - a.lon) * dx + (p.lat - a.lat) * dy) / len2, 0.0, 1.0);
  return std::hypot(p.lon - (a.lon + t * dx), p.lat - (a.lat + t * dy));
}

bool onSegment(Position p, Position a, Position b) {
  constexpr double e = kBoundaryEpsDeg;
  if (p.lon < std::min(a.lon, b.lon) - e || p.lon > std::max(a.lon, b.lon) + e ||
      p.lat < std::min(a.lat, b.lat) - e || p.lat > std::max(a.lat, b.lat) + e) {
    return false;
  }
  return segDistDeg(p, a, b) <= e;
}

bool segBoxesMeet(const Seg& s, const Seg& o) {
  constexpr double e = kBoundaryEpsDeg;
  return std::min(s.a.lon, s.b.lon) <= std::max(o.a.lon, o.b.lon) + e &&
         std::min(o.a.lon, o.b.lon) <= std::max(s.a.lon, s.b.lon) + e &&
         std::min(s.a.lat, s.b.lat) <= std::max(o.a.lat, o.b.lat) + e &&
         std::min(o.a.lat, o.b.lat) <= std::max(s.a.lat, s.b.lat) + e;
}

// Signed distance of p from the line through a and b (a != b), positive to the left.
double sideDist(Position a, Position b, Position p) {
  return cross(a, b, p) / std::hypot(b.lon - a.lon, b.lat - a.lat);
}

double param(const Seg& s, Position p) {
  const double dx = s.b.lon - s.a.lon;
  const double dy = s.b.lat - s.a.lat;
  const double len2 = dx * dx + dy * dy;
  if (len2 == 0) return 0;
  return std::clamp(((p.lon - s.a.lon) * dx + (p.lat - s.a.lat) * dy) / len2, 0.0, 1.0);
}

Position lerp(const Seg& s, double t) {
  return Position{s.a.lon + t * (s.b.lon - s.a.lon), s.a.lat + t * (s.b.lat - s.a.lat)};
}

// Where non-degenerate segments s and o meet: nothing (0), one point (1), or the two ends of a
// shared collinear stretch (2). Collinear and touching cases are decided with the epsilon.
int intersectSegments(const Seg& s, const Seg& o, Position out[2]) {
  if (!segBoxesMeet(s, o)) return 0;
  constexpr double e = kBoundaryEpsDeg;
  const double d1 = sideDist(o.a, o.b, s.a);
  const double d2 = sideDist(o.a, o.b, s.b);
  const double d3 = sideDist(s.a, s.b, o.a);
  const double d4 = sideDist(s.a, s.b, o.b);
  const bool s_straddles = (d1 > e && d2 < -e) || (d1 < -e && d2 > e);
  const bool o_straddles = (d3 > e && d4 < -e) || (d3 < -e && d4 > e);
  if (s_straddles && o_straddles) {
    const double c1 = cross(o.a, o.b, s.a);
    const double c2 = cross(o.a, o.b, s.b);
    out[0] = lerp(s, c1 / (c1 - c2));
    return 1;
  }
  Position found[4];
  int n = 0;
  if (onSegment(s.a, o.a, o.b)) found[n++] = s.a;
  if (onSegment(s.b, o.a, o.b)) found[n++] = s.b;
  if (onSegment(o.a, s.a, s.b)) found[n++] = o.a;
  if (onSegment(o.b, s.a, s.b)) found[n++] = o.b;
  if (n == 0) return 0;
  // The shared stretch runs between the extreme found points along s.
  int lo = 0;
  int hi = 0;
  for (int i = 1; i < n; ++i) {
    if (param(s, found[i]) < param(s, found[lo])) lo = i;
    if (param(s, found[i]) > param(s, found[hi])) hi = i;
  }
  out[0] = found[lo];
  if (samePos(found[lo], found[hi])) return 1;
  out[1] = found[hi];
  return 2;
}

Loc locateInPolygon(Position p, const Polygon& poly) {
  bool inside = false;
  for (const Ring& ring : poly) {
    for (size_t i = 1; i < ring.size(); ++i) {
      const Position a = ring[i - 1];
      const Position b = ring[i];
      if (onSegment(p, a, b)) return Loc::kBoundary;
      if ((a.lat > p.lat) != (b.lat > p.lat)) {
        const double x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
        if (p.lon < x) inside = !inside;
      }
    }
  }
  return inside ? Loc::kInterior : Loc::kExterior;
}

bool hasExtent(const std::vector<Position>& v) {
  return std::any_of(v.begin(), v.end(),
                     [&](Position p) { return p.lon != v.front().lon || p.lat != v.front().lat; });
}

BBox emptyBox() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  return BBox{inf, inf, -inf, -inf};
}

void grow(BBox& box, Position p) {
  box.min_lon = std::min(box.min_lon, p.lon);
  box.min_lat = std::min(box.min_lat, p.lat);
  box.max_lon = std::max(box.max_lon, p.lon);
  box.max_lat = std::max(box.max_lat, p.lat);
}

bool boxesMeet(const BBox& a, const BBox& b, double eps = kBoundaryEpsDeg) {
  return a.min_lon <= b.max_lon + eps && b.min_lon <= a.max_lon + eps &&
         a.min_lat <= b.max_lat + eps && b.min_lat <= a.max_lat + eps;
}

bool boxInside(const BBox& inner, const BBox& outer, double eps = kBoundaryEpsDeg) {
  return inner.min_lon >= outer.min_lon - eps && inner.max_lon <= outer.max_lon + eps &&
         inner.min_lat >= outer.min_lat - eps && inner.max_lat <= outer.max_lat + eps;
}

// A geometry taken apart into points, line segments and polygons (collections flattened,
// zero-length lines and polygons demoted to points, zero-length segments dropped).
struct Flat {
  std::vector<Position> points;
  std::vector<const LineString*> lines;
  std::vector<const Polygon*> polys;
  std::vector<Seg> line_segs;
  std::vector<Seg> ring_segs;
  std::vector<Position> line_ends;  // boundary of the lines (mod-2 rule)
  BBox box = emptyBox();
  bool empty = true;

  int dim() const {
    if (!polys.empty()) return 2;
    if (!lines.empty()) return 1;
    if (!points.empty()) return 0;
    return -1;
  }
};

void addSegments(const std::vector<Position>& v, std::vector<Seg>& out) {
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i - 1].lon != v[i].lon || v[i - 1].lat != v[i].lat) out.push_back(Seg{v[i - 1], v[i]});
  }
}

void addTo(Flat& f, const Geometry& g, bool ring_segs) {
  for (const Position& p : g.points) f.points.push_back(p);
  for (const LineString& line : g.lines) {
    if (line.empty()) continue;
    if (!hasExtent(line)) {
      f.points.push_back(line.front());
      continue;
    }
    f.lines.push_back(&line);
    addSegments(line, f.line_segs);
  }
  for (const Polygon& poly : g.polygons) {
    if (poly.empty() || poly.front().empty()) continue;
    if (!hasExtent(poly.front())) {
      f.points.push_back(poly.front().front());
      continue;
    }
    f.polys.push_back(&poly);
    for (const Ring& ring : poly) {
      if (ring_segs) addSegments(ring, f.ring_segs);
    }
    for (Position p : poly.front()) grow(f.box, p);  // holes lie inside the exterior ring
  }
  for (const Geometry& m : g.members) addTo(f, m, ring_segs);
}

// ring_segs = false leaves Flat::ring_segs empty: enough for locate() and for relating points,
// and it spares copying every edge of a large polygon.
Flat flatten(const Geometry& g, bool ring_segs = true) {
  Flat f;
  addTo(f, g, ring_segs);
  for (Position p : f.points) grow(f.box, p);
  for (const Seg& s : f.line_segs) grow(f.box, s.a), grow(f.box, s.b);
  f.empty = f.points.empty() && f.lines.empty() && f.polys.empty();
  // Line boundary: endpoints of open lines that occur an odd number of times.
  std::vector<Position> ends;
  for (const LineString* line : f.lines) {
    if (line->front().lon == line->back().lon && line->front().lat == line->back().lat) continue;
    ends.push_back(line->front());
    ends.push_back(line->back());
  }
  std::sort(ends.begin(), ends.end(), [](Position a, Position b) {
    return a.lon < b.lon || (a.lon == b.lon && a.lat < b.lat);
  });
  for (size_t i = 0; i < ends.size();) {
    size_t j = i;
    while (j < ends.size() && ends[j].lon == ends[i].lon && ends[j].lat == ends[i].lat) ++j;
    if ((j - i) % 2 == 1) f.line_ends.push_back(ends[i]);
    i = j;
  }
  return f;
}

bool boxHas(const BBox& box, Position p) {
  constexpr double e = kBoundaryEpsDeg;
  return p.lon >= box.min_lon - e && p.lon <= box.max_lon + e && p.lat >= box.min_lat - e &&
         p.lat <= box.max_lat + e;
}

Loc locatePolys(Position p, const Flat& f) {
  bool boundary = false;
  for (const Polygon* poly : f.polys) {
    const Loc l = locateInPolygon(p, *poly);
    if (l == Loc::kInterior) return l;
    if (l == Loc::kBoundary) boundary = true;
  }
  return boundary ? Loc::kBoundary : Loc::kExterior;
}

// Where p lies relative to f (OGC interior / boundary / exterior).
Loc locate(Position p, const Flat& f) {
  if (f.empty || !boxHas(f.box, p)) return Loc::kExterior;
  const Loc in_polys = locatePolys(p, f);
  if (in_polys != Loc::kExterior) return in_polys;
  for (const Seg& s : f.line_segs) {
    if (onSegment(p, s.a, s.b)) {
      for (Position e : f.line_ends) {
        if (samePos(p, e)) return Loc::kBoundary;
      }
      return Loc::kInterior;
    }
  }
  for (Position q : f.points) {
    if (samePos(p, q)) return Loc::kInterior;
  }
  return Loc::kExterior;
}

// Cuts s wherever it meets `other` (its segments and points) and reports the midpoint of every
// piece (each piece lies wholly inside, on, or outside every part of `other`) and, if asked, the
// cut points themselves. Stops early when a callback returns true; returns whether it did.
template <typename OnMid, typename OnCut>
bool cutSegment(const Seg& s, const Flat& other, std::vector<double>& ts, OnMid on_mid,
                OnCut on_cut) {
  ts.clear();
  ts.push_back(0.0);
  ts.push_back(1.0);
  Position pts[2];
  BBox sbox = emptyBox();
  grow(sbox, s.a);
  grow(sbox, s.b);
  if (boxesMeet(sbox, other.box)) {
    for (const auto* segs : {&other.line_segs, &other.ring_segs}) {
      for (const Seg& o : *segs) {
        const int n = intersectSegments(s, o, pts);
        for (int i = 0; i < n; ++i) ts.push_back(param(s, pts[i]));
      }
    }
    for (Position q : other.points) {
      if (onSegment(q, s.a, s.b)) ts.push_back(param(s, q));
    }
  }
  std::sort(ts.begin(), ts.end());
  const double len = std::hypot(s.b.lon - s.a.lon, s.b.lat - s.a.lat);
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i > 0 && (ts[i] - ts[i - 1]) * len > 2 * kBoundaryEpsDeg) {
      if (on_mid(lerp(s, 0.5 * (ts[i - 1] + ts[i])))) return true;
    }
    if (on_cut(lerp(s, ts[i]))) return true;
  }
  return false;
}

constexpr auto kIgnore = [](Position) { return false; };

// Every point of a lies in b's closure (no point of a in b's exterior).
bool coveredBy(const Flat& a, const Flat& b) {
  if (a.empty || b.empty || a.dim() > b.dim() || !boxInside(a.box, b.box)) return false;
  for (Position p : a.points) {
    if (locate(p, b) == Loc::kExterior) return false;
  }
  std::vector<double> ts;
  const auto outside = [&](Position m) { return locate(m, b) == Loc::kExterior; };
  for (const auto* segs : {&a.line_segs, &a.ring_segs}) {
    for (const Seg& s : *segs) {
      if (cutSegment(s, b, ts, outside, kIgnore)) return false;
    }
  }
  if (a.polys.empty()) return true;
  // a's boundary lies in b; a hole (or other exterior part) of b could still sit inside a's
  // interior. Then some stretch of b's rings runs through a's interior, or, if b's rings touch
  // a's interior nowhere, a whole polygon of a lies in b's exterior: its interior point shows it.
  const auto hole_edge = [&](Position m) {
    return locatePolys(m, a) == Loc::kInterior && locatePolys(m, b) == Loc::kBoundary;
  };
  for (const Seg& s : b.ring_segs) {
    BBox sbox = emptyBox();
    grow(sbox, s.a);
    grow(sbox, s.b);
    if (!boxesMeet(sbox, a.box)) continue;
    if (cutSegment(s, a, ts, hole_edge, kIgnore)) return false;
  }
  for (const Polygon* poly : a.polys) {
    const auto ip = interiorPoint(*poly);
    if (ip && locatePolys(*ip, b) == Loc::kExterior) return false;
  }
  return true;
}

// The interiors of a and b share a point. Checks every place where that can first happen:
// points, cut points and piece midpoints of either side's segments, and polygon interior points.
// A piece of a polygon's edge inside the other side's polygon interior is enough on its own: the
// polygon's interior runs alongside its edge, inside that (open) interior too.
bool interiorsMeet(const Flat& a, const Flat& b) {
  if (a.empty || b.empty || !boxesMeet(a.box, b.box)) return false;
  // `first` is the side that did not produce the candidate: it is usually the quicker "no".
  const auto both = [](Position p, const Flat& first, const Flat& second) {
    return locate(p, first) == Loc::kInterior && locate(p, second) == Loc::kInterior;
  };
  for (Position p : a.points) {
    if (both(p, b, a)) return true;
  }
  for (Position p : b.points) {
    if (both(p, a, b)) return true;
  }
  std::vector<double> ts;
  const auto line_a = [&](Position p) { return both(p, b, a); };
  const auto line_b = [&](Position p) { return both(p, a, b); };
  const auto edge_a = [&](Position p) { return locatePolys(p, b) == Loc::kInterior; };
  const auto edge_b = [&](Position p) { return locatePolys(p, a) == Loc::kInterior; };
  for (const Seg& s : a.line_segs) {
    if (cutSegment(s, b, ts, line_a, line_a)) return true;
  }
  for (const Seg& s : b.line_segs) {
    if (cutSegment(s, a, ts, line_b, line_b)) return true;
  }
  if (!b.polys.empty()) {
    for (const Seg& s : a.ring_segs) {
      if (cutSegment(s, b, ts, edge_a, edge_a)) return true;
    }
  }
  if (!a.polys.empty()) {
    for (const Seg& s : b.ring_segs) {
      if (cutSegment(s, a, ts, edge_b, edge_b)) return true;
    }
  }
  for (const Polygon* poly : a.polys) {
    const auto ip = interiorPoint(*poly);
    if (ip && both(*ip, b, a)) return true;
  }
  for (const Polygon* poly : b.polys) {
    const auto ip = interiorPoint(*poly);
    if (ip && both(*ip, a, b)) return true;
  }
  return false;
}

bool intersectsFlat(const Flat& a, const Flat& b) {
  if (a.empty || b.empty || !boxesMeet(a.box, b.box)) return false;
  Position pts[2];
  for (const auto* sa : {&a.line_segs, &a.ring_segs}) {
    for (const Seg& s : *sa) {
      for (const auto* sb : {&b.line_segs, &b.ring_segs}) {
        for (const Seg& o : *sb) {
          if (intersectSegments(s, o, pts) > 0) return true;
        }
      }
    }
  }
  // No edges meet, so each line or ring lies wholly inside or outside the other side: one vertex
  // of each tells.
  const auto any_inside = [](const Flat& x, const Flat& y) {
    for (Position p : x.points) {
      if (locate(p, y) != Loc::kExterior) return true;
    }
    for (const LineString* line : x.lines) {
      if (locate(line->front(), y) != Loc::kExterior) return true;
    }
    for (const Polygon* poly : x.polys) {
      if (locate(poly->front().front(), y) != Loc::kExterior) return true;
    }
    return false;
  };
  return any_inside(a, b) || any_inside(b, a);
}

bool withinFlat(const Flat& a, const Flat& b) {
  if (a.empty || b.empty || a.dim() > b.dim() || !boxInside(a.box, b.box)) return false;
  if (a.lines.empty() && a.polys.empty()) {  // points only: the common case, kept cheap
    bool interior = false;
    for (Position p : a.points) {
      const Loc l = locate(p, b);
      if (l == Loc::kExterior) return false;
      if (l == Loc::kInterior) interior = true;
    }
    return interior;
  }
  return coveredBy(a, b) && interiorsMeet(a, b);
}

// ---------------------------------------------------------------------------------------------
// Distances

// Point to segment, metres: closest point found in a local equirectangular projection centred on
// p, then measured exactly (haversine) to that point of the segment.
double pointSegMeters(Position p, const Seg& s) {
  const double k = std::cos(p.lat * kDegToRad);
  const double ax = (s.a.lon - p.lon) * k;
  const double ay = s.a.lat - p.lat;
  const double dx = (s.b.lon - s.a.lon) * k;
  const double dy = s.b.lat - s.a.lat;
  const double len2 = dx * dx + dy * dy;
  double t = 0;
  if (len2 > 0) t = std::clamp(-(ax * dx + ay * dy) / len2, 0.0, 1.0);
  return haversineMeters(p, lerp(s, t));
}

// A lower bound on the great-circle distance between any point of box x and any of box y.
double lowerBoundMeters(const BBox& x, const BBox& y) {
  const double lat_gap = std::max({0.0, x.min_lat - y.max_lat, y.min_lat - x.max_lat});
  double lon_gap = std::max({0.0, x.min_lon - y.max_lon, y.min_lon - x.max_lon}) * kDegToRad;
  lon_gap = std::min(lon_gap, std::numbers::pi);
  const double max_abs_lat = std::max(
      {std::abs(x.min_lat), std::abs(x.max_lat), std::abs(y.min_lat), std::abs(y.max_lat)});
  // hav(d) >= cos^2(lat_max) hav(dlon), so d >= 2 asin(cos(lat_max) sin(dlon/2))
  //                                        >= cos(lat_max) dlon (1 - dlon^2 / 24).
  const double lon_bound =
      std::cos(max_abs_lat * kDegToRad) * lon_gap * (1.0 - lon_gap * lon_gap / 24.0);
  return kEarthRadiusM * std::max(lat_gap * kDegToRad, lon_bound);
}

BBox segBox(const Seg& s) {
  BBox b = emptyBox();
  grow(b, s.a);
  grow(b, s.b);
  return b;
}

BBox pointBox(Position p) {
  return BBox{p.lon, p.lat, p.lon, p.lat};
}

double distanceFlat(const Flat& a, const Flat& b) {
  if (a.empty || b.empty) return std::numeric_limits<double>::infinity();
  if (intersectsFlat(a, b)) return 0.0;
  double best = std::numeric_limits<double>::infinity();
  std::vector<Seg> sa = a.line_segs;
  sa.insert(sa.end(), a.ring_segs.begin(), a.ring_segs.end());
  std::vector<Seg> sb = b.line_segs;
  sb.insert(sb.end(), b.ring_segs.begin(), b.ring_segs.end());
  for (Position p : a.points) {
    for (Position q : b.points) best = std::min(best, haversineMeters(p, q));
    for (const Seg& s : sb) {
      if (lowerBoundMeters(pointBox(p), segBox(s)) < best) {
        best = std::min(best, pointSegMeters(p, s));
      }
    }
  }
  for (Position q : b.points) {
    for (const Seg& s : sa) {
      if (lowerBoundMeters(pointBox(q), segBox(s)) < best) {
        best = std::min(best, pointSegMeters(q, s));
      }
    }
  }
  for (const Seg& s : sa) {
    const BBox s_box = segBox(s);
    for (const Seg& o : sb) {
      if (lowerBoundMeters(s_box, segBox(o)) >= best) continue;
      // The segments do not cross, so the closest pair includes an endpoint.
      best = std::min({best, pointSegMeters(s.a, o), pointSegMeters(s.b, o), pointSegMeters(o.a, s),
                       pointSegMeters(o.b, s)});
    }
  }
  return best;
}

bool pointsOnly(const Geometry& g) {
  if (!g.lines.empty() || !g.polygons.empty()) return false;
  return std::all_of(g.members.begin(), g.members.end(), pointsOnly);
}

bool equalPositions(const std::vector<Position>& a, const std::vector<Position>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!samePos(a[i], b[i], kEqualsEpsDeg)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Georel

constexpr std::pair<std::string_view, GeoRelOp> kRelNames[] = {
    {"near", GeoRelOp::kNear},         {"within", GeoRelOp::kWithin},
    {"contains", GeoRelOp::kContains}, {"intersects", GeoRelOp::kIntersects},
    {"disjoint", GeoRelOp::kDisjoint}, {"equals", GeoRelOp::kEquals},
    {"overlaps", GeoRelOp::kOverlaps},
};

}  // namespace

std::string_view geometryTypeName(GeometryType type) {
  switch (type) {
    case GeometryType::kPoint:
      return "Point";
    case GeometryType::kMultiPoint:
      return "MultiPoint";
    case GeometryType::kLineString:
      return "LineString";
    case GeometryType::kMultiLineString:
      return "MultiLineString";
    case GeometryType::kPolygon:
      return "Polygon";
    case GeometryType::kMultiPolygon:
      return "MultiPolygon";
    case GeometryType::kGeometryCollection:
      return "GeometryCollection";
  }
  return "?";
}

Geometry Geometry::point(double lon, double lat) {
  Geometry g;
  g.type = GeometryType::kPoint;
  g.points.push_back(Position{lon, lat});
  return g;
}

int dimension(const Geometry& g) {
  switch (g.type) {
    case GeometryType::kPoint:
    case GeometryType::kMultiPoint:
      return 0;
    case GeometryType::kLineString:
    case GeometryType::kMultiLineString:
      return 1;
    case GeometryType::kPolygon:
    case GeometryType::kMultiPolygon:
      return 2;
    case GeometryType::kGeometryCollection: {
      int d = -1;
      for (const Geometry& m : g.members) d = std::max(d, dimension(m));
      return d;
    }
  }
  return -1;
}

core::Result<Geometry> parseGeoJson(const ioc::Json& j) {
  Reader reader;
  Geometry g;
  if (!reader.geometry(j, "", 0, g)) return invalid(reader.error());
  return g;
}

core::Result<Geometry> parseQueryGeometry(std::string_view geometry_type,
                                          std::string_view coordinates_json) {
  const auto type = typeFromName(geometry_type);
  if (!type) {
    return invalid("geometry: unknown type \"" + std::string(geometry_type) +
                   "\" (expected Point, MultiPoint, LineString, MultiLineString, Polygon or "
                   "MultiPolygon)");
  }
  if (*type == GeometryType::kGeometryCollection) {
    return invalid(
        "geometry: GeometryCollection cannot be used in a query (it has no coordinates)");
  }
  // Refuse absurd nesting before the JSON parser sees it.
  int depth = 0;
  for (char c : coordinates_json) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxQueryNesting) return invalid("coordinates: nested too deeply");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  const json parsed = json::parse(coordinates_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return invalid("coordinates: not valid JSON (expected a JSON array such as [8,40])");
  }
  Reader reader;
  Geometry g;
  if (!reader.coordinates(*type, parsed, std::string(geometry_type), g)) {
    return invalid(reader.error());
  }
  return g;
}

ioc::Json toGeoJson(const Geometry& g) {
  const auto pos = [](Position p) { return json::array({p.lon, p.lat}); };
  const auto list = [&](const std::vector<Position>& v) {
    json a = json::array();
    for (Position p : v) a.push_back(pos(p));
    return a;
  };
  const auto poly = [&](const Polygon& rings) {
    json a = json::array();
    for (const Ring& r : rings) a.push_back(list(r));
    return a;
  };
  json out = json::object();
  out["type"] = std::string(geometryTypeName(g.type));
  switch (g.type) {
    case GeometryType::kPoint:
      out["coordinates"] = g.points.empty() ? json::array() : pos(g.points.front());
      break;
    case GeometryType::kMultiPoint:
      out["coordinates"] = list(g.points);
      break;
    case GeometryType::kLineString:
      out["coordinates"] = g.lines.empty() ? json::array() : list(g.lines.front());
      break;
    case GeometryType::kMultiLineString: {
      json a = json::array();
      for (const LineString& l : g.lines) a.push_back(list(l));
      out["coordinates"] = std::move(a);
      break;
    }
    case GeometryType::kPolygon:
      out["coordinates"] = g.polygons.empty() ? json::array() : poly(g.polygons.front());
      break;
    case GeometryType::kMultiPolygon: {
      json a = json::array();
      for (const Polygon& p : g.polygons) a.push_back(poly(p));
      out["coordinates"] = std::move(a);
      break;
    }
    case GeometryType::kGeometryCollection: {
      json a = json::array();
      for (const Geometry& m : g.members) a.push_back(toGeoJson(m));
      out["geometries"] = std::move(a);
      break;
    }
  }
  return out;
}

BBox bbox(const Geometry& g) {
  BBox box = emptyBox();
  for (Position p : g.points) grow(box, p);
  for (const LineString& l : g.lines) {
    for (Position p : l) grow(box, p);
  }
  for (const Polygon& poly : g.polygons) {
    for (const Ring& r : poly) {
      for (Position p : r) grow(box, p);
    }
  }
  for (const Geometry& m : g.members) {
    const BBox mb = bbox(m);
    if (mb.min_lon <= mb.max_lon) {
      grow(box, Position{mb.min_lon, mb.min_lat});
      grow(box, Position{mb.max_lon, mb.max_lat});
    }
  }
  return box;
}

BBox expandBy(const BBox& box, double meters) {
  constexpr double kSlack = 1.0 + 1e-9;
  const double delta = std::max(0.0, meters) / kEarthRadiusM;  // angular radius
  BBox out = box;
  const double dlat = delta / kDegToRad * kSlack + 1e-12;
  out.min_lat = std::max(-90.0, box.min_lat - dlat);
  out.max_lat = std::min(90.0, box.max_lat + dlat);
  // The farthest a point delta away can differ in longitude grows with |latitude|; the box's
  // extreme latitude gives the bound (or the whole circle once a pole is within reach).
  const double lat_max = std::max(std::abs(box.min_lat), std::abs(box.max_lat)) * kDegToRad;
  const double c = std::cos(lat_max);
  if (delta >= std::numbers::pi / 2 || std::sin(delta) >= c) {
    out.min_lon = -180.0;
    out.max_lon = 180.0;
    if (std::sin(delta) >= c) {
      if (box.max_lat >= 0) out.max_lat = 90.0;
      if (box.min_lat <= 0) out.min_lat = -90.0;
    }
    return out;
  }
  const double dlon = std::asin(std::sin(delta) / c) / kDegToRad * kSlack + 1e-12;
  out.min_lon = std::max(-180.0, box.min_lon - dlon);
  out.max_lon = std::min(180.0, box.max_lon + dlon);
  return out;
}

double haversineMeters(Position a, Position b) {
  const double phi1 = a.lat * kDegToRad;
  const double phi2 = b.lat * kDegToRad;
  const double sdphi = std::sin((phi2 - phi1) / 2);
  const double sdlam = std::sin((b.lon - a.lon) * kDegToRad / 2);
  const double h = sdphi * sdphi + std::cos(phi1) * std::cos(phi2) * sdlam * sdlam;
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

double distanceMeters(const Geometry& a, const Geometry& b) {
  return distanceFlat(flatten(a), flatten(b));
}

bool intersects(const Geometry& a, const Geometry& b) {
  // With points on one side only locate() is needed on the other: skip its edge list.
  if (pointsOnly(a)) return intersectsFlat(flatten(a), flatten(b, false));
  if (pointsOnly(b)) return intersectsFlat(flatten(a, false), flatten(b));
  return intersectsFlat(flatten(a), flatten(b));
}

bool within(const Geometry& a, const Geometry& b) {
  return withinFlat(flatten(a), flatten(b, !pointsOnly(a)));
}

bool contains(const Geometry& a, const Geometry& b) {
  return within(b, a);
}

bool overlaps(const Geometry& a, const Geometry& b) {
  const Flat fa = flatten(a);
  const Flat fb = flatten(b);
  if (fa.empty || fb.empty || fa.dim() != fb.dim()) return false;
  if (!interiorsMeet(fa, fb) || coveredBy(fa, fb) || coveredBy(fb, fa)) return false;
  if (fa.dim() != 1) return true;
  // Two lines overlap only along a stretch, not where they merely cross.
  std::vector<double> ts;
  const auto shared = [&](Position m) { return locate(m, fb) == Loc::kInterior; };
  for (const Seg& s : fa.line_segs) {
    if (cutSegment(s, fb, ts, shared, kIgnore)) return true;
  }
  return false;
}

bool equals(const Geometry& a, const Geometry& b) {
  if (a.type != b.type || a.points.size() != b.points.size() || a.lines.size() != b.lines.size() ||
      a.polygons.size() != b.polygons.size() || a.members.size() != b.members.size()) {
    return false;
  }
  if (!equalPositions(a.points, b.points)) return false;
  for (size_t i = 0; i < a.lines.size(); ++i) {
    if (!equalPositions(a.lines[i], b.lines[i])) return false;
  }
  for (size_t i = 0; i < a.polygons.size(); ++i) {
    if (a.polygons[i].size() != b.polygons[i].size()) return false;
    for (size_t r = 0; r < a.polygons[i].size(); ++r) {
      if (!equalPositions(a.polygons[i][r], b.polygons[i][r])) return false;
    }
  }
  for (size_t i = 0; i < a.members.size(); ++i) {
    if (!equals(a.members[i], b.members[i])) return false;
  }
  return true;
}

std::optional<Position> interiorPoint(const Polygon& polygon) {
  std::vector<double> lats;
  for (const Ring& r : polygon) {
    for (Position p : r) lats.push_back(p.lat);
  }
  std::sort(lats.begin(), lats.end());
  lats.erase(std::unique(lats.begin(), lats.end()), lats.end());
  if (lats.size() < 2) return std::nullopt;
  // Scan lines half-way between consecutive distinct vertex latitudes never pass through a
  // vertex, so crossings pair up cleanly. Try up to 17 spread over the polygon.
  const size_t gaps = lats.size() - 1;
  constexpr size_t kTries = 17;
  std::optional<Position> best;
  double best_width = 0;
  std::vector<double> xs;
  size_t last = gaps;  // sentinel: no scan line tried yet
  for (size_t k = 0; k < kTries; ++k) {
    const size_t i = gaps == 1 ? 0 : (k * (gaps - 1)) / (kTries - 1);
    if (i == last) continue;
    last = i;
    const double y = 0.5 * (lats[i] + lats[i + 1]);
    xs.clear();
    for (const Ring& r : polygon) {
      for (size_t v = 1; v < r.size(); ++v) {
        const Position a = r[v - 1];
        const Position b = r[v];
        if ((a.lat > y) != (b.lat > y)) {
          xs.push_back(a.lon + (y - a.lat) * (b.lon - a.lon) / (b.lat - a.lat));
        }
      }
    }
    if (xs.size() % 2 != 0) continue;
    std::sort(xs.begin(), xs.end());
    for (size_t j = 0; j + 1 < xs.size(); j += 2) {
      const double w = xs[j + 1] - xs[j];
      if (w > best_width) {
        best_width = w;
        best = Position{0.5 * (xs[j] + xs[j + 1]), y};
      }
    }
  }
  if (best_width <= 4 * kBoundaryEpsDeg) return std::nullopt;
  return best;
}

Position centroid(const Polygon& polygon) {
  if (polygon.empty() || polygon.front().empty()) return Position{};
  const Position o = polygon.front().front();  // origin near the data, for precision
  double total = 0;
  double cx = 0;
  double cy = 0;
  for (size_t r = 0; r < polygon.size(); ++r) {
    const Ring& ring = polygon[r];
    double a2 = 0;  // twice the signed area
    double sx = 0;
    double sy = 0;
    for (size_t i = 1; i < ring.size(); ++i) {
      const double x0 = ring[i - 1].lon - o.lon;
      const double y0 = ring[i - 1].lat - o.lat;
      const double x1 = ring[i].lon - o.lon;
      const double y1 = ring[i].lat - o.lat;
      const double c = x0 * y1 - x1 * y0;
      a2 += c;
      sx += (x0 + x1) * c;
      sy += (y0 + y1) * c;
    }
    if (a2 == 0) continue;
    // Ring centroid = (sx, sy) / (3 a2); weight by |area|, holes negative.
    const double weight = (r == 0 ? 1.0 : -1.0) * std::abs(a2);
    cx += weight * sx / (3 * a2);
    cy += weight * sy / (3 * a2);
    total += weight;
  }
  if (std::abs(total) > 0) return Position{o.lon + cx / total, o.lat + cy / total};
  // No area: mean of the exterior ring's vertices (closing vertex excluded).
  const Ring& ring = polygon.front();
  const size_t n = ring.size() > 1 ? ring.size() - 1 : ring.size();
  double mx = 0;
  double my = 0;
  for (size_t i = 0; i < n; ++i) mx += ring[i].lon, my += ring[i].lat;
  return Position{mx / static_cast<double>(n), my / static_cast<double>(n)};
}

core::Result<GeoRel> parseGeoRel(std::string_view text) {
  if (text.empty()) return invalid("georel: empty");
  const size_t semi = text.find(';');
  const std::string_view name = text.substr(0, semi);
  GeoRel rel;
  bool known = false;
  for (const auto& [n, op] : kRelNames) {
    if (n == name) {
      rel.op = op;
      known = true;
    }
  }
  if (!known) {
    return invalid("georel: unknown relation \"" + std::string(name) +
                   "\" (expected near, within, contains, intersects, disjoint, equals or "
                   "overlaps)");
  }
  if (rel.op != GeoRelOp::kNear) {
    if (semi != std::string_view::npos) {
      return invalid("georel: \"" + std::string(name) + "\" takes no parameters");
    }
    return rel;
  }
  if (semi == std::string_view::npos) {
    return invalid("georel: near needs maxDistance==N or minDistance==N (metres)");
  }
  std::string_view rest = text.substr(semi + 1);
  while (true) {
    const size_t next = rest.find(';');
    const std::string_view part = rest.substr(0, next);
    const size_t eq = part.find("==");
    if (eq == std::string_view::npos) {
      return invalid("georel: expected maxDistance==N or minDistance==N, got \"" +
                     std::string(part) + "\"");
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view num = part.substr(eq + 2);
    std::optional<double>* slot = nullptr;
    if (key == "maxDistance") {
      slot = &rel.max_distance_m;
    } else if (key == "minDistance") {
      slot = &rel.min_distance_m;
    } else {
      return invalid("georel: unknown near parameter \"" + std::string(key) +
                     "\" (expected maxDistance or minDistance)");
    }
    if (slot->has_value()) return invalid("georel: " + std::string(key) + " given twice");
    double v = 0;
    const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (num.empty() || ec != std::errc() || ptr != num.data() + num.size() || !std::isfinite(v)) {
      return invalid("georel: " + std::string(key) + " must be a number of metres, got \"" +
                     std::string(num) + "\"");
    }
    if (v < 0) return invalid("georel: " + std::string(key) + " must not be negative");
    *slot = v;
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  if (rel.min_distance_m && rel.max_distance_m && *rel.min_distance_m > *rel.max_distance_m) {
    return invalid("georel: minDistance is larger than maxDistance");
  }
  return rel;
}

std::string toString(const GeoRel& rel) {
  std::string out;
  for (const auto& [n, op] : kRelNames) {
    if (op == rel.op) out = std::string(n);
  }
  if (rel.op == GeoRelOp::kNear) {
    if (rel.max_distance_m) out += ";maxDistance==" + fmtNumber(*rel.max_distance_m);
    if (rel.min_distance_m) out += ";minDistance==" + fmtNumber(*rel.min_distance_m);
  }
  return out;
}

bool evaluate(const GeoRel& rel, const Geometry& entity_geometry, const Geometry& query_geometry) {
  switch (rel.op) {
    case GeoRelOp::kNear: {
      if (!rel.max_distance_m && !rel.min_distance_m) return false;
      const double d = distanceMeters(entity_geometry, query_geometry);
      if (rel.max_distance_m && !(d <= *rel.max_distance_m)) return false;
      if (rel.min_distance_m && !(d >= *rel.min_distance_m)) return false;
      return true;
    }
    case GeoRelOp::kWithin:
      return within(entity_geometry, query_geometry);
    case GeoRelOp::kContains:
      return contains(entity_geometry, query_geometry);
    case GeoRelOp::kIntersects:
      return intersects(entity_geometry, query_geometry);
    case GeoRelOp::kDisjoint:
      return !intersects(entity_geometry, query_geometry);
    case GeoRelOp::kEquals:
      return equals(entity_geometry, query_geometry);
    case GeoRelOp::kOverlaps:
      return overlaps(entity_geometry, query_geometry);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// PointGrid

PointGrid::PointGrid(double cell_deg) : cell_deg_(cell_deg) {
  // Keep cell indices within 32 bits and the grid meaningful.
  if (!std::isfinite(cell_deg_) || cell_deg_ <= 0) cell_deg_ = 0.01;
  cell_deg_ = std::clamp(cell_deg_, 1e-6, 360.0);
}

int64_t PointGrid::cellX(double lon) const {
  return static_cast<int64_t>(std::floor((std::clamp(lon, -180.0, 180.0) + 180.0) / cell_deg_));
}

int64_t PointGrid::cellY(double lat) const {
  return static_cast<int64_t>(std::floor((std::clamp(lat, -90.0, 90.0) + 90.0) / cell_deg_));
}

uint64_t PointGrid::cellKey(double lon, double lat) const {
  return (static_cast<uint64_t>(cellX(lon)) << 32) | static_cast<uint64_t>(cellY(lat));
}

bool PointGrid::insert(uint32_t id, double lon, double lat) {
  if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180 || lon > 180 || lat < -90 ||
      lat > 90) {
    return false;
  }
  remove(id);
  const uint64_t key = cellKey(lon, lat);
  cells_[key].push_back(Entry{id, lon, lat});
  where_[id] = Where{key, lon, lat};
  return true;
}

bool PointGrid::remove(uint32_t id) {
  const auto it = where_.find(id);
  if (it == where_.end()) return false;
  const auto cell = cells_.find(it->second.cell);
  if (cell != cells_.end()) {
    auto& v = cell->second;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].id == id) {
        v[i] = v.back();
        v.pop_back();
        break;
      }
    }
    if (v.empty()) cells_.erase(cell);
  }
  where_.erase(it);
  return true;
}

std::optional<Position> PointGrid::find(uint32_t id) const {
  const auto it = where_.find(id);
  if (it == where_.end()) return std::nullopt;
  return Position{it->second.lon, it->second.lat};
}

std::vector<uint32_t> PointGrid::query(const BBox& box) const {
  std::vector<uint32_t> out;
  if (!(box.min_lon <= box.max_lon) || !(box.min_lat <= box.max_lat) || cells_.empty()) {
    return out;
  }
  const auto take = [&](const std::vector<Entry>& v) {
    for (const Entry& e : v) {
      if (box.contains(e.lon, e.lat)) out.push_back(e.id);
    }
  };
  const int64_t x0 = cellX(box.min_lon);
  const int64_t x1 = cellX(box.max_lon);
  const int64_t y0 = cellY(box.min_lat);
  const int64_t y1 = cellY(box.max_lat);
  const double span = static_cast<double>(x1 - x0 + 1) * static_cast<double>(y1 - y0 + 1);
  if (span > static_cast<double>(cells_.size())) {
    // More cells in the box than occupied cells: walk the occupied ones.
    for (const auto& [key, v] : cells_) {
      const auto x = static_cast<int64_t>(key >> 32);
      const auto y = static_cast<int64_t>(key & 0xFFFFFFFFu);
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) take(v);
    }
  } else {
    for (int64_t x = x0; x <= x1; ++x) {
      for (int64_t y = y0; y <= y1; ++y) {
        const auto it = cells_.find((static_cast<uint64_t>(x) << 32) | static_cast<uint64_t>(y));
        if (it != cells_.end()) take(it->second);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> PointGrid::queryNear(Position center, double max_m) const {
  std::vector<uint32_t> out;
  if (!std::isfinite(max_m) || max_m < 0) return out;
  const BBox box = expandBy(BBox{center.lon, center.lat, center.lon, center.lat}, max_m);
  for (uint32_t id : query(box)) {
    const Where& w = where_.at(id);
    if (haversineMeters(center, Position{w.lon, w.lat}) <= max_m) out.push_back(id);
  }
  return out;
}

void PointGrid::clear() {
  cells_.clear();
  where_.clear();
}

}  // namespace ioc::ngsild::geo
