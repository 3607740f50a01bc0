// Kubernetes rollouts, smoke checks, automatic rollback and command targets through the real binary.
#include <atomic>

#include "common/crypto.hpp"
#include "tests/e2e/kube_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {
constexpr const char* kKubeSha3 = "8334940a49ca04e9d3c399eaf25a1b08a2cfc468";
}

class Kube : public KubeE2E {
 protected:
  void SetUp() override {
    KubeE2E::SetUp();
    kube->add_deployment("planera", "backend", {{"api", "ghcr.io/acme/backend:v0"}});
    kube->add_deployment("planera", "frontend", {{"frontend", "ghcr.io/acme/frontend:v0"}});
    smoke = std::make_unique<StandinServer>([this](const RecordedRequest&) {
      return healthy ? StandinReply{200, R"({"status":"ok"})"} : StandinReply{500, R"({"status":"down"})"};
    });
    start_with(config());
  }
  std::string config() {
    return daemon_head("deploy") + R"(projects:
  planera:
    repository: acme/planera
    components:
      backend: { image: ghcr.io/acme/backend }
      frontend: { image: ghcr.io/acme/frontend }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        targets:
          - type: kubernetes
            namespace: planera
            kubeconfig: )" + dir.file("kubeconfig") + R"(
            deployments: { backend: { deployment: backend, container: api }, frontend: frontend }
            rollout_timeout: 20s
            poll_interval: 10ms
        smoke:
          - { url: ")" + smoke->url() + R"(/health", expect: 200, body_contains: ok, attempts: 2, interval: 10ms }
        rollback_on_failure: true
  tools:
    repository: acme/tools
    components: { cli: { image: ghcr.io/acme/cli } }
    environments:
      staging:
        deploy_on: [push]
        targets:
          - { type: command, argv: ["/bin/sh", "-c", "echo deploying $SHIPGATE_IMAGE_CLI for $SHIPGATE_PROJECT; test \"$SHIPGATE_SHA\" != )" + kKubeSha3 + R"(  || { echo 'compose: image not found' >&2; exit 4; }"], timeout: 10s }
)";
  }
  std::int64_t push_to(const std::string& repo, const std::string& sha) { return push_sha(repo, sha); }
  bool history_mentions(std::int64_t id, const std::string& text) {
    const auto d = deployment(id);
    for (const auto& h : d["history"])
      if (h["reason"].get<std::string>().find(text) != std::string::npos) return true;
    return false;
  }

  std::unique_ptr<StandinServer> smoke;
  std::atomic<bool> healthy{true};
};

