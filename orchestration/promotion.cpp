// What a deployment's success asks of the environments promoted from its own: the same version, when
// that is new work there (gate_policy.hpp's promotion_skipped says when it is not).
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "domain/deployment_rules.hpp"
#include "orchestration/dispatcher.hpp"
#include "domain/gate_policy.hpp"
#include "orchestration/image_check.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

asio::awaitable<std::vector<NewDeployment>> Dispatcher::promotions_after(const Deployment& d, const nlohmann::json& result) {
  std::vector<NewDeployment> out;
  // Promotion follows the config in force now (a reload may have changed the next environment).
  const auto now_config = config_();
  const auto* project = now_config->project(d.project);
  if (!project) co_return out;
  // The next environment gets the images tested here, by digest where they were checked.
  Deployment tested = d;
  tested.images = pinned_images(d.images, recorded_digests(result));
  for (auto& candidate : plan_promotion(*project, tested, clock_->now())) {
    PromotionTarget next;
    // Built outside the co_await: GCC 12 cannot take initializer lists inside a co_await expression.
    DeploymentFilter newest_success{d.project, candidate.environment, {State::succeeded}, 1, 0};
    DeploymentFilter unfinished{d.project, candidate.environment, {State::queued, State::pending_approval, State::running}, 50, 0};
    auto ran = co_await store_.deployments(std::move(newest_success));
    auto waiting = co_await store_.deployments(std::move(unfinished));
    // Unreadable: promote (a duplicate asks reviewers once more; a lost promotion would be worse).
    if (ran && !ran->empty()) next.running = ran->front();
    if (waiting) next.waiting = std::move(*waiting);
    if (auto why = promotion_skipped(tested, candidate, next)) {
      log_with(spdlog::level::info, {.deployment = d.id}, "deployment {}: not promoted to {}: {}", d.id,
               candidate.environment, *why);
      continue;
    }
    candidate.config_sha = now_config->source_sha256;
    out.push_back(std::move(candidate));
  }
  co_return out;
}

}  // namespace shipgate::orchestration
