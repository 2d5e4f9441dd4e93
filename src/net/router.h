#pragma once
// Maps (method, path) to a route. Patterns are literal segments and {name} captures, e.g.
// "/api/v1/units/{code}". Literal segments win over captures. Built once at start-up, then
// read concurrently without locks.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/request.h"

namespace ioc::net {

class WebSocketSession;
using WebSocketHandler = std::function<void(RequestPtr, std::shared_ptr<WebSocketSession>)>;

struct RouteOptions {
  size_t max_body_bytes = 0;  //!< 0 = the server's default limit
};

struct Route {
  http::verb method;
  std::string pattern;
  Handler handler;
  WebSocketHandler websocket;  //!< set for WebSocket routes (GET + Upgrade)
  RouteOptions options;
};

class Router {
 public:
  Router();
  ~Router();
  void add(http::verb method, std::string_view pattern, Handler handler, RouteOptions options = {});
  //! `plain` (optional) answers a GET without an Upgrade (e.g. authorization, then 426); without
  //! it such a request gets 426 Upgrade Required.
  void addWebSocket(std::string_view pattern, WebSocketHandler handler, Handler plain = nullptr);
  //! Called for GET/HEAD requests that match no route (static files); 404 when unset.
  void setFallback(Handler handler) { fallback_ = std::move(handler); }
  const Handler& fallback() const { return fallback_; }

  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    bool path_known = false;  //!< the path exists under another method (→ 405)
    std::string allow;        //!< methods allowed on the path, for the Allow header
  };
  //! `path` is the raw request path (percent-encoded); segments are decoded one by one.
  Match match(http::verb method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Node;
  Node* insert(std::string_view pattern);
  static const Node* find(const Node* node, const std::vector<std::string>& segs, size_t i,
                          std::vector<std::pair<std::string, std::string>>& params);
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  Handler fallback_;
};

}  // namespace ioc::net
