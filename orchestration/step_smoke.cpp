// The smoke checks, once every target succeeded, in config order; each attempt lands in the history as
// it happens, and the first check that fails fails the deployment.
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

class SmokeStep final : public DeploymentStep {
 public:
  StepKind kind() const override { return StepKind::smoke; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    run.result["smoke"] = nlohmann::json::array();
    const auto vars = run.context().vars;
    for (const auto& check : run.env.smoke) {
      auto outcome = co_await deploy::run_smoke_check(run.services.http, check, vars, run.note());
      run.result["smoke"].push_back({{"url", check.url}, {"ok", outcome.ok}, {"message", outcome.message},
                                     {"details", outcome.details}, {"at", run.now_text()}});
      if (!outcome.ok) co_return StepOutcome{StepEnd::failed, outcome.message};
    }
    co_return StepOutcome{};
  }
};

}  // namespace

std::unique_ptr<DeploymentStep> smoke_step() { return std::make_unique<SmokeStep>(); }

}  // namespace shipgate::orchestration
