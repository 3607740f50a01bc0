#include "deploy/target.hpp"

#include "deploy/dokploy_target.hpp"
#include "deploy/command_target.hpp"
#include "deploy/http_target.hpp"
#include "deploy/job_target.hpp"
#include "deploy/kubernetes_target.hpp"

namespace shipgate::deploy {

std::unique_ptr<DeployTarget> make_target(const config::TargetConfig& cfg, std::shared_ptr<http::HttpClient> http) {
  if (const auto* d = std::get_if<config::DokployTargetConfig>(&cfg.spec))
    return make_dokploy_target(*d, std::move(http));
  if (const auto* h = std::get_if<config::HttpTargetConfig>(&cfg.spec))
    return make_http_target(*h, std::move(http));
  if (const auto* c = std::get_if<config::CommandTargetConfig>(&cfg.spec)) return make_command_target(*c);
  if (const auto* k = std::get_if<config::KubernetesTargetConfig>(&cfg.spec)) return make_kubernetes_target(*k, std::move(http));
  if (const auto* j = std::get_if<config::JobTargetConfig>(&cfg.spec)) return make_job_target(*j, std::move(http));
  return nullptr;
}

boost::asio::awaitable<TargetOutcome> DeployTarget::set_weight(int percent) {
  co_return TargetOutcome{false, describe() + " cannot route " + std::to_string(percent) + "% of traffic", nlohmann::json::object()};
}

boost::asio::awaitable<TargetOutcome> DeployTarget::go_live(const DeployContext&, const nlohmann::json&) {
  co_return TargetOutcome{true, describe() + " has nothing to switch", nlohmann::json::object()};
}

boost::asio::awaitable<TargetOutcome> DeployTarget::retire(const nlohmann::json&) {
  co_return TargetOutcome{true, describe() + " has nothing to retire", nlohmann::json::object()};
}

config::TemplateVars template_vars(const DeployContext& ctx) {
  config::TemplateVars v;
  v["sha"] = ctx.sha;
  v["short_sha"] = ctx.sha.substr(0, 7);
  v["version"] = ctx.version;
  v["ref"] = ctx.ref;
  v["tag"] = ctx.ref.rfind("refs/tags/", 0) == 0 ? ctx.ref.substr(10) : std::string();
  v["branch"] = ctx.branch;
  v["project"] = ctx.project;
  v["environment"] = ctx.environment;
  v["deployment_id"] = std::to_string(ctx.deployment_id);
  v["config_commit"] = ctx.config_commit;
  v["preview_url"] = ctx.preview_url;
  for (const auto& [component, image] : ctx.images) v["image." + component] = image;
  return v;
}

}  // namespace shipgate::deploy
