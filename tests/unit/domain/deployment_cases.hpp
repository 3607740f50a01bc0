// Deployments as the rule tables of domain/ write them: one arriving, ones already in the environment.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "domain/deployment_rules.hpp"
#include "domain/ingest_plan.hpp"

namespace shipgate::orchestration::cases {

inline NewDeployment incoming(std::string version, Trigger trigger = Trigger::push) {
  NewDeployment d;
  d.project = "app";
  d.environment = "production";
  d.version = version;
  d.sha = version + "-sha";
  d.images = {{"api", "ghcr.io/acme/api:" + version}};
  d.trigger = trigger;
  d.actor = "octocat";
  return d;
}

inline Unfinished waiting(std::int64_t id, std::string version, State state, Trigger trigger = Trigger::push) {
  return {id, state, version, version + "-sha", {{"api", "ghcr.io/acme/api:" + version}}, trigger};
}

inline std::vector<std::int64_t> ids(const std::vector<Unfinished>& list) {
  std::vector<std::int64_t> out;
  for (const auto& u : list) out.push_back(u.id);
  return out;
}

}  // namespace shipgate::orchestration::cases
