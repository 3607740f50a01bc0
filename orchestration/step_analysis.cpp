// The error rate after the smoke checks, watched for as long as the analysis says; the deployment
// keeps its lane meanwhile. A ratio over the threshold (or no answer) fails the deployment.
#include "orchestration/deployment_step.hpp"
#include "orchestration/error_rate.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

class AnalysisStep final : public DeploymentStep {
 public:
  StepKind kind() const override { return StepKind::analysis; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    const auto& analysis = *run.env.analysis;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(analysis.watch_for).count();
    std::string watching = "analysis: watching the error ratio for " + std::to_string(seconds) + " s";
    co_await run.note()(std::move(watching));
    auto analysed = co_await watch_error_rate(run.services.http, analysis, run.note());
    run.result["analysis"] = {{"ok", analysed.ok}, {"message", analysed.message}, {"samples", analysed.samples},
                              {"at", run.now_text()}};
    if (auto* metrics = run.services.metrics)
      metrics->analysis(run.deployment.project, run.deployment.environment,
                        analysed.ok ? "passed" : analysed.answered ? "failed" : "no_answer");
    if (!analysed.ok) co_return StepOutcome{StepEnd::failed, analysed.message};
    co_return StepOutcome{};
  }
};

}  // namespace

std::unique_ptr<DeploymentStep> analysis_step() { return std::make_unique<AnalysisStep>(); }

}  // namespace shipgate::orchestration
