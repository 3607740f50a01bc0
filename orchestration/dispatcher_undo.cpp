// How a deployment is undone: the automatic rollback after a failure, and the canary put back after a
// failed step.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/logging.hpp"
#include "common/supervised.hpp"
#include "domain/deployment_rules.hpp"
#include "orchestration/dispatcher.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

asio::awaitable<void> Dispatcher::roll_back(const Deployment& d, const config::Project& project,
                                            const config::Environment& env, std::string failure, json result,
                                            std::size_t changed) {
  // Back to the newest version that succeeded here before this one.
  DeploymentFilter earlier{d.project, d.environment, {State::succeeded}, kPreviousVersionSearch, 0};
  auto succeeded = co_await store_.deployments(earlier);
  const Deployment* previous = succeeded ? previous_version(*succeeded, d) : nullptr;
  if (!previous) {
    std::string why = failure + "; nothing to roll back to (no earlier succeeded version in " + d.environment + ")";
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    co_await finish(d.id, Event::fail, std::move(why), result);
    co_return;
  }
  {
    TransitionRequest note{d.id, Event::note, "shipgate", "rolling back to " + previous->version + " after: " + failure};
    co_await store_.transition(std::move(note));
  }
  log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: rolling back {} target(s) to {} after: {}", d.id, changed, previous->version, failure);
  const auto back = deploy_context(*previous, project, env);
  json& steps = result["rollback"] = json::array();
  std::string rollback_error;
  for (std::size_t j = changed; j-- > 0;) {  // undo in reverse order
    auto target = targets_(env.targets[j]);
    const json details = j < result["targets"].size() ? result["targets"][j].value("details", json::object()) : json::object();
    auto outcome = co_await target->rollback(back, details);
    steps.push_back({{"target", target->describe()}, {"ok", outcome.ok}, {"message", outcome.message}, {"details", outcome.details},
                     {"at", now_text()}});
    if (!outcome.ok && rollback_error.empty())
      rollback_error = "target " + std::to_string(j + 1) + " (" + target->describe() + "): " + outcome.message;
  }
  // A canary that passed runs the failed version too: it goes back with the rest.
  if (env.canary && result.contains("canary") && result["canary"].contains("details")) {
    auto canary = targets_(env.canary_target());
    auto outcome = co_await canary->rollback(back, result["canary"]["details"]);
    steps.push_back({{"target", "canary " + env.canary->deployment}, {"ok", outcome.ok}, {"message", outcome.message},
                     {"at", now_text()}});
    if (!outcome.ok && rollback_error.empty()) rollback_error = "canary " + env.canary->deployment + ": " + outcome.message;
  }
  BadVersion bad{d.project, d.environment, d.version, d.sha, 0, d.id, "automatic rollback: " + failure, "shipgate"};
  if (rollback_error.empty()) {
    std::string why = "rolled back to " + previous->version + " after: " + failure;
    TransitionRequest request{d.id, Event::roll_back, "shipgate", std::move(why), result, {}, {bad}};
    co_await finish_request(std::move(request));
  } else {
    std::string why = failure + "; rollback to " + previous->version + " failed: " + rollback_error;
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    TransitionRequest request{d.id, Event::fail, "shipgate", std::move(why), result, {}, {bad}};
    co_await finish_request(std::move(request));
  }
}

void Dispatcher::count_failure(std::string_view what, const std::string& why) {
  spdlog::error("{}: stopped by an unexpected error: {}", what, why);
  if (metrics_) metrics_->task_failure("dispatcher");
}

void Dispatcher::restart_lane(const std::string& project, const std::string& environment, const std::string& why) {
  count_failure("dispatcher: lane " + project + "/" + environment, why);
  asio::post(strand_, [self = shared_from_this(), project, environment] {
    auto& lane = self->lanes_[{project, environment}];
    if (!lane.running) return;
    lane.running = false;
    --self->active_;
    auto timer = std::make_shared<asio::steady_timer>(self->strand_, std::chrono::seconds(1));
    timer->async_wait([self, timer, project, environment](boost::system::error_code ec) {
      if (!ec) self->notify(project, environment);
    });
  });
}

asio::awaitable<void> Dispatcher::contain_failure(std::int64_t id, std::string thrown) {
  const std::string failure = "stopped by an unexpected error: " + thrown.substr(0, 500);
  log_with(spdlog::level::err, {.deployment = id}, "deployment {}: {}", id, failure);
  if (metrics_) metrics_->task_failure("dispatcher");
  // What the store has is what the run recorded before it stopped (digests, targets that succeeded).
  auto read = co_await store_.deployment(id, false);
  if (!read || !*read) {
    co_await finish(id, Event::fail, failure, json::object());
    co_return;
  }
  const Deployment d = std::move(**read);
  if (d.state != State::running) co_return;  // it had ended before the error
  const auto changed = changed_targets_.contains(id) ? changed_targets_[id] : 0;
  std::string again;
  try {
    auto configured = config_for(d);
    const auto config = co_await std::move(configured);
    const auto* project = config->project(d.project);
    const auto* env = project ? project->environment(d.environment) : nullptr;
    if (env && env->rollback_on_failure && changed > 0) {
      // Made outside the co_await (GCC 12 and temporaries of a co_await that throws).
      auto undo = roll_back(d, *project, *env, failure, d.result.is_object() ? d.result : json::object(),
                            std::min(changed, env->targets.size()));
      co_await std::move(undo);
      co_return;
    }
  } catch (...) {
    again = current_exception_text();
  }
  co_await finish(id, Event::fail, again.empty() ? failure : failure + "; its rollback stopped too: " + again.substr(0, 300),
                  d.result);
}

asio::awaitable<void> Dispatcher::end_canary(const Deployment& d, const config::Environment& env,
                                             const deploy::DeployContext& ctx, std::string failure, json result,
                                             bool rolled_out) {
  log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: {}", d.id, failure);
  if (!rolled_out) {
    // Nothing changed anywhere: a plain failure, and the version is not marked bad.
    if (metrics_) metrics_->canary(d.project, d.environment, "failed");
    co_await finish(d.id, Event::fail, std::move(failure), std::move(result));
    co_return;
  }
  auto canary = targets_(env.canary_target());
  auto undo = co_await canary->rollback(ctx, result["canary"]["details"]);
  result["canary"]["rollback"] = {{"ok", undo.ok}, {"message", undo.message}};
  if (metrics_) metrics_->canary(d.project, d.environment, undo.ok ? "rolled_back" : "failed");
  BadVersion bad{d.project, d.environment, d.version, d.sha, 0, d.id, "canary: " + failure, "shipgate"};
  if (undo.ok) {
    std::string why = "canary rolled back after: " + failure + "; the main Deployments were not changed";
    TransitionRequest request{d.id, Event::roll_back, "shipgate", std::move(why), result, {}, {bad}};
    co_await finish_request(std::move(request));
  } else {
    std::string why = failure + "; putting canary " + env.canary->deployment + " back failed: " + undo.message;
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    TransitionRequest request{d.id, Event::fail, "shipgate", std::move(why), result, {}, {bad}};
    co_await finish_request(std::move(request));
  }
}

}  // namespace shipgate::orchestration
