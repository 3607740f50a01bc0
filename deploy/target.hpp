// A place a version is deployed to. Orchestration builds a DeployContext and awaits an outcome;
// targets never touch the store and never see HTTP sessions.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "config/template.hpp"
#include "http/http_client.hpp"

namespace shipgate::deploy {

struct DeployContext {
  std::int64_t deployment_id = 0;
  std::string marker;  // unique per deployment across restarts: lets a target find its own job again
  std::string project;
  std::string environment;
  std::string repository;
  std::string version;  // tag when there is one, else the SHA
  std::string sha;
  std::string ref;
  std::string branch;
  std::map<std::string, std::string> images;  // component -> full image reference
  std::string config_commit;                  // platform commit behind a config redeploy, else empty
  std::string preview_url;                    // a blue-green target's preview address, else empty
  nlohmann::json result = nlohmann::json::object();  // for a rollback only: what the version rolled back to recorded
  config::TemplateVars vars;                  // {sha} {version} {image.backend} ...
};

struct TargetOutcome {
  bool ok = false;
  std::string message;                        // one line a person can act on
  nlohmann::json details = nlohmann::json::object();  // target-specific facts kept with the deployment
};

class DeployTarget {
 public:
  virtual ~DeployTarget() = default;
  virtual std::string describe() const = 0;
  virtual boost::asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) = 0;
  // Called instead of deploy() for a deployment that was running when shipgate stopped. Targets that
  // can find their earlier job (Dokploy, by marker) continue watching it; the default sends again.
  virtual boost::asio::awaitable<TargetOutcome> resume(const DeployContext& ctx) { return deploy(ctx); }
  // Puts the environment back after a failed deployment. `failed_details` are what deploy() reported
  // (Kubernetes restores the images it recorded there); the default deploys `previous` again.
  virtual boost::asio::awaitable<TargetOutcome> rollback(const DeployContext& previous, const nlohmann::json& failed_details) {
    (void)failed_details;
    return deploy(previous);
  }
  // A canary's target sends it `percent` of the traffic (Kubernetes: an HTTPRoute's weights or replica
  // counts); other targets cannot.
  virtual boost::asio::awaitable<TargetOutcome> set_weight(int percent);
  // A target that rolls out beside what serves (blue-green) makes the new version live here, after the
  // preview checks; `deployed` is what deploy() recorded. Undone by rollback() with this call's details.
  // Others have nothing to switch.
  virtual boost::asio::awaitable<TargetOutcome> go_live(const DeployContext& ctx, const nlohmann::json& deployed);
  // Scales down what go_live() switched away from, unless a later deploy has changed it since.
  virtual boost::asio::awaitable<TargetOutcome> retire(const nlohmann::json& switched);
};

std::unique_ptr<DeployTarget> make_target(const config::TargetConfig& cfg, std::shared_ptr<http::HttpClient> http);

// The variables every template sees, derived from the context's fields.
config::TemplateVars template_vars(const DeployContext& ctx);

}  // namespace shipgate::deploy
