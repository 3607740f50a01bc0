// GET /api/v1/insights?project=&environment=&days=: the four delivery figures (domain/insights.hpp)
// of every environment the reviewer may view, or of the one named, over 1 to 365 days (30).
#include "common/clock.hpp"
#include "handlers/api_call.hpp"
#include "handlers/app.hpp"
#include "handlers/params.hpp"
#include "orchestration/slow_reads.hpp"
#include "domain/insights.hpp"

namespace shipgate::handlers {

namespace {

using orchestration::Deployment;
using orchestration::DeploymentFilter;
using orchestration::State;

// The environment's deployments that reached their target and were created in the period, newest
// first, read a page at a time.
boost::asio::awaitable<orchestration::Result<std::vector<Deployment>>> finished_since(orchestration::Store& store,
                                                                                      std::string project,
                                                                                      std::string environment,
                                                                                      std::int64_t since_ms) {
  std::vector<Deployment> out;
  DeploymentFilter page{project, environment, {State::succeeded, State::failed, State::rolled_back}, 500, 0};
  for (;;) {
    auto rows = co_await store.deployments(page);
    if (!rows) co_return rows.error();
    for (auto& d : *rows) out.push_back(std::move(d));
    if (static_cast<int>(rows->size()) < page.limit || out.back().created_ms < since_ms) break;
    page.before_id = out.back().id;
  }
  co_return out;
}

boost::asio::awaitable<Response> insights(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  int days = 30;
  if (auto d = req.query_param("days"); !d.empty()) {
    const auto n = parse_integer(d, 1, 365);
    if (!n) co_return error_response(400, "invalid", "days must be 1 to 365");
    days = static_cast<int>(*n);
  }
  const std::string project = req.query_param("project"), environment = req.query_param("environment");
  if (!environment.empty() && project.empty())
    co_return error_response(400, "invalid", "environment needs project");
  if (!project.empty() && !find_project(*call, project, error)) co_return error;
  if (!environment.empty() && !find_environment(*call, project, environment, error)) co_return error;
  const auto now = epoch_ms(app.clock->now());
  // A failure just before the period may be restored inside it: read a day more.
  const auto since = now - (days + 1) * std::int64_t{86'400'000};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : call->config->projects) {
    if (!project.empty() && p.name != project) continue;
    if (!call->reviewer->may(config::Permission::view, p.name)) continue;
    for (const auto& e : p.environments) {
      if (!environment.empty() && e.name != environment) continue;
      // Many deployments may be read: off the I/O threads.
      auto rows = co_await orchestration::read_slowly(app.slow_reads, finished_since(*app.store, p.name, e.name, since));
      if (!rows) co_return store_failure(rows.error());
      auto figures = orchestration::to_json(orchestration::delivery_figures(*rows, now, days));
      figures["project"] = p.name;
      figures["environment"] = e.name;
      out.push_back(std::move(figures));
    }
  }
  co_return json_response(200, {{"days", days}, {"environments", out}});
}

}  // namespace

void add_insights_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/insights", RouteKind::api, [&app](Request& r) { return insights(app, r); });
}

}  // namespace shipgate::handlers
