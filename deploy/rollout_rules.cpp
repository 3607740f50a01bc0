#include "deploy/rollout_rules.hpp"

#include "common/json_read.hpp"

namespace shipgate::deploy {

using nlohmann::json;

namespace {

std::int64_t num(const json& obj, const char* key, std::int64_t fallback = 0) { return json_read::integer(obj, key, fallback); }

// The controller has not seen the newest spec yet.
bool unobserved(const json& object, std::string& why) {
  const json& meta = json_read::object(object, "metadata");
  const json& status = json_read::object(object, "status");
  if (num(meta, "generation") <= num(status, "observedGeneration")) return false;
  why = "waiting for the controller to observe the change";
  return true;
}

}  // namespace

RolloutState rollout_state(const json& d, std::string& why) {
  const json& spec = json_read::object(d, "spec");
  const json& status = json_read::object(d, "status");
  if (unobserved(d, why)) return RolloutState::progressing;
  for (const auto& c : json_read::array(status, "conditions"))
    if (json_read::text(c, "type") == "Progressing" && json_read::text(c, "reason") == "ProgressDeadlineExceeded") {
      const auto message = json_read::text(c, "message").substr(0, 500);
      why = "progress deadline exceeded" + (message.empty() ? "" : ": " + message);
      return RolloutState::failed;
    }
  const auto replicas = num(spec, "replicas", 1);
  const auto updated = num(status, "updatedReplicas"), total = num(status, "replicas"), available = num(status, "availableReplicas");
  if (updated < replicas) {
    why = std::to_string(updated) + " of " + std::to_string(replicas) + " new replicas updated";
    return RolloutState::progressing;
  }
  if (total > updated) {
    why = std::to_string(total - updated) + " old replicas pending termination";
    return RolloutState::progressing;
  }
  if (available < updated) {
    why = std::to_string(available) + " of " + std::to_string(updated) + " updated replicas available";
    return RolloutState::progressing;
  }
  why = "rolled out";
  return RolloutState::complete;
}

std::vector<std::pair<std::string, std::string>> container_images(const json& deployment) {
  std::vector<std::pair<std::string, std::string>> out;
  const json* containers = json_read::path(deployment, {"spec", "template", "spec", "containers"});
  if (!containers || !containers->is_array()) return out;
  for (const auto& c : *containers) out.emplace_back(json_read::text(c, "name"), json_read::text(c, "image"));
  return out;
}

RolloutState statefulset_rollout_state(const json& s, std::string& why) {
  const json& spec = json_read::object(s, "spec");
  const json& status = json_read::object(s, "status");
  if (unobserved(s, why)) return RolloutState::progressing;
  why = "rolled out";
  const json& strategy = json_read::object(spec, "updateStrategy");
  const std::string type = json_read::text(strategy, "type");
  if (!type.empty() && type != "RollingUpdate") return RolloutState::complete;  // OnDelete: nothing to wait for
  const auto replicas = num(spec, "replicas", 1);
  if (num(status, "readyReplicas") < replicas) {
    why = std::to_string(num(status, "readyReplicas")) + " of " + std::to_string(replicas) + " pods ready";
    return RolloutState::progressing;
  }
  const auto partition = num(json_read::object(strategy, "rollingUpdate"), "partition");
  if (partition > 0) {
    if (num(status, "updatedReplicas") < replicas - partition) {
      why = std::to_string(num(status, "updatedReplicas")) + " of " + std::to_string(replicas - partition) +
            " pods above the partition updated";
      return RolloutState::progressing;
    }
    return RolloutState::complete;
  }
  if (json_read::text(status, "updateRevision") != json_read::text(status, "currentRevision")) {
    why = std::to_string(num(status, "updatedReplicas")) + " of " + std::to_string(replicas) + " pods at the new revision";
    return RolloutState::progressing;
  }
  return RolloutState::complete;
}

RolloutState daemonset_rollout_state(const json& d, std::string& why) {
  const json& status = json_read::object(d, "status");
  if (unobserved(d, why)) return RolloutState::progressing;
  const auto desired = num(status, "desiredNumberScheduled");
  if (num(status, "updatedNumberScheduled") < desired) {
    why = std::to_string(num(status, "updatedNumberScheduled")) + " of " + std::to_string(desired) + " new pods scheduled";
    return RolloutState::progressing;
  }
  if (num(status, "numberAvailable") < desired) {
    why = std::to_string(num(status, "numberAvailable")) + " of " + std::to_string(desired) + " updated pods available";
    return RolloutState::progressing;
  }
  why = "rolled out";
  return RolloutState::complete;
}

JobState job_state(const json& job, std::string& why) {
  for (const auto& c : json_read::array(json_read::object(job, "status"), "conditions")) {
    if (json_read::text(c, "status") != "True") continue;
    const std::string type = json_read::text(c, "type");
    if (type == "Complete") {
      why = "complete";
      return JobState::complete;
    }
    if (type == "Failed") {
      const std::string reason = json_read::text(c, "reason").substr(0, 100), message = json_read::text(c, "message").substr(0, 300);
      why = (reason.empty() ? "failed" : reason) + (message.empty() ? "" : ": " + message);
      return JobState::failed;
    }
  }
  const json& status = json_read::object(job, "status");
  why = std::to_string(num(status, "active")) + " pod(s) running, " + std::to_string(num(status, "failed")) + " failed";
  return JobState::running;
}

RolloutState workload_rollout_state(std::string_view kind, const json& object, std::string& why) {
  if (kind == "Deployment") return rollout_state(object, why);
  if (kind == "StatefulSet") return statefulset_rollout_state(object, why);
  if (kind == "DaemonSet") return daemonset_rollout_state(object, why);
  why = "rolled out";
  return RolloutState::complete;
}

}  // namespace shipgate::deploy
