// Routing table: method + path pattern ("/api/v1/deployments/{id}") -> handler. It is the application
// the server serves (http::Service): it says how a path is treated before its body is read, dispatches
// the request, and labels webhook answers for the server's metrics.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/service.hpp"

namespace shipgate::handlers {

using http::error_response;
using http::json_response;
using http::Request;
using http::Response;
using http::RouteKind;

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

class Router final : public http::Service {
 public:
  // Routes under /api/ are rate limited per client; /healthz and /readyz are health probes. A webhook
  // route counts its answers under `webhook_event`, or under the request's X-GitHub-Event when empty.
  void add(std::string method, std::string pattern, RouteKind kind, Handler handler, std::string webhook_event = "");

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    int status = 404;                   // 404 unknown path, 405 known path with another method
    std::string allow;                  // for 405
    RouteKind kind = RouteKind::api;    // of the route the path named (also for 405)
  };
  // Fills request.params on a match.
  Match match(Request& request) const;

  http::RouteInfo classify(const Request& request) const override;
  boost::asio::awaitable<Response> handle(Request& request) const override;

 private:
  struct Route {
    std::string pattern;
    std::string method;
    std::vector<std::string> segments;
    RouteKind kind;
    Handler handler;
    std::string webhook_event;
  };
  static bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                             std::map<std::string, std::string>* params);
  const Route* find(std::string_view path) const;
  std::vector<Route> routes_;
};

// Runs a router over a request (Router::handle): 404/405 with JSON bodies when nothing matches.
boost::asio::awaitable<Response> dispatch(const Router& router, Request& request);

// The X-GitHub-Event label for metrics: one of the events shipgate knows, or "other", so a client
// cannot create a time series per request.
std::string_view webhook_event_label(std::string_view event);

// A webhook answer's outcome label: accepted, duplicate, ignored, bad_signature, malformed, too_large,
// unavailable or other.
std::string_view webhook_outcome(int status, bool duplicate);

}  // namespace shipgate::handlers
