// Liveness and readiness for orchestrators and load balancers; no authentication.
#include "handlers/app.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

void add_health_routes(Router& router, const App& app) {
  router.add("GET", "/healthz", RouteKind::api, [](Request&) -> boost::asio::awaitable<Response> {
    co_return json_response(200, {{"status", "ok"}});
  });
  router.add("GET", "/readyz", RouteKind::api, [&app](Request&) -> boost::asio::awaitable<Response> {
    if (app.draining && app.draining->load()) co_return unavailable("shutting down");
    if (auto ok = app.store->ping(); !ok) co_return unavailable("store unreachable: " + ok.error().message());
    co_return json_response(200, {{"status", "ready"}});
  });
}

}  // namespace shipgate::handlers
