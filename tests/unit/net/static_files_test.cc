// StaticFiles: called directly with a capturing Responder, and through the server.
#include "net/static_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <optional>
#include <string>

#include "core/json.h"
#include "net_test_util.h"

namespace ioc::net {
namespace {

using namespace ioc::net::testing;
namespace fs = std::filesystem;

std::string headerOf(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    root_ = tmp_.path() / "www";
    fs::create_directories(root_);
    // Outside the root: nothing below may ever be served.
    tmp_.write("secret.txt", "TOP-SECRET-OUTSIDE");
    tmp_.write("outside/inner.txt", "TOP-SECRET-DIR");
    write("index.html", "<html>spa</html>");
    write("app.js", "console.log(1)");
    write("style.css", "body{}");
    write("data.json", "{\"a\":1}");
    write("map.geojson", "{\"type\":\"FeatureCollection\"}");
    write("blob.bin", std::string("\0\1\2", 3));
    write("assets/app.3f2a.js", "hashed()");
    write("docs/index.html", "<html>docs</html>");
    write("empty/.keep", "");
    write(".env", "PASSWORD=hunter2");
    write(".git/config", "[core]");
    write("assets/.hidden.js", "hidden()");
  }

  void write(const std::string& rel, const std::string& content) {
    tmp_.write("www/" + rel, content);
  }

  //! Calls the handler as the server would, with an already percent-decoded path.
  Response call(const std::string& path, http::verb method = http::verb::get,
                const std::string& if_none_match = "") {
    return callOn(StaticFiles(root_), path, method, if_none_match);
  }

  static Response callOn(const StaticFiles& files, const std::string& path,
                         http::verb method = http::verb::get, const std::string& if_none_match = "",
                         const std::string& accept_encoding = "") {
    auto req = std::make_shared<Request>();
    req->raw.method(method);
    req->raw.target(path);
    req->path = path;
    req->request_id = "rid-1";
    if (!if_none_match.empty()) req->raw.set(http::field::if_none_match, if_none_match);
    if (!accept_encoding.empty()) req->raw.set(http::field::accept_encoding, accept_encoding);
    std::optional<Response> got;
    files(req, Responder([&got](Response&& r) { got = std::move(r); }));
    EXPECT_TRUE(got.has_value()) << "no response for " << path;
    return got ? std::move(*got) : Response{};
  }

  static void expectNotFound(const Response& r, const std::string& path) {
    EXPECT_EQ(r.status, http::status::not_found) << path;
    EXPECT_EQ(r.content_type, "application/problem+json") << path;
    EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("PASSWORD"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("hidden()"), std::string::npos) << path;
    EXPECT_NE(r.body.find("urn:cityioc:problem:not-found"), std::string::npos) << path;
  }

