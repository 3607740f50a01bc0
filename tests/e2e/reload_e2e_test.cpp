// Live reload against the real binary: SIGHUP and `shipgate reload` swap a valid config in, refuse an
// invalid one (the old one keeps serving), cancel waiting work of removed projects, keep created
// deployments on the settings they were created with, change the log level, and audit every reload.
#include <signal.h>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/process.hpp"

using namespace shipgate::testing;
using nlohmann::json;

class Reload : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    dokploy.add_app("app_new", {"done", "", 1});
    base = replaced(e2e_config(dokploy.url()), "can: [approve, deploy]", "can: [approve, deploy, reload]");
    start_with(base);
  }
  std::string info_sha() { return daemon->get("/api/v1/info", kAliceToken).json().value("config_sha256", ""); }
  json audit_actions(const std::string& action) {
    json out = json::array();
    const json entries = daemon->get("/api/v1/audit?limit=1000", kAliceToken).json()["entries"];
    for (const auto& e : entries)
      if (e["action"] == action) out.push_back(e);
    return out;
  }
  void sighup() { daemon->process().signal(SIGHUP); }
  RunResult cli_reload() {
    return run_command({shipgate_binary(), "reload"},
                       {{"SHIPGATE_URL", "http://127.0.0.1:" + std::to_string(daemon->port())},
                        {"SHIPGATE_TOKEN", kAliceToken}});
  }
  std::vector<std::string> deployed_apps() {
    std::vector<std::string> out;
    for (const auto& r : dokploy.requests())
      if (r.target == "/api/application.deploy") out.push_back(nlohmann::json::parse(r.body).value("applicationId", ""));
    return out;
  }
  std::string base;
};

TEST_F(Reload, SighupAppliesAValidConfigAndCreatedDeploymentsKeepTheirSettings) {
  dokploy.add_app("app_staging", {"done", "", 40});  // slow enough to queue a second version behind it
  const std::string old_sha = info_sha();
  auto first = push("refs/heads/main", kSha);
  ASSERT_EQ(first.status, 202) << first.body;
  const std::int64_t d1 = first.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(d1, "running"));
  auto second = push("refs/heads/main", kSha2);
  ASSERT_EQ(second.status, 202) << second.body;
  const std::int64_t d2 = second.json()["deployments"][0]["id"];
  EXPECT_EQ(deployment(d2)["state"], "queued");

  // Staging now deploys to another application.
  daemon->rewrite_config(replaced(base, "application_id: app_staging", "application_id: app_new"));
  sighup();
  ASSERT_TRUE(wait_until([&] { return info_sha() != old_sha; })) << daemon->log();

  ASSERT_TRUE(wait_state(d2, "succeeded")) << deployment(d2).dump();
  const auto third = push("refs/heads/main", "9445051b5adb15f0e4d400fb2c6c2c19b3d0f579");
  ASSERT_EQ(third.status, 202) << third.body;
  const std::int64_t d3 = third.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(d3, "succeeded"));
  // d1 and d2 were created before the reload: the old application. d3 after it: the new one.
  EXPECT_EQ(deployed_apps(), (std::vector<std::string>{"app_staging", "app_staging", "app_new"}));
  EXPECT_NE(deployment(d2).value("config_sha256", ""), deployment(d3).value("config_sha256", ""));

  const auto reloads = audit_actions("reload");
  ASSERT_EQ(reloads.size(), 1u);
  EXPECT_EQ(reloads[0]["actor"], "SIGHUP");
  EXPECT_EQ(reloads[0]["details"]["from_sha256"], old_sha);
  EXPECT_EQ(reloads[0]["details"]["to_sha256"], info_sha());
}

