// Routing table: method + path pattern ("/api/v1/deployments/{id}") -> handler.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

#include "handlers/http_types.hpp"

namespace shipgate::handlers {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// Webhook routes take GitHub-sized bodies; the rest take small JSON.
enum class RouteKind { webhook, api };

class Router {
 public:
  void add(std::string method, std::string pattern, RouteKind kind, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    int status = 404;                   // 404 unknown path, 405 known path with another method
    std::string allow;                  // for 405
    RouteKind kind = RouteKind::api;
  };
  // Fills request.params on a match.
  Match match(Request& request) const;
  // Decided from the path alone, before the body is read: which body limit applies (kind), and the
  // route's pattern ("/api/v1/deployments/{id}", "unmatched" if none), a bounded label for metrics.
  struct RouteInfo {
    std::string pattern = "unmatched";
    RouteKind kind = RouteKind::api;
  };
  RouteInfo classify(std::string_view path) const;
  RouteKind kind_of(std::string_view path) const { return classify(path).kind; }

 private:
  struct Route {
    std::string pattern;
    std::string method;
    std::vector<std::string> segments;
    RouteKind kind;
    Handler handler;
  };
  static bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                             std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

// Runs a router over a request: 404/405 with JSON bodies when nothing matches.
boost::asio::awaitable<Response> dispatch(const Router& router, Request& request);

}  // namespace shipgate::handlers
