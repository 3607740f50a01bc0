#include "deploy/kubernetes_target.hpp"

#include <map>

#include "common/json_read.hpp"
#include "deploy/blue_green.hpp"
#include "deploy/canary_traffic.hpp"
#include "deploy/kube_api.hpp"
#include "deploy/kube_apply.hpp"
#include "deploy/kube_rollout.hpp"
#include "deploy/manifest_set.hpp"
#include "deploy/rollout_rules.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class KubernetesTarget final : public DeployTarget {
 public:
  KubernetesTarget(config::KubernetesTargetConfig cfg, std::shared_ptr<http::HttpClient> http)
      : cfg_(std::move(cfg)), api_(cfg_, std::move(http)) {}

  std::string describe() const override { return "kubernetes " + cfg_.namespace_; }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    if (!cfg_.manifest_files.empty()) co_return co_await apply_set(ctx, "applied");
    std::map<std::string, std::string> images;  // deployment -> image to set
    for (const auto& w : cfg_.workloads) {
      auto it = ctx.images.find(w.component);
      if (it == ctx.images.end()) co_return TargetOutcome{false, "no image for component " + w.component};
      images[w.component] = it->second;
    }
    if (cfg_.blue_green) co_return co_await deploy_idle_colour(api_, images);
    co_return co_await set_images(images, /*record=*/true);
  }

  asio::awaitable<TargetOutcome> go_live(const DeployContext& ctx, const json& deployed) override {
    if (!cfg_.blue_green) co_return co_await DeployTarget::go_live(ctx, deployed);
    co_return co_await switch_colours(api_, deployed, /*back=*/false);
  }

  asio::awaitable<TargetOutcome> retire(const json& switched) override {
    if (!cfg_.blue_green) co_return co_await DeployTarget::retire(switched);
    co_return co_await retire_old_colours(api_, switched);
  }

  asio::awaitable<TargetOutcome> rollback(const DeployContext& previous, const json& failed) override {
    // A manifest set: the previous version's set, rendered again with its values, applied over the failed one.
    if (!cfg_.manifest_files.empty()) {
      auto out = co_await apply_set(previous, "re-applied the manifest set of " + previous.version + ":");
      if (out.ok) out.message += same_as_recorded(previous, out.details);
      co_return out;
    }
    // Blue-green: a switch is undone by switching back (the old colour still runs); before it, nothing served.
    if (cfg_.blue_green) {
      if (failed.contains("switched")) co_return co_await switch_colours(api_, failed, /*back=*/true);
      co_return TargetOutcome{true, "nothing to undo: the new colour never served", json::object()};
    }
    // Restore what was there before this deployment, as recorded; nothing recorded: nothing changed.
    auto recorded = failed.find("previous_images");
    if (recorded == failed.end() || !recorded->is_object() || recorded->empty())
      co_return TargetOutcome{true, "nothing to undo: no Deployment was changed"};
    std::map<std::string, std::string> images;
    for (auto it = recorded->begin(); it != recorded->end(); ++it) images[it.key()] = json_read::text(*it, "image");
    co_return co_await set_images(images, /*record=*/false);
  }

  asio::awaitable<TargetOutcome> set_weight(int percent) override {
    if (!cfg_.canary) co_return co_await DeployTarget::set_weight(percent);
    if (cfg_.canary->route) co_return co_await route_weight(api_, *cfg_.canary->route, percent);
    co_return co_await scale_for_weight(api_, cfg_.workloads.at(0).deployment, cfg_.canary->main_deployment, percent);
  }

 private:
  // Whether a rollback applied what the version rolled back to had applied: its recorded digest, found
  // in its result by this target's description.
  std::string same_as_recorded(const DeployContext& previous, const json& applied) const {
    const std::string now = json_read::text(json_read::object(applied, "manifests"), "digest");
    for (const auto& entry : json_read::array(previous.result, "targets")) {
      if (json_read::text(entry, "target") != describe()) continue;
      const std::string then = json_read::text(json_read::object(json_read::object(entry, "details"), "manifests"), "digest");
      if (then.empty()) break;
      if (then == now) return "; the same set " + previous.version + " applied";
      return "; the manifest files changed since " + previous.version + " was applied (digest " + then.substr(0, 12) + " then, " +
             now.substr(0, 12) + " now): its values with today's files";
    }
    return "; what " + previous.version + " applied was not recorded";
  }

  // Renders the manifest set with the deployment's values, applies it, prunes what it no longer has (with
  // prune) and waits for its workloads. What was applied (digest, objects) goes to the details.
  asio::awaitable<TargetOutcome> apply_set(const DeployContext& ctx, const std::string& verb) {
    TargetOutcome out;
    const auto set_value = set_label_value(ctx.project, ctx.environment);
    const auto set = render_manifests(cfg_.manifest_files, ctx.vars, cfg_.namespace_, set_value);
    if (!set.error.empty()) {
      out.message = "manifests: " + set.error + "; nothing was applied";
      co_return out;
    }
    json& record = out.details["manifests"];
    record = {{"digest", set.digest}, {"objects", object_list(set.objects)}, {"set", set_value}};
    out.message = co_await apply_objects(api_, set.objects, cfg_.force);
    if (!out.message.empty()) co_return out;
    if (cfg_.prune) {
      record["pruned"] = json::array();
      json skipped = json::array();
      out.message = co_await prune_objects(api_, set.objects, set_value, record["pruned"], skipped);
      if (!skipped.empty()) record["not_pruned"] = std::move(skipped);
      if (!out.message.empty()) co_return out;
    }
    std::vector<WorkloadRef> workloads;
    for (const auto& o : set.objects)
      if (o.kind->workload) workloads.push_back({std::string(o.kind->kind), o.name, o.path()});
    if (!co_await await_rollouts(api_, workloads, out)) co_return out;
    out.ok = true;
    out.message = verb + " " + std::to_string(set.objects.size()) + " object(s) in " + cfg_.namespace_ + " (digest " +
                  set.digest.substr(0, 12) + ")" +
                  (record.contains("pruned") ? ", pruned " + std::to_string(record["pruned"].size()) : "") +
                  (workloads.empty() ? "" : ", " + std::to_string(workloads.size()) + " workload(s) rolled out");
    co_return out;
  }

  const config::KubernetesWorkload* workload(const std::string& component) const {
    for (const auto& w : cfg_.workloads)
      if (w.component == component) return &w;
    return nullptr;
  }

  std::string path_of(const config::KubernetesWorkload& w) const {
    return "/apis/apps/v1/namespaces/" + cfg_.namespace_ + "/deployments/" + w.deployment;
  }

  std::string refusal(const KubeReply& r, const std::string& verb, const config::KubernetesWorkload& w) const {
    return kube_refusal(r, verb, "deployments/" + w.deployment + " in namespace " + cfg_.namespace_,
                        "Deployment " + w.deployment + " not found in namespace " + cfg_.namespace_);
  }

  // Reads every Deployment first, so a missing Deployment or container fails before anything changes,
  // then patches the images and waits for the rollouts.
  asio::awaitable<TargetOutcome> set_images(const std::map<std::string, std::string>& images, bool record) {
    TargetOutcome out;
    json previous = json::object();
    if (!co_await read_current(images, previous, out)) co_return out;
    if (record) out.details["previous_images"] = json::object();
    if (!co_await patch_images(images, record ? &previous : nullptr, out)) co_return out;
    std::vector<WorkloadRef> rollouts;
    for (const auto& [component, image] : images) rollouts.push_back({"Deployment", workload(component)->deployment, path_of(*workload(component))});
    if (!co_await await_rollouts(api_, rollouts, out)) co_return out;
    out.ok = true;
    out.message = std::to_string(images.size()) + " Deployment(s) rolled out in " + cfg_.namespace_;
    co_return out;
  }

  // The image each named container runs now, into `previous`; false with the reason in `out.message`.
  asio::awaitable<bool> read_current(const std::map<std::string, std::string>& images, json& previous,
                                     TargetOutcome& out) {
    for (const auto& [component, image] : images) {
      const auto* w = workload(component);
      if (!w) {
        out.message = "component " + component + " has no Deployment in this target";
        co_return false;
      }
      auto r = co_await api_.send("GET", path_of(*w));
      if (r.status() != 200) {
        out.message = refusal(r, "get", *w);
        co_return false;
      }
      std::string current, names;
      for (const auto& [name, running] : container_images(json_read::parse(r.body()))) {
        names += (names.empty() ? "" : ", ") + name.substr(0, 100);
        if (name == w->container) current = running;
      }
      if (current.empty()) {
        out.message = "Deployment " + w->deployment + " has no container '" + w->container + "' (containers: " +
                      (names.empty() ? "none" : names) + "); nothing was changed";
        co_return false;
      }
      previous[component] = {{"deployment", w->deployment}, {"container", w->container}, {"image", current}};
    }
    co_return true;
  }

  // Strategic merge: containers merge by name, the rest of each is kept. Each patched Deployment's
  // previous image is recorded (when `previous` is given) as soon as it changed.
  asio::awaitable<bool> patch_images(const std::map<std::string, std::string>& images, const json* previous,
                                     TargetOutcome& out) {
    for (const auto& [component, image] : images) {
      const auto* w = workload(component);
      json patch = {{"spec", {{"template", {{"spec", {{"containers", json::array({{{"name", w->container}, {"image", image}}})}}}}}}}};
      if (w->replicas) patch["spec"]["replicas"] = *w->replicas;  // declared: applied with every deploy
      auto r = co_await api_.send("PATCH", path_of(*w), patch.dump(), "application/strategic-merge-patch+json");
      if (r.status() != 200) {
        out.message = refusal(r, "patch", *w);
        co_return false;
      }
      if (previous) out.details["previous_images"][component] = (*previous)[component];
      out.details["images"][component] = image;
    }
    co_return true;
  }

  config::KubernetesTargetConfig cfg_;
  KubeApi api_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_kubernetes_target(const config::KubernetesTargetConfig& cfg,
                                                     std::shared_ptr<http::HttpClient> http) {
  return std::make_unique<KubernetesTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
