// A deployment is a list of steps chosen from its environment's config: the image check, each `before`
// step, a canary, each target, the preview smoke checks and the blue-green switches, the smoke checks,
// the analysis (deployment_steps). The dispatcher runs them in order; each
// records its entry (with `at`) in the deployment's result, which is also what a resumed deployment
// reads to go on where it stopped. A failure undoes the steps that ran, newest first (Dispatcher::
// roll_back); what a success promotes is decided after the last step. Adding a step is adding a file
// with a DeploymentStep and naming it in deployment_steps().
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "deploy/smoke.hpp"
#include "deploy/target.hpp"
#include "http/http_client.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

using TargetFactory = std::function<std::unique_ptr<deploy::DeployTarget>(const config::TargetConfig&)>;

// What the steps of a deployment may use, lent by the dispatcher.
struct StepServices {
  Store& store;
  http::HttpClient& http;  // smoke checks, registry lookups, analysis queries
  Metrics* metrics;        // may be null
  const TargetFactory& targets;
  const Clock& clock;
  std::function<std::optional<LaneHold>()> hold;  // the lane hold the deployment's writes are made under
};

// One running deployment as its steps see it.
class StepRun {
 public:
  StepRun(Deployment& deployment, const config::Config& config, const config::Project& project,
          const config::Environment& env, bool resume, StepServices services);

  Deployment& deployment;
  const config::Config& config;
  const config::Project& project;
  const config::Environment& env;
  const bool resume;  // it was running when shipgate stopped: steps that finished are not run again
  StepServices services;
  nlohmann::json result;  // every step's entry; saved as the deployment's result

  // What targets and checks receive; made on first use, after the image step pinned the digests.
  const deploy::DeployContext& context();
  // A line in the deployment's history (a target's attempt, a wait, an analysis sample).
  const deploy::AttemptNote& note() const { return note_; }
  // Records the result so far, so that a resume goes on from it; a failure to record is logged.
  boost::asio::awaitable<void> save(std::string_view what);
  // The clock's time as the API writes times: when a step's entry was made.
  std::string now_text() const;

 private:
  std::optional<deploy::DeployContext> context_;
  deploy::AttemptNote note_;
};

enum class StepEnd {
  passed,      // the next step runs
  failed,      // the deployment failed here; what ran is undone where the environment rolls back
  superseded,  // newer work replaced it before anything changed
  ended,       // the step ended the deployment itself (`ending`): a canary that put itself back
};

struct StepOutcome {
  StepEnd end = StepEnd::passed;
  std::string message;
  std::optional<TransitionRequest> ending;  // with StepEnd::ended
};

// One step undone: its entry in result.rollback, and on failure what to say.
struct UndoOutcome {
  bool ok = true;
  nlohmann::json entry;
  std::string failure;  // "target 2 (dokploy app): ..." when !ok
};

enum class StepKind { image_check, before, canary, target, preview_smoke, switch_over, smoke, analysis };

class DeploymentStep {
 public:
  virtual ~DeploymentStep() = default;
  virtual StepKind kind() const = 0;
  virtual boost::asio::awaitable<StepOutcome> run(StepRun& run) = 0;
  // Whether undo() has something to put back (a step that changed nothing outside has not).
  virtual bool changed(const StepRun& /*run*/) const { return false; }
  // Puts back what run() changed, to the `previous` version's context.
  virtual boost::asio::awaitable<UndoOutcome> undo(StepRun& run, const deploy::DeployContext& previous);
};

using DeploymentSteps = std::vector<std::unique_ptr<DeploymentStep>>;

// The steps of a deployment in `env`, in the order they run.
DeploymentSteps deployment_steps(const config::Environment& env);
// Whether any of the first `ran` steps changed something that a rollback would put back.
bool changed_anything(const StepRun& run, const DeploymentSteps& steps, std::size_t ran);

// Each step, in its own file.
std::unique_ptr<DeploymentStep> image_check_step();
std::unique_ptr<DeploymentStep> before_step(std::size_t index);
std::unique_ptr<DeploymentStep> canary_step();
std::unique_ptr<DeploymentStep> target_step(std::size_t index);
// The smoke checks that use {preview_url} (before the blue-green switch), or the others.
enum class SmokePhase { preview, live };
std::unique_ptr<DeploymentStep> smoke_step(SmokePhase phase = SmokePhase::live);
std::unique_ptr<DeploymentStep> switch_step(std::size_t target_index);
// Whether a target rolls out beside what serves and switches later (Kubernetes blue_green).
bool switches_later(const config::TargetConfig& target);
// Whether a smoke check addresses the preview ({preview_url} in its URL, headers, body or expected text).
bool checks_preview(const config::SmokeCheck& check);
std::unique_ptr<DeploymentStep> analysis_step();

// What targets and smoke checks receive for a deployment: its version, images (pinned to their
// recorded digests with pin_digests) and the template variables made from them.
deploy::DeployContext deploy_context(const Deployment& d, const config::Project& project, const config::Environment& env);

}  // namespace shipgate::orchestration