  TempDir tmp_;
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentType) {
  struct Case {
    const char* path;
    const char* type;
    std::string body;
  };
  for (const Case& c :
       {Case{"/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
        Case{"/style.css", "text/css; charset=utf-8", "body{}"},
        Case{"/data.json", "application/json", "{\"a\":1}"},
        Case{"/map.geojson", "application/geo+json", "{\"type\":\"FeatureCollection\"}"},
        Case{"/blob.bin", "application/octet-stream", std::string("\0\1\2", 3)},
        Case{"/index.html", "text/html; charset=utf-8", "<html>spa</html>"}}) {
    SCOPED_TRACE(c.path);
    Response r = call(c.path);
    EXPECT_EQ(r.status, http::status::ok);
    EXPECT_EQ(r.content_type, c.type);
    EXPECT_EQ(r.body, c.body);
    EXPECT_FALSE(r.head_only);
    EXPECT_EQ(headerOf(r, "X-Content-Type-Options"), "nosniff");
    const std::string etag = headerOf(r, "ETag");
    ASSERT_GE(etag.size(), 3u);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_EQ(etag.back(), '"');
  }
}

TEST_F(StaticFilesTest, IfNoneMatchWithCurrentEtagIs304) {
  Response first = call("/app.js");
  const std::string etag = headerOf(first, "ETag");
  Response again = call("/app.js", http::verb::get, etag);
  EXPECT_EQ(again.status, http::status::not_modified);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(headerOf(again, "ETag"), etag);

  Response stale = call("/app.js", http::verb::get, "\"0-0\"");
  EXPECT_EQ(stale.status, http::status::ok);
  EXPECT_EQ(stale.body, "console.log(1)");
}

// RFC 9110 §13.1.2: If-None-Match holds a list and uses the weak comparison, so W/"x" matches
// "x" (a compressing proxy in front of the server turns the ETag weak) and "*" matches any file.
TEST_F(StaticFilesTest, IfNoneMatchUsesWeakComparisonAndLists) {
  const std::string etag = headerOf(call("/app.js"), "ETag");
  for (const std::string& inm : {"W/" + etag, "\"other\", " + etag, std::string("*")}) {
    SCOPED_TRACE(inm);
    EXPECT_EQ(call("/app.js", http::verb::get, inm).status, http::status::not_modified);
  }
}

TEST_F(StaticFilesTest, EtagChangesWhenTheFileChanges) {
  const std::string before = headerOf(call("/app.js"), "ETag");
  write("app.js", "console.log('a longer file')");
  const std::string after = headerOf(call("/app.js"), "ETag");
  EXPECT_NE(before, after);
  EXPECT_EQ(call("/app.js", http::verb::get, before).status, http::status::ok);
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableHtmlIsRevalidated) {
  Response asset = call("/assets/app.3f2a.js");
  ASSERT_EQ(asset.status, http::status::ok);
  EXPECT_EQ(asset.body, "hashed()");
  const std::string cc = headerOf(asset, "Cache-Control");
  EXPECT_NE(cc.find("immutable"), std::string::npos) << cc;
  EXPECT_NE(cc.find("max-age=31536000"), std::string::npos) << cc;

  for (const char* path : {"/index.html", "/", "/app.js", "/some/spa/route"}) {
    SCOPED_TRACE(path);
    Response r = call(path);
    ASSERT_EQ(r.status, http::status::ok);
    EXPECT_EQ(headerOf(r, "Cache-Control"), "no-cache");
  }
}

TEST_F(StaticFilesTest, DirectoryServesItsIndexHtml) {
  Response root = call("/");
  EXPECT_EQ(root.status, http::status::ok);
  EXPECT_EQ(root.body, "<html>spa</html>");
  EXPECT_EQ(root.content_type, "text/html; charset=utf-8");
  for (const char* path : {"/docs", "/docs/"}) {
    SCOPED_TRACE(path);
    Response docs = call(path);
    EXPECT_EQ(docs.status, http::status::ok);
    EXPECT_EQ(docs.body, "<html>docs</html>");
  }
}

TEST_F(StaticFilesTest, DirectoryWithoutIndexFallsBackToTheApp) {
  Response r = call("/empty");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.body, "<html>spa</html>");
}

TEST_F(StaticFilesTest, ExtensionlessUnknownPathsGetTheSpa) {
  for (const char* path : {"/map", "/ops/units/AMB-7", "/map/", "/assets/not-there"}) {
    SCOPED_TRACE(path);
    Response r = call(path);
    EXPECT_EQ(r.status, http::status::ok);
    EXPECT_EQ(r.body, "<html>spa</html>");
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  }
}

TEST_F(StaticFilesTest, UnknownFileWithExtensionIs404) {
  for (const char* path : {"/missing.js", "/assets/gone.css", "/docs/nope.html", "/x.png"}) {
    expectNotFound(call(path), path);
  }
}

TEST_F(StaticFilesTest, SpaFallbackWithoutIndexIs404) {
  fs::remove(root_ / "index.html");
  expectNotFound(call("/map"), "/map");
  expectNotFound(call("/"), "/");
}

TEST_F(StaticFilesTest, TraversalAttemptsAre404) {
  // Paths as the server hands them over, i.e. already percent-decoded.
  for (std::string path :
       {std::string("/../etc/passwd"), std::string("/../../../../../../etc/passwd"),
        percentDecode("/%2e%2e/%2e%2e/etc/passwd", false), std::string("/a/../../secret"),
        std::string("/a/../../secret.txt"), std::string("/../secret.txt"),
        percentDecode("/..%2fsecret.txt", false),
        percentDecode("/docs/%2e%2e/../secret.txt", false), std::string("/..\\secret.txt"),
        std::string("/docs/..\\..\\secret.txt"), std::string("/..."),
        std::string("/../outside/inner.txt"), std::string("/docs/../../outside"),
        std::string("/app.js\0.txt", 12)}) {
    SCOPED_TRACE(path);
    expectNotFound(call(path), path);
  }
}

TEST_F(StaticFilesTest, DotfilesAre404) {
  for (const char* path : {"/.env", "/.git/config", "/.git", "/assets/.hidden.js", "/./.env",
                           "/.well-known/thing", "/docs/.htaccess"}) {
    SCOPED_TRACE(path);
    expectNotFound(call(path), path);
  }
}

TEST_F(StaticFilesTest, SingleDotSegmentsAreHarmless) {
  Response r = call("/./assets/./app.3f2a.js");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.body, "hashed()");
}

