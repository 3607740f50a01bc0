// Liveness and readiness for orchestrators and load balancers (no authentication), and what is running.
#include "handlers/app.hpp"
#include "common/time_format.hpp"
#include "handlers/api_call.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

using nlohmann::json;

void add_health_routes(Router& router, const App& app) {
  router.add("GET", "/healthz", RouteKind::api, [](Request&) -> boost::asio::awaitable<Response> {
    co_return json_response(200, {{"status", "ok"}});
  });
  router.add("GET", "/readyz", RouteKind::api, [&app](Request&) -> boost::asio::awaitable<Response> {
    if (app.draining && app.draining->load()) co_return unavailable("shutting down");
    if (auto ok = co_await app.store->ping(); !ok) co_return unavailable("store unreachable: " + ok.error().message());
    // A store that reads but cannot commit (a full disk) cannot accept webhooks: not ready.
    // (A full write queue is load, not a broken store: it answers 503 to the writes themselves.)
    if (auto writable = co_await app.store->check_writable();
        !writable && writable.error() != orchestration::StoreErrc::overloaded)
      co_return unavailable("store cannot write: " + writable.error().message());
    co_return json_response(200, {{"status", "ready"}});
  });
  router.add("GET", "/api/v1/info", RouteKind::api, [&app](Request& req) -> boost::asio::awaitable<Response> {
    Response error;
    const auto call = co_await open_call(app, req, PathNames::nothing, error);
    if (!call) co_return error;
    const auto& config = call->config;
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(app.clock->now() - app.started_at).count();
    const auto colon = config->store.url.find(':');
    // Replicas sharing the store, as it last heard from them: a config that differs is a rollout in
    // progress, or a replica started with the wrong file.
    json replicas = json::array();
    bool agree = true;
    if (auto seen = co_await app.store->replicas(); seen && !seen->empty()) {
      for (const auto& r : *seen) {
        replicas.push_back({{"replica", r.id}, {"config_sha256", r.config_sha256}, {"version", r.version},
                            {"seen", format_rfc3339_ms(r.seen_ms)}});
        agree = agree && r.config_sha256 == seen->front().config_sha256;
      }
    } else {
      replicas.push_back({{"replica", app.replica}, {"config_sha256", config->source_sha256}, {"version", app.version},
                          {"seen", format_rfc3339_ms(epoch_ms(app.clock->now()))}});
    }
    co_return json_response(200, {{"version", app.version},
                                  {"replicas", replicas},
                                  {"replicas_agree_on_config", agree},
                                  {"git_sha", app.git_sha},
                                  {"replica", app.replica},
                                  {"runs_deployments", config->server.run_deployments},
                                  {"uptime_seconds", uptime},
                                  {"started_at", format_rfc3339_ms(epoch_ms(app.started_at))},
                                  {"config_sha256", config->source_sha256},
                                  {"config_commit", config->source_commit.empty() ? json() : json(config->source_commit)},
                                  {"store", config->store.url.substr(0, colon)},
                                  {"projects", config->projects.size()}});
  });
}

}  // namespace shipgate::handlers
