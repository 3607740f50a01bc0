#include "orchestration/deployment_step.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/logging.hpp"
#include "common/time_format.hpp"
#include "domain/deployment_rules.hpp"
#include "orchestration/image_check.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

StepRun::StepRun(Deployment& d, const config::Config& cfg, const config::Project& proj, const config::Environment& e,
                 bool resumed, StepServices s)
    : deployment(d), config(cfg), project(proj), env(e), resume(resumed), services(std::move(s)),
      result(d.result.is_object() ? d.result : nlohmann::json::object()) {
  note_ = [&store = services.store, id = d.id](std::string line) -> asio::awaitable<void> {
    TransitionRequest request{id, Event::note, "shipgate", std::move(line)};
    co_await store.transition(std::move(request));
  };
}

const deploy::DeployContext& StepRun::context() {
  if (!context_) context_ = deploy_context(deployment, project, env);
  return *context_;
}

asio::awaitable<void> StepRun::save(std::string_view what) {
  auto saved = co_await services.store.record_result(deployment.id, result, services.hold());
  if (!saved)
    log_with(spdlog::level::warn, {.deployment = deployment.id}, "deployment {}: cannot record {}: {}", deployment.id,
             what, saved.error().message());
}

std::string StepRun::now_text() const { return format_rfc3339_ms(epoch_ms(services.clock.now())); }

asio::awaitable<UndoOutcome> DeploymentStep::undo(StepRun&, const deploy::DeployContext&) { co_return UndoOutcome{}; }

DeploymentSteps deployment_steps(const config::Environment& env) {
  DeploymentSteps steps;
  steps.push_back(image_check_step());
  for (std::size_t i = 0; i < env.before.size(); ++i) steps.push_back(before_step(i));
  if (env.canary) steps.push_back(canary_step());
  for (std::size_t i = 0; i < env.targets.size(); ++i) steps.push_back(target_step(i));
  const auto previews = std::count_if(env.smoke.begin(), env.smoke.end(), checks_preview);
  if (previews > 0) steps.push_back(smoke_step(SmokePhase::preview));
  for (std::size_t i = 0; i < env.targets.size(); ++i)
    if (switches_later(env.targets[i])) steps.push_back(switch_step(i));
  if (static_cast<std::size_t>(previews) < env.smoke.size()) steps.push_back(smoke_step(SmokePhase::live));
  if (env.analysis) steps.push_back(analysis_step());
  return steps;
}

bool switches_later(const config::TargetConfig& target) {
  const auto* k = std::get_if<config::KubernetesTargetConfig>(&target.spec);
  return k && k->blue_green;
}

bool checks_preview(const config::SmokeCheck& check) {
  const auto uses = [](const std::string& text) { return text.find("{preview_url}") != std::string::npos; };
  bool headers = false;
  for (const auto& [name, value] : check.headers) headers = headers || uses(value);
  return uses(check.url) || uses(check.body_contains) || headers || (!check.body.is_null() && uses(check.body.dump()));
}

bool changed_anything(const StepRun& run, const DeploymentSteps& steps, std::size_t ran) {
  return std::any_of(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(std::min(ran, steps.size())),
                     [&run](const auto& step) { return step->changed(run); });
}

deploy::DeployContext deploy_context(const Deployment& d, const config::Project& project,
                                     const config::Environment& env) {
  deploy::DeployContext ctx;
  ctx.deployment_id = d.id;
  ctx.marker = d.marker();
  ctx.project = d.project;
  ctx.environment = d.environment;
  ctx.repository = project.repository;
  ctx.version = d.version;
  ctx.sha = d.sha;
  ctx.ref = d.ref;
  ctx.config_commit = d.config_commit;
  for (const auto& t : env.targets)
    if (const auto* k = std::get_if<config::KubernetesTargetConfig>(&t.spec); k && k->blue_green && ctx.preview_url.empty())
      ctx.preview_url = k->blue_green->preview_url;
  ctx.branch = d.ref.rfind("refs/heads/", 0) == 0 ? d.ref.substr(11) : project.branch;
  // With pin_digests a target gets each image by the digest checked before the first target ran.
  ctx.images = env.pin_digests ? pinned_images(d.images, recorded_digests(d.result)) : d.images;
  ctx.vars = deploy::template_vars(ctx);
  return ctx;
}

}  // namespace shipgate::orchestration
