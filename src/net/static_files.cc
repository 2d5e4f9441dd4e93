#include "net/static_files.h"

#include <zlib.h>

#include <boost/beast/core/string.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "net/problem.h"

namespace ioc::net {

namespace fs = std::filesystem;
namespace beast = boost::beast;

namespace {
constexpr uintmax_t kMaxFileBytes = 32 * 1024 * 1024;
constexpr size_t kMinCompressBytes = 1024;            // smaller files gain nothing
constexpr size_t kMaxPackedBytes = 64 * 1024 * 1024;  // the compressed cache's bound

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

//! The q value of one Accept-Encoding member ("gzip;q=0.5" → 0.5); 1 when absent.
double qualityOf(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string v(p.substr(2));
      char* end = nullptr;
      double q = std::strtod(v.c_str(), &end);
      return end == v.c_str() ? 0 : q;
    }
  }
  return 1;
}

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

bool compressible(std::string_view type) {
  return type.rfind("text/", 0) == 0 || type.rfind("application/json", 0) == 0 ||
         type.rfind("application/geo+json", 0) == 0 || type.rfind("image/svg+xml", 0) == 0 ||
         type.rfind("application/manifest+json", 0) == 0;
}

bool acceptsGzip(std::string_view header) {
  std::optional<double> gzip_q, any_q;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view member = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = member.find(';');
    std::string_view coding = trim(member.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : qualityOf(member.substr(semi + 1));
    const beast::string_view c(coding.data(), coding.size());
    if (beast::iequals(c, "gzip") || beast::iequals(c, "x-gzip")) gzip_q = q;
    if (coding == "*") any_q = q;
  }
  if (gzip_q) return *gzip_q > 0;
  return any_q && *any_q > 0;
}

std::string gzip(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

std::shared_ptr<const std::string> StaticFiles::gzipped(const fs::path& file,
                                                        const std::string& etag,
                                                        const std::string& body) const {
  const std::string key = file.string();
  Cache& c = *cache_;
  {
    std::lock_guard lock(c.mu);
    auto it = c.files.find(key);
    if (it != c.files.end() && it->second.etag == etag) return it->second.gz;
  }
  auto gz = std::make_shared<const std::string>(gzip(body));
  std::shared_ptr<const std::string> kept = gz->size() < body.size() ? gz : nullptr;
  std::lock_guard lock(c.mu);
  auto& slot = c.files[key];
  if (slot.gz) c.bytes -= slot.gz->size();
  slot = Packed{etag, nullptr};
  if (kept && c.bytes + kept->size() <= kMaxPackedBytes) {
    slot.gz = kept;
    c.bytes += kept->size();
  }
  return kept;
}

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
  // The compressed form is another representation: its own validator, and caches must key on
  // Accept-Encoding.
  const bool packable = compressible(r.content_type) && size >= kMinCompressBytes;
  const bool wants_gzip = packable && acceptsGzip(req->header(http::field::accept_encoding));
  if (packable) r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const bool hashed = req->path.rfind("/assets/", 0) == 0;
  r.headers.emplace_back("Cache-Control",
                         hashed ? "public, max-age=31536000, immutable" : "no-cache");
  const std::string gz_etag = etag.substr(0, etag.size() - 1) + "-gz\"";
  const std::string if_none_match(req->header(http::field::if_none_match));
  if (etagMatches(if_none_match, wants_gzip ? gz_etag : etag)) {
    r.headers.emplace_back("ETag", wants_gzip ? gz_etag : etag);
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
  std::shared_ptr<const std::string> gz = wants_gzip ? gzipped(file, etag, r.body) : nullptr;
  if (gz) {
    r.body = *gz;
    r.headers.emplace_back("Content-Encoding", "gzip");
  }
  r.headers.emplace_back("ETag", gz ? gz_etag : etag);
  r.head_only = req->raw.method() == http::verb::head;
  responder.send(std::move(r));
}

}  // namespace ioc::net
