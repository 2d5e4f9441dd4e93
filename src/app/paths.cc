#include "app/paths.h"

#include <filesystem>

namespace ioc::app {

namespace fs = std::filesystem;

std::string locateShipped(const std::string& configured, const std::string& relative) {
  if (!configured.empty()) return configured;  // an explicit setting is never second-guessed
  std::error_code ec;
  fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  const fs::path candidates[] = {fs::path(relative), exe_dir / ".." / relative,
                                 exe_dir / "../.." / relative, fs::path(IOC_SOURCE_DIR) / relative};
  for (const auto& c : candidates) {
    if (fs::exists(c, ec)) return fs::weakly_canonical(c, ec).string();
  }
  return {};
}

}  // namespace ioc::app
