// Reads why a Deployment's rollout failed through the Kubernetes API: the Deployment's newest ReplicaSet
// (by its revision), that ReplicaSet's pods, the failing container's last log lines (the previous
// container's after a crash) and the pod's Warning events; rollout_diagnosis turns them into one line.
// Best effort: an answer that cannot be read leaves the diagnosis out, never fails the deployment
// differently.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "http/http_client.hpp"

namespace shipgate::deploy {

// A GET of an API path (with its query), through the target's credentials.
using KubeGet = std::function<boost::asio::awaitable<http::HttpResult>(std::string path)>;

struct RolloutReport {
  std::string line;       // "api: CrashLoopBackOff, exit 1: Error: DATABASE_URL is not set"
  nlohmann::json details;  // pod, container, reason, exit code, log tail, Warning events
};

boost::asio::awaitable<std::optional<RolloutReport>> diagnose_rollout(KubeGet get, std::string ns,
                                                                      nlohmann::json deployment);

// The label selector of a Deployment's spec.selector.matchLabels ("app=api,tier=web"); empty when it
// has none a selector can say.
std::string match_labels_selector(const nlohmann::json& deployment);

}  // namespace shipgate::deploy
