#include "net/request.h"

namespace ioc::net {

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = percentDecode(pair.substr(0, eq), true);
    if (key == name) {
      return eq == std::string_view::npos ? std::string()
                                          : percentDecode(pair.substr(eq + 1), true);
    }
  }
  return std::nullopt;
}

std::string_view Request::header(http::field f) const {
  auto it = raw.find(f);
  if (it == raw.end()) return {};
  return {it->value().data(), it->value().size()};
}

Responder::~Responder() {
  if (fn_) {
    Response r = Response::json(http::status::internal_server_error, "");
    fn_(std::move(r));
  }
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (fn_) fn_(Response::json(http::status::internal_server_error, ""));  // never drop a request
    fn_ = std::move(other.fn_);
    other.fn_ = nullptr;
  }
  return *this;
}

void Responder::send(Response&& response) {
  if (!fn_) return;  // already answered
  auto fn = std::move(fn_);
  fn_ = nullptr;
  fn(std::move(response));
}

}  // namespace ioc::net
