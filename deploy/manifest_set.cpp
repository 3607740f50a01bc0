#include "deploy/manifest_set.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "common/crypto.hpp"
#include "deploy/manifest_yaml.hpp"

namespace shipgate::deploy {

using nlohmann::json;

const std::vector<KubeKind>& kube_kinds() {
  static const std::vector<KubeKind> kinds = {
      {"Namespace", "v1", "namespaces", false, 0},
      {"ServiceAccount", "v1", "serviceaccounts", true, 1},
      {"Role", "rbac.authorization.k8s.io/v1", "roles", true, 1},
      {"RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", true, 1},
      {"ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", false, 1},
      {"ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", false, 1},
      {"ConfigMap", "v1", "configmaps", true, 2},
      {"Secret", "v1", "secrets", true, 2},
      {"PersistentVolumeClaim", "v1", "persistentvolumeclaims", true, 3},
      {"Service", "v1", "services", true, 4},
      {"Deployment", "apps/v1", "deployments", true, 5, true},
      {"StatefulSet", "apps/v1", "statefulsets", true, 5, true},
      {"DaemonSet", "apps/v1", "daemonsets", true, 5, true},
      {"HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers", true, 6},
      {"PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", true, 6},
      {"Job", "batch/v1", "jobs", true, 7},
      {"CronJob", "batch/v1", "cronjobs", true, 7},
      {"Ingress", "networking.k8s.io/v1", "ingresses", true, 8},
      {"NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", true, 8},
  };
  return kinds;
}

const KubeKind* kube_kind(std::string_view api_version, std::string_view kind) {
  for (const auto& k : kube_kinds())
    if (k.kind == kind && k.api_version == api_version) return &k;
  return nullptr;
}

std::string collection_path(const KubeKind& kind, std::string_view ns) {
  std::string path = kind.api_version.find('/') == std::string_view::npos ? "/api/" : "/apis/";
  path += kind.api_version;
  if (kind.namespaced) path += "/namespaces/" + std::string(ns);
  return path + "/" + std::string(kind.plural);
}

std::string ManifestObject::label() const {
  return std::string(kind->kind) + " " + (ns.empty() ? "" : ns + "/") + name;
}

namespace {

// RFC 1123: lowercase letters, digits, '-' (and '.' in a subdomain), alphanumeric at both ends.
bool dns_name(std::string_view s, std::size_t max, bool dots) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || (dots && c == '.')))
      return false;
  return std::isalnum(static_cast<unsigned char>(s.front())) && std::isalnum(static_cast<unsigned char>(s.back()));
}

// One document as an object of the set, or the reason it cannot be one.
std::string read_object(json& doc, std::string_view default_ns, std::string_view set_value, ManifestObject& out) {
  if (!doc.is_object()) return "is not a mapping";
  const json* api = doc.contains("apiVersion") ? &doc["apiVersion"] : nullptr;
  const json* kind = doc.contains("kind") ? &doc["kind"] : nullptr;
  if (!api || !api->is_string() || !kind || !kind->is_string()) return "needs apiVersion and kind";
  out.kind = kube_kind(api->get<std::string>(), kind->get<std::string>());
  if (!out.kind) {
    std::string known;
    for (const auto& k : kube_kinds()) known += (known.empty() ? "" : ", ") + std::string(k.kind);
    return "kind " + kind->get<std::string>().substr(0, 60) + " (" + api->get<std::string>().substr(0, 60) +
           ") is not one shipgate applies (" + known + ")";
  }
  json& meta = doc["metadata"];
  if (!meta.is_object()) return "needs metadata.name";
  const json name = meta.value("name", json());
  if (!name.is_string() || !dns_name(name.get<std::string>(), 253, true))
    return "metadata.name must be lowercase letters, digits, '-' and '.' (at most 253)";
  out.name = name.get<std::string>();
  const json ns = meta.value("namespace", json());
  if (!ns.is_null() && (!ns.is_string() || !dns_name(ns.get<std::string>(), 63, false))) return "metadata.namespace is not a valid name";
  if (!out.kind->namespaced && !ns.is_null()) return std::string(out.kind->kind) + " is cluster-scoped: it has no metadata.namespace";
  if (out.kind->namespaced) {
    out.ns = ns.is_null() ? std::string(default_ns) : ns.get<std::string>();
    meta["namespace"] = out.ns;
  }
  json& labels = meta["labels"];
  if (labels.is_null()) labels = json::object();
  if (!labels.is_object()) return "metadata.labels is not a mapping";
  labels[std::string(kManagedByLabel)] = "shipgate";
  labels[std::string(kSetLabel)] = std::string(set_value);
  out.body = std::move(doc);
  return {};
}

}  // namespace

bool kube_name(std::string_view name) { return dns_name(name, 253, true); }

