#include "deploy/kube_apply.hpp"

#include <set>
#include <tuple>

#include "common/json_read.hpp"
#include "config/template.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string resource_of(const ManifestObject& o) {
  return std::string(o.kind->plural) + "/" + o.name + (o.ns.empty() ? "" : " in namespace " + o.ns);
}

// Namespaces the objects live in, and the target's own.
std::set<std::string> namespaces_of(const std::vector<ManifestObject>& objects, const std::string& fallback) {
  std::set<std::string> out{fallback};
  for (const auto& o : objects)
    if (!o.ns.empty()) out.insert(o.ns);
  return out;
}

}  // namespace

std::string conflict_reason(const ManifestObject& object, const std::string& status_body) {
  const json status = json_read::parse(status_body);
  std::string fields, managers;
  std::set<std::string> seen;
  for (const auto& cause : json_read::array(json_read::object(status, "details"), "causes")) {
    const std::string field = json_read::text(cause, "field").substr(0, 200);
    if (!field.empty()) fields += (fields.empty() ? "" : ", ") + field;
    std::string manager = json_read::text(cause, "message");  // conflict with "kubectl-edit" using apps/v1
    const auto open = manager.find('"'), close = open == std::string::npos ? open : manager.find('"', open + 1);
    if (close != std::string::npos) manager = manager.substr(open, close - open + 1).substr(0, 100);
    else manager.clear();
    if (!manager.empty() && seen.insert(manager).second) managers += (managers.empty() ? "" : ", ") + manager;
  }
  return "conflict applying " + object.label() + ": " + (fields.empty() ? "fields" : fields) + " managed by " +
         (managers.empty() ? "another field manager" : managers) + ", not by \"" + std::string(kFieldManager) +
         "\" (set force: true to take them over)";
}

asio::awaitable<std::string> apply_objects(KubeApi& api, const std::vector<ManifestObject>& objects, bool force) {
  for (const auto& o : objects) {
    const std::string path = o.path() + "?fieldManager=" + std::string(kFieldManager) + (force ? "&force=true" : "");
    auto reply = co_await api.send("PATCH", path, o.body.dump(), "application/apply-patch+yaml");
    const int status = reply.status();
    if (status == 200 || status == 201) continue;
    if (status == 409) co_return conflict_reason(o, reply.body());
    const bool secret = o.kind->kind == "Secret";
    co_return kube_refusal(reply, "apply", resource_of(o), o.label() + ": the API has no such resource (404)", secret) +
              "; applied before it: " + std::to_string(&o - objects.data()) + " of " + std::to_string(objects.size());
  }
  co_return std::string();
}

asio::awaitable<std::string> prune_objects(KubeApi& api, const std::vector<ManifestObject>& keep, std::string set_value,
                                           json& pruned, json& skipped) {
  std::set<std::tuple<std::string_view, std::string, std::string>> kept;
  for (const auto& o : keep) kept.emplace(o.kind->kind, o.ns, o.name);
  const auto namespaces = namespaces_of(keep, api.config().namespace_);
  const std::string selector = "?labelSelector=" + config::percent_encode(set_selector(set_value));
  const auto& kinds = kube_kinds();
  for (auto kind = kinds.rbegin(); kind != kinds.rend(); ++kind) {
    if (kind->kind == "Namespace") continue;
    const std::vector<std::string> in = kind->namespaced ? std::vector<std::string>(namespaces.begin(), namespaces.end())
                                                         : std::vector<std::string>{""};
    for (const auto& ns : in) {
      const std::string collection = collection_path(*kind, ns);
      auto list = co_await api.send("GET", collection + selector);
      if (list.status() == 403 || list.status() == 404) {
        skipped.push_back(std::string(kind->plural) + (ns.empty() ? "" : " in " + ns) + " (" + std::to_string(list.status()) + ")");
        continue;
      }
      if (list.status() != 200) co_return kube_refusal(list, "list", std::string(kind->plural) + " in namespace " + ns, "");
      const json listed = json_read::parse(list.body());
      for (const auto& item : json_read::array(listed, "items")) {
        const std::string name = json_read::text(json_read::object(item, "metadata"), "name");
        if (!kube_name(name) || kept.contains({kind->kind, ns, name})) continue;
        ManifestObject gone{&*kind, ns, name, "", {}};
        auto del = co_await api.send("DELETE", gone.path() + "?propagationPolicy=Background");
        if (del.status() != 200 && del.status() != 202 && del.status() != 404)
          co_return kube_refusal(del, "delete", resource_of(gone), "");
        pruned.push_back({{"kind", kind->kind}, {"name", name}});
        if (!ns.empty()) pruned.back()["namespace"] = ns;
      }
    }
  }
  co_return std::string();
}

}  // namespace shipgate::deploy
