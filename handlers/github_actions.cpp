#include "handlers/github_actions.hpp"

#include <spdlog/spdlog.h>

#include "common/json_read.hpp"
#include "common/logging.hpp"
#include "common/text.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

using nlohmann::json;
using orchestration::Deployment;
using orchestration::State;

namespace {

constexpr std::string_view kCallbackPath = "/deployment_protection_rule";

// The run a deployment_callback_url names, when it is exactly this repository's run on the configured
// GitHub API. The answer is sent to a URL shipgate builds from the run, never to the one received, so
// an installation token cannot be sent elsewhere.
std::optional<std::int64_t> callback_run(std::string_view url, const std::string& api_url, const std::string& repository) {
  const std::string prefix = to_lower(api_url + "/repos/" + repository + "/actions/runs/");
  if (url.size() <= prefix.size() + kCallbackPath.size() || to_lower(url.substr(0, prefix.size())) != prefix ||
      !url.ends_with(kCallbackPath))
    return std::nullopt;
  const auto digits = url.substr(prefix.size(), url.size() - prefix.size() - kCallbackPath.size());
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const auto run = std::stoll(std::string(digits));
  if (run <= 0) return std::nullopt;
  return run;
}

std::int64_t positive_id(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (const auto* i = v->if_int64()) return *i > 0 ? *i : 0;
  if (const auto* u = v->if_uint64()) return *u <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(*u) : 0;
  return 0;
}

const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

// GitHub's environment names: up to 255 characters, as the config's github_environment.
bool environment_name_ok(const std::string& name) { return is_plain_text(name, 255); }

// The project of a delivery, or the answer that ends it (not configured: ignored; another project's
// secret: 401).
const config::Project* project_of(const config::Config& config, const ActionsDelivery& d, Response& answer) {
  const auto* project = config.project_by_repository(d.repository);
  if (!project) {
    answer = json_response(200, {{"message", "repository " + d.repository + " is not configured"}, {"ignored", true}});
    return nullptr;
  }
  if (!d.signed_by.empty() && d.signed_by != project->name) {
    answer = error_response(401, "bad_signature", "signed with the secret of another project");
    return nullptr;
  }
  return project;
}

// The fields of a deployment_protection_rule request, checked; false with the 400 in `refusal`.
bool read_actions_request(const boost::json::object& body, const config::GithubAppConfig& app,
                          const std::string& repository, orchestration::ActionsRequest& out, Response& refusal) {
  out.environment = str(body, "environment");
  if (!environment_name_ok(out.environment)) {
    refusal = error_response(400, "malformed", "environment must be 1 to 255 characters, none a control character");
    return false;
  }
  const auto run = callback_run(str(body, "deployment_callback_url"), app.api_url, repository);
  if (!run) {
    refusal = error_response(400, "malformed", "deployment_callback_url must be " + app.api_url + "/repos/" + repository +
                                                   "/actions/runs/<run id>/deployment_protection_rule");
    return false;
  }
  out.run_id = *run;
  const auto* deployment = object_at(body, "deployment");
  out.deployment_id = deployment ? positive_id(*deployment, "id") : 0;
  if (out.deployment_id == 0) {
    refusal = error_response(400, "malformed", "deployment.id must be a positive integer");
    return false;
  }
  out.sha = to_lower(str(*deployment, "sha"));
  out.ref = str(*deployment, "ref");
  out.actor = nested_str(*deployment, "creator", "login");
  if (out.actor.empty()) out.actor = nested_str(body, "sender", "login");
  if (!out.actor.empty() && !is_token(out.actor, 100)) {
    refusal = error_response(400, "malformed", "deployment.creator.login must be 1 to 100 visible characters");
    return false;
  }
  out.event = str(body, "event");
  if (!is_plain_name(out.event, 64)) out.event.clear();
  return true;
}

}  // namespace

boost::asio::awaitable<Response> handle_protection_rule(const App& app, const Request& req, ActionsDelivery d) {
  const auto config = app.config();
  Response answer;
  const auto* project = project_of(*config, d, answer);
  if (!project) co_return answer;
  const std::string action = str(*d.body, "action");
  if (action != "requested")
    co_return json_response(200, {{"message", "deployment_protection_rule '" + action + "' is not 'requested'"}, {"ignored", true}});
  if (!config->github_app)
    co_return json_response(200, {{"message", "shipgate answers deployment protection rules as a GitHub App: github_app "
                                              "is not configured"},
                                  {"ignored", true}});
  orchestration::ActionsRequest request;
  if (!read_actions_request(*d.body, *config->github_app, d.repository, request, answer)) co_return answer;
  auto plan = orchestration::plan_actions_request(*project, request);
  std::string source = "github deployment_protection_rule " + d.repository;
  co_return co_await accept_plan(app, req, std::move(d.key), std::move(source), std::move(plan));
}

