// Drift detection and self-heal through the real binary against the Kubernetes stand-in: the test
// changes Deployments through the API as a person with kubectl would, and the watch brings the news.
#include <mutex>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/kube_standin.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/process.hpp"

using namespace shipgate::testing;
using nlohmann::json;

class Drift : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    pki = make_test_pki(dir.path());
    kube = std::make_unique<KubeStandin>("deployer-token", pki.server_cert_file, pki.server_key_file);
    kube->add_deployment("healed", "api", {{"api", "ghcr.io/acme/api:v0"}}, 2);
    kube->add_deployment("watched", "api", {{"api", "ghcr.io/acme/api:v0"}}, 2);
    dir.write("kubeconfig", kube->kubeconfig("deployer-token"));
    auto project = [&](const std::string& name, const std::string& drift) {
      return "  " + name + ":\n    repository: acme/" + name + "\n    components: { api: { image: ghcr.io/acme/api } }\n"
             "    environments:\n      production:\n        deploy_on: [push]\n        tag: \"{short_sha}\"\n"
             "        targets:\n          - { type: kubernetes, namespace: " + name + ", kubeconfig: \"" + dir.file("kubeconfig") +
             "\",\n              deployments: { api: { deployment: api, replicas: 2 } }, rollout_timeout: 20s, poll_interval: 10ms,\n"
             "              drift: " + drift + " }\n";
    };
    start_with(R"y(
server: { listen: "127.0.0.1:${PORT}", api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")y" + std::string(kSecret) + R"y("] }
reviewers: { alice: { token: ")y" + kAliceToken + R"y(", can: [deploy] } }
notify:
  - { url: ")y" + hooks.url() + R"y(/hook", format: json, events: [drift] }
