// A canary goes before the targets (once: a resume after it passed goes on with the targets). A canary
// that fails a step is put back by this step itself and ends the deployment rolled_back (failed when
// it could not be put back; a plain failure when it was never changed); the main Deployments are not
// touched. One that passed is undone with the rest when a later step fails.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "orchestration/canary.hpp"
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class CanaryStep final : public DeploymentStep {
 public:
  StepKind kind() const override { return StepKind::canary; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    if (run.result.contains("canary") && run.result["canary"].value("ok", false)) co_return StepOutcome{};
    auto canary = run.services.targets(run.env.canary_target());
    auto judged = co_await run_canary(*canary, run.context(), *run.env.canary, run.env.canary_analysis(),
                                      run.services.http, run.note());
    run.result["canary"] = judged.record;
    if (!judged.ok) {
      auto ending = put_back(run, *canary, std::move(judged.message), judged.rolled_out);
      co_return co_await std::move(ending);
    }
    if (auto* metrics = run.services.metrics) metrics->canary(run.deployment.project, run.deployment.environment, "promoted");
    co_await run.save("the canary");
    co_return StepOutcome{};
  }

  bool changed(const StepRun& run) const override {
    return run.result.contains("canary") && run.result["canary"].contains("details");
  }

  // A canary that passed runs the failed version too: it goes back with the rest.
  asio::awaitable<UndoOutcome> undo(StepRun& run, const deploy::DeployContext& previous) override {
    auto canary = run.services.targets(run.env.canary_target());
    auto outcome = co_await canary->rollback(previous, run.result["canary"]["details"]);
    const std::string name = "canary " + run.env.canary->deployment;
    UndoOutcome undone{outcome.ok, {{"target", name}, {"ok", outcome.ok}, {"message", outcome.message}, {"at", run.now_text()}}};
    if (!outcome.ok) undone.failure = name + ": " + outcome.message;
    co_return undone;
  }

 private:
  static asio::awaitable<StepOutcome> put_back(StepRun& run, deploy::DeployTarget& canary, std::string failure,
                                               bool rolled_out) {
    const Deployment& d = run.deployment;
    log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: {}", d.id, failure);
    Metrics* metrics = run.services.metrics;
    if (!rolled_out) {
      // Nothing changed anywhere: a plain failure, and the version is not marked bad.
      if (metrics) metrics->canary(d.project, d.environment, "failed");
      co_return StepOutcome{StepEnd::ended, {}, TransitionRequest{d.id, Event::fail, "shipgate", std::move(failure), run.result}};
    }
    auto off = co_await canary.set_weight(0);  // traffic off the canary first, then its version back
    auto undo = co_await canary.rollback(run.context(), run.result["canary"]["details"]);
    run.result["canary"]["rollback"] = {{"ok", undo.ok && off.ok}, {"message", undo.message}, {"traffic", off.message}};
    if (!off.ok) undo = deploy::TargetOutcome{false, "its traffic could not be put back to 0: " + off.message, {}};
    if (metrics) metrics->canary(d.project, d.environment, undo.ok ? "rolled_back" : "failed");
    BadVersion bad{d.project, d.environment, d.version, d.sha, 0, d.id, "canary: " + failure, "shipgate"};
    if (undo.ok) {
      std::string why = "canary rolled back after: " + failure + "; the main Deployments were not changed";
      co_return StepOutcome{StepEnd::ended, {}, TransitionRequest{d.id, Event::roll_back, "shipgate", std::move(why), run.result, {}, {bad}}};
    }
    std::string why = failure + "; putting canary " + run.env.canary->deployment + " back failed: " + undo.message;
    log_with(spdlog::level::err, {.deployment = d.id}, "deployment {}: {}", d.id, why);
    co_return StepOutcome{StepEnd::ended, {}, TransitionRequest{d.id, Event::fail, "shipgate", std::move(why), run.result, {}, {bad}}};
  }
};

}  // namespace

std::unique_ptr<DeploymentStep> canary_step() { return std::make_unique<CanaryStep>(); }

}  // namespace shipgate::orchestration