namespace {

// The deployment handed to GitHub Actions whose GitHub deployment is `github_id`, among those of the
// environment deploying outside.
boost::asio::awaitable<orchestration::Result<std::optional<Deployment>>> handed_over(orchestration::Store& store,
                                                                                  std::string project,
                                                                                  std::string environment,
                                                                                  std::int64_t github_id) {
  orchestration::DeploymentFilter outside{std::move(project), std::move(environment), {State::deploying_externally}, 100, 0};
  auto found = co_await store.deployments(std::move(outside));
  if (!found) co_return found.error();
  for (auto& d : *found)
    if (json_read::integer(json_read::object(d.result, "github"), "deployment_id") == github_id)
      co_return std::optional<Deployment>(std::move(d));
  co_return std::optional<Deployment>();
}

// What GitHub's status adds to the deployment's result: its state, and its description and log URL
// when they are plain text of a sane length.
json with_github_status(json result, const boost::json::object& status) {
  if (!result.is_object()) result = json::object();
  auto& g = result["github"];
  if (!g.is_object()) g = json::object();
  g["state"] = str(status, "state");
  for (const char* key : {"description", "log_url", "target_url"}) {
    const std::string value = str(status, key);
    if (is_plain_text(value, 1024)) g[key] = value;
  }
  return result;
}

}  // namespace

boost::asio::awaitable<Response> handle_deployment_status(const App& app, const Request& req, ActionsDelivery d) {
  const auto config = app.config();
  Response answer;
  const auto* project = project_of(*config, d, answer);
  if (!project) co_return answer;
  const auto* status = object_at(*d.body, "deployment_status");
  const auto* deployment = object_at(*d.body, "deployment");
  const std::int64_t github_id = deployment ? positive_id(*deployment, "id") : 0;
  if (!status || github_id == 0)
    co_return error_response(400, "malformed", "deployment_status needs deployment_status and deployment.id");
  const std::string state = str(*status, "state");
  const bool success = state == "success";
  if (!success && state != "failure" && state != "error")
    co_return json_response(200, {{"message", "deployment status '" + state + "' does not end a deployment"}, {"ignored", true}});
  const std::string github_env = str(*deployment, "environment");
  const auto* env = environment_name_ok(github_env) ? project->environment_for_github(github_env) : nullptr;
  if (!env)
    co_return json_response(200, {{"message", "no environment of " + project->name + " gates that GitHub environment"}, {"ignored", true}});
  auto found = co_await handed_over(*app.store, project->name, env->name, github_id);
  if (!found) co_return unavailable("could not read the deployments: " + found.error().message());
  if (!*found)
    co_return json_response(200, {{"message", "no deployment of " + project->name + "/" + env->name +
                                                  " is deploying GitHub deployment " + std::to_string(github_id)},
                                  {"ignored", true}});
  const Deployment& mine = **found;
  std::string reason = "GitHub Actions reported " + state;
  if (const auto text = str(*status, "description"); is_plain_text(text, 140))
    reason += ": " + text;
  std::string actor = nested_str(*status, "creator", "login");
  if (!is_token(actor, 100)) actor = "github";
  orchestration::TransitionRequest t{mine.id, success ? orchestration::Event::succeed : orchestration::Event::fail, actor,
                                     reason, with_github_status(mine.result, *status), {}};
  auto r = co_await app.store->transition(std::move(t));
  if (!r) co_return unavailable("could not store the outcome: " + r.error().message());
  if (r->applied && app.metrics && mine.started_ms > 0)
    app.metrics->deployment_duration(mine.project, mine.environment, (epoch_ms(app.clock->now()) - mine.started_ms) / 1000.0);
  log_with(spdlog::level::info, {.request_id = req.request_id, .deployment = mine.id}, "deployment {}: {} ({})", mine.id,
           reason, r->applied ? to_string(r->state) : "already ended");
  co_return json_response(200, {{"id", mine.id}, {"state", to_string(r->state)}});
}

}  // namespace shipgate::handlers
