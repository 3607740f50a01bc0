// The smoke checks, once every target succeeded, in config order; each attempt lands in the history as
// it happens, and the first check that fails fails the deployment. Those that use {preview_url} run in
// their own step before the blue-green switch (result.preview_smoke), the others after it (result.smoke).
#include "orchestration/deployment_step.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

class SmokeStep final : public DeploymentStep {
 public:
  explicit SmokeStep(SmokePhase phase) : phase_(phase) {}

  StepKind kind() const override { return phase_ == SmokePhase::preview ? StepKind::preview_smoke : StepKind::smoke; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    const char* key = phase_ == SmokePhase::preview ? "preview_smoke" : "smoke";
    run.result[key] = nlohmann::json::array();
    const auto vars = run.context().vars;
    for (const auto& check : run.env.smoke) {
      if (checks_preview(check) != (phase_ == SmokePhase::preview)) continue;
      auto outcome = co_await deploy::run_smoke_check(run.services.http, check, vars, run.note());
      run.result[key].push_back({{"url", check.url}, {"ok", outcome.ok}, {"message", outcome.message},
                                 {"details", outcome.details}, {"at", run.now_text()}});
      if (!outcome.ok) co_return StepOutcome{StepEnd::failed, (phase_ == SmokePhase::preview ? "preview: " : "") + outcome.message};
    }
    co_return StepOutcome{};
  }

 private:
  SmokePhase phase_;
};

}  // namespace

std::unique_ptr<DeploymentStep> smoke_step(SmokePhase phase) { return std::make_unique<SmokeStep>(phase); }

}  // namespace shipgate::orchestration
