#pragma once
// Serves the built web dashboard. Paths are decoded, normalised and must stay under the root
// (no "..", no symlinks out). Hashed assets are cached for a year; HTML is revalidated. Paths
// without an extension fall back to index.html so the single-page app can route itself.
// Text assets (scripts, styles, HTML, JSON, GeoJSON, SVG) go out gzip-compressed to clients that
// accept it; each file is compressed once and kept while it is unchanged (bounded cache), since
// the built dashboard never changes while the server runs.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
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
  //! The gzip form of `file` as it is now (`etag` names that version); null if not smaller.
  std::shared_ptr<const std::string> gzipped(const std::filesystem::path& file,
                                             const std::string& etag,
                                             const std::string& body) const;

  std::filesystem::path root_;
  struct Packed {
    std::string etag;
    std::shared_ptr<const std::string> gz;  //!< null: compression did not pay
  };
  //! Shared by copies (handlers are copied into the router).
  struct Cache {
    std::mutex mu;
    std::map<std::string, Packed> files;
    size_t bytes = 0;
  };
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

std::string_view mimeType(std::string_view extension);
//! Whether a content type is worth compressing (text, JavaScript, JSON, SVG).
bool compressible(std::string_view content_type);
//! Whether an Accept-Encoding header admits gzip (RFC 9110 §12.5.3: q=0 refuses; "*" counts).
bool acceptsGzip(std::string_view accept_encoding);
//! RFC 1952 gzip of `data` (zlib, level 9: assets are compressed once).
std::string gzip(std::string_view data);

}  // namespace ioc::net
