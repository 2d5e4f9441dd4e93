#pragma once
// Finding the files cityioc ships (unit data, the web dashboard) whether it runs from the build
// tree, an installed prefix or the source checkout.
#include <string>

namespace ioc::app {

//! First existing candidate among: the configured value, ./<relative>, <exe dir>/../<relative>,
//! <exe dir>/../../<relative>, <source dir>/<relative>. "" if none exists.
std::string locateShipped(const std::string& configured, const std::string& relative);

inline constexpr const char* kUnitsFile = "data/admin/vn34_units_2025_full.json";
//! The built dashboard (web/dist) when present, else the interim static console (web/static).
inline constexpr const char* kWebRoot = "web/dist";
inline constexpr const char* kWebRootFallback = "web/static";

}  // namespace ioc::app
