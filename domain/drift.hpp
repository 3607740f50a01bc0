// Drift: how live Kubernetes Deployments differ from what shipgate applied there (the images of the
// environment's newest succeeded deployment, and the replicas a workload declares), and how often
// self-heal may apply it again. Pure functions; DriftMonitor does the watching and recording.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace shipgate::orchestration {

struct DriftDifference {
  std::string deployment;
  std::string field;    // image, replicas, missing (the Deployment is gone)
  std::string live;     // what runs ("" for missing)
  std::string applied;  // what shipgate applied
};

// `applied_images`: component -> image as the targets received it; `live`: Deployment name -> object.
std::vector<DriftDifference> find_drift(const config::KubernetesTargetConfig& target,
                                        const std::map<std::string, std::string>& applied_images,
                                        const std::map<std::string, nlohmann::json>& live);

nlohmann::json to_json(const std::vector<DriftDifference>& differences);
// One line: "Deployment api: replicas 5, applied 2; Deployment web is gone".
std::string describe_drift(const nlohmann::json& differences);

// The drift settings of an environment: those of its first Kubernetes target that heals, else of its
// first one watched for drift; null when none is watched.
const config::DriftConfig* drift_settings(const config::Environment& env);

// The self-heals still inside the window ending at `now_ms`, oldest first.
std::vector<std::int64_t> heals_in_window(const std::vector<std::int64_t>& heals_ms, std::int64_t now_ms,
                                          const config::DriftConfig& drift);

}  // namespace shipgate::orchestration
