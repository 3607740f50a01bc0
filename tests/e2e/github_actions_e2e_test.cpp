// GitHub Actions jobs gated by shipgate as a GitHub App (a custom deployment protection rule), against
// the GitHub stand-in: the request becomes a deployment that waits at the gate; the answer goes to the
// run's callback with an installation token, once, even across a kill -9; the job's deployment_status
// events end the deployment.
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/github_standin.hpp"

namespace shipgate::testing {

namespace {

constexpr const char* kBobActionsToken = "bob-token-actions-0123456789";

}  // namespace

class GithubActions : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("app.pem"), "2048"}).status, 0);
    ASSERT_EQ(run_command({"/usr/bin/openssl", "rsa", "-in", dir.file("app.pem"), "-pubout", "-out", dir.file("app.pub")}).status, 0);
    github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  }
  // staging lets a job through at once; "Production EU" on GitHub is production here, one approval.
  std::string actions_config() {
    return std::string("\nserver: { listen: \"127.0.0.1:${PORT}\", api_rate: 1000000, api_burst: 1000000 }\n"
                       "store: sqlite:${STORE}\n"
                       "github: { secrets: [\"") + kSecret + "\"] }\n"
           "github_app: { app_id: 31337, private_key_file: " + dir.file("app.pem") + ", api_url: \"" + github.url() + "\" }\n"
           "reviewers:\n"
           "  alice: { token: \"" + kAliceToken + "\", github: alice, can: [approve, deploy] }\n"
           "  bob: { token: \"" + kBobActionsToken + "\", github: bob, can: [approve, override] }\n"
           "projects:\n"
           "  planera:\n"
           "    repository: acme/planera\n"
           "    components: { backend: { image: ghcr.io/acme/planera-backend } }\n"
           "    environments:\n"
           "      staging:\n"
           "        targets: [ { type: http, url: \"" + dokploy.url() + "/release\" } ]\n"
           "      production:\n"
           "        github_environment: Production EU\n"
           "        approval: { required: 1, reviewers: [alice, bob] }\n"
           "        targets: [ { type: http, url: \"" + dokploy.url() + "/release\" } ]\n"
           "      frozen:\n"
           "        freezes: [ { from: \"2020-01-01T00:00:00Z\", to: \"2099-01-01T00:00:00Z\", reason: code freeze } ]\n"
           "        targets: [ { type: http, url: \"" + dokploy.url() + "/release\" } ]\n";
  }
  // GitHub asks shipgate about run `run` for `environment`; the answer to that delivery.
  Reply request(std::int64_t run, const std::string& environment, std::int64_t github_deployment,
                const std::string& delivery = new_delivery_id(), const std::string& creator = "alice") {
    const std::string body = github.await_review("acme/planera", run, environment, github_deployment, kSha, creator).dump();
    return daemon->post("/webhooks/github", github_headers("deployment_protection_rule", delivery, kSecret, body), body);
  }
  Reply status(std::int64_t github_deployment, const std::string& environment, const std::string& state) {
    const std::string body = GithubStandin::deployment_status_event("acme/planera", github_deployment, environment, state).dump();
    return daemon->post("/webhooks/github", github_headers("deployment_status", new_delivery_id(), kSecret, body), body);
  }
  Reply act(std::int64_t id, const std::string& action, const std::string& token, const nlohmann::json& body) {
    return daemon->post("/api/v1/deployments/" + std::to_string(id) + "/" + action,
                        {{"Authorization", std::string("Bearer ") + token}, {"Content-Type", "application/json"}}, body.dump());
  }
  bool answered(std::size_t n) {
    return wait_until([&] { return github.reviews().size() >= n; }, std::chrono::seconds(20));
  }

  GithubStandin github{"a-personal-token-shipgate-never-has"};
};

