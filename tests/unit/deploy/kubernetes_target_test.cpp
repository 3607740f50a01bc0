// The Kubernetes target against the API stand-in over TLS with a CA made at test time.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/crypto.hpp"
#include "deploy/kube_credentials.hpp"
#include "deploy/kubernetes_target.hpp"
#include "deploy/rollout_rules.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/kube_standin.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::run_awaitable;
using nlohmann::json;

namespace {

std::string base64(const std::string& s) {
  auto r = shipgate::testing::run_command({"/usr/bin/base64", "-w0"}, {}, s);
  return r.output;
}

DeployContext context(std::map<std::string, std::string> images) {
  DeployContext c;
  c.deployment_id = 1;
  c.project = "planera";
  c.environment = "production";
  c.version = "v2";
  c.images = std::move(images);
  c.vars = template_vars(c);
  return c;
}

}  // namespace

TEST(RolloutState, KubectlRules) {
  struct Case { const char* name; const char* obj; RolloutState want; };
  const Case cases[] = {
      {"not observed", R"({"metadata":{"generation":3},"spec":{"replicas":2},"status":{"observedGeneration":2,"updatedReplicas":2,"replicas":2,"availableReplicas":2}})", RolloutState::progressing},
      {"deadline", R"({"metadata":{"generation":2},"status":{"observedGeneration":2,"conditions":[{"type":"Progressing","reason":"ProgressDeadlineExceeded"}]}})", RolloutState::failed},
      {"updating", R"({"metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"updatedReplicas":1,"replicas":3,"availableReplicas":1}})", RolloutState::progressing},
      {"old pods left", R"({"metadata":{"generation":2},"spec":{"replicas":2},"status":{"observedGeneration":2,"updatedReplicas":2,"replicas":3,"availableReplicas":2}})", RolloutState::progressing},
      {"not available", R"({"metadata":{"generation":2},"spec":{"replicas":2},"status":{"observedGeneration":2,"updatedReplicas":2,"replicas":2,"availableReplicas":1}})", RolloutState::progressing},
      {"complete", R"({"metadata":{"generation":2},"spec":{"replicas":2},"status":{"observedGeneration":2,"updatedReplicas":2,"replicas":2,"availableReplicas":2}})", RolloutState::complete},
      {"missing counters mean 0", R"({"metadata":{"generation":2},"spec":{"replicas":1},"status":{"observedGeneration":2}})", RolloutState::progressing},
      {"scaled to zero", R"({"metadata":{"generation":2},"spec":{"replicas":0},"status":{"observedGeneration":2}})", RolloutState::complete},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_EQ(rollout_state(json::parse(c.obj), why), c.want) << c.name << ": " << why;
  }
}

class KubeTarget : public ::testing::Test {
 protected:
  void SetUp() override {
    pki = shipgate::testing::make_test_pki(dir.path());
    kube = std::make_unique<shipgate::testing::KubeStandin>("sa-token-1", pki.server_cert_file, pki.server_key_file);
    kube->add_deployment("prod", "backend", {{"api", "ghcr.io/acme/backend:v1"}, {"sidecar", "envoy:1.30"}});
    kube->add_deployment("prod", "frontend", {{"frontend", "ghcr.io/acme/frontend:v1"}});
    write_kubeconfig("sa-token-1", shipgate::testing::read_text_file(pki.ca_pem_file));
  }
  void write_kubeconfig(const std::string& token, const std::string& ca) {
    dir.write("kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
                            "clusters:\n- name: c1\n  cluster:\n    server: " + kube->url() +
                                "\n    certificate-authority-data: " + base64(ca) +
                                "\ncontexts:\n- name: prod\n  context: { cluster: c1, user: deployer, namespace: prod }\n"
                                "users:\n- name: deployer\n  user:\n    token: " + token + "\n");
  }
  config::KubernetesTargetConfig cfg() {
    config::KubernetesTargetConfig c;
    c.namespace_ = "prod";
    c.workloads = {{"backend", "backend", "api"}, {"frontend", "frontend", "frontend"}};
    c.kubeconfig = dir.file("kubeconfig");
    c.poll_interval = std::chrono::milliseconds(5);
    c.rollout_timeout = std::chrono::seconds(10);
    return c;
  }
  TargetOutcome deploy(const config::KubernetesTargetConfig& c, std::map<std::string, std::string> images) {
    return run_awaitable(make_kubernetes_target(c, make_beast_http_client())->deploy(context(std::move(images))));
  }
  const std::map<std::string, std::string> v2 = {{"backend", "ghcr.io/acme/backend:v2"}, {"frontend", "ghcr.io/acme/frontend:v2"}};

  shipgate::testing::TempDir dir;
  shipgate::testing::TestPki pki;
  std::unique_ptr<shipgate::testing::KubeStandin> kube;
};