TEST_F(Reload, AnInvalidConfigIsRefusedWithEveryErrorAndTheOldOneKeepsServing) {
  const std::string old_sha = info_sha();
  daemon->rewrite_config(replaced(replaced(base, "threads: 2", "threads: 2\n  bogus_key: 1"), "tags: \"v*\"",
                                  "tags: \"v*\"\n        approval: { required: 0 }"));
  sighup();
  ASSERT_TRUE(wait_until([&] { return audit_actions("reload_refused").size() == 1; })) << daemon->log();
  EXPECT_NE(daemon->log().find("server.bogus_key"), std::string::npos);
  EXPECT_NE(daemon->log().find("projects.planera.environments.staging.approval.required"), std::string::npos);
  EXPECT_EQ(info_sha(), old_sha);
  // Still serving with the old config.
  auto r = push("refs/heads/main", kSha);
  EXPECT_EQ(r.status, 202) << r.body;

  // The CLI reports the same errors and exits 1.
  auto cli = cli_reload();
  EXPECT_EQ(cli.status, 1);
  EXPECT_NE(cli.output.find("server.bogus_key"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("approval.required"), std::string::npos) << cli.output;
  EXPECT_EQ(audit_actions("reload_refused").size(), 2u);
  EXPECT_TRUE(audit_actions("reload").empty());
  EXPECT_EQ(daemon->process().running(), true);
}

TEST_F(Reload, ARemovedProjectStopsTakingWorkAndItsWaitingDeploymentsAreCancelled) {
  dokploy.add_app("app_other", {"done", "", 40});
  auto running = push("refs/heads/main", kSha, new_delivery_id(), "acme/other", kOtherSecret);
  const std::int64_t d1 = running.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(d1, "running"));
  auto waiting = push("refs/heads/main", kSha2, new_delivery_id(), "acme/other", kOtherSecret);
  const std::int64_t d2 = waiting.json()["deployments"][0]["id"];

  const auto cut = base.find("  other:\n");
  ASSERT_NE(cut, std::string::npos);
  std::string without = base.substr(0, cut);
  without = replaced(without, "viewer: { token: \"" + std::string(kViewerToken) + "\", projects: [other] }",
                     "viewer: { token: \"" + std::string(kViewerToken) + "\" }");
  daemon->rewrite_config(without);
  auto cli = cli_reload();
  ASSERT_EQ(cli.status, 0) << cli.output;
  EXPECT_NE(cli.output.find("removed_projects: [\"other\"]"), std::string::npos) << cli.output;

  EXPECT_EQ(deployment(d2)["state"], "cancelled");
  EXPECT_NE(deployment(d2)["message"].get<std::string>().find("removed from the config"), std::string::npos);
  // The running one finishes with the settings it was created with.
  ASSERT_TRUE(wait_state(d1, "succeeded"));
  // New work for the removed project: its repository is unknown now.
  const std::string body = push_payload("acme/other", "refs/heads/main", "9445051b5adb15f0e4d400fb2c6c2c19b3d0f579");
  auto after = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(after.json()["deployments"].empty());
  EXPECT_EQ(audit_actions("reload")[0]["actor"], "alice");
}

TEST_F(Reload, TheLogLevelChangesOnReload) {
  const std::string invalid = replaced(base, "threads: 2", "threads: 2\nlog: { level: warn }\nx_unused:");
  // A refused reload changes nothing: requests are still logged at info.
  daemon->rewrite_config(invalid);
  sighup();
  ASSERT_TRUE(wait_until([&] { return audit_actions("reload_refused").size() == 1; }));
  daemon->get("/api/v1/info", kAliceToken);
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("GET /api/v1/info 200") != std::string::npos; }));

  daemon->rewrite_config("log: { level: warn }\n" + base);
  sighup();
  ASSERT_TRUE(wait_until([&] { return audit_actions("reload").size() == 1; })) << daemon->log();
  const auto before = daemon->log().size();
  daemon->get("/healthz");
  daemon->get("/healthz");
  // An error line written after those requests (another refused reload) marks that their turn passed.
  daemon->rewrite_config(invalid);
  sighup();
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("reload refused", before) != std::string::npos; }));
  EXPECT_EQ(daemon->log().find("GET /healthz 200", before), std::string::npos) << daemon->log().substr(before);
}

TEST_F(Reload, ReloadNeedsTheReloadPermission) {
  auto r = http_request(daemon->port(), "POST", "/api/v1/reload", {{"Authorization", std::string("Bearer ") + kViewerToken}}, "{}");
  EXPECT_EQ(r.status, 403) << r.body;
  r = http_request(daemon->port(), "POST", "/api/v1/reload", {}, "{}");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_TRUE(audit_actions("reload").empty());
  // The refused attempt is on the record.
  const auto refused = audit_actions("refused");
  ASSERT_EQ(refused.size(), 1u) << refused.dump();
  EXPECT_EQ(refused[0]["actor"], "viewer");
  EXPECT_EQ(refused[0]["details"]["attempted"], "reload");
}

TEST_F(Reload, ReloadEntriesAreSeenOnlyByReviewersOfEveryProject) {
  sighup();
  ASSERT_TRUE(wait_until([&] { return audit_actions("reload").size() == 1; }));
  daemon->rewrite_config("not: [valid");
  sighup();
  ASSERT_TRUE(wait_until([&] { return audit_actions("reload_refused").size() == 1; }));
  // viewer may see project "other" only: nothing of the daemon's own entries.
  const json seen = daemon->get("/api/v1/audit?limit=1000", kViewerToken).json()["entries"];
  for (const auto& e : seen) EXPECT_NE(e["project"], "") << e.dump();
  for (const auto& e : seen) EXPECT_EQ(e["action"].get<std::string>().find("reload"), std::string::npos) << e.dump();
}
