// How a deployment is undone: the automatic rollback after a failure (its steps undone, newest first),
// and a run that threw contained.
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

asio::awaitable<void> Dispatcher::roll_back(StepRun& run, const DeploymentSteps& steps, std::size_t ran,
                                            std::string failure) {
  const Deployment& d = run.deployment;
  // Back to the newest version that succeeded here before this one.
  DeploymentFilter earlier{d.project, d.environment, {State::succeeded}, kPreviousVersionSearch, 0};
  auto succeeded = co_await store_.deployments(earlier);
  const Deployment* previous = succeeded ? rollback_target(*succeeded, d) : nullptr;
  if (!previous) {
    std::string why = failure + "; nothing to roll back to (no earlier succeeded version in " + d.environment + ")";
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    co_await finish(d.id, Event::fail, std::move(why), run.result);
    co_return;
  }
  auto noted = run.note()("rolling back to " + previous->version + " after: " + failure);
  co_await std::move(noted);
  log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: rolling back {} step(s) to {} after: {}", d.id, ran,
           previous->version, failure);
  auto back = deploy_context(*previous, run.project, run.env);
  back.result = previous->result;  // what each target applied for it, to compare with what it applies again
  run.result["rollback"] = json::array();
  std::string rollback_error;
  for (std::size_t i = ran; i-- > 0;) {  // newest first
    if (!steps[i]->changed(run)) continue;
    auto undoing = steps[i]->undo(run, back);
    auto undone = co_await std::move(undoing);
    run.result["rollback"].push_back(std::move(undone.entry));
    if (!undone.ok && rollback_error.empty()) rollback_error = std::move(undone.failure);
  }
  std::vector<BadVersion> bad;
  if (marks_bad_on_rollback(d, *previous))
    bad.push_back({d.project, d.environment, d.version, d.sha, 0, d.id, "automatic rollback: " + failure, "shipgate"});
  if (rollback_error.empty()) {
    std::string why = "rolled back to " + previous->version + " after: " + failure;
    TransitionRequest request{d.id, Event::roll_back, "shipgate", std::move(why), run.result, {}, std::move(bad)};
    co_await finish_request(std::move(request));
  } else {
    std::string why = failure + "; rollback to " + previous->version + " failed: " + rollback_error;
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    TransitionRequest request{d.id, Event::fail, "shipgate", std::move(why), run.result, {}, std::move(bad)};
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
  Deployment d = std::move(**read);
  if (d.state != State::running) co_return;  // it had ended before the error
  const auto reached = ran_steps_.contains(id) ? ran_steps_[id] : 0;
  std::string again;
  try {
    auto configured = config_for(d);
    const auto config = co_await std::move(configured);
    const auto* project = config->project(d.project);
    const auto* env = project ? project->environment(d.environment) : nullptr;
    if (env && env->rollback_on_failure && reached > 0) {
      // The steps are the environment's, in the same order: undo those it reached that changed something.
      const auto steps = deployment_steps(*env);
      StepRun run(d, *config, *project, *env, true, step_services(id));
      const auto ran = std::min(reached, steps.size());
      if (changed_anything(run, steps, ran)) {
        // Made outside the co_await (GCC 12 and temporaries of a co_await that throws).
        auto undo = roll_back(run, steps, ran, failure);
        co_await std::move(undo);
        co_return;
      }
    }
  } catch (...) {
    again = current_exception_text();
  }
  co_await finish(id, Event::fail, again.empty() ? failure : failure + "; its rollback stopped too: " + again.substr(0, 300),
                  d.result);
}

}  // namespace shipgate::orchestration
