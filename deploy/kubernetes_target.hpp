#pragma once
#include "deploy/target.hpp"

#include <string>
#include <utility>
#include <vector>

namespace shipgate::deploy {

// Sets container images on Kubernetes Deployments through the API server (strategic merge patch by
// container name), waits for the rollouts with `kubectl rollout status` rules, and on rollback patches
// back the images it recorded before its own change.
std::unique_ptr<DeployTarget> make_kubernetes_target(const config::KubernetesTargetConfig& cfg,
                                                     std::shared_ptr<http::HttpClient> http);

// The rollout rules of `kubectl rollout status` for one Deployment object.
enum class RolloutState { progressing, complete, failed };
RolloutState rollout_state(const nlohmann::json& deployment, std::string& why);
// A Deployment's containers as (name, image), in order; any member of another shape is left out or empty.
std::vector<std::pair<std::string, std::string>> container_images(const nlohmann::json& deployment);

}  // namespace shipgate::deploy
