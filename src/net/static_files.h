#pragma once
// Serves the built web dashboard. Paths are decoded, normalised and must stay under the root
// (no "..", no symlinks out). Hashed assets are cached for a year; HTML is revalidated. Paths
// without an extension fall back to index.html so the single-page app can route itself.
#include <filesystem>
#include <string>

#include "net/request.h"

namespace ioc::net {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  //! A Handler for Router::setFallback.
  void operator()(RequestPtr req, Responder responder) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

std::string_view mimeType(std::string_view extension);

}  // namespace ioc::net
