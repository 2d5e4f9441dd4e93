#pragma once
// Geometry for NGSI-LD geo-queries (ETSI GS CIM 009, clause 4.10) and ward lookups: GeoJSON
// geometries (RFC 7946), the georel relations, great-circle distances and a point grid index.
//
// Model. Coordinates are WGS84 [longitude, latitude] in degrees. As RFC 7946 (section 3.1.1)
// says, a line between two positions is a straight Cartesian line in lon/lat, so every
// topological relation (within, contains, intersects, overlaps, disjoint) is computed in the
// lon/lat plane; only distances use the sphere. Geometries crossing the antimeridian must be
// split (RFC 7946 section 3.1.9); they are not handled specially. An altitude (third element of
// a position) is validated and then dropped: everything here is 2-D.
//
// Tolerance. Boundaries are thickened by kBoundaryEpsDeg (1e-10 degrees, about 11 micrometres):
// a point that close to an edge counts as on the boundary. This absorbs rounding when edges
// are shared or collinear (for example a polygon inside another that shares part of its edge).
//
// Relations follow the OGC/DE-9IM definitions:
//  - intersects(a, b): a and b share at least one point, boundaries included. disjoint = !that.
//  - within(a, b): no point of a lies outside b and the interiors of a and b meet. A point on
//    the edge of a polygon (or in a hole's edge) is therefore NOT within it, though it
//    intersects it; a line running along a polygon's edge is not within it either.
//  - contains(a, b) = within(b, a).
//  - overlaps(a, b): same dimension, interiors meet, and neither lies inside the other (for two
//    lines the shared part must be a stretch of line, not a crossing point).
//  - equals(a, b): same type and structure, every coordinate within 1e-9 degrees (structural,
//    not topological: a ring started at another vertex is not equal).
// A GeometryCollection is read as the union of its members; within, contains and overlaps
// assume its members do not overlap one another (as OGC validity requires of MultiPolygons).
// Polygons are not checked for self-intersection or for holes outside their shell; invalid
// polygons give unspecified (but memory-safe) answers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::ngsild::geo {

//! Mean Earth radius (IUGG R1) used for every distance, in metres.
inline constexpr double kEarthRadiusM = 6371008.8;
//! How close to an edge (in degrees) a point must be to count as on it.
inline constexpr double kBoundaryEpsDeg = 1e-10;
//! Coordinate tolerance of equals(), in degrees.
inline constexpr double kEqualsEpsDeg = 1e-9;

struct Position {
  double lon = 0;
  double lat = 0;
};

using LineString = std::vector<Position>;  //!< two or more positions
using Ring = std::vector<Position>;        //!< closed: front() == back(), four or more positions
using Polygon = std::vector<Ring>;         //!< [0] is the exterior ring, the rest are holes

enum class GeometryType {
  kPoint,
  kMultiPoint,
  kLineString,
  kMultiLineString,
  kPolygon,
  kMultiPolygon,
  kGeometryCollection,
};

//! The GeoJSON name ("Point", "MultiPolygon", ...).
std::string_view geometryTypeName(GeometryType type);

//! One geometry. Only the field matching `type` is used: points for Point (exactly one) and
//! MultiPoint, lines for LineString (exactly one) and MultiLineString, polygons for Polygon
//! (exactly one) and MultiPolygon, members for GeometryCollection.
struct Geometry {
  GeometryType type = GeometryType::kPoint;
  std::vector<Position> points;
  std::vector<LineString> lines;
  std::vector<Polygon> polygons;
  std::vector<Geometry> members;

  static Geometry point(double lon, double lat);
};

//! 0 for points, 1 for lines, 2 for polygons; a collection has its highest member's.
int dimension(const Geometry& g);

//! Parses a GeoJSON geometry object (not a Feature). Checks that coordinates are finite numbers,
//! longitudes lie in [-180, 180] and latitudes in [-90, 90], LineStrings have two or more
//! positions, polygon rings are closed with four or more positions, multi-geometries are not
//! empty and nesting is as the type requires. Errors (Errc::kInvalidArgument) name the type, the
//! JSON path and the problem, e.g. "Polygon coordinates[0]: ring is not closed (first and last
//! positions differ)".
core::Result<Geometry> parseGeoJson(const ioc::Json& j);

//! The NGSI-LD query form: `geometry=Polygon&coordinates=[[[...]]]` arrive as two parameters
//! (already URL-decoded). GeometryCollection is not allowed here (it has no coordinates).
core::Result<Geometry> parseQueryGeometry(std::string_view geometry_type,
                                          std::string_view coordinates_json);

//! Back to a GeoJSON geometry object.
ioc::Json toGeoJson(const Geometry& g);

struct BBox {
  double min_lon = 0;
  double min_lat = 0;
  double max_lon = 0;
  double max_lat = 0;

  bool contains(double lon, double lat) const {
    return lon >= min_lon && lon <= max_lon && lat >= min_lat && lat <= max_lat;
  }
  bool intersects(const BBox& o) const {
    return min_lon <= o.max_lon && o.min_lon <= max_lon && min_lat <= o.max_lat &&
           o.min_lat <= max_lat;
  }
};

