#include "domain/drift.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

std::vector<DriftDifference> find_drift(const config::KubernetesTargetConfig& target,
                                        const std::map<std::string, std::string>& applied_images,
                                        const std::map<std::string, json>& live) {
  std::vector<DriftDifference> out;
  for (const auto& w : target.workloads) {
    const auto it = live.find(w.deployment);
    if (it == live.end()) {
      out.push_back({w.deployment, "missing", "", "present"});
      continue;
    }
    const json& spec = it->second.contains("spec") && it->second["spec"].is_object() ? it->second["spec"] : json::object();
    if (const auto image = applied_images.find(w.component); image != applied_images.end()) {
      std::string running;
      for (const auto& c : spec.value("/template/spec/containers"_json_pointer, json::array()))
        if (c.is_object() && c.value("name", "") == w.container) running = c.value("image", "");
      if (running != image->second) out.push_back({w.deployment, "image", running, image->second});
    }
    if (w.replicas) {
      // The API omits nothing here, but a missing count is Kubernetes' default of 1.
      const auto running = spec.contains("replicas") && spec["replicas"].is_number_integer() ? spec["replicas"].get<int>() : 1;
      if (running != *w.replicas) out.push_back({w.deployment, "replicas", std::to_string(running), std::to_string(*w.replicas)});
    }
  }
  return out;
}

json to_json(const std::vector<DriftDifference>& differences) {
  json out = json::array();
  for (const auto& d : differences)
    out.push_back({{"deployment", d.deployment}, {"field", d.field}, {"live", d.live}, {"applied", d.applied}});
  return out;
}

std::string describe_drift(const json& differences) {
  std::string out;
  for (const auto& d : differences) {
    if (!out.empty()) out += "; ";
    const std::string name = "Deployment " + d.value("deployment", "");
    if (d.value("field", "") == "missing") out += name + " is gone";
    else out += name + ": " + d.value("field", "") + " " + d.value("live", "") + ", applied " + d.value("applied", "");
  }
  return out;
}

const config::DriftConfig* drift_settings(const config::Environment& env) {
  const config::DriftConfig* found = nullptr;
  for (const auto& t : env.targets)
    if (const auto* k = std::get_if<config::KubernetesTargetConfig>(&t.spec); k && k->drift) {
      if (k->drift->self_heal) return &*k->drift;
      if (!found) found = &*k->drift;
    }
  return found;
}

std::vector<std::int64_t> heals_in_window(const std::vector<std::int64_t>& heals_ms, std::int64_t now_ms,
                                          const config::DriftConfig& drift) {
  std::vector<std::int64_t> out;
  for (const auto at : heals_ms)
    if (at > now_ms - drift.heal_window.count()) out.push_back(at);
  return out;
}

}  // namespace shipgate::orchestration