TEST_F(Kube, RollsOutTwoDeploymentsThenAHungRolloutIsRolledBackAutomatically) {
  const auto v1 = push_to("acme/planera", kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  const std::string v1_tag = std::string(kSha).substr(0, 7);
  EXPECT_EQ(kube->image("planera", "backend", "api"), "ghcr.io/acme/backend:" + v1_tag);
  EXPECT_EQ(kube->image("planera", "frontend", "frontend"), "ghcr.io/acme/frontend:" + v1_tag);
  EXPECT_TRUE(history_mentions(v1, "smoke 1/2"));

  kube->hang_next_rollout("planera", "backend");
  const auto v2 = push_to("acme/planera", kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  EXPECT_EQ(kube->image("planera", "backend", "api"), "ghcr.io/acme/backend:" + v1_tag);
  EXPECT_EQ(kube->image("planera", "frontend", "frontend"), "ghcr.io/acme/frontend:" + v1_tag);
  const auto d = deployment(v2);
  EXPECT_NE(d["message"].get<std::string>().find("progress deadline exceeded"), std::string::npos) << d["message"];
  EXPECT_NE(d["message"].get<std::string>().find("rolled back to " + std::string(kSha)), std::string::npos);
  EXPECT_EQ(d["result"]["rollback"][0]["ok"], true);
  EXPECT_TRUE(history_mentions(v2, "rolling back to"));
  auto env = daemon->get("/api/v1/projects/planera/environments/production", kAliceToken).json();
  EXPECT_EQ(env["bad_versions"][0]["version"], kSha2);
  EXPECT_EQ(env["current"]["version"], kSha);  // the rolled-back deployment is not current
}

TEST_F(Kube, AFailedRolloutSaysWhyFromItsNewPodsLogAndEvents) {
  const auto v1 = push_to("acme/planera", kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  kube->fail_next_rollout("planera", "backend",
                          {.container = "api", .exit_code = 1,
                           .log = "starting api\nconnecting to the database\nError: DATABASE_URL is not set",
                           .event_message = "Back-off restarting failed container api"});
  const auto v2 = push_to("acme/planera", kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  const auto d = deployment(v2);
  const std::string message = d["message"];
  EXPECT_NE(message.find("rollout of Deployment backend failed: api: CrashLoopBackOff, exit 1: Error: DATABASE_URL is "
                         "not set"),
            std::string::npos)
      << message;
  const auto& why = d["result"]["targets"][0]["details"]["diagnosis"];
  EXPECT_EQ(why["container"], "api");
  EXPECT_EQ(why["exit_code"], 1);
  EXPECT_EQ(why["log"].size(), 3u) << why.dump();
  EXPECT_EQ(why["log_of"], "previous container");
  EXPECT_EQ(why["warnings"][0], "BackOff: Back-off restarting failed container api");
  EXPECT_NE(why["rollout"].get<std::string>().find("progress deadline exceeded"), std::string::npos);
  // The log was asked for as kubectl would: the crashed container's, its last 20 lines.
  bool asked_previous = false;
  for (const auto& r : kube->requests())
    asked_previous = asked_previous || (r.target.find("/log?container=api&tailLines=20&previous=true") != std::string::npos);
  EXPECT_TRUE(asked_previous);
  // The line is in the deployment's history too, where the page's timeline reads it.
  EXPECT_TRUE(history_mentions(v2, "CrashLoopBackOff, exit 1"));
}

TEST_F(Kube, AnImageThatCannotBePulledIsNamedWithTheKubeletsMessage) {
  kube->fail_next_rollout("planera", "frontend",
                          {.container = "frontend", .reason = "ImagePullBackOff", .event_reason = "Failed",
                           .event_message = "Failed to pull image: manifest unknown"});
  const auto v1 = push_to("acme/planera", kSha);
  ASSERT_TRUE(wait_state(v1, "failed")) << deployment(v1).dump(2);
  const std::string message = deployment(v1)["message"];
  EXPECT_NE(message.find("frontend: ImagePullBackOff: Back-off pulling image \"ghcr.io/acme/frontend:"), std::string::npos)
      << message;
}

TEST_F(Kube, AFailingSmokeCheckRollsBack) {
  const auto v1 = push_to("acme/planera", kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded"));
  healthy = false;
  const auto v2 = push_to("acme/planera", kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  const auto d = deployment(v2);
  EXPECT_NE(d["message"].get<std::string>().find("HTTP 500, expected 200"), std::string::npos) << d["message"];
  EXPECT_TRUE(history_mentions(v2, "smoke 1/2"));
  EXPECT_TRUE(history_mentions(v2, "smoke 2/2"));
  EXPECT_EQ(d["result"]["smoke"][0]["details"]["attempts"].size(), 2u);
  EXPECT_EQ(kube->image("planera", "backend", "api"), "ghcr.io/acme/backend:" + std::string(kSha).substr(0, 7));
}

TEST_F(Kube, ARollbackWithNothingToReturnToFailsLoudly) {
  kube->hang_next_rollout("planera", "frontend");
  const auto v1 = push_to("acme/planera", kSha);
  ASSERT_TRUE(wait_state(v1, "failed")) << deployment(v1).dump(2);
  EXPECT_NE(deployment(v1)["message"].get<std::string>().find("nothing to roll back to"), std::string::npos);
}

TEST_F(Kube, CommandTargetRunsWithTheDeploymentsFieldsAndKeepsFailureOutput) {
  const auto ok = push_to("acme/tools", kSha);
  ASSERT_TRUE(wait_state(ok, "succeeded")) << deployment(ok).dump(2);
  EXPECT_NE(deployment(ok)["result"]["targets"][0]["details"]["output_tail"].get<std::string>().find(
                "deploying ghcr.io/acme/cli:" + std::string(kSha) + " for tools"),
            std::string::npos);
  const auto bad = push_to("acme/tools", kKubeSha3);
  ASSERT_TRUE(wait_state(bad, "failed")) << deployment(bad).dump(2);
  const auto d = deployment(bad);
  EXPECT_NE(d["message"].get<std::string>().find("exited with 4: compose: image not found"), std::string::npos) << d["message"];
  EXPECT_EQ(d["result"]["targets"][0]["details"]["exit_code"], 4);
}

// The same target through the daemon, with in-cluster credentials, a wrong CA, and a command timeout.
class KubeCredentialsE2E : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    pki = make_test_pki(dir.path());
    kube = std::make_unique<KubeStandin>("sa-token", pki.server_cert_file, pki.server_key_file);
    kube->add_deployment("planera", "backend", {{"backend", "ghcr.io/acme/backend:v0"}});
    auto r = run_command({"/bin/sh", "-c", "mkdir -p " + dir.file("sa") + " && cp " + pki.ca_pem_file + " " +
                                               dir.file("sa/ca.crt") + " && printf 'sa-token\\n' > " + dir.file("sa/token")});
    ASSERT_EQ(r.status, 0);
    dir.write("wrong-ca-kubeconfig", "current-context: x\ncontexts: [ { name: x, context: { cluster: c, user: u } } ]\n"
                                     "clusters: [ { name: c, cluster: { server: \"" + kube->url() + "\", certificate-authority: " +
                                         pki.other_ca_pem_file + " } } ]\nusers: [ { name: u, user: { token: sa-token } } ]\n");
  }
  void start_daemon() {
    const std::string yaml = R"(
server: { listen: "127.0.0.1:${PORT}", api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"("] }
reviewers: { alice: { token: ")" + kAliceToken + R"(" } }
projects:
  incluster:
    repository: acme/incluster
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      prod:
        deploy_on: [push]
        targets: [ { type: kubernetes, namespace: planera, deployments: { backend: backend }, service_account_dir: ")" +
                             dir.file("sa") + R"(", poll_interval: 10ms } ]
  wrongca:
    repository: acme/wrongca
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      prod:
        deploy_on: [push]
        targets: [ { type: kubernetes, namespace: planera, deployments: { backend: backend }, kubeconfig: ")" +
                             dir.file("wrong-ca-kubeconfig") + R"(" } ]
  slow:
    repository: acme/slow
    environments:
      prod:
        deploy_on: [push]
        targets: [ { type: command, argv: ["/bin/sh", "-c", "echo starting; sleep 30"], timeout: 300ms } ]
)";
    // As in a pod: the API server's address comes from the environment.
    daemon = std::make_unique<Daemon>(dir, yaml, std::map<std::string, std::string>{
        {"KUBERNETES_SERVICE_HOST", "127.0.0.1"}, {"KUBERNETES_SERVICE_PORT", std::to_string(kube->port())}});
    ASSERT_TRUE(daemon->start()) << daemon->log();
  }
  std::int64_t push_to(const std::string& repo) {
    const std::string body = push_payload(repo, "refs/heads/main", kSha);
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0].value("id", std::int64_t{0});
  }
  TestPki pki;
  std::unique_ptr<KubeStandin> kube;
};

TEST_F(KubeCredentialsE2E, InClusterCredentialsWrongCaAndCommandTimeout) {
  start_daemon();
  const auto in_cluster = push_to("acme/incluster");
  ASSERT_TRUE(wait_state(in_cluster, "succeeded")) << deployment(in_cluster).dump(2);
  EXPECT_EQ(kube->image("planera", "backend", "backend"), "ghcr.io/acme/backend:" + std::string(kSha));

  const auto patches = kube->patches();
  const auto wrong = push_to("acme/wrongca");
  ASSERT_TRUE(wait_state(wrong, "failed")) << deployment(wrong).dump(2);
  EXPECT_NE(deployment(wrong)["message"].get<std::string>().find("certificate verify failed"), std::string::npos);
  EXPECT_EQ(kube->patches(), patches);

  const auto slow = push_to("acme/slow");
  ASSERT_TRUE(wait_state(slow, "failed")) << deployment(slow).dump(2);
  const auto d = deployment(slow);
  EXPECT_NE(d["message"].get<std::string>().find("timed out"), std::string::npos) << d["message"];
  EXPECT_NE(d["result"]["targets"][0]["details"]["output_tail"].get<std::string>().find("starting"), std::string::npos);
}
