// The CI kit against the real daemon: `shipgate notify` (retries until the daemon answers, waits for
// staging, a re-run of the same GitHub run attempt deploys nothing twice, exit codes) and the composite
// action's script run with the variables GitHub sets.
#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

namespace {

const std::string kActionScript = std::string(SHIPGATE_SOURCE_DIR) + "/integrations/github-action/notify.sh";

// What GitHub Actions sets on a job of run 4242, attempt 1, pushed by octocat.
std::map<std::string, std::string> github_run(std::string attempt = "1") {
  return {{"GITHUB_RUN_ID", "4242"}, {"GITHUB_RUN_ATTEMPT", std::move(attempt)}, {"GITHUB_SHA", kSha},
          {"GITHUB_REF", "refs/heads/main"}, {"GITHUB_ACTOR", "octocat"},
          {"SHIPGATE_WEBHOOK_SECRET", kSecret}, {"SHIPGATE_TOKEN", kAliceToken}};
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

class CiKit : public E2E {
 protected:
  std::vector<std::string> notify(const std::vector<std::string>& more) const {
    std::vector<std::string> argv = {shipgate_binary(), "notify", "--url", daemon_url(), "--project", "planera",
                                     "--environment", "staging"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  }
  std::string daemon_url() const { return "http://127.0.0.1:" + std::to_string(port); }
  nlohmann::json staging() {
    const auto list = daemon->get("/api/v1/deployments?environment=staging&limit=50", kAliceToken).json();
    return list["deployments"];
  }
  std::uint16_t port = free_loopback_port();
};

TEST_F(CiKit, NotifyRetriesUntilTheDaemonAnswersThenFollowsStagingToItsEnd) {
  // The daemon is not up yet: the first attempts fail to connect and are retried.
  Process waiting(notify({"--version", "1.4.0", "--image", "backend=ghcr.io/acme/planera-backend:1.4.0", "--wait"}),
                  github_run(), dir.file("notify.log"));
  ASSERT_TRUE(wait_until([&] { return waiting.log().find("attempt 1 failed") != std::string::npos; })) << waiting.log();
  start_with(replaced(e2e_config(dokploy.url()), "${PORT}", std::to_string(port)));
  const auto status = waiting.wait(std::chrono::seconds(60));
  ASSERT_EQ(status, std::optional<int>(0)) << waiting.log();
  EXPECT_NE(waiting.log().find("succeeded"), std::string::npos) << waiting.log();
  const auto list = staging();
  ASSERT_EQ(list.size(), 1u) << list.dump(2);
  const auto d = deployment(list[0]["id"].get<std::int64_t>());
  EXPECT_EQ(d["version"], "1.4.0");
  EXPECT_EQ(d["sha"], kSha);
  EXPECT_EQ(d["trigger"], "build");
  EXPECT_EQ(d["actor"], "build (claimed: octocat)");
  EXPECT_EQ(dokploy.deployed_images("app_staging"), std::vector<std::string>{"ghcr.io/acme/planera-backend:1.4.0"});

  // The job re-runs the same attempt's step: the same Idempotency-Key, so the same deployment, already ended.
  const auto again = run_command(notify({"--version", "1.4.0", "--wait"}), github_run());
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("deployment " + std::to_string(d["id"].get<std::int64_t>())), std::string::npos) << again.output;
  EXPECT_EQ(staging().size(), 1u);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}

TEST_F(CiKit, NotifySaysWhyItFailedWithItsExitCode) {
  dokploy.add_app("app_staging", {"error", "build failed: out of disk", 1});
  start_with(replaced(e2e_config(dokploy.url()), "${PORT}", std::to_string(port)));
  const auto failed = run_command(notify({"--version", "2.0.0", "--wait"}), github_run());
  EXPECT_EQ(failed.status, 1) << failed.output;
  EXPECT_NE(failed.output.find("failed"), std::string::npos) << failed.output;

  auto wrong = github_run("2");
  wrong["SHIPGATE_WEBHOOK_SECRET"] = "not-the-secret";
  const auto refused = run_command(notify({"--version", "2.0.1"}), wrong);
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("refused"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("HTTP 401"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("attempt 2"), std::string::npos) << "a 4xx is not retried: " << refused.output;

  auto no_token = github_run("3");
  no_token.erase("SHIPGATE_TOKEN");
  EXPECT_EQ(run_command(notify({"--wait"}), no_token).status, 2);
  EXPECT_EQ(run_command({shipgate_binary(), "notify", "--url", daemon_url()}, github_run("4")).status, 2);
  EXPECT_EQ(run_command(notify({"--image", "backend"}), github_run("5")).status, 2);
  EXPECT_EQ(staging().size(), 1u) << "only the first call deployed";
}

TEST_F(CiKit, TheActionScriptNotifiesAsAGithubRunWouldAndWaits) {
  start();
  auto env = github_run();
  env["SHIPGATE_URL"] = "http://127.0.0.1:" + std::to_string(daemon->port()) + "/";
  env["SHIPGATE_PROJECT"] = "planera";
  env["SHIPGATE_ENVIRONMENT"] = "staging";
  env["SHIPGATE_VERSION"] = "1.5.0";
  env["SHIPGATE_IMAGES"] = "  backend=ghcr.io/acme/planera-backend@sha256:" + std::string(64, 'a') + "\n\n";
  env["SHIPGATE_WAIT"] = "true";
  env["SHIPGATE_POLL"] = "0.2";
  env["GITHUB_ACTOR"] = "dependabot[bot]";  // not a name shipgate takes: left out
  env["GITHUB_OUTPUT"] = dir.file("github-output");
  const auto run = run_command({"/bin/bash", kActionScript}, env);
  ASSERT_EQ(run.status, 0) << run.output << daemon->log();
  const auto list = staging();
  ASSERT_EQ(list.size(), 1u);
  const auto id = list[0]["id"].get<std::int64_t>();
  EXPECT_EQ(file_text(dir.file("github-output")), "deployments=" + std::to_string(id) + "\n");
  const auto d = deployment(id);
  EXPECT_EQ(d["state"], "succeeded");
  EXPECT_EQ(d["sha"], kSha);
  EXPECT_EQ(d["actor"], "build");
  EXPECT_EQ(dokploy.deployed_images("app_staging"),
            std::vector<std::string>{"ghcr.io/acme/planera-backend@sha256:" + std::string(64, 'a')});

  // A re-run of the same attempt deploys nothing twice; a value that would need escaping is refused
  // before anything is sent.
  EXPECT_EQ(run_command({"/bin/bash", kActionScript}, env).status, 0);
  env["GITHUB_RUN_ATTEMPT"] = "2";
  env["SHIPGATE_VERSION"] = "1.5.0\",\"environment\":\"production";
  const auto hostile = run_command({"/bin/bash", kActionScript}, env);
  EXPECT_EQ(hostile.status, 1);
  EXPECT_NE(hostile.output.find("version has characters shipgate does not take"), std::string::npos) << hostile.output;
  EXPECT_EQ(staging().size(), 1u);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}

}  // namespace shipgate::testing
