#include "net/router.h"

#include <stdexcept>

namespace ioc::net {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literal;
  std::unique_ptr<Node> capture;
  std::string capture_name;
  std::map<http::verb, const Route*> by_method;
};

namespace {
//! Segments of a raw (still percent-encoded) path, each decoded on its own, so that an encoded
//! "/" (%2F) inside an id stays inside its segment.
std::vector<std::string> splitDecoded(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(percentDecode(path.substr(i, j - i), false));
    i = j;
  }
  return out;
}

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Router::Node* Router::insert(std::string_view pattern) {
  Node* node = root_.get();
  for (std::string_view seg : splitPath(pattern)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (!node->capture) {
        node->capture = std::make_unique<Node>();
        node->capture_name = name;
      } else if (node->capture_name != name) {
        throw std::logic_error("conflicting capture names in route " + std::string(pattern));
      }
      node = node->capture.get();
    } else {
      auto& child = node->literal[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  return node;
}

void Router::add(http::verb method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  Node* node = insert(pattern);
  if (node->by_method.count(method)) {
    throw std::logic_error("duplicate route " + std::string(pattern));
  }
  routes_.push_back(std::make_unique<Route>(
      Route{method, std::string(pattern), std::move(handler), nullptr, options}));
  node->by_method[method] = routes_.back().get();
}

void Router::addWebSocket(std::string_view pattern, WebSocketHandler handler, Handler plain) {
  Node* node = insert(pattern);
  if (node->by_method.count(http::verb::get)) {
    throw std::logic_error("duplicate route " + std::string(pattern));
  }
  routes_.push_back(std::make_unique<Route>(
      Route{http::verb::get, std::string(pattern), std::move(plain), std::move(handler), {}}));
  node->by_method[http::verb::get] = routes_.back().get();
}

//! Depth-first: a literal segment is tried before a capture, and a literal branch that leads to
//! no route gives way to the capture ("/units/stats" still matches "/units/{code}").
const Router::Node* Router::find(const Node* node, const std::vector<std::string>& segs, size_t i,
                                 std::vector<std::pair<std::string, std::string>>& params) {
  if (i == segs.size()) return node->by_method.empty() ? nullptr : node;
  auto it = node->literal.find(segs[i]);
  if (it != node->literal.end()) {
    if (const Node* found = find(it->second.get(), segs, i + 1, params)) return found;
  }
  if (node->capture) {
    params.emplace_back(node->capture_name, std::string(segs[i]));
    if (const Node* found = find(node->capture.get(), segs, i + 1, params)) return found;
    params.pop_back();
  }
  return nullptr;
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  Match m;
  const Node* node = find(root_.get(), splitDecoded(path), 0, m.params);
  if (!node) return Match{};
  m.path_known = true;
  auto found = node->by_method.find(method);
  if (found == node->by_method.end() && method == http::verb::head) {
    found = node->by_method.find(http::verb::get);
  }
  if (found != node->by_method.end()) {
    m.route = found->second;
    return m;
  }
  for (const auto& [verb, route] : node->by_method) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += std::string(http::to_string(verb));
    if (verb == http::verb::get && !node->by_method.count(http::verb::head)) m.allow += ", HEAD";
  }
  return m;
}

}  // namespace ioc::net
