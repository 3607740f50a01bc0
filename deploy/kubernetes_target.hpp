#pragma once
#include "deploy/target.hpp"


namespace shipgate::deploy {

// A Kubernetes target, in one of two ways:
// - images: sets container images on existing Deployments (strategic merge patch by container name),
//   waits for the rollouts, and on rollback patches back the images it recorded before its own change;
// - manifests: renders its manifest set with the deployment's values, applies it with server-side apply,
//   prunes (with prune) and waits for its workloads; rollback applies the previous version's set again.
std::unique_ptr<DeployTarget> make_kubernetes_target(const config::KubernetesTargetConfig& cfg,
                                                     std::shared_ptr<http::HttpClient> http);

}  // namespace shipgate::deploy
