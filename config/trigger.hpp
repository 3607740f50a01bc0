// What created a deployment: one list for the whole program. The config names the four an environment
// may deploy on (deploy_on: push, dispatch, build, release); the rest are made by shipgate or by people.
// Stored and shown by name (the names are the API's `trigger` values).
#pragma once
#include <optional>
#include <string_view>

namespace shipgate::config {

enum class Trigger {
  push,           // a push to a configured branch
  tag,            // a pushed tag
  dispatch,       // repository_dispatch
  build,          // POST /webhooks/build
  release,        // a published GitHub release
  manual,         // POST /api/v1/deployments
  promotion,      // the version that succeeded in the environment a gated one promotes from
  override_,      // a manual deploy past the approval gate, with a reason
  rollback,       // back to the previous version, by a reviewer
  config_change,  // the environment's config changed in the platform repository
  schedule,       // an environment's schedule redeploys what runs there
  registry,       // an environment's watch found a newer tag in the registry
  github_actions,  // a GitHub Actions job asked to deploy (a deployment protection rule): gated here, deployed there
};
std::string_view to_string(Trigger t);
std::optional<Trigger> parse_trigger(std::string_view s);
// The triggers an environment's deploy_on may name.
bool is_deploy_on_trigger(Trigger t);

}  // namespace shipgate::config