projects:
)y" + project("healed", "{ self_heal: true, max_heals: 2, heal_window: 1h }") + project("watched", "{}"));
    for (const auto& name : {"healed", "watched"}) {
      auto r = push("refs/heads/main", kSha, new_delivery_id(), std::string("acme/") + name);
      ASSERT_EQ(r.status, 202) << r.body;
      ASSERT_TRUE(wait_state(r.json()["deployments"][0]["id"].get<std::int64_t>(), "succeeded"));
    }
  }
  // Changes a Deployment through the API, as someone with kubectl would.
  void patch(const std::string& ns, const json& body) {
    auto r = https_request(kube->port(), {pki.ca_pem_file}, "PATCH", "/apis/apps/v1/namespaces/" + ns + "/deployments/api",
                           {{"Authorization", "Bearer deployer-token"}, {"Content-Type", "application/strategic-merge-patch+json"}},
                           body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void scale(const std::string& ns, int replicas) { patch(ns, {{"spec", {{"replicas", replicas}}}}); }
  int replicas(const std::string& ns) { return kube->object(ns, "api")["spec"]["replicas"]; }
  json drift(const std::string& project) {
    return daemon->get("/api/v1/projects/" + project + "/environments/production", kAliceToken).json()["drift"];
  }
  std::vector<std::string> notices() {
    std::vector<std::string> out;
    for (const auto& r : hooks.requests()) out.push_back(json::parse(r.body).value("text", ""));
    return out;
  }
  std::size_t audits(const std::string& action) {
    std::size_t n = 0;
    const auto audit = daemon->get("/api/v1/audit?limit=500", kAliceToken).json();
    for (const auto& e : audit["entries"])
      if (e.value("action", "") == action) ++n;
    return n;
  }

  TestPki pki;
  std::unique_ptr<KubeStandin> kube;
  StandinServer hooks{[](const RecordedRequest&) { return StandinReply{200, "{}"}; }};
};

TEST_F(Drift, AReplicaCountChangedByHandIsRestoredWithSelfHealAndOnlyReportedWithout) {
  ASSERT_TRUE(wait_until([&] { return drift("healed").value("state", "") == "in_sync"; }, std::chrono::seconds(20)))
      << drift("healed").dump();
  ASSERT_TRUE(wait_until([&] { return drift("watched").value("state", "") == "in_sync"; }, std::chrono::seconds(20)));

  scale("healed", 5);
  scale("watched", 5);
  ASSERT_TRUE(wait_until([&] { return audits("self_heal") == 1 && replicas("healed") == 2; }, std::chrono::seconds(20)))
      << "the watch brought the change and self-heal applied the declared count again";
  ASSERT_TRUE(wait_until([&] { return drift("watched").value("state", "") == "drifted"; }, std::chrono::seconds(20)));
  const auto watched = drift("watched");
  ASSERT_EQ(watched["differences"].size(), 1u) << watched.dump();
  EXPECT_EQ(watched["differences"][0], (json{{"deployment", "api"}, {"field", "replicas"}, {"live", "5"}, {"applied", "2"}}));
  EXPECT_EQ(replicas("watched"), 5) << "without self_heal it is only reported";
  const auto status = run_command({shipgate_binary(), "status", "watched", "production"},
                                  {{"SHIPGATE_URL", "http://127.0.0.1:" + std::to_string(daemon->port())}, {"SHIPGATE_TOKEN", kAliceToken}});
  EXPECT_NE(status.output.find("drift:    drifted; api replicas 5, applied 2"), std::string::npos) << status.output;
  ASSERT_TRUE(wait_until([&] { return drift("healed").value("state", "") == "in_sync"; }, std::chrono::seconds(20)));
  EXPECT_EQ(drift("healed").value("heals", 0), 1);

  // An image changed by hand is drift too.
  patch("watched", {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "api"}, {"image", "ghcr.io/acme/api:hotfix"}}}}}}}}}}});
  ASSERT_TRUE(wait_until([&] { return drift("watched")["differences"].size() == 2; }, std::chrono::seconds(20))) << drift("watched").dump();
  EXPECT_EQ(drift("watched")["differences"][0]["field"], "image");
  EXPECT_EQ(drift("watched")["differences"][0]["live"], "ghcr.io/acme/api:hotfix");

  ASSERT_TRUE(wait_until([&] { return notices().size() >= 3; }, std::chrono::seconds(20)));
  const auto sent = notices();
  bool healing = false, reported = false;
  for (const auto& text : sent) {
    healing = healing || (text.find("healed/production") != std::string::npos && text.find("replicas 5, applied 2; applying it again") != std::string::npos);
    reported = reported || (text.find("watched/production") != std::string::npos && text.find("reported only") != std::string::npos);
  }
  EXPECT_TRUE(healing && reported) << sent.front();

  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find(R"(shipgate_drift_total{environment="production",outcome="healed",project="healed"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(shipgate_drift_total{environment="production",outcome="detected",project="watched"} 2)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(shipgate_drifted{environment="production",project="watched"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(shipgate_drifted{environment="production",project="healed"} 0)"), std::string::npos);
}

TEST_F(Drift, SelfHealStopsAtItsLimitWhenSomethingKeepsChangingItBack) {
  ASSERT_TRUE(wait_until([&] { return drift("healed").value("state", "") == "in_sync"; }, std::chrono::seconds(20)));
  for (int heal = 1; heal <= 2; ++heal) {
    scale("healed", 7);
    ASSERT_TRUE(wait_until([&] { return audits("self_heal") == static_cast<std::size_t>(heal) && replicas("healed") == 2; },
                           std::chrono::seconds(20))) << heal;
  }
  scale("healed", 7);  // a third time within the hour: max_heals is 2
  ASSERT_TRUE(wait_until([&] { return drift("healed").value("heal_limited", false); }, std::chrono::seconds(20))) << drift("healed").dump();
  EXPECT_EQ(replicas("healed"), 7) << "left in place";
  EXPECT_EQ(audits("self_heal"), 2u);
  ASSERT_TRUE(wait_until([&] {
    for (const auto& text : notices())
      if (text.find("self-heal stopped after 2 in 60 min") != std::string::npos) return true;
    return false;
  }, std::chrono::seconds(20)));
  EXPECT_NE(daemon->get("/metrics").body.find(R"(shipgate_drift_total{environment="production",outcome="heal_limited",project="healed"} 1)"),
            std::string::npos);
}