TEST_F(StaticFilesTest, SymlinksOutOfTheRootAre404) {
  std::error_code ec;
  fs::create_symlink(tmp_.path() / "secret.txt", root_ / "leak.txt", ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::create_directory_symlink(tmp_.path() / "outside", root_ / "linkdir", ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::create_symlink("../secret.txt", root_ / "relative.txt", ec);
  ASSERT_FALSE(ec) << ec.message();
  for (const char* path : {"/leak.txt", "/linkdir/inner.txt", "/relative.txt"}) {
    SCOPED_TRACE(path);
    expectNotFound(call(path), path);
  }
  // An extension-less path through the link must not serve the directory either.
  Response dir = call("/linkdir");
  EXPECT_EQ(dir.body.find("TOP-SECRET"), std::string::npos);
}

TEST_F(StaticFilesTest, SymlinkInsideTheRootIsServed) {
  std::error_code ec;
  fs::create_symlink(root_ / "app.js", root_ / "alias.js", ec);
  ASSERT_FALSE(ec) << ec.message();
  Response r = call("/alias.js");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.body, "console.log(1)");
}

TEST_F(StaticFilesTest, SiblingDirectoryWithRootAsPrefixIsOutside) {
  // "www-private" starts with "www" but is not under it.
  tmp_.write("www-private/key.txt", "TOP-SECRET-SIBLING");
  std::error_code ec;
  fs::create_directory_symlink(tmp_.path() / "www-private", root_ / "sib", ec);
  ASSERT_FALSE(ec) << ec.message();
  expectNotFound(call("/sib/key.txt"), "/sib/key.txt");
}

TEST_F(StaticFilesTest, RootGivenWithTrailingSlashOrDotsWorks) {
  for (const fs::path& root : {fs::path(root_.string() + "/"), root_ / "." / "docs" / "..",
                               fs::path(root_.string() + "//")}) {
    SCOPED_TRACE(root.string());
    StaticFiles files(root);
    Response r = callOn(files, "/app.js");
    EXPECT_EQ(r.status, http::status::ok);
    EXPECT_EQ(r.body, "console.log(1)");
    expectNotFound(callOn(files, "/../secret.txt"), "/../secret.txt");
  }
}

TEST_F(StaticFilesTest, RelativeRootIsResolved) {
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp_.path());
  StaticFiles files("www");
  fs::current_path(cwd);
  Response r = callOn(files, "/style.css");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.body, "body{}");
}

TEST_F(StaticFilesTest, HeadRequestSetsHeadOnly) {
  Response r = call("/app.js", http::verb::head);
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_TRUE(r.head_only);
  // The body is kept so that the server can send its Content-Length.
  EXPECT_EQ(r.body.size(), std::string("console.log(1)").size());
}