TEST_F(KubeTarget, RollsOutTwoDeploymentsAndKeepsTheRestOfTheContainer) {
  auto out = deploy(cfg(), v2);
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(kube->image("prod", "backend", "api"), "ghcr.io/acme/backend:v2");
  EXPECT_EQ(kube->image("prod", "backend", "sidecar"), "envoy:1.30");
  EXPECT_EQ(kube->image("prod", "frontend", "frontend"), "ghcr.io/acme/frontend:v2");
  EXPECT_EQ(kube->object("prod", "backend")["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(out.details["previous_images"]["backend"]["image"], "ghcr.io/acme/backend:v1");
  EXPECT_EQ(out.details["rollouts"]["backend"], "complete");
  for (const auto& r : kube->requests()) {
    if (r.method == "PATCH") {
      EXPECT_EQ(r.header("Content-Type"), "application/strategic-merge-patch+json");
    }
  }
}

TEST_F(KubeTarget, DeadlineExceededFailsAndRollbackRestoresTheRecordedImages) {
  kube->hang_next_rollout("prod", "backend");
  auto target = make_kubernetes_target(cfg(), make_beast_http_client());
  auto out = run_awaitable(target->deploy(context(v2)));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("progress deadline exceeded"), std::string::npos) << out.message;
  EXPECT_EQ(kube->image("prod", "backend", "api"), "ghcr.io/acme/backend:v2");
  auto back = run_awaitable(target->rollback(context({}), out.details));
  EXPECT_TRUE(back.ok) << back.message;
  EXPECT_EQ(kube->image("prod", "backend", "api"), "ghcr.io/acme/backend:v1");
  EXPECT_EQ(kube->image("prod", "frontend", "frontend"), "ghcr.io/acme/frontend:v1");
}

TEST_F(KubeTarget, PodsThatNeverBecomeAvailableTimeOut) {
  kube->never_available("prod", "frontend");
  auto c = cfg();
  c.rollout_timeout = std::chrono::milliseconds(300);
  auto out = deploy(c, v2);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("not done after"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("available"), std::string::npos) << out.message;
}

TEST_F(KubeTarget, MissingContainerOrDeploymentFailsBeforeAnythingIsPatched) {
  auto c = cfg();
  c.workloads[1].container = "web";
  auto out = deploy(c, v2);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("no container 'web'"), std::string::npos) << out.message;
  EXPECT_EQ(kube->patches(), 0u);
  c = cfg();
  c.workloads[0].deployment = "api-server";
  out = deploy(c, v2);
  EXPECT_NE(out.message.find("Deployment api-server not found in namespace prod"), std::string::npos) << out.message;
  EXPECT_EQ(kube->patches(), 0u);
}

TEST_F(KubeTarget, RbacAndAuthRefusalsNameWhatWasRefused) {
  kube->deny("patch");
  auto out = deploy(cfg(), v2);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("RBAC forbids patch on deployments/backend in namespace prod"), std::string::npos) << out.message;
  kube->set_token("rotated");
  out = deploy(cfg(), v2);
  EXPECT_NE(out.message.find("rejected shipgate's credentials (401)"), std::string::npos) << out.message;
}

TEST_F(KubeTarget, AServerCertificateFromAnotherCaIsRefused) {
  write_kubeconfig("sa-token-1", shipgate::testing::read_text_file(pki.other_ca_pem_file));
  auto out = deploy(cfg(), v2);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("certificate verify failed"), std::string::npos) << out.message;
  EXPECT_TRUE(kube->requests().empty());
}

TEST_F(KubeTarget, InClusterServiceAccountWithTokenRotation) {
  dir.write("sa-token", "sa-token-1\n");
  auto r = shipgate::testing::run_command({"/bin/sh", "-c", "mkdir -p " + dir.file("sa") + " && cp " + pki.ca_pem_file + " " +
                                                                dir.file("sa/ca.crt") + " && printf 'sa-token-1\\n' > " + dir.file("sa/token")});
  ASSERT_EQ(r.status, 0);
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(kube->port()).c_str(), 1);
  auto c = cfg();
  c.kubeconfig.clear();
  c.service_account_dir = dir.file("sa");
  EXPECT_TRUE(deploy(c, v2).ok);
  // The kubelet rotates the token file; the API server accepts only the new one.
  dir.write("sa/token", "sa-token-2\n");
  kube->set_token("sa-token-2");
  EXPECT_TRUE(deploy(c, {{"backend", "ghcr.io/acme/backend:v3"}, {"frontend", "ghcr.io/acme/frontend:v3"}}).ok);
  EXPECT_EQ(kube->image("prod", "backend", "api"), "ghcr.io/acme/backend:v3");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  KubeCredentials creds;
  EXPECT_NE(load_kube_credentials(c, creds).find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST_F(KubeTarget, KubeconfigProblemsAreExplained) {
  config::KubernetesTargetConfig c = cfg();
  KubeCredentials creds;
  EXPECT_EQ(load_kube_credentials(c, creds), "");
  EXPECT_EQ(creds.token, "sa-token-1");
  EXPECT_NE(creds.ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  c.context = "staging";
  EXPECT_NE(load_kube_credentials(c, creds).find("no context 'staging'"), std::string::npos);
  dir.write("insecure", "current-context: x\ncontexts: [ { name: x, context: { cluster: c, user: u } } ]\n"
                        "clusters: [ { name: c, cluster: { server: \"https://1.2.3.4\", insecure-skip-tls-verify: true } } ]\n"
                        "users: [ { name: u, user: { token: t } } ]\n");
  c = cfg();
  c.kubeconfig = dir.file("insecure");
  EXPECT_NE(load_kube_credentials(c, creds).find("always verifies"), std::string::npos);
}

TEST_F(KubeTarget, DeclaredReplicasAreAppliedWithTheImage) {
  auto c = cfg();
  c.workloads[0].replicas = 3;
  auto out = deploy(c, v2);
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(kube->object("prod", "backend")["spec"]["replicas"], 3);
  EXPECT_EQ(kube->object("prod", "frontend")["spec"]["replicas"], 2) << "undeclared: left as it is";
}