TEST_F(GithubActions, AJobWaitsForApprovalIsAnsweredOnceAndEndsByItsDeploymentStatus) {
  start_with(actions_config());
  auto first = request(9001, "Production EU", 555, "delivery-9001");
  ASSERT_EQ(first.status, 202) << first.body;
  const std::int64_t id = first.json()["deployments"][0]["id"];
  auto d = deployment(id);
  EXPECT_EQ(d["environment"], "production");
  EXPECT_EQ(d["state"], "pending_approval");
  EXPECT_EQ(d["trigger"], "github_actions");
  EXPECT_EQ(d["actor"], "alice");
  EXPECT_EQ(d["sha"], kSha);
  EXPECT_EQ(d["result"]["github"]["run_id"], 9001);

  auto again = request(9001, "Production EU", 555, "delivery-9001");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.header("X-Shipgate-Duplicate"), "true");
  EXPECT_EQ(again.json()["deployments"][0]["id"], id);
  EXPECT_EQ(deployment_count("production"), 1u);

  EXPECT_EQ(act(id, "approve", kAliceToken, nlohmann::json::object()).status, 403) << "alice started the run: another reviewer approves";
  EXPECT_TRUE(github.reviews().empty());
  ASSERT_EQ(act(id, "approve", kBobActionsToken, {{"comment", "ship it"}}).status, 200);
  ASSERT_TRUE(wait_state(id, "deploying_externally")) << deployment(id).dump(2) << daemon->log();
  ASSERT_TRUE(answered(1)) << daemon->log();
  const auto review = github.reviews().front();
  EXPECT_EQ(review.repository, "acme/planera");
  EXPECT_EQ(review.run_id, 9001);
  EXPECT_EQ(review.environment_name, "Production EU");
  EXPECT_EQ(review.state, "approved");
  EXPECT_EQ(review.authorization.rfind("Bearer ghs_standin", 0), 0u) << "the app's installation token";
  EXPECT_NE(review.comment.find("/deployments/" + std::to_string(id)), std::string::npos) << review.comment;
  EXPECT_TRUE(github.deployments().empty()) << "GitHub made the deployment; shipgate makes none of its own";
  EXPECT_EQ(dokploy.requests().size(), 0u) << "GitHub Actions deploys, not shipgate";

  EXPECT_EQ(status(555, "Production EU", "in_progress").json().value("ignored", false), true);
  auto done = status(555, "Production EU", "success");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.json()["state"], "succeeded");
  d = deployment(id);
  EXPECT_EQ(d["state"], "succeeded");
  EXPECT_EQ(d["result"]["github"]["state"], "success");
  EXPECT_NE(d["started_at"], nullptr);
  EXPECT_EQ(status(555, "Production EU", "success").json().value("ignored", false), true) << "a repeat changes nothing";
  EXPECT_EQ(deployment(id)["state"], "succeeded");
  EXPECT_EQ(github.reviews().size(), 1u);
}

TEST_F(GithubActions, AnUngatedJobPassesAtOnceARejectedOneIsToldWhyAndFailuresEndAsFailed) {
  start_with(actions_config());
  const std::int64_t staging = request(7001, "staging", 701).json()["deployments"][0]["id"];
  const std::int64_t production = request(7002, "Production EU", 702).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(staging, "deploying_externally")) << daemon->log();
  ASSERT_EQ(act(production, "reject", kBobActionsToken, {{"comment", "freeze week"}}).status, 200);
  ASSERT_TRUE(answered(2)) << daemon->log();
  std::map<std::int64_t, GithubStandin::Review> by_run;
  for (const auto& r : github.reviews()) by_run[r.run_id] = r;
  EXPECT_EQ(by_run[7001].state, "approved");
  EXPECT_EQ(by_run[7001].environment_name, "staging");
  EXPECT_EQ(by_run[7002].state, "rejected");
  EXPECT_NE(by_run[7002].comment.find("freeze week"), std::string::npos) << by_run[7002].comment;

  ASSERT_EQ(status(701, "staging", "failure").json()["state"], "failed");
  EXPECT_EQ(deployment(staging)["state"], "failed");
  // Someone else's GitHub deployment in the same environment is no deployment of shipgate's.
  EXPECT_EQ(status(999, "staging", "success").json().value("ignored", false), true);
}

