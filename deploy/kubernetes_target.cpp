#include "deploy/kubernetes_target.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_read.hpp"
#include "deploy/kube_credentials.hpp"
#include "deploy/kube_diagnose.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

RolloutState rollout_state(const json& d, std::string& why) {
  // Counters the API omits when zero are read as 0; anything but an integer counts as omitted.
  const json& meta = json_read::object(d, "metadata");
  const json& spec = json_read::object(d, "spec");
  const json& status = json_read::object(d, "status");
  auto num = [](const json& obj, const char* key, std::int64_t fallback = 0) { return json_read::integer(obj, key, fallback); };
  if (num(meta, "generation") > num(status, "observedGeneration")) {
    why = "waiting for the controller to observe the change";
    return RolloutState::progressing;
  }
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

namespace {

class KubernetesTarget final : public DeployTarget {
 public:
  KubernetesTarget(config::KubernetesTargetConfig cfg, std::shared_ptr<http::HttpClient> http)
      : cfg_(std::move(cfg)), http_(std::move(http)) {}

  std::string describe() const override { return "kubernetes " + cfg_.namespace_; }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    std::map<std::string, std::string> images;  // deployment -> image to set
    for (const auto& w : cfg_.workloads) {
      auto it = ctx.images.find(w.component);
      if (it == ctx.images.end()) co_return TargetOutcome{false, "no image for component " + w.component};
      images[w.component] = it->second;
    }
    co_return co_await set_images(images, /*record=*/true);
  }

  asio::awaitable<TargetOutcome> rollback(const DeployContext& previous, const json& failed) override {
    // Restore what was there before this deployment, as recorded; nothing recorded: nothing changed.
    auto recorded = failed.find("previous_images");
    if (recorded == failed.end() || !recorded->is_object() || recorded->empty())
      co_return TargetOutcome{true, "nothing to undo: no Deployment was changed"};
    std::map<std::string, std::string> images;
    for (auto it = recorded->begin(); it != recorded->end(); ++it) images[it.key()] = json_read::text(*it, "image");
    (void)previous;
    co_return co_await set_images(images, /*record=*/false);
  }

 private:
  const config::KubernetesWorkload* workload(const std::string& component) const {
    for (const auto& w : cfg_.workloads)
      if (w.component == component) return &w;
    return nullptr;
  }

  std::string path_of(const config::KubernetesWorkload& w) const {
    return "/apis/apps/v1/namespaces/" + cfg_.namespace_ + "/deployments/" + w.deployment;
  }

  // Explains a refusal from the API in terms of the verb and resource that was refused.
  std::string refusal(const http::HttpResult& r, const std::string& verb, const config::KubernetesWorkload& w) const {
    const std::string resource = "deployments/" + w.deployment + " in namespace " + cfg_.namespace_;
    std::string detail;
    if (r) detail = json_read::text(json_read::parse(r->body), "message").substr(0, 500);
    if (!r) return "cannot " + verb + " " + resource + ": " + r.error().message();
    switch (r->status) {
      case 401: return "the Kubernetes API rejected shipgate's credentials (401) on " + verb + " " + resource;
      case 403: return "RBAC forbids " + verb + " on " + resource + (detail.empty() ? "" : ": " + detail);
      case 404: return "Deployment " + w.deployment + " not found in namespace " + cfg_.namespace_;
      default: return verb + " " + resource + " failed: " + http::describe_failure(r);
    }
  }

  asio::awaitable<http::HttpResult> call(const std::string& method, const std::string& path, std::string body,
                                   const std::string& content_type, std::string& error) {
    http::OutboundRequest req;
    req.method = method;
    req.timeout = std::chrono::seconds(30);
    if (!body.empty()) {
      req.headers.emplace_back("Content-Type", content_type);
      req.body = std::move(body);
    }
    error = prepare_kube_request(cfg_, path, req);
    if (!error.empty()) co_return make_error_code(boost::system::errc::permission_denied);
    co_return co_await http_->send(std::move(req));
  }

  // Reads every Deployment first, so a missing Deployment or container fails before anything changes,
  // then patches the images and waits for the rollouts.
  asio::awaitable<TargetOutcome> set_images(const std::map<std::string, std::string>& images, bool record) {
    TargetOutcome out;
    json previous = json::object();
    if (!co_await read_current(images, previous, out)) co_return out;
    if (record) out.details["previous_images"] = json::object();
    if (!co_await patch_images(images, record ? &previous : nullptr, out)) co_return out;
    if (!co_await wait_for_rollouts(images, out)) co_return out;
    out.ok = true;
    out.message = std::to_string(images.size()) + " Deployment(s) rolled out in " + cfg_.namespace_;
    co_return out;
  }

  // The image each named container runs now, into `previous`; false with the reason in `out.message`.
  asio::awaitable<bool> read_current(const std::map<std::string, std::string>& images, json& previous,
                                     TargetOutcome& out) {
    std::string error;
    for (const auto& [component, image] : images) {
      const auto* w = workload(component);
      if (!w) {
        out.message = "component " + component + " has no Deployment in this target";
        co_return false;
      }
      auto r = co_await call("GET", path_of(*w), "", "", error);
      if (!error.empty() || !r || r->status != 200) {
        out.message = error.empty() ? refusal(r, "get", *w) : "kubernetes credentials: " + error;
        co_return false;
      }
      std::string current, names;
      for (const auto& [name, running] : container_images(json_read::parse(r->body))) {
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
    std::string error;
    for (const auto& [component, image] : images) {
      const auto* w = workload(component);
      json patch = {{"spec", {{"template", {{"spec", {{"containers", json::array({{{"name", w->container}, {"image", image}}})}}}}}}}};
      if (w->replicas) patch["spec"]["replicas"] = *w->replicas;  // declared: applied with every deploy
      auto r = co_await call("PATCH", path_of(*w), patch.dump(), "application/strategic-merge-patch+json", error);
      if (!r || r->status != 200) {
        out.message = error.empty() ? refusal(r, "patch", *w) : "kubernetes credentials: " + error;
        co_return false;
      }
      if (previous) out.details["previous_images"][component] = (*previous)[component];
      out.details["images"][component] = image;
    }
    co_return true;
  }

  // Every rollout, all in flight together, bounded by rollout_timeout.
  asio::awaitable<bool> wait_for_rollouts(const std::map<std::string, std::string>& images, TargetOutcome& out) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + cfg_.rollout_timeout;
    std::map<std::string, std::string> waiting;  // component -> why it is not done
    std::map<std::string, json> last_seen;       // component -> its Deployment as last read
    for (const auto& [component, image] : images) waiting[component] = "not observed yet";
    for (;;) {
      for (auto it = waiting.begin(); it != waiting.end();) {
        const auto* w = workload(it->first);
        std::string error;
        auto r = co_await call("GET", path_of(*w), "", "", error);
        if (!r || r->status != 200) {
          out.message = error.empty() ? refusal(r, "get", *w) : "kubernetes credentials: " + error;
          co_return false;
        }
        std::string why;
        last_seen[it->first] = json_read::parse(r->body);
        const auto state = rollout_state(last_seen[it->first], why);
        if (state == RolloutState::failed) {
          const std::string headline = "rollout of Deployment " + w->deployment + " failed";
          out.message = headline + ": " + why;
          co_await explain(last_seen[it->first], headline, why, out);
          co_return false;
        }
        if (state == RolloutState::complete) {
          out.details["rollouts"][w->deployment] = "complete";
          it = waiting.erase(it);
        } else {
          it->second = why;
          ++it;
        }
      }
      if (waiting.empty()) co_return true;
      if (std::chrono::steady_clock::now() + cfg_.poll_interval > deadline) {
        const auto& [component, why] = *waiting.begin();
        const std::string headline = "rollout of Deployment " + workload(component)->deployment + " not done after " +
                                     std::to_string(cfg_.rollout_timeout.count() / 1000) + " s";
        out.message = headline + " (" + why + ")";
        co_await explain(last_seen[component], headline, why, out);
        co_return false;
      }
      timer.expires_after(cfg_.poll_interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // A failed or stuck rollout: the message says why in one line, read from its new pods, and the result
  // keeps what was read. When nothing can be read the message stays as it was.
  asio::awaitable<void> explain(const json& deployment, const std::string& headline, const std::string& why,
                                TargetOutcome& out) {
    const KubeGet get = [this](std::string path) { return get_path(std::move(path)); };
    auto report = co_await diagnose_rollout(get, cfg_.namespace_, deployment);
    if (!report) co_return;
    out.message = headline + ": " + report->line;
    report->details["rollout"] = why;
    out.details["diagnosis"] = std::move(report->details);
  }

  asio::awaitable<http::HttpResult> get_path(std::string path) {
    std::string error;
    co_return co_await call("GET", path, "", "", error);
  }

  config::KubernetesTargetConfig cfg_;
  std::shared_ptr<http::HttpClient> http_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_kubernetes_target(const config::KubernetesTargetConfig& cfg,
                                                     std::shared_ptr<http::HttpClient> http) {
  return std::make_unique<KubernetesTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
