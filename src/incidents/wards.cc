#include "incidents/wards.h"

#include <fstream>
#include <sstream>

namespace ioc::incidents {

namespace geo = ngsild::geo;

core::Result<WardIndex> WardIndex::loadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::makeError(core::Errc::kNotFound, "cannot read ward polygons " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto fc = ioc::Json::parse(ss.str(), nullptr, false);
  if (fc.is_discarded()) {
    return core::makeError(core::Errc::kMalformedInput, "ward polygons are not JSON: " + path);
  }
  return loadJson(fc);
}

core::Result<WardIndex> WardIndex::loadJson(const ioc::Json& fc) {
  if (!fc.is_object() || !fc.contains("features") || !fc["features"].is_array()) {
    return core::makeError(core::Errc::kInvalidArgument, "not a GeoJSON FeatureCollection");
  }
  WardIndex index;
  for (const auto& f : fc["features"]) {
    if (!f.is_object() || !f.contains("geometry") || !f.contains("properties")) continue;
    auto g = geo::parseGeoJson(f["geometry"]);
    if (!g.ok()) continue;
    const auto& props = f["properties"];
    std::string code = props.is_object() && props.contains("code") && props["code"].is_string()
                           ? props["code"].get<std::string>()
                           : "";
    if (code.empty()) continue;
    Ward w{std::move(code), std::move(*g), {}};
    w.box = geo::bbox(w.shape);
    index.wards_.push_back(std::move(w));
  }
  return index;
}

std::optional<std::string> WardIndex::wardAt(double lon, double lat) const {
  const auto point = geo::Geometry::point(lon, lat);
  for (const auto& w : wards_) {
    if (w.box.contains(lon, lat) && geo::intersects(point, w.shape)) return w.code;
  }
  return std::nullopt;
}

}  // namespace ioc::incidents
