// What the server asks of the application behind it: how to treat a path before its body is read, and
// the answer to a whole request. The server defines this interface and knows no endpoint; the handlers'
// router implements it.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "http/message.hpp"

namespace shipgate::http {

// Webhook routes take GitHub-sized bodies; the rest take small JSON.
enum class RouteKind { webhook, api };

// Decided from the request line and header alone, before the body is read.
struct RouteInfo {
  std::string label = "unmatched";  // a bounded label for metrics (the route's pattern)
  RouteKind kind = RouteKind::api;  // which body limit applies
  bool limited = false;             // under the per-client API rate and failed-token lockout
  bool probe = false;               // a health probe: answered even beyond the connection bounds
  std::string webhook_event;        // webhook routes: the event label for metrics
};

class Service {
 public:
  virtual ~Service() = default;
  // `request` has its method, path and headers; not yet its body.
  virtual RouteInfo classify(const Request& request) const = 0;
  // The answer, with 404/405 for what no route takes. Webhook answers carry their `outcome`.
  virtual boost::asio::awaitable<Response> handle(Request& request) const = 0;
};

}  // namespace shipgate::http
