// GET /metrics: the Prometheus text exposition, no authentication (scrapers rarely carry tokens;
// nothing here names a secret). Queue gauges and deployment counts are read from the store per scrape.
#include "handlers/api_call.hpp"
#include "handlers/app.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

void add_metrics_routes(Router& router, const App& app) {
  router.add("GET", "/metrics", RouteKind::api, [&app](Request&) -> boost::asio::awaitable<Response> {
    auto counts = co_await app.store->state_counts();
    if (!counts) co_return store_failure(counts.error());
    if (app.store->shared()) {
      if (auto seen = co_await app.store->replicas()) {
        std::set<std::string> configs;
        for (const auto& r : *seen) configs.insert(r.config_sha256);
        app.metrics->set_replica_config_generations(static_cast<double>(configs.size()));
      }
    }
    std::map<std::pair<std::string, std::string>, Metrics::EnvironmentGauge> envs;
    // Every configured environment appears, with zeros when nothing waits.
    for (const auto& p : app.config()->projects)
      for (const auto& e : p.environments) envs[{p.name, e.name}] = {p.name, e.name, 0, 0, 0, 0};
    std::vector<Metrics::FinalCount> finals;
    for (const auto& c : *counts) {
      if (orchestration::is_final(c.state)) {
        finals.push_back({c.project, c.environment, std::string(orchestration::to_string(c.state)), double(c.count)});
        continue;
      }
      auto& g = envs[{c.project, c.environment}];
      g.project = c.project;
      g.environment = c.environment;
      if (c.state == orchestration::State::queued) g.queued = double(c.count);
      else if (c.state == orchestration::State::pending_approval) {
        g.pending_approval = double(c.count);
        g.oldest_pending_approval_seconds = double(epoch_ms(app.clock->now()) - c.oldest_ms) / 1000.0;
      }
      else g.running = double(c.count);
    }
    std::vector<Metrics::EnvironmentGauge> gauges;
    for (auto& [key, g] : envs) gauges.push_back(std::move(g));
    Response r;
    r.body = app.metrics->render(gauges, finals);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return r;
  });
}

}  // namespace shipgate::handlers
