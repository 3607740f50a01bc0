// Waits for workloads' rollouts through the API: every one read in turn each poll_interval, all bounded
// by rollout_timeout, by the rules of rollout_rules. A failed or stuck Deployment is explained from its
// new pods (kube_diagnose).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "deploy/kube_api.hpp"
#include "deploy/target.hpp"

namespace shipgate::deploy {

struct WorkloadRef {
  std::string kind;  // Deployment, StatefulSet, DaemonSet
  std::string name;
  std::string path;  // the object's API path
};

// True when every rollout completed (each recorded in out.details["rollouts"]); otherwise false with the
// reason in out.message (and the diagnosis in out.details["diagnosis"]).
boost::asio::awaitable<bool> await_rollouts(KubeApi& api, std::vector<WorkloadRef> workloads, TargetOutcome& out);

}  // namespace shipgate::deploy