std::string gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST_F(StaticFilesTest, TextAssetsGoOutGzippedToClientsThatAcceptIt) {
  std::string script;
  for (int i = 0; i < 400; ++i) script += "export const v" + std::to_string(i) + " = 'giá trị';\n";
  write("assets/big.9a1b.js", script);
  StaticFiles files(root_);
  Response plain = callOn(files, "/assets/big.9a1b.js");
  EXPECT_EQ(plain.body, script);
  EXPECT_EQ(headerOf(plain, "Content-Encoding"), "<absent>");
  EXPECT_EQ(headerOf(plain, "Vary"), "Accept-Encoding");

  Response packed = callOn(files, "/assets/big.9a1b.js", http::verb::get, "", "br, gzip;q=0.8");
  EXPECT_EQ(headerOf(packed, "Content-Encoding"), "gzip");
  EXPECT_EQ(headerOf(packed, "Vary"), "Accept-Encoding");
  EXPECT_LT(packed.body.size(), script.size() / 4);
  EXPECT_EQ(gunzip(packed.body), script);
  // Another representation, another validator; each revalidates against its own.
  const std::string gz_etag = headerOf(packed, "ETag");
  EXPECT_NE(gz_etag, headerOf(plain, "ETag"));
  EXPECT_EQ(callOn(files, "/assets/big.9a1b.js", http::verb::get, gz_etag, "gzip").status,
            http::status::not_modified);
  EXPECT_EQ(callOn(files, "/assets/big.9a1b.js", http::verb::get, gz_etag).status,
            http::status::ok);
  // The cached form follows the file when it changes.
  write("assets/big.9a1b.js", script + "export const last = 1;\n");
  fs::last_write_time(root_ / "assets/big.9a1b.js",
                      fs::last_write_time(root_ / "assets/big.9a1b.js") + std::chrono::seconds(5));
  EXPECT_EQ(gunzip(callOn(files, "/assets/big.9a1b.js", http::verb::get, "", "gzip").body),
            script + "export const last = 1;\n");
  // Refused gzip, tiny files and images stay as they are.
  EXPECT_EQ(headerOf(callOn(files, "/assets/big.9a1b.js", http::verb::get, "", "gzip;q=0, *"),
                     "Content-Encoding"),
            "<absent>");
  EXPECT_EQ(headerOf(callOn(files, "/app.js", http::verb::get, "", "gzip"), "Content-Encoding"),
            "<absent>");
}

