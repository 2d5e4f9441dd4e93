// Fuzzes what an untrusted client controls before a handler runs: the HTTP/1.1 request parser
// (with the server's header and body limits), path decoding, routing, query parsing, and the
// JSON body validation every write endpoint uses.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "net/request.h"
#include "net/router.h"

namespace http = boost::beast::http;

namespace {

const ioc::net::Router& router() {
  static const auto* r = [] {
    auto* built = new ioc::net::Router();
    auto noop = [](ioc::net::RequestPtr, ioc::net::Responder) {};
    built->add(http::verb::get, "/api/v1/units", noop);
    built->add(http::verb::get, "/api/v1/units/{code}", noop);
    built->add(http::verb::post, "/api/v1/users", noop);
    built->add(http::verb::patch, "/api/v1/users/{id}", noop);
    return built;
  }();
  return *r;
}

void exerciseRequest(const ioc::net::RawRequest& raw) {
  std::string_view target(raw.target().data(), raw.target().size());
  size_t q = target.find('?');
  ioc::net::Request req;
  req.path = ioc::net::percentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  auto match = router().match(raw.method(), req.path);
  req.params = match.params;
  (void)req.queryParam("q");
  (void)req.queryParam("limit");
  auto json = ioc::api::parseJsonObject(raw.body());
  if (json.ok()) {
    (void)ioc::api::stringField(*json, "username", 64);
    (void)ioc::api::boolField(*json, "disabled");
    (void)ioc::api::onlyFields(*json, {"username", "password"});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && parser.is_header_done()) exerciseRequest(parser.get());
  // The JSON validator on its own, for inputs that are not HTTP at all.
  (void)ioc::api::parseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
