// One `before` step of the environment (a migration Job or a command), in config order, before any
// target changes. It runs once per deployment: a resumed deployment skips a step that succeeded and asks
// the one it stopped in to resume (a Job is found again by its name). A failure ends the deployment
// failed with nothing to undo; a rollback deployment runs no `before` step (migrations must be backward
// compatible). Entries (step, ok, message, details, duration_ms, at) go to result.before.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class BeforeStep final : public DeploymentStep {
 public:
  explicit BeforeStep(std::size_t index) : index_(index) {}

  StepKind kind() const override { return StepKind::before; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    if (run.deployment.trigger == Trigger::rollback) co_return StepOutcome{};
    json& done = run.result["before"];
    if (!done.is_array()) done = json::array();
    if (index_ < done.size() && done[index_].value("ok", false)) co_return StepOutcome{};
    auto step = run.services.targets(run.env.before[index_]);
    const auto t0 = std::chrono::steady_clock::now();
    deploy::TargetOutcome outcome;
    if (run.resume && index_ == done.size()) outcome = co_await step->resume(run.context());
    else outcome = co_await step->deploy(run.context());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    json entry = {{"step", step->describe()}, {"ok", outcome.ok}, {"message", outcome.message},
                  {"details", outcome.details}, {"duration_ms", ms}, {"at", run.now_text()}};
    json& entries = run.result["before"];
    if (index_ < entries.size()) entries[index_] = std::move(entry);
    else entries.push_back(std::move(entry));
    const std::int64_t id = run.deployment.id;
    log_with(outcome.ok ? spdlog::level::info : spdlog::level::warn, {.deployment = id}, "deployment {}: before step {} ({}): {}",
             id, index_ + 1, step->describe(), outcome.message);
    if (!outcome.ok)
      co_return StepOutcome{StepEnd::failed, "before step " + std::to_string(index_ + 1) + " (" + step->describe() + "): " +
                                                 outcome.message + "; no target was changed"};
    co_await run.save("progress");
    co_return StepOutcome{};
  }

 private:
  std::size_t index_;
};

}  // namespace

std::unique_ptr<DeploymentStep> before_step(std::size_t index) { return std::make_unique<BeforeStep>(index); }

}  // namespace shipgate::orchestration