TEST(AcceptEncoding, GzipUnlessRefused) {
  EXPECT_TRUE(acceptsGzip("gzip"));
  EXPECT_TRUE(acceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(acceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(acceptsGzip("*"));
  EXPECT_FALSE(acceptsGzip(""));
  EXPECT_FALSE(acceptsGzip("identity"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0.000, *"));
  EXPECT_FALSE(acceptsGzip("br, *;q=0"));
  EXPECT_TRUE(compressible("text/javascript; charset=utf-8"));
  EXPECT_TRUE(compressible("application/geo+json"));
  EXPECT_FALSE(compressible("image/png"));
}

TEST(MimeType, KnownAndUnknownExtensions) {
  EXPECT_EQ(mimeType(".html"), "text/html; charset=utf-8");
  EXPECT_EQ(mimeType(".mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeType(".map"), "application/json");
  EXPECT_EQ(mimeType(".svg"), "image/svg+xml");
  EXPECT_EQ(mimeType(".png"), "image/png");
  EXPECT_EQ(mimeType(".jpeg"), "image/jpeg");
  EXPECT_EQ(mimeType(".woff2"), "font/woff2");
  EXPECT_EQ(mimeType(".webmanifest"), "application/manifest+json");
  EXPECT_EQ(mimeType(".exe"), "application/octet-stream");
  EXPECT_EQ(mimeType(""), "application/octet-stream");
}

// The same handler behind a real server, where paths arrive percent-encoded on the wire.
class StaticFilesServerTest : public StaticFilesTest {
 protected:
  void SetUp() override {
    StaticFilesTest::SetUp();
    server_.emplace();
    server_->router().add(http::verb::get, "/api/ping", [](RequestPtr, Responder r) {
      r.send(Response::json(http::status::ok, "{}"));
    });
    server_->router().setFallback(StaticFiles(root_));
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override { server_.reset(); }
  uint16_t port() { return server_->port(); }
  std::optional<TestServer> server_;
};

TEST_F(StaticFilesServerTest, ServesFileAndRevalidatesWith304) {
  RawClient c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.send(get("/app.js")));
  auto r = c.read();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.res.body(), "console.log(1)");
  const std::string etag = r.header("ETag");
  ASSERT_FALSE(etag.empty());

  ASSERT_FALSE(c.send(get("/app.js", "If-None-Match: " + etag + "\r\n")));
  auto nm = c.read();
  ASSERT_TRUE(nm.ok()) << nm.error();
  EXPECT_EQ(nm.status(), 304);
  EXPECT_TRUE(nm.res.body().empty());
  EXPECT_EQ(nm.header("ETag"), etag);

  // The connection is still usable after the 304.
  ASSERT_FALSE(c.send(get("/api/ping")));
  auto ping = c.read();
  ASSERT_TRUE(ping.ok()) << ping.error();
  EXPECT_EQ(ping.status(), 200);
}

// RFC 9110 §8.6: a 304 MUST NOT carry a Content-Length unless it equals the length of the 200
// content. writeResponse() runs prepare_payload() on every response, which stamps
// "Content-Length: 0" on the empty 304 body.
TEST_F(StaticFilesServerTest, NotModifiedDoesNotAdvertiseAZeroLength) {
  auto first = roundTrip(port(), get("/app.js"));
  ASSERT_TRUE(first.ok()) << first.error();
  const std::string etag = first.header("ETag");
  auto nm = roundTrip(port(), get("/app.js", "If-None-Match: " + etag + "\r\n"));
  ASSERT_TRUE(nm.ok()) << nm.error();
  ASSERT_EQ(nm.status(), 304);
  if (nm.has("Content-Length")) {
    EXPECT_EQ(nm.header("Content-Length"), first.header("Content-Length"));
  }
}

TEST_F(StaticFilesServerTest, EncodedTraversalOnTheWireIs404) {
  for (const char* target :
       {"/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e/secret.txt", "/../secret.txt", "/a/../../secret.txt",
        "/..%2fsecret.txt", "/%2E%2E%2Fsecret.txt", "/%2e%2e%5csecret.txt", "/.env", "/%2eenv",
        "/%2eenv%00.txt", "/leak%00/../secret.txt"}) {
    SCOPED_TRACE(target);
    auto r = roundTrip(port(), get(target));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.res.body().find("TOP-SECRET"), std::string::npos);
    EXPECT_EQ(r.res.body().find("PASSWORD"), std::string::npos);
  }
}

TEST_F(StaticFilesServerTest, SpaAndAssetsThroughTheServer) {
  auto spa = roundTrip(port(), get("/ops/units?tab=map"));
  ASSERT_TRUE(spa.ok()) << spa.error();
  EXPECT_EQ(spa.status(), 200);
  EXPECT_EQ(spa.res.body(), "<html>spa</html>");
  EXPECT_EQ(spa.header("Cache-Control"), "no-cache");

  auto asset = roundTrip(port(), get("/assets/app.3f2a.js"));
  ASSERT_TRUE(asset.ok()) << asset.error();
  EXPECT_EQ(asset.status(), 200);
  EXPECT_NE(asset.header("Cache-Control").find("immutable"), std::string::npos);

  auto missing = roundTrip(port(), get("/nope.css"));
  ASSERT_TRUE(missing.ok()) << missing.error();
  EXPECT_EQ(missing.status(), 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/problem+json");
  EXPECT_NE(missing.res.body().find(missing.header("X-Request-Id")), std::string::npos);
}

}  // namespace
}  // namespace ioc::net
