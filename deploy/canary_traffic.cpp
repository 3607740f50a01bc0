#include "deploy/canary_traffic.hpp"

#include <cmath>

#include "common/json_read.hpp"
#include "deploy/kube_rollout.hpp"
#include "deploy/manifest_set.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

int canary_replicas(int main_replicas, int percent) {
  if (percent <= 0) return 0;
  if (percent >= 100) return std::max(main_replicas, 1);
  const double exact = static_cast<double>(main_replicas) * percent / (100 - percent);
  return std::max(1, static_cast<int>(std::lround(exact)));
}

json weight_patch(const json& httproute, const config::CanaryRoute& route, int percent, std::string& error) {
  const std::string version = json_read::text(json_read::object(httproute, "metadata"), "resourceVersion");
  json ops = json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", version}}});
  const auto& rules = json_read::array(json_read::object(httproute, "spec"), "rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& refs = json_read::array(rules[i], "backendRefs");
    bool has_canary = false;
    for (const auto& ref : refs) has_canary = has_canary || json_read::text(ref, "name") == route.canary_service;
    if (!has_canary) continue;
    for (std::size_t j = 0; j < refs.size(); ++j) {
      const std::string name = json_read::text(refs[j], "name");
      const std::string kind = json_read::text(refs[j], "kind");
      if (!kind.empty() && kind != "Service") continue;
      if (name != route.canary_service && name != route.service) continue;
      const int weight = name == route.canary_service ? percent : 100 - percent;
      ops.push_back({{"op", "add"}, {"path", "/spec/rules/" + std::to_string(i) + "/backendRefs/" + std::to_string(j) + "/weight"},
                     {"value", weight}});
    }
  }
  if (ops.size() == 1)
    error = "HTTPRoute " + route.httproute + " has no rule with a backendRef to Service " + route.canary_service +
            " (add one beside " + route.service + " with weight: 0)";
  return ops;
}

asio::awaitable<TargetOutcome> route_weight(KubeApi& api, const config::CanaryRoute& route, int percent) {
  const std::string path = "/apis/gateway.networking.k8s.io/v1/namespaces/" + api.config().namespace_ + "/httproutes/" + route.httproute;
  const std::string resource = "httproutes/" + route.httproute + " in namespace " + api.config().namespace_;
  TargetOutcome out;
  for (int attempt = 0; attempt < 3; ++attempt) {  // the route changed between the read and the patch: read again
    auto read = co_await api.send("GET", path);
    if (read.status() != 200) {
      out.message = kube_refusal(read, "get", resource, "HTTPRoute " + route.httproute + " not found in namespace " + api.config().namespace_);
      co_return out;
    }
    std::string error;
    const json ops = weight_patch(json_read::parse(read.body()), route, percent, error);
    if (!error.empty()) {
      out.message = error;
      co_return out;
    }
    auto patched = co_await api.send("PATCH", path, ops.dump(), "application/json-patch+json");
    if (patched.status() == 200) {
      out.ok = true;
      out.message = "HTTPRoute " + route.httproute + ": " + route.canary_service + " " + std::to_string(percent) + "%, " +
                    route.service + " " + std::to_string(100 - percent) + "%";
      out.details = {{"httproute", route.httproute}, {"canary", percent}, {"main", 100 - percent}};
      co_return out;
    }
    if (patched.status() != 409 && patched.status() != 422) {
      out.message = kube_refusal(patched, "patch", resource, "HTTPRoute " + route.httproute + " is gone");
      co_return out;
    }
  }
  out.message = "HTTPRoute " + route.httproute + " kept changing while shipgate set its weights (3 attempts)";
  co_return out;
}

asio::awaitable<TargetOutcome> scale_for_weight(KubeApi& api, const std::string& canary, const std::string& main, int percent) {
  const std::string base = "/apis/apps/v1/namespaces/" + api.config().namespace_ + "/deployments/";
  TargetOutcome out;
  auto read = co_await api.send("GET", base + main);
  if (read.status() != 200) {
    out.message = kube_refusal(read, "get", "deployments/" + main + " in namespace " + api.config().namespace_,
                               "Deployment " + main + " not found in namespace " + api.config().namespace_);
    co_return out;
  }
  const auto main_replicas = static_cast<int>(json_read::integer(json_read::object(json_read::parse(read.body()), "spec"), "replicas", 1));
  const int replicas = canary_replicas(main_replicas, percent);
  const json patch = {{"spec", {{"replicas", replicas}}}};
  auto scaled = co_await api.send("PATCH", base + canary, patch.dump(), "application/strategic-merge-patch+json");
  if (scaled.status() != 200) {
    out.message = kube_refusal(scaled, "patch", "deployments/" + canary + " in namespace " + api.config().namespace_,
                               "Deployment " + canary + " not found in namespace " + api.config().namespace_);
    co_return out;
  }
  std::vector<WorkloadRef> rollout{WorkloadRef{"Deployment", canary, base + canary}};  // named: GCC 12 and co_await
  if (!co_await await_rollouts(api, std::move(rollout), out)) co_return out;
  const int share = replicas + main_replicas == 0 ? 0 : static_cast<int>(std::lround(100.0 * replicas / (replicas + main_replicas)));
  out.ok = true;
  out.message = "Deployment " + canary + " scaled to " + std::to_string(replicas) + " beside " + std::to_string(main_replicas) +
                " of " + main + ": " + std::to_string(share) + "% of the replicas (no HTTPRoute: the weight is given by replica counts)";
  out.details = {{"canary_replicas", replicas}, {"main_replicas", main_replicas}, {"share", share}};
  co_return out;
}

}  // namespace shipgate::deploy
