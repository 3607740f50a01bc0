// The blue-green switch of one target, after its new colour rolled out and the preview checks passed:
// the live Service is pointed at the new colour (result.switch, a line in the history with its time),
// and the old colour is scaled down after keep_old by a supervised timer (a restart before then leaves
// it running until the next deploy makes it the new colour). Undone by switching back at once.
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/logging.hpp"
#include "common/supervised.hpp"
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class SwitchStep final : public DeploymentStep {
 public:
  explicit SwitchStep(std::size_t index) : index_(index) {}

  StepKind kind() const override { return StepKind::switch_over; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    json& done = run.result["switch"];
    if (!done.is_object()) done = json::object();
    const std::string key = std::to_string(index_);
    if (done.contains(key) && done[key].value("ok", false)) co_return StepOutcome{};
    const json& targets = run.result["targets"];
    const json deployed = index_ < targets.size() ? targets[index_].value("details", json::object()) : json::object();
    std::shared_ptr<deploy::DeployTarget> target = run.services.targets(run.env.targets[index_]);
    auto outcome = co_await target->go_live(run.context(), deployed);
    done[key] = {{"target", target->describe()}, {"ok", outcome.ok}, {"message", outcome.message},
                 {"details", outcome.details}, {"at", run.now_text()}};
    if (!outcome.ok) co_return StepOutcome{StepEnd::failed, "switch (" + target->describe() + "): " + outcome.message};
    {
      std::string line = outcome.message;
      co_await run.note()(std::move(line));
    }
    co_await run.save("the switch");
    retire_later(co_await asio::this_coro::executor, run, std::move(target), outcome.details);
    co_return StepOutcome{};
  }

  bool changed(const StepRun& run) const override {
    const std::string key = std::to_string(index_);
    return run.result.contains("switch") && run.result["switch"].contains(key) && run.result["switch"][key].value("ok", false);
  }

  asio::awaitable<UndoOutcome> undo(StepRun& run, const deploy::DeployContext& previous) override {
    auto target = run.services.targets(run.env.targets[index_]);
    const json switched = run.result["switch"][std::to_string(index_)].value("details", json::object());
    auto outcome = co_await target->rollback(previous, switched);
    if (outcome.ok) {
      std::string line = outcome.message;
      co_await run.note()(std::move(line));
    }
    UndoOutcome undone{outcome.ok, {{"target", target->describe()}, {"ok", outcome.ok}, {"message", outcome.message}, {"at", run.now_text()}}};
    if (!outcome.ok) undone.failure = "switch back (" + target->describe() + "): " + outcome.message;
    co_return undone;
  }

 private:
  static void retire_later(const asio::any_io_executor& executor, StepRun& run, std::shared_ptr<deploy::DeployTarget> target,
                           json switched) {
    const auto keep_old = std::chrono::milliseconds(switched.value("keep_old_ms", std::int64_t{600'000}));
    const std::int64_t id = run.deployment.id;
    // One run: an error is logged and counted by the supervisor, which tries again after its back-off.
    TaskStart start = [target, switched, keep_old, id]() -> asio::awaitable<void> {
      asio::steady_timer timer(co_await asio::this_coro::executor, keep_old);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      auto outcome = co_await target->retire(switched);
      log_with(outcome.ok ? spdlog::level::info : spdlog::level::warn, {.deployment = id}, "deployment {}: old colour: {}", id,
               outcome.message);
    };
    spawn_supervised(executor, "blue-green retire", std::move(start), run.services.metrics);
  }

  std::size_t index_;
};

}  // namespace

std::unique_ptr<DeploymentStep> switch_step(std::size_t index) { return std::make_unique<SwitchStep>(index); }

}  // namespace shipgate::orchestration