TEST_F(GithubActions, AFreezeHoldsAJobUnansweredUntilAnOverrideLetsItThrough) {
  start_with(actions_config());
  const std::int64_t id = request(5001, "frozen", 501).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_until([&] { return deployment(id).contains("waiting_reason"); }, std::chrono::seconds(10))) << daemon->log();
  EXPECT_EQ(deployment(id)["state"], "queued");
  EXPECT_NE(deployment(id)["waiting_reason"].get<std::string>().find("code freeze"), std::string::npos);
  EXPECT_TRUE(github.reviews().empty()) << "held by the freeze: GitHub is not answered";
  ASSERT_EQ(act(id, "override", kBobActionsToken, {{"reason", "the fix for the outage"}}).status, 200);
  ASSERT_TRUE(answered(1)) << daemon->log();
  EXPECT_EQ(github.reviews().front().state, "approved");
  EXPECT_EQ(github.reviews().front().run_id, 5001);
  EXPECT_EQ(deployment(id)["state"], "deploying_externally");
}

TEST_F(GithubActions, AnApprovalTheCrashKeptFromGithubIsSentAfterTheRestart) {
  start_with(actions_config());
  const std::int64_t id = request(8001, "Production EU", 801).json()["deployments"][0]["id"];
  github.fail_next(100000, 503);  // GitHub is down: the answer cannot go out
  const auto before = github.requests();
  ASSERT_EQ(act(id, "approve", kBobActionsToken, nlohmann::json::object()).status, 200);
  ASSERT_TRUE(wait_state(id, "deploying_externally"));
  ASSERT_TRUE(wait_until([&] { return github.requests() > before; }, std::chrono::seconds(20))) << "an attempt was made";
  daemon->kill9();
  EXPECT_TRUE(github.reviews().empty());
  github.fail_next(0);
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_until([&] { return !github.reviews().empty(); }, std::chrono::seconds(40))) << daemon->log();
  EXPECT_EQ(github.reviews().size(), 1u);
  EXPECT_EQ(github.reviews().front().state, "approved");
}

TEST_F(GithubActions, AnOverrideLetsAWaitingJobThroughWithItsReasonAndHostileRequestsChangeNothing) {
  start_with(actions_config());
  const std::int64_t id = request(6001, "Production EU", 601).json()["deployments"][0]["id"];
  EXPECT_EQ(act(id, "override", kBobActionsToken, nlohmann::json::object()).status, 400) << "an override needs a reason";
  EXPECT_EQ(act(id, "override", kAliceToken, {{"reason", "hotfix"}}).status, 403) << "alice may not override";
  auto r = act(id, "override", kBobActionsToken, {{"reason", "payments are down"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["state"], "deploying_externally");
  ASSERT_TRUE(answered(1)) << daemon->log();
  EXPECT_EQ(github.reviews().front().state, "approved");
  const auto audit = daemon->get("/api/v1/audit?action=override", kAliceToken).json();
  ASSERT_FALSE(audit["entries"].empty()) << audit.dump(2);
  EXPECT_EQ(audit["entries"][0]["reason"], "payments are down");
  EXPECT_EQ(audit["entries"][0]["actor"], "bob");

  // A callback URL elsewhere would carry the installation token away: refused, nothing recorded.
  auto elsewhere = github.await_review("acme/planera", 6002, "staging", 602, kSha, "alice");
  elsewhere["deployment_callback_url"] = "https://evil.example/repos/acme/planera/actions/runs/6002/deployment_protection_rule";
  const std::string body = elsewhere.dump();
  auto refused = daemon->post("/webhooks/github", github_headers("deployment_protection_rule", new_delivery_id(), kSecret, body), body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("deployment_callback_url"), std::string::npos);
  // A GitHub environment no environment gates is not shipgate's to answer.
  auto unknown = request(6003, "qa", 603);
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.json().value("ignored", false), true);
  EXPECT_EQ(deployment_count(), 1u);
}

}  // namespace shipgate::testing
