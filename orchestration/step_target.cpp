// One deploy target of the environment, in config order. A resumed deployment skips a target that
// already succeeded and asks the one it stopped in to resume; the entry (target, ok, message, details,
// duration, at) replaces the earlier one. Undo rolls the target back to the previous version, with
// the details the deploy recorded.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class TargetStep final : public DeploymentStep {
 public:
  explicit TargetStep(std::size_t index) : index_(index) {}

  StepKind kind() const override { return StepKind::target; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    json& done = run.result["targets"];
    if (!done.is_array()) done = json::array();
    if (index_ < done.size() && done[index_].value("ok", false)) co_return StepOutcome{};
    const auto& cfg = run.env.targets[index_];
    auto target = run.services.targets(cfg);
    const auto t0 = std::chrono::steady_clock::now();
    deploy::TargetOutcome outcome;
    if (run.resume && index_ == done.size()) outcome = co_await target->resume(run.context());
    else outcome = co_await target->deploy(run.context());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    json entry = {{"target", target->describe()}, {"ok", outcome.ok}, {"message", outcome.message},
                  {"details", outcome.details}, {"duration_ms", ms}, {"at", run.now_text()}};
    if (auto* metrics = run.services.metrics) metrics->target_call(cfg.type, outcome.ok);
    json& entries = run.result["targets"];
    if (index_ < entries.size()) entries[index_] = std::move(entry);
    else entries.push_back(std::move(entry));
    const std::int64_t id = run.deployment.id;
    log_with(outcome.ok ? spdlog::level::info : spdlog::level::warn, {.deployment = id}, "deployment {}: target {} ({}): {}",
             id, index_ + 1, target->describe(), outcome.message);
    if (!outcome.ok)
      co_return StepOutcome{StepEnd::failed, "target " + std::to_string(index_ + 1) + " (" + target->describe() + "): " + outcome.message};
    if (!last(run)) co_await run.save("progress");
    co_return StepOutcome{};
  }

  bool changed(const StepRun&) const override { return true; }  // the failed one may have changed something too

  asio::awaitable<UndoOutcome> undo(StepRun& run, const deploy::DeployContext& previous) override {
    auto target = run.services.targets(run.env.targets[index_]);
    const json& entries = run.result["targets"];
    const json details = index_ < entries.size() ? entries[index_].value("details", json::object()) : json::object();
    auto outcome = co_await target->rollback(previous, details);
    UndoOutcome undone{outcome.ok, {{"target", target->describe()}, {"ok", outcome.ok}, {"message", outcome.message},
                                    {"details", outcome.details}, {"at", run.now_text()}}};
    if (!outcome.ok) undone.failure = "target " + std::to_string(index_ + 1) + " (" + target->describe() + "): " + outcome.message;
    co_return undone;
  }

 private:
  // Nothing follows this target: its outcome is recorded with the deployment's end.
  bool last(const StepRun& run) const {
    return index_ + 1 == run.env.targets.size() && run.env.smoke.empty() && !run.env.analysis &&
           std::none_of(run.env.targets.begin(), run.env.targets.end(), switches_later);
  }

  std::size_t index_;
};

}  // namespace

std::unique_ptr<DeploymentStep> target_step(std::size_t index) { return std::make_unique<TargetStep>(index); }

}  // namespace shipgate::orchestration
