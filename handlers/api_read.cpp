// Read API: deployments, projects, environments. Every route needs a reviewer token; reviewers
// limited to some projects see only those.
#include <cstdlib>

#include "common/time_format.hpp"
#include "handlers/app.hpp"
#include "handlers/api_call.hpp"
#include "handlers/intake.hpp"
#include "handlers/params.hpp"
#include "handlers/reviewer_actions.hpp"
#include "domain/deploy_gate.hpp"
#include "domain/drift.hpp"
#include "orchestration/drift_monitor.hpp"
#include "domain/gate_policy.hpp"
#include "orchestration/schedule_runner.hpp"

namespace shipgate::handlers {

using nlohmann::json;
using orchestration::Deployment;
using orchestration::DeploymentFilter;
using orchestration::State;

namespace {

constexpr int kRecent = 10;

// Current version, what runs, what waits: the summary of one environment.
struct EnvironmentView {
  std::optional<Deployment> current;
  std::optional<Deployment> running;
  std::vector<Deployment> waiting;  // oldest first
};

// Three reads of one environment; a coroutine, so each filter is named before it is awaited.
boost::asio::awaitable<boost::system::result<EnvironmentView>> view_of(orchestration::Store& store,
                                                                       std::string project, std::string environment) {
  EnvironmentView v;
  DeploymentFilter succeeded{project, environment, {State::succeeded}, 1, 0};
  auto current = co_await store.deployments(succeeded);
  if (!current) co_return current.error();
  if (!current->empty()) v.current = current->front();
  DeploymentFilter running_filter{project, environment, {State::running, State::deploying_externally}, 1, 0};
  auto running = co_await store.deployments(running_filter);
  if (!running) co_return running.error();
  if (!running->empty()) v.running = running->front();
  DeploymentFilter waiting_filter{project, environment, {State::queued, State::pending_approval}, 100, 0};
  auto waiting = co_await store.deployments(waiting_filter);
  if (!waiting) co_return waiting.error();
  v.waiting.assign(waiting->rbegin(), waiting->rend());
  co_return v;
}

json current_json(const std::optional<Deployment>& d) {
  if (!d) return nullptr;
  return {{"version", d->version}, {"sha", d->sha}, {"images", d->images}, {"deployment", d->id},
          {"since", format_rfc3339_ms(d->finished_ms)}};
}

// What a waiting deployment waits for, in words and in fields a script can read.
boost::asio::awaitable<json> waiting_json(orchestration::Store& store, Deployment summary, std::size_t position) {
  json j = to_json(summary, false);
  if (summary.state == State::pending_approval) {
    auto full = co_await store.deployment(summary.id, true);
    const Deployment& d = full && *full ? **full : summary;
    const int required = orchestration::required_approvals(d);
    const auto missing = orchestration::missing_approvers(d);
    std::vector<std::string> by;
    for (const auto& a : d.approvals) by.push_back(a.reviewer);
    j["waiting_for"] = "approval";
    j["approvals"] = {{"have", d.approvals.size()}, {"required", required}, {"by", by}, {"missing", missing}};
    j["reason"] = "needs " + std::to_string(required - static_cast<int>(d.approvals.size())) + " more approval(s)" +
                  (missing.empty() ? std::string() : " from " + [&] {
                    std::string names;
                    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
                    return names;
                  }());
  } else if (!summary.waiting_reason.empty()) {
    j["waiting_for"] = "window";
    j["reason"] = summary.waiting_reason;
  } else {
    j["waiting_for"] = "queue";
    j["reason"] = position == 0 ? "next to run" : std::to_string(position) + " deployment(s) ahead";
  }
  co_return j;
}

boost::asio::awaitable<Response> list_deployments(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  DeploymentFilter f;
  f.project = req.query_param("project");
  f.environment = req.query_param("environment");
  if (auto s = req.query_param("state"); !s.empty()) {
    auto st = orchestration::parse_state(s);
    if (!st) co_return error_response(400, "invalid", "unknown state '" + s + "'");
    f.states.push_back(*st);
  }
  if (auto l = req.query_param("limit"); !l.empty()) {
    const auto n = parse_integer(l, 1, 500);
    if (!n) co_return error_response(400, "invalid", "limit must be 1 to 500");
    f.limit = static_cast<int>(*n);
  }
  if (auto b = req.query_param("before"); !b.empty()) {
    const auto before = parse_integer(b, 1, INT64_MAX);
    if (!before) co_return error_response(400, "invalid", "before must be a deployment id");
    f.before_id = *before;
  }
  if (!f.project.empty() && !reviewer->may(config::Permission::view, f.project))
    co_return error_response(403, "forbidden", "reviewer " + reviewer->name + " may not view project " + f.project);
  auto list = co_await app.store->deployments(f);
  if (!list) co_return store_failure(list.error());
  json items = json::array();
  for (const auto& d : *list)
    if (reviewer->may(config::Permission::view, d.project)) items.push_back(to_json(d, false));
  json body = {{"deployments", items}};
  if (static_cast<int>(list->size()) == f.limit && !list->empty()) body["next_before"] = list->back().id;
  co_return json_response(200, body);
}

boost::asio::awaitable<Response> get_deployment(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::deployment, error);
  if (!call) co_return error;
  auto body = to_json(call->deployment, true);
  body["actions"] = reviewer_actions(*call->config, *call->reviewer, call->deployment);
  body["approvals_required"] = orchestration::required_approvals(call->deployment);
  co_return json_response(200, body);
}

boost::asio::awaitable<Response> list_projects(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto& config = call->config;
  const auto* reviewer = call->reviewer;
  json projects = json::array();
  for (const auto& p : config->projects) {
    if (!reviewer->may(config::Permission::view, p.name)) continue;
    json envs = json::array();
    for (const auto& e : p.environments) {
      auto v = co_await view_of(*app.store, p.name, e.name);
      if (!v) co_return store_failure(v.error());
      json waiting = json::array();
      std::size_t position = v->running ? 1 : 0;
      for (const auto& d : v->waiting) {
        const std::size_t ahead = d.state == State::queued ? position++ : 0;
        const json full = co_await waiting_json(*app.store, d, ahead);
        json w = {{"id", d.id}, {"version", d.version}, {"sha", d.sha}, {"state", to_string(d.state)},
                  {"actor", d.actor}, {"reason", full.value("reason", "")}};
        waiting.push_back(std::move(w));
      }
      DeploymentFilter failed_filter{p.name, e.name, {State::failed, State::rolled_back}, 1, 0};
      auto failed = co_await app.store->deployments(failed_filter);
      if (!failed) co_return store_failure(failed.error());
      json env = {{"name", e.name},
                  {"current", current_json(v->current)},
                  {"running", v->running ? json(v->running->id) : json(nullptr)},
                  {"waiting", waiting},
                  {"last_failure", failed->empty() ? json(nullptr)
                                                   : json{{"deployment", failed->front().id},
                                                          {"version", failed->front().version},
                                                          {"state", to_string(failed->front().state)},
                                                          {"at", format_rfc3339_ms(failed->front().updated_ms)}}}};
      if (!e.windows.empty() || !e.freezes.empty()) {
        const auto gate = orchestration::deploy_gate(e, app.clock->now());
        env["gate"] = {{"open", gate.open}, {"reason", gate.reason}};
      }
      envs.push_back(std::move(env));
    }
    projects.push_back({{"name", p.name}, {"repository", p.repository}, {"environments", envs}});
  }
  co_return json_response(200, {{"projects", projects}});
}

boost::asio::awaitable<Response> get_environment(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::environment, error);
  if (!call) co_return error;
  const std::string& pname = call->project->name;
  const std::string& ename = call->environment->name;
  const auto* env = call->environment;
  auto v = co_await view_of(*app.store, pname, ename);
  if (!v) co_return store_failure(v.error());
  DeploymentFilter recent_filter{pname, ename, {}, kRecent, 0};
  auto recent = co_await app.store->deployments(recent_filter);
  if (!recent) co_return store_failure(recent.error());
  json waiting = json::array();
  std::size_t position = v->running ? 1 : 0;
  for (const auto& d : v->waiting) {
    const std::size_t ahead = d.state == State::queued ? position++ : 0;
    waiting.push_back(co_await waiting_json(*app.store, d, ahead));
  }
  auto bad = co_await app.store->bad_versions(pname, ename);
  if (!bad) co_return store_failure(bad.error());
  json bad_json = json::array();
  for (const auto& b : *bad) bad_json.push_back(orchestration::to_json(b));
  json last = json::array();
  for (const auto& d : *recent) last.push_back(to_json(d, false));
  json body = {{"project", pname},
               {"environment", ename},
               {"current", current_json(v->current)},
               {"running", v->running ? to_json(*v->running, false) : json(nullptr)},
               {"waiting", waiting},
               {"bad_versions", bad_json},
               {"recent", last}};
  if (env->approval) body["approval"] = {{"required", env->approval->required}, {"reviewers", env->approval->reviewers}};
  if (!env->windows.empty() || !env->freezes.empty()) {
    const auto gate = orchestration::deploy_gate(*env, app.clock->now());
    body["gate"] = {{"open", gate.open}, {"reason", gate.reason}};
  }
  if (!env->schedules.empty()) {
    auto runs = co_await app.store->schedule_runs();
    if (!runs) co_return store_failure(runs.error());
    json schedules = json::array();
    for (const auto& s : orchestration::schedule_statuses(*call->config, *runs, app.clock->now()))
      if (s.project == pname && s.environment == ename) schedules.push_back(orchestration::to_json(s));
    body["schedules"] = schedules;
  }
  if (orchestration::drift_settings(*env)) {
    auto states = co_await app.store->drift_states();
    if (!states) co_return store_failure(states.error());
    body["drift"] = orchestration::drift_view(*env, *states, pname);
  }
  co_return json_response(200, body);
}

}  // namespace

void add_api_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/deployments", RouteKind::api, [&app](Request& r) { return list_deployments(app, r); });
  router.add("GET", "/api/v1/deployments/{id}", RouteKind::api, [&app](Request& r) { return get_deployment(app, r); });
  router.add("GET", "/api/v1/projects", RouteKind::api, [&app](Request& r) { return list_projects(app, r); });
  router.add("GET", "/api/v1/projects/{project}/environments/{environment}", RouteKind::api,
             [&app](Request& r) { return get_environment(app, r); });
}

}  // namespace shipgate::handlers
