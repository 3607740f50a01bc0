#include "deploy/blue_green.hpp"

#include "common/json_read.hpp"
#include "deploy/kube_rollout.hpp"
#include "deploy/rollout_rules.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

std::string other_colour(std::string_view colour) {
  if (colour == "blue") return "green";
  if (colour == "green") return "blue";
  return {};
}

namespace {

// On an old colour after the switch: it may be scaled down. Any deploy to it removes the mark, so a
// colour a newer deploy took over is never scaled down by an older switch.
constexpr const char* kRetireMark = "shipgate.dev/retire";

std::string services_path(const KubeApi& api) { return "/api/v1/namespaces/" + api.config().namespace_ + "/services/"; }
std::string deployments_path(const KubeApi& api) { return "/apis/apps/v1/namespaces/" + api.config().namespace_ + "/deployments/"; }

std::string in_namespace(const KubeApi& api, const std::string& what) { return what + " in namespace " + api.config().namespace_; }

// Points a Service's selector at `colour` (a strategic merge: the selector's other labels are kept).
asio::awaitable<std::string> point_service(KubeApi& api, const std::string& service, const std::string& colour) {
  const json patch = {{"spec", {{"selector", {{api.config().blue_green->label, colour}}}}}};
  auto reply = co_await api.send("PATCH", services_path(api) + service, patch.dump(), "application/strategic-merge-patch+json");
  if (reply.status() == 200) co_return std::string();
  co_return kube_refusal(reply, "patch", in_namespace(api, "services/" + service), in_namespace(api, "Service " + service + " not found"));
}

// The colour a Service serves now, by its selector; empty with `error` set when it serves neither.
asio::awaitable<std::string> live_colour(KubeApi& api, const std::string& service, std::string& error) {
  auto reply = co_await api.send("GET", services_path(api) + service);
  if (reply.status() != 200) {
    error = kube_refusal(reply, "get", in_namespace(api, "services/" + service), in_namespace(api, "Service " + service + " not found"));
    co_return std::string();
  }
  const std::string& label = api.config().blue_green->label;
  const json service_object = json_read::parse(reply.body());
  const std::string live = json_read::text(json_read::object(json_read::object(service_object, "spec"), "selector"), label.c_str());
  if (other_colour(live).empty())
    error = "Service " + service + " selects no colour: its selector needs " + label + ": blue or green (the colour that serves now)";
  co_return live;
}

// Empty when the Deployment exists and has the container, else why not (nothing is changed then).
asio::awaitable<std::string> check_container(KubeApi& api, const std::string& deployment, const std::string& container) {
  auto read = co_await api.send("GET", deployments_path(api) + deployment);
  if (read.status() != 200)
    co_return kube_refusal(read, "get", in_namespace(api, "deployments/" + deployment),
                           in_namespace(api, "Deployment " + deployment + " not found (blue_green needs both colours)"));
  std::string names;
  for (const auto& [name, image] : container_images(json_read::parse(read.body()))) {
    if (name == container) co_return std::string();
    names += (names.empty() ? "" : ", ") + name.substr(0, 100);
  }
  co_return "Deployment " + deployment + " has no container '" + container + "' (containers: " + (names.empty() ? "none" : names) +
            "); nothing was changed";
}

}  // namespace

asio::awaitable<TargetOutcome> deploy_idle_colour(KubeApi& api, const std::map<std::string, std::string>& images) {
  const auto& cfg = api.config();
  TargetOutcome out;
  std::vector<WorkloadRef> rollouts;
  for (const auto& w : cfg.workloads) {
    const auto image = images.find(w.component);
    if (image == images.end()) continue;
    const std::string live = co_await live_colour(api, w.deployment, out.message);
    if (!out.message.empty()) co_return out;
    const std::string idle = other_colour(live), live_name = w.deployment + "-" + live, idle_name = w.deployment + "-" + idle;
    auto read = co_await api.send("GET", deployments_path(api) + live_name);
    if (read.status() != 200) {
      out.message = kube_refusal(read, "get", in_namespace(api, "deployments/" + live_name), in_namespace(api, "Deployment " + live_name + " not found"));
      co_return out;
    }
    out.message = co_await check_container(api, idle_name, w.container);
    if (!out.message.empty()) co_return out;
    const int replicas = w.replicas ? *w.replicas
                                    : static_cast<int>(json_read::integer(json_read::object(json_read::parse(read.body()), "spec"), "replicas", 1));
    const json containers = json::array({{{"name", w.container}, {"image", image->second}}});
    const json patch = {{"metadata", {{"annotations", {{kRetireMark, nullptr}}}}},
                        {"spec", {{"replicas", replicas}, {"template", {{"spec", {{"containers", containers}}}}}}}};
    auto patched = co_await api.send("PATCH", deployments_path(api) + idle_name, patch.dump(), "application/strategic-merge-patch+json");
    if (patched.status() != 200) {
      out.message = kube_refusal(patched, "patch", in_namespace(api, "deployments/" + idle_name),
                                 in_namespace(api, "Deployment " + idle_name + " not found (blue_green needs " + w.deployment + "-blue and " + w.deployment + "-green)"));
      co_return out;
    }
    out.details["blue_green"][w.component] = {{"deployment", idle_name}, {"service", w.deployment}, {"live", live}, {"new", idle},
                                              {"replicas", replicas}, {"image", image->second}, {"container", w.container}};
    rollouts.push_back({"Deployment", idle_name, deployments_path(api) + idle_name});
  }
  if (!co_await await_rollouts(api, std::move(rollouts), out)) co_return out;
  std::string names;
  for (const auto& [component, entry] : out.details["blue_green"].items()) {
    names += (names.empty() ? "" : ", ") + entry["deployment"].get<std::string>();
    if (cfg.blue_green->preview_url.empty()) continue;
    out.message = co_await point_service(api, entry["service"].get<std::string>() + "-preview", entry["new"].get<std::string>());
    if (!out.message.empty()) co_return out;
  }
  out.ok = true;
  out.message = names + " rolled out beside the live colour" + (cfg.blue_green->preview_url.empty() ? "" : "; the preview Services point at it");
  co_return out;
}

