#include "net/static_files.h"

#include <fstream>
#include <sstream>

#include "net/problem.h"

namespace ioc::net {

namespace fs = std::filesystem;

namespace {
constexpr uintmax_t kMaxFileBytes = 32 * 1024 * 1024;

Response notFound(const Request& req) {
  return problemResponse(http::status::not_found, "not-found", "", "no such page", req.path,
                         req.request_id);
}

//! Resolves `url_path` under root; empty result when it would escape or does not exist.
fs::path resolve(const fs::path& root, const std::string& url_path) {
  if (url_path.find('\0') != std::string::npos || url_path.find('\\') != std::string::npos) {
    return {};
  }
  fs::path rel;
  size_t i = 0;
  while (i < url_path.size()) {
    size_t j = url_path.find('/', i);
    if (j == std::string::npos) j = url_path.size();
    std::string seg = url_path.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == ".." || seg.front() == '.') return {};  // no traversal, no dotfiles
    rel /= seg;
  }
  std::error_code ec;
  fs::path full = fs::weakly_canonical(root / rel, ec);
  if (ec) return {};
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (root_end != root.end()) return {};  // a symlink pointed outside the root
  return full;
}
//! RFC 9110 §13.1.2: If-None-Match uses weak comparison, may list several tags, or be "*".
bool etagMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}
}  // namespace

std::string_view mimeType(std::string_view ext) {
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".geojson") return "application/geo+json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path root) {
  std::error_code ec;
  root_ = fs::weakly_canonical(root, ec);
  if (ec) root_ = root;
}

void StaticFiles::operator()(RequestPtr req, Responder responder) const {
  fs::path file = resolve(root_, req->path);
  std::error_code ec;
  if (!file.empty() && fs::is_directory(file, ec)) file /= "index.html";
  if (file.empty() || !fs::is_regular_file(file, ec)) {
    // Single-page app routes (/map, /ops/…) have no extension: hand them index.html.
    if (file.empty() || fs::path(req->path).has_extension()) {
      return responder.send(notFound(*req));
    }
    file = root_ / "index.html";
    if (!fs::is_regular_file(file, ec)) return responder.send(notFound(*req));
  }
  auto size = fs::file_size(file, ec);
  if (ec || size > kMaxFileBytes) return responder.send(notFound(*req));
  auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
  std::string etag = "\"" + std::to_string(size) + "-" + std::to_string(mtime) + "\"";
  Response r;
  r.content_type = std::string(mimeType(file.extension().string()));
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const bool hashed = req->path.rfind("/assets/", 0) == 0;
  r.headers.emplace_back("Cache-Control",
                         hashed ? "public, max-age=31536000, immutable" : "no-cache");
  if (etagMatches(req->header(http::field::if_none_match), etag)) {
    r.status = http::status::not_modified;
    return responder.send(std::move(r));
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return responder.send(problemResponse(http::status::internal_server_error, "internal-error", "",
                                          "", req->path, req->request_id));
  }
  r.body = buf.str();
  r.head_only = req->raw.method() == http::verb::head;
  responder.send(std::move(r));
}

}  // namespace ioc::net