std::string set_label_value(std::string_view project, std::string_view environment) {
  std::string value = std::string(project) + "." + std::string(environment);
  const bool ok = value.size() <= 63 && std::isalnum(static_cast<unsigned char>(value.front())) &&
                  std::isalnum(static_cast<unsigned char>(value.back()));
  return ok ? value : "set-" + sha256_hex(value).substr(0, 32);
}

std::string set_selector(std::string_view set_value) {
  return std::string(kManagedByLabel) + "=shipgate," + std::string(kSetLabel) + "=" + std::string(set_value);
}

RenderedSet render_manifests(const std::vector<config::ManifestFile>& files, const config::TemplateVars& vars,
                             std::string_view default_namespace, std::string_view set_value) {
  RenderedSet out;
  const config::ValueWriter write = write_yaml_value;
  for (const auto& file : files) {
    std::string error;
    const auto text = config::expand_template_with(file.text, vars, write, error);
    auto docs = text ? yaml_documents(*text, error) : std::vector<json>();
    if (!error.empty()) return RenderedSet{{}, {}, file.name + ": " + error};
    for (std::size_t i = 0; i < docs.size(); ++i) {
      ManifestObject object;
      object.source = file.name + "#" + std::to_string(i + 1);
      error = read_object(docs[i], default_namespace, set_value, object);
      if (!error.empty()) return RenderedSet{{}, {}, object.source + ": " + error};
      out.objects.push_back(std::move(object));
    }
  }
  std::stable_sort(out.objects.begin(), out.objects.end(),
                   [](const ManifestObject& a, const ManifestObject& b) { return a.kind->order < b.kind->order; });
  std::set<std::tuple<std::string_view, std::string, std::string>> seen;
  std::string all;
  for (const auto& o : out.objects) {
    if (!seen.emplace(o.kind->kind, o.ns, o.name).second)
      return RenderedSet{{}, {}, o.source + ": " + o.label() + " is declared twice"};
    all += o.body.dump() + "\n";
  }
  out.digest = sha256_hex(all);
  return out;
}

RenderedSet render_job(const config::ManifestFile& file, const config::TemplateVars& vars, std::string_view ns,
                       std::string_view project, std::string_view environment, std::int64_t deployment_id) {
  auto set = render_manifests({file}, vars, ns, set_label_value(project, std::string(environment) + ".before"));
  if (!set.error.empty()) return set;
  if (set.objects.size() != 1 || set.objects[0].kind->kind != "Job")
    return RenderedSet{{}, {}, file.name + ": must hold exactly one Job (batch/v1)"};
  ManifestObject& job = set.objects[0];
  const std::string suffix = "-" + std::to_string(deployment_id);
  job.name = job.name.substr(0, 63 - suffix.size());
  while (!job.name.empty() && !std::isalnum(static_cast<unsigned char>(job.name.back()))) job.name.pop_back();
  job.name += suffix;
  job.body["metadata"]["name"] = job.name;
  job.body["metadata"]["labels"]["shipgate.dev/deployment"] = std::to_string(deployment_id);
  set.digest = sha256_hex(job.body.dump());
  return set;
}

std::vector<config::ConfigError> check_manifest_sets(const config::Config& config) {
  std::vector<config::ConfigError> errors;
  for (const auto& p : config.projects)
    for (const auto& e : p.environments) {
      config::TemplateVars vars;
      for (const auto& name : config::template_placeholders()) vars[name] = "sample-" + name;
      vars["sha"] = std::string(40, 'a');
      for (const auto& c : p.components) vars["image." + c.name] = c.image + ":sample";
      const std::string path = "projects." + p.name + ".environments." + e.name;
      for (std::size_t i = 0; i < e.targets.size(); ++i) {
        const auto* k = std::get_if<config::KubernetesTargetConfig>(&e.targets[i].spec);
        if (!k || k->manifest_files.empty()) continue;
        const auto set = render_manifests(k->manifest_files, vars, k->namespace_, set_label_value(p.name, e.name));
        if (!set.error.empty()) errors.push_back({path + ".targets[" + std::to_string(i) + "].manifests", set.error});
      }
      for (std::size_t i = 0; i < e.before.size(); ++i) {
        const auto* j = std::get_if<config::JobTargetConfig>(&e.before[i].spec);
        if (!j) continue;
        const auto set = render_job(j->manifest, vars, j->cluster.namespace_, p.name, e.name, 1);
        if (!set.error.empty()) errors.push_back({path + ".before[" + std::to_string(i) + "].file", set.error});
      }
    }
  return errors;
}

json object_list(const std::vector<ManifestObject>& objects) {
  json list = json::array();
  for (const auto& o : objects) {
    json entry = {{"kind", o.kind->kind}, {"name", o.name}};
    if (!o.ns.empty()) entry["namespace"] = o.ns;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace shipgate::deploy