asio::awaitable<TargetOutcome> switch_colours(KubeApi& api, const json& recorded, bool back) {
  TargetOutcome out;
  const json& entries = back ? json_read::object(recorded, "switched") : json_read::object(recorded, "blue_green");
  std::string said;
  for (const auto& [component, entry] : entries.items()) {
    const std::string service = json_read::text(entry, "service");
    const std::string from = back ? json_read::text(entry, "to") : json_read::text(entry, "live");
    const std::string to = back ? json_read::text(entry, "from") : json_read::text(entry, "new");
    if (other_colour(from) != to) continue;  // a record of another shape: nothing it says can be switched
    out.message = co_await point_service(api, service, to);
    if (!out.message.empty()) co_return out;
    // Forward, the old colour may now be scaled down (a failed mark only keeps it running); back, the
    // colour serving again must not be.
    const json value = back ? json(nullptr) : json("after " + std::to_string(api.config().blue_green->keep_old.count() / 1000) + " s");
    const json mark = {{"metadata", {{"annotations", {{kRetireMark, value}}}}}};
    auto marked = co_await api.send("PATCH", deployments_path(api) + service + "-" + (back ? to : from), mark.dump(),
                                    "application/strategic-merge-patch+json");
    if (back && marked.status() != 200) {
      out.message = "switched " + service + " back to " + to + ", but could not keep it from being scaled down: " +
                    kube_refusal(marked, "patch", in_namespace(api, "deployments/" + service + "-" + to), "it is gone");
      co_return out;
    }
    said += (said.empty() ? "Service " : ", ") + service + (back ? " switched back from " : " switched from ") + from + " to " + to;
    if (!back)
      out.details["switched"][component] = {{"service", service}, {"from", from}, {"to", to}, {"old_deployment", service + "-" + from}};
  }
  out.ok = true;
  out.message = said.empty() ? "nothing to switch" : said;
  out.details["keep_old_ms"] = api.config().blue_green->keep_old.count();
  co_return out;
}

asio::awaitable<TargetOutcome> retire_old_colours(KubeApi& api, const json& switched) {
  TargetOutcome out{true, "", json::object()};
  for (const auto& [component, entry] : json_read::object(switched, "switched").items()) {
    const std::string name = json_read::text(entry, "old_deployment");
    const auto say = [&out, &name](const std::string& what) { out.message += (out.message.empty() ? "" : "; ") + name + what; };
    auto read = co_await api.send("GET", deployments_path(api) + name);
    if (read.status() != 200) {
      say(" could not be read (" + std::to_string(read.status()) + "): left as it is");
      continue;
    }
    const json deployment = json_read::parse(read.body());
    const json& meta = json_read::object(deployment, "metadata");
    std::string unused;
    const std::string live = co_await live_colour(api, json_read::text(entry, "service"), unused);
    if (live == json_read::text(entry, "from")) {
      say(" serves again: left as it is");
      continue;
    }
    if (json_read::text(json_read::object(meta, "annotations"), kRetireMark).empty()) {
      say(" was deployed to since the switch: left as it is");
      continue;
    }
    // The test makes it atomic: a deploy to it between this read and the patch wins.
    const json ops = json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", json_read::text(meta, "resourceVersion")}},
                                  {{"op", "replace"}, {"path", "/spec/replicas"}, {"value", 0}},
                                  {{"op", "remove"}, {"path", "/metadata/annotations/shipgate.dev~1retire"}}});
    auto scaled = co_await api.send("PATCH", deployments_path(api) + name, ops.dump(), "application/json-patch+json");
    say(scaled.status() == 200 ? " scaled to 0" : " left as it is (" + std::to_string(scaled.status()) + ")");
  }
  co_return out;
}

}  // namespace shipgate::deploy
