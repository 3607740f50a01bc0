// A Kubernetes target that applies a manifest set, through the real binary and the stand-in: the order
// of kinds, what is recorded, prune after a reload, a field another manager owns, and rollback
// re-applying the previous version's set.
#include <csignal>
#include <filesystem>

#include "tests/e2e/kube_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {
constexpr const char* kManifestSha3 = "8334940a49ca04e9d3c399eaf25a1b08a2cfc468";
constexpr const char* kSecretValue = "s3cr3t-value-xyz";
constexpr const char* kDeploymentPath = "/apis/apps/v1/namespaces/web/deployments/api";
}  // namespace

class KubeManifests : public KubeE2E {
 protected:
  void SetUp() override {
    KubeE2E::SetUp();
    std::filesystem::create_directories(dir.file("k8s"));
    // The Deployment comes first in its file and the Namespace last by name: the kinds decide the order.
    write_manifest("app.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: { app: api, version: {version} }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: {image.api}
          env:
            - { name: APP_VERSION, value: "{version}" }
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports: [ { port: 80, targetPort: 8080 } ]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config }
data:
  SHORT_SHA: {short_sha}
)");
    write_manifest("secret.yaml", std::string(R"(apiVersion: v1
kind: Secret
metadata: { name: api-secrets }
stringData:
  DATABASE_PASSWORD: ")") + kSecretValue + "\"\n");
    write_manifest("extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: api-extra }\ndata: { note: extra }\n");
    write_manifest("zz-namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: { name: web }\n");
    start_with(config(false));
  }
  void write_manifest(const std::string& name, const std::string& text) { dir.write("k8s/" + name, text); }
  std::string config(bool force) {
    return daemon_head("deploy, reload") + R"(projects:
  web:
    repository: acme/web
    components: { api: { image: ghcr.io/acme/api } }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        targets:
          - type: kubernetes
            namespace: web
            kubeconfig: )" + dir.file("kubeconfig") + R"(
            manifests: )" + dir.file("k8s") + R"(
            prune: true
            force: )" + (force ? "true" : "false") + R"(
            rollout_timeout: 20s
            poll_interval: 10ms
        rollback_on_failure: true
)";
  }
  std::int64_t push_sha(const std::string& sha) { return KubeE2E::push_sha("acme/web", sha); }
  // Reloads the config (and so the manifest files) and waits until the daemon serves the new one.
  void reload(const std::string& yaml) {
    const std::string before = daemon->get("/api/v1/info", kAliceToken).json().value("config_sha256", "");
    daemon->rewrite_config(yaml);
    daemon->process().signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return daemon->get("/api/v1/info", kAliceToken).json().value("config_sha256", "") != before; }))
        << daemon->log();
  }
  std::vector<std::string> applied_paths() {
    std::vector<std::string> out;
    for (const auto& r : kube->requests())
      if (r.method == "PATCH") out.push_back(r.target);
    return out;
  }
};

TEST_F(KubeManifests, AppliesTheSetInKindOrderWithServerSideApplyAndRecordsIt) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2) << daemon->log();
  const std::string tag = std::string(kSha).substr(0, 7);
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:" + tag);

  const auto paths = applied_paths();
  ASSERT_EQ(paths.size(), 6u);
  EXPECT_EQ(paths[0], "/api/v1/namespaces/web?fieldManager=shipgate");
  EXPECT_NE(paths[1].find("/configmaps/api-config?"), std::string::npos);  // ConfigMaps and Secrets in file order
  EXPECT_NE(paths[2].find("/configmaps/api-extra?"), std::string::npos);
  EXPECT_NE(paths[3].find("/secrets/api-secrets?"), std::string::npos);
  EXPECT_NE(paths[4].find("/services/api?"), std::string::npos);
  EXPECT_EQ(paths[5], std::string(kDeploymentPath) + "?fieldManager=shipgate");
  for (const auto& r : kube->requests()) {
    if (r.method == "PATCH") {
      EXPECT_EQ(r.header("Content-Type"), "application/apply-patch+yaml");
    }
  }

  const json applied = kube->stored(kDeploymentPath);
  EXPECT_EQ(applied["metadata"]["labels"]["app.kubernetes.io/managed-by"], "shipgate");
  EXPECT_EQ(applied["metadata"]["labels"]["shipgate.dev/set"], "web.production");
  EXPECT_EQ(applied["metadata"]["labels"]["version"], kSha);
  // "{short_sha}" unquoted stays a string, though "6113728" alone would read as a number.
  EXPECT_EQ(kube->stored("/api/v1/namespaces/web/configmaps/api-config")["data"]["SHORT_SHA"], tag);

  const auto d = deployment(v1);
  const json& record = d["result"]["targets"][0]["details"]["manifests"];
  EXPECT_EQ(record["digest"].get<std::string>().size(), 64u);
  EXPECT_EQ(record["objects"].size(), 6u);
  EXPECT_EQ(record["objects"][5], json({{"kind", "Deployment"}, {"name", "api"}, {"namespace", "web"}}));
  EXPECT_EQ(d["result"].dump().find(kSecretValue), std::string::npos);
  EXPECT_EQ(daemon->log().find(kSecretValue), std::string::npos);
}

