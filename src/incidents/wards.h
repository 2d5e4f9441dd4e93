#pragma once
// Ward polygons (data/geo/hue_wards_2025.geojson): the ward of an incident's location.
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "ngsild/geo.h"

namespace ioc::incidents {

class WardIndex {
 public:
  //! A GeoJSON FeatureCollection whose features carry properties.code (the unit code).
  static core::Result<WardIndex> loadFile(const std::string& path);
  static core::Result<WardIndex> loadJson(const ioc::Json& fc);

  //! The ward containing the point (boundary included), or nullopt.
  std::optional<std::string> wardAt(double lon, double lat) const;
  size_t size() const { return wards_.size(); }

 private:
  struct Ward {
    std::string code;
    ngsild::geo::Geometry shape;
    ngsild::geo::BBox box;
  };
  std::vector<Ward> wards_;
};

}  // namespace ioc::incidents