//! The smallest lon/lat box holding every position of g.
BBox bbox(const Geometry& g);

//! A box holding every point within `meters` (great-circle) of any point of `box`: use it to
//! pre-filter "near;maxDistance==N" candidates. Clamped to the valid lon/lat ranges; it spans
//! all longitudes when it reaches a pole.
BBox expandBy(const BBox& box, double meters);

//! Great-circle (haversine) distance on a sphere of radius kEarthRadiusM. Against the WGS84
//! ellipsoid this is within about 0.5% of the geodesic distance.
double haversineMeters(Position a, Position b);

//! Smallest distance between any point of a and any point of b, in metres; 0 when they
//! intersect. Point to point is exact haversine. Point to segment finds the closest point of the
//! segment in a local equirectangular projection centred on the point (longitudes scaled by
//! cos(latitude of the point)) and then measures the haversine distance to that point of the
//! segment. The result is therefore never below the true spherical distance to the segment (a
//! straight line in lon/lat, as RFC 7946 defines it); it exceeds it only because the projected
//! closest point is slightly off, an error of second order: measured against dense sampling it
//! is below 1e-7 (relative) for segments within +-0.05 deg (about 5 km) at Huế's latitude, below
//! 1e-5 for +-0.25 deg at 60 deg, and below 2e-4 for +-1 deg at 75 deg. Segment to segment (when
//! they do not cross) is the least of the four endpoint-to-segment distances, exact in the lon/lat
//! plane and subject to the same second-order error on the sphere. Multi-part geometries: the
//! least over all parts.
double distanceMeters(const Geometry& a, const Geometry& b);

bool intersects(const Geometry& a, const Geometry& b);
bool within(const Geometry& a, const Geometry& b);
bool contains(const Geometry& a, const Geometry& b);
bool overlaps(const Geometry& a, const Geometry& b);
bool equals(const Geometry& a, const Geometry& b);

//! A point strictly inside the polygon (not on any edge, not in a hole), picked as the middle of
//! the widest inside stretch of a few horizontal scan lines. nullopt when the polygon has no
//! area.
std::optional<Position> interiorPoint(const Polygon& polygon);

//! Area-weighted centroid (in the lon/lat plane) of the exterior ring minus the holes. It may lie
//! outside a non-convex polygon; use interiorPoint() for a point guaranteed inside. For a
//! polygon without area, the mean of the exterior ring's distinct vertices.
Position centroid(const Polygon& polygon);

enum class GeoRelOp {
  kNear,
  kWithin,
  kContains,
  kIntersects,
  kDisjoint,
  kEquals,
  kOverlaps,
};

//! A parsed georel. For kNear at least one of the distances is set (metres, finite, >= 0).
struct GeoRel {
  GeoRelOp op = GeoRelOp::kIntersects;
  std::optional<double> max_distance_m;
  std::optional<double> min_distance_m;
};

//! Parses "near;maxDistance==N", "near;minDistance==N" (the spec allows one; both together, each
//! once, are accepted as a ring-shaped range with min <= max), "within", "contains",
//! "intersects", "disjoint", "equals", "overlaps". Case-sensitive, no spaces. N is a plain
//! decimal number of metres, finite and >= 0.
core::Result<GeoRel> parseGeoRel(std::string_view text);

//! The text form parseGeoRel() reads.
std::string toString(const GeoRel& rel);

//! Whether "entity_geometry <rel> query_geometry" holds. near: distanceMeters(entity, query) is
//! <= max_distance_m and >= min_distance_m (those that are set; false if neither is).
bool evaluate(const GeoRel& rel, const Geometry& entity_geometry, const Geometry& query_geometry);

//! A uniform grid of cells (default 0.01 deg, about 1.1 km at the equator) over points with
//! uint32_t ids, to pre-select the entities a "near" or "within" query can match. Not
//! thread-safe: callers serialise access.
class PointGrid {
 public:
  explicit PointGrid(double cell_deg = 0.01);

  //! Adds the point, or moves it if the id is already present. False (and no change) when lon or
  //! lat is not finite or out of range.
  bool insert(uint32_t id, double lon, double lat);
  //! False when the id was not present.
  bool remove(uint32_t id);
  std::optional<Position> find(uint32_t id) const;

  //! Ids of the points inside the box (edges included), ascending.
  std::vector<uint32_t> query(const BBox& box) const;
  //! Ids of the points whose haversine distance to `center` is <= max_m, ascending.
  std::vector<uint32_t> queryNear(Position center, double max_m) const;

  size_t size() const { return where_.size(); }
  void clear();

 private:
  struct Entry {
    uint32_t id;
    double lon;
    double lat;
  };
  struct Where {
    uint64_t cell;
    double lon;
    double lat;
  };
  uint64_t cellKey(double lon, double lat) const;
  int64_t cellX(double lon) const;
  int64_t cellY(double lat) const;

  double cell_deg_;
  std::unordered_map<uint64_t, std::vector<Entry>> cells_;
  std::unordered_map<uint32_t, Where> where_;
};

}  // namespace ioc::ngsild::geo
