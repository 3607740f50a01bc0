// What a deployment calls, as the config declares it: each deploy target's settings (Dokploy, a generic
// HTTP call, Kubernetes, a command) and the smoke checks after them. Part of the validated config
// (config.hpp); produced by the loader only.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::config {

using Millis = std::chrono::milliseconds;

struct TlsClientConfig {
  std::string ca_file;  // extra trust anchor for an internal CA; system roots otherwise
};

struct DokployTargetConfig {
  std::string url;             // API mode: Dokploy base URL
  std::string api_key;
  std::string application_id;  // exactly one of application_id / compose_id in API mode
  std::string compose_id;
  std::string deploy_url;      // deploy-URL mode: the secret per-application URL
  // API mode: how the version reaches Dokploy. An application runs the image of `component` (set before
  // each deploy); `env` keys (templates) are set in the application's or stack's environment text.
  std::string component;
  std::map<std::string, std::string> env;
  // Files beside the config (with config_source: of the platform repository, at the config's commit),
  // read at load. compose_file replaces a stack's compose file; env_file replaces the whole environment
  // text (with the `env` keys on top). Both are put back by a rollback.
  std::string compose_file, compose_file_text;
  std::string env_file, env_file_text;
  bool pin_version = true;     // false: Dokploy deploys what it is configured with (a git build)
  Millis poll_interval{2'000};
  Millis timeout{900'000};
  TlsClientConfig tls;
};

struct HttpTargetConfig {
  std::string url;
  std::string method = "POST";
  std::map<std::string, std::string> headers;
  nlohmann::json body;  // strings inside are templates
  std::string secret;   // optional: signs the body as X-Shipgate-Signature-256
  Millis timeout{30'000};
  TlsClientConfig tls;
};

// Kubernetes Deployments whose container images are set per component.
struct KubernetesWorkload {
  std::string component;
  std::string deployment;
  std::string container;  // defaults to the component's name
  std::optional<int> replicas;  // set with every deploy when declared (and then watched for drift)
};

// Watching the Deployments a Kubernetes target manages for changes made outside shipgate (drift): what
// runs is compared with what the environment's newest succeeded deployment applied (images, and the
// declared replicas). With self_heal the target is applied again, at most max_heals times per
// heal_window, so a fight with another controller shows instead of going on forever.
struct DriftConfig {
  bool self_heal = false;
  Millis relist{300'000};  // a full list this often; a watch resumes from the last resourceVersion between
  int max_heals = 3;
  Millis heal_window{3'600'000};
};

// One file of a manifest set, read when the config is loaded.
struct ManifestFile {
  std::string name;  // relative to the manifests directory
  std::string text;
};

// The HTTPRoute whose backendRefs send traffic to a canary's main and canary Services.
struct CanaryRoute {
  std::string httproute;
  std::string service;         // the main Service (default: the main Deployment's name)
  std::string canary_service;  // default: the canary Deployment's name
};

// What a canary's own target (config::Environment::canary_target) routes its weight with.
struct CanaryRouting {
  std::string main_deployment;       // scaled against, without a route
  std::optional<CanaryRoute> route;  // else the HTTPRoute's weights
};

// Blue-green (`strategy: blue_green`): each Deployment name of `deployments` is the base of two colours,
// <name>-blue and <name>-green. The Service <name> sends traffic to the live one (its selector's `label`
// says which); a deploy rolls the idle colour out, and the switch points the Service at it. With
// `preview_url`, the Service <name>-preview is pointed at the new colour first, for smoke checks that use
// {preview_url}. The old colour is scaled to 0 after `keep_old`.
struct BlueGreenConfig {
  std::string label = "color";
  std::string preview_url;
  Millis keep_old{600'000};
};

struct KubernetesTargetConfig {
  std::string namespace_;
  std::vector<KubernetesWorkload> workloads;  // images set on existing Deployments (without manifests)
  // A manifest set applied with server-side apply in place of workloads: the directory as configured,
  // and its *.yaml / *.yml files in name order.
  std::string manifests;
  std::vector<ManifestFile> manifest_files;
  bool prune = false;  // delete what shipgate applied before (by its labels) that the set no longer has
  bool force = false;  // take over fields another field manager owns instead of failing on the conflict
  std::string kubeconfig;  // empty: in-cluster service account
  std::string context;     // empty: the kubeconfig's current-context
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  Millis rollout_timeout{600'000};
  Millis poll_interval{1'000};
  std::optional<DriftConfig> drift;
  std::optional<CanaryRouting> canary;  // only on a canary's own target
  std::optional<BlueGreenConfig> blue_green;
};

struct CommandTargetConfig {
  std::vector<std::string> argv;  // run directly: no shell unless argv names one
  Millis timeout{600'000};
  std::string workdir;
  std::map<std::string, std::string> env;  // with PATH, HOME, LANG and SHIPGATE_*: all the command sees
  // The config's secret values (webhook secrets, API keys, tokens, signing secrets, webhook URLs), filled
  // in by the loader: written as [redacted] wherever the command's output is kept.
  std::vector<std::string> scrub;
};

// A Kubernetes Job run to its end before any target changes (a database migration): one per deployment,
// made from a manifest template and waited for until Complete or Failed. Only in an environment's `before`.
struct JobTargetConfig {
  ManifestFile manifest;           // one Job document, a template
  KubernetesTargetConfig cluster;  // namespace and credentials: the environment's Kubernetes target's unless given
  Millis timeout{600'000};
};

struct TargetConfig {
  std::string type;  // "dokploy" | "http" | "kubernetes" | "command" | "job"
  std::variant<DokployTargetConfig, HttpTargetConfig, KubernetesTargetConfig, CommandTargetConfig, JobTargetConfig> spec;
};

// Checked after every target succeeded; the deployment succeeds only if all pass.
struct SmokeCheck {
  std::string url;                             // templates, like a target's: {version}, {sha}, ...
  std::string method = "GET";                  // GET | POST | PUT | HEAD
  std::map<std::string, std::string> headers;  // values are templates
  nlohmann::json body;                         // sent as JSON when set; strings inside are templates
  int expect = 200;
  std::string body_contains;                   // a template: "{version}" proves the new version answers
  int attempts = 1;
  Millis interval{2'000};
  Millis timeout{5'000};  // per attempt
  TlsClientConfig tls;
};

}  // namespace shipgate::config
