// When a workload's rollout is done, by the rules of `kubectl rollout status`: a Deployment, a
// StatefulSet (rolling update) and a DaemonSet. Pure; counters the API omits when zero are read as 0,
// and a member of another shape counts as omitted.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::deploy {

enum class RolloutState { progressing, complete, failed };
// A Deployment; `why` says what it waits for, or why it failed.
RolloutState rollout_state(const nlohmann::json& deployment, std::string& why);
RolloutState statefulset_rollout_state(const nlohmann::json& statefulset, std::string& why);
RolloutState daemonset_rollout_state(const nlohmann::json& daemonset, std::string& why);
// By `kind` ("Deployment", "StatefulSet", "DaemonSet"); any other kind is complete.
RolloutState workload_rollout_state(std::string_view kind, const nlohmann::json& object, std::string& why);

// A Job: complete or failed by its conditions (`why` then has the reason and message), else running.
enum class JobState { running, complete, failed };
JobState job_state(const nlohmann::json& job, std::string& why);

// A Deployment's containers as (name, image), in order; any member of another shape is left out or empty.
std::vector<std::pair<std::string, std::string>> container_images(const nlohmann::json& deployment);

}  // namespace shipgate::deploy