TEST_F(KubeManifests, PruneDeletesWhatTheSetNoLongerHasButNotWhatOthersMade) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  kube->apply_as("someone-else", "/api/v1/namespaces/web/configmaps/unrelated",
                 {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "unrelated"}, {"namespace", "web"}}}});
  std::filesystem::remove(dir.file("k8s/extra.yaml"));
  reload(config(false));
  const auto v2 = push_sha(kSha2);
  ASSERT_TRUE(wait_state(v2, "succeeded")) << deployment(v2).dump(2);
  EXPECT_TRUE(kube->stored("/api/v1/namespaces/web/configmaps/api-extra").is_null());
  EXPECT_FALSE(kube->stored("/api/v1/namespaces/web/configmaps/unrelated").is_null());
  EXPECT_FALSE(kube->stored("/api/v1/namespaces/web/configmaps/api-config").is_null());
  const auto d = deployment(v2);
  EXPECT_EQ(d["result"]["targets"][0]["details"]["manifests"]["pruned"], 
            json::parse(R"([{"kind":"ConfigMap","name":"api-extra","namespace":"web"}])")) << d.dump(2);
}

TEST_F(KubeManifests, AFieldAnotherManagerOwnsIsAConflictUntilForceTakesItOver) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  kube->apply_as("kubectl-edit", kDeploymentPath,
                 {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "api"}, {"namespace", "web"}}},
                  {"spec", {{"replicas", 5}}}});
  const auto v2 = push_sha(kSha2);
  ASSERT_TRUE(wait_until([&] { return deployment(v2).value("state", "") == "failed"; })) << deployment(v2).dump(2);
  const std::string message = deployment(v2)["message"];
  EXPECT_NE(message.find("conflict applying Deployment web/api: .spec.replicas managed by \"kubectl-edit\", not by \"shipgate\" "
                         "(set force: true to take them over)"),
            std::string::npos)
      << message;
  EXPECT_EQ(kube->stored(kDeploymentPath)["spec"]["replicas"], 5);

  reload(config(true));
  const auto v3 = push_sha(kManifestSha3);
  ASSERT_TRUE(wait_state(v3, "succeeded")) << deployment(v3).dump(2);
  EXPECT_EQ(kube->stored(kDeploymentPath)["spec"]["replicas"], 2);
  bool forced = false;
  for (const auto& r : kube->requests())
    forced = forced || (r.method == "PATCH" && r.target == std::string(kDeploymentPath) + "?fieldManager=shipgate&force=true");
  EXPECT_TRUE(forced) << "no forced apply of the Deployment";
}

TEST_F(KubeManifests, ARolloutThatFailsIsRolledBackByApplyingThePreviousVersionsSet) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  const std::string v1_tag = std::string(kSha).substr(0, 7);
  kube->fail_next_rollout("web", "api", {.container = "api", .log = "Error: DATABASE_URL is not set"});
  const auto v2 = push_sha(kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:" + v1_tag);
  EXPECT_EQ(kube->stored("/api/v1/namespaces/web/configmaps/api-config")["data"]["SHORT_SHA"], v1_tag);
  const auto d = deployment(v2);
  EXPECT_NE(d["message"].get<std::string>().find("api: CrashLoopBackOff, exit 1: Error: DATABASE_URL is not set"), std::string::npos)
      << d["message"];
  const json& undo = d["result"]["rollback"][0];
  EXPECT_EQ(undo["ok"], true) << undo.dump(2);
  EXPECT_NE(undo["message"].get<std::string>().find("re-applied the manifest set of " + std::string(kSha)), std::string::npos)
      << undo["message"];
  EXPECT_EQ(undo["details"]["manifests"]["digest"],
            deployment(v1)["result"]["targets"][0]["details"]["manifests"]["digest"]);
  EXPECT_NE(undo["message"].get<std::string>().find("; the same set " + std::string(kSha) + " applied"), std::string::npos)
      << undo["message"];
}

TEST_F(KubeManifests, ARollbackAfterTheFilesChangedSaysItAppliedTheVersionsValuesWithTodaysFiles) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  write_manifest("extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: api-extra }\ndata: { note: changed }\n");
  reload(config(false));
  kube->fail_next_rollout("web", "api", {.container = "api", .log = "Error: DATABASE_URL is not set"});
  const auto v2 = push_sha(kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  const auto d = deployment(v2);
  const std::string message = d["result"]["rollback"][0]["message"];
  EXPECT_NE(message.find("; the manifest files changed since " + std::string(kSha) + " was applied (digest "), std::string::npos)
      << message;
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
  EXPECT_EQ(kube->stored("/api/v1/namespaces/web/configmaps/api-extra")["data"]["note"], "changed");
}
