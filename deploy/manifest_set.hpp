// A Kubernetes target's manifest set: files of YAML documents rendered with the deployment's values,
// checked (kinds shipgate knows, names, namespaces), labelled as shipgate's and put in a safe apply
// order. Pure: the API calls are in kube_apply.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "config/targets.hpp"
#include "config/template.hpp"

namespace shipgate::deploy {

// A built-in kind shipgate applies: where the API keeps it and when it is applied.
struct KubeKind {
  std::string_view kind;
  std::string_view api_version;  // "v1", "apps/v1", ...
  std::string_view plural;       // the resource in the API path
  bool namespaced = true;
  int order = 0;  // applied in rising order, pruned in falling order
  bool workload = false;  // its rollout is awaited
};
const KubeKind* kube_kind(std::string_view api_version, std::string_view kind);
const std::vector<KubeKind>& kube_kinds();

// The collection path of a kind ("/apis/apps/v1/namespaces/web/deployments", "/api/v1/namespaces").
std::string collection_path(const KubeKind& kind, std::string_view ns);

struct ManifestObject {
  const KubeKind* kind = nullptr;
  std::string ns;  // empty for cluster-scoped kinds
  std::string name;
  std::string source;  // "deployment.yaml#2" (file, document)
  nlohmann::json body;
  std::string path() const { return collection_path(*kind, ns) + "/" + name; }
  std::string label() const;  // "Deployment web/api"
};

// A valid object name (RFC 1123 subdomain: lowercase letters, digits, '-' and '.', at most 253).
bool kube_name(std::string_view name);

// The labels every applied object carries; prune finds shipgate's objects of a set by them.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kSetLabel = "shipgate.dev/set";
// The set's label value for a project's environment: "<project>.<environment>", or a digest of it when
// that is not a valid label value (over 63 characters).
std::string set_label_value(std::string_view project, std::string_view environment);
// "app.kubernetes.io/managed-by=shipgate,shipgate.dev/set=<value>"
std::string set_selector(std::string_view set_value);

struct RenderedSet {
  std::vector<ManifestObject> objects;  // in apply order
  std::string digest;                   // sha256 of the rendered objects, in order
  std::string error;                    // "deployment.yaml#1: ..."; then nothing else is set
};

// Renders every file with `vars` (values written for YAML), reads its documents and checks each object:
// a known apiVersion and kind, a valid name, the target's namespace when none is given (a namespace set
// on a cluster-scoped kind is an error). Adds the set's labels, and orders by kind, keeping file order
// within a kind. Two objects of one kind, namespace and name are an error.
RenderedSet render_manifests(const std::vector<config::ManifestFile>& files, const config::TemplateVars& vars,
                             std::string_view default_namespace, std::string_view set_value);

// The Job of a `before` step for one deployment: the template rendered like a set (the set's labels are
// "<set>.before", so a set's prune never takes it), which must hold exactly one Job; it is named
// "<name>-<deployment id>" (cut to 63 characters) and labelled shipgate.dev/deployment=<id>, so a
// resumed deployment finds the Job it made instead of making a second one.
RenderedSet render_job(const config::ManifestFile& file, const config::TemplateVars& vars, std::string_view ns,
                       std::string_view project, std::string_view environment, std::int64_t deployment_id);

// Renders every manifest set and `before` Job of the config with sample values (a SHA, a version and an
// image for each component), so that `shipgate check` and a reload refuse one that would not render or
// names a kind shipgate does not apply. The errors carry the key path.
std::vector<config::ConfigError> check_manifest_sets(const config::Config& config);

// The objects as a list a person can read: [{kind, namespace, name}], Secrets' contents never in it.
nlohmann::json object_list(const std::vector<ManifestObject>& objects);

}  // namespace shipgate::deploy
