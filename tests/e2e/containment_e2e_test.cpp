// One bad answer from outside must not stop an environment: an auth proxy in front of Prometheus
// answers every query with an error of its own shape; the deployment whose analysis asked fails with
// that answer as its reason, and the next approved deployment runs.
#include "tests/e2e/e2e_fixture.hpp"

#include <mutex>

using namespace shipgate::testing;

class Containment : public ::testing::Test {
 protected:
  // What an authenticating proxy answers for Prometheus: not Prometheus's error shape (error is an object).
  StandinServer proxy{[](const RecordedRequest&) {
    return StandinReply{401, R"({"status":"error","error":{"code":401,"message":"login required"}})"};
  }};
  StandinServer target{[this](const RecordedRequest& r) {
    std::lock_guard lock(m);
    deployed.push_back(r.body);
    return StandinReply{200, "{}"};
  }};
  std::mutex m;
  std::vector<std::string> deployed;
  TempDir dir;
  std::unique_ptr<Daemon> daemon;

  void SetUp() override {
    daemon = std::make_unique<Daemon>(dir, R"y(
server: { listen: 127.0.0.1:${PORT}, threads: 2, api_rate: 1000000, api_burst: 1000000, shutdown_grace: 60s }
store: sqlite:${STORE}
github: { secrets: [")y" + std::string(kSecret) + R"y("] }
reviewers: { alice: { token: ")y" + kAliceToken + R"y(", can: [approve, deploy] } }
projects:
  svc:
    repository: acme/svc
    components: { web: { image: ghcr.io/acme/web } }
    environments:
      production:
        deploy_on: [push]
        approval: { required: 1, reviewers: [alice] }
        analysis: { prometheus: ")y" + proxy.url() + R"y(", query: "max(app_error_ratio)", max: 0.01, for: 1s,
                    interval: 200ms }
        targets: [ { type: http, url: ")y" + target.url() + R"y(/deploy", body: { version: "{version}" } } ]
)y");
    ASSERT_TRUE(daemon->start()) << daemon->log();
  }
  std::int64_t push_and_approve(const std::string& sha) {
    const std::string body = push_payload("acme/svc", "refs/heads/main", sha);
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 202) << r.body;
    const auto id = r.json()["deployments"][0].value("id", std::int64_t{0});
    auto approved = daemon->post("/api/v1/deployments/" + std::to_string(id) + "/approve",
                                 {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}},
                                 "{}");
    EXPECT_EQ(approved.status, 200) << approved.body;
    return id;
  }
  nlohmann::json deployment(std::int64_t id) { return deployment_of(*daemon, id); }
  std::string settle(std::int64_t id) { return settled_state(*daemon, id); }
};

TEST_F(Containment, APrometheusAnswerOfAnotherShapeFailsThatDeploymentAndTheNextApprovedOneRuns) {
  const auto first = push_and_approve(std::string(40, 'a'));
  ASSERT_EQ(settle(first), "failed") << deployment(first).dump(2) << daemon->log();
  const std::string message = deployment(first).value("message", "");
  EXPECT_NE(message.find("no answer from Prometheus"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;

  const auto second = push_and_approve(std::string(40, 'b'));
  EXPECT_EQ(settle(second), "failed") << "it ran (and met the same proxy): " << deployment(second).dump(2);
  {
    std::lock_guard lock(m);
    ASSERT_EQ(deployed.size(), 2u) << "the second approved deployment reached its target";
  }
  // Nothing is left running: SIGTERM's drain ends well inside its 60 s grace.
  EXPECT_EQ(daemon->terminate(std::chrono::seconds(30)), 0) << daemon->log();
}
