// The config from the platform Git repository (config_source), with a real bare repository on disk that
// the test pushes commits to and the daemon fetches by URL: a new project file applies after a push
// without a restart; a broken one leaves the running config and fails the commit status shipgate/config
// with the error's file and line; a commit the webhook never announced is caught by the poll; a
// force-pushed older commit is not applied; `shipgate check --git` validates a checkout; only what a
// commit changed redeploys, once, across replicas and restarts.
#include "tests/e2e/platform_fixture.hpp"
#include "tests/support/postgres.hpp"

namespace shipgate::testing {

TEST_F(PlatformConfig, ANewProjectFileAppliesAfterAPushWithoutARestart) {
  start_with(local_config("1h"));
  EXPECT_EQ(applied_commit(), first);
  EXPECT_EQ(push("refs/heads/main", kSha, new_delivery_id(), "acme/other").json().value("ignored", false), true);

  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  const auto second = commit("other");
  auto r = platform_push(second);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["config_commit"], second);
  ASSERT_TRUE(wait_until([&] { return applied_commit() == second; }, std::chrono::seconds(20))) << daemon->log();
  auto deployed = push("refs/heads/main", kSha, new_delivery_id(), "acme/other");
  ASSERT_EQ(deployed.status, 202) << deployed.body;
  const std::int64_t id = deployed.json()["deployments"][0]["id"];
  EXPECT_TRUE(wait_state(id, "succeeded"));
  const auto reloads = audit("reload");
  ASSERT_FALSE(reloads.empty());
  EXPECT_EQ(reloads.back()["details"]["commit"], second);
  EXPECT_NE(reloads.back()["reason"].get<std::string>().find(second.substr(0, 12)), std::string::npos);
}

TEST_F(PlatformConfig, ABrokenFileLeavesTheRunningConfigAndFailsTheCommitStatusWithItsLine) {
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("app.pem"), "2048"}).status, 0);
  ASSERT_EQ(run_command({"/usr/bin/openssl", "rsa", "-in", dir.file("app.pem"), "-pubout", "-out", dir.file("app.pub")}).status, 0);
  GithubStandin github("unused-token");
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  start_with(local_config("1h", "github_app: { app_id: 31337, private_key_file: " + dir.file("app.pem") +
                                    ", api_url: \"" + github.url() + "\" }\n"));
  put("work/shipgate/projects/other.yaml", replaced(other_file(dokploy.url()), "deploy_on: [push]", "deploy_on: [pushed]"));
  const auto broken = commit("broken");
  ASSERT_EQ(platform_push(broken).status, 202);
  ASSERT_TRUE(wait_until([&] { return !audit("reload_refused").empty(); }, std::chrono::seconds(20))) << daemon->log();
  const auto errors = audit("reload_refused").back()["details"]["errors"];
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].get<std::string>().rfind("shipgate/projects/other.yaml:6: projects.other.environments.staging.deploy_on[0]", 0), 0u)
      << errors.dump();
  EXPECT_EQ(applied_commit(), first) << "the running config stays";
  EXPECT_EQ(push("refs/heads/main", kSha).status, 202) << "planera still deploys";
  const auto statuses = [&] {
    std::vector<GithubStandin::CommitStatus> out;
    for (const auto& s : github.commit_statuses())
      if (s.context == "shipgate/config") out.push_back(s);
    return out;
  };
  ASSERT_TRUE(wait_until([&] { return !statuses().empty(); }, std::chrono::seconds(20))) << daemon->log();
  EXPECT_EQ(statuses()[0].repository, "acme/platform");
  EXPECT_EQ(statuses()[0].sha, broken);
  EXPECT_EQ(statuses()[0].state, "failure");
  EXPECT_NE(statuses()[0].description.find("other.yaml:6"), std::string::npos) << statuses()[0].description;

  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  const auto fixed = commit("fixed");
  ASSERT_EQ(platform_push(fixed).status, 202);
  ASSERT_TRUE(wait_until([&] { return statuses().size() == 2; }, std::chrono::seconds(20))) << daemon->log();
  EXPECT_EQ(statuses()[1].state, "success");
  EXPECT_EQ(applied_commit(), fixed);
}

TEST_F(PlatformConfig, ACommitNoWebhookAnnouncedIsCaughtByThePollAndAnOlderOneIsNeverApplied) {
  start_with(local_config("1s"));
  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  const auto second = commit("other");
  ASSERT_TRUE(wait_until([&] { return applied_commit() == second; }, std::chrono::seconds(20))) << daemon->log();

  // History rewritten: main goes back to the first commit.
  git({"push", "-q", "-f", dir.file("origin.git"), first + ":refs/heads/main"}, dir.file("work"));
  ASSERT_EQ(platform_push(first).status, 202);
  ASSERT_TRUE(wait_until([&] { return !audit("reload_refused").empty(); }, std::chrono::seconds(20))) << daemon->log();
  EXPECT_NE(audit("reload_refused").back()["details"].dump().find("does not descend"), std::string::npos)
      << audit("reload_refused").dump();
  EXPECT_EQ(applied_commit(), second);
  EXPECT_EQ(push("refs/heads/main", kSha, new_delivery_id(), "acme/other").status, 202);
}

TEST_F(PlatformConfig, CheckValidatesACheckoutAtACommitAndNamesBothFilesOfADuplicate) {
  dir.write("local.yaml", replaced(replaced(local_config("1h"), "${STORE}", dir.file("s.db")), "${PORT}", "18080"));
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("local.yaml"), "--git", dir.file("work"), "--commit", first});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("platform commit " + first), std::string::npos) << r.output;

  put("work/shipgate/projects/again.yaml", planera_file(dokploy.url()));
  const auto twice = commit("twice");
  r = run_command({shipgate_binary(), "check", "-c", dir.file("local.yaml"), "--git", dir.file("work"), "--commit", twice});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("shipgate/projects/planera.yaml:1: projects.planera: is defined in shipgate/projects/again.yaml "
                          "and again in shipgate/projects/planera.yaml"), std::string::npos) << r.output;
}

TEST_F(PlatformConfig, OnlyTheProjectWhoseFileChangedRedeploysItsCurrentVersionOnce) {
  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  const auto both = commit("both");
  start_with(local_config("1h"));
  ASSERT_EQ(applied_commit(), both);
  const std::int64_t planera = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  const std::int64_t other = push("refs/heads/main", kSha, new_delivery_id(), "acme/other").json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(planera, "succeeded"));
  ASSERT_TRUE(wait_state(other, "succeeded"));

  put("work/shipgate/projects/other.yaml",
      replaced(other_file(dokploy.url()), "      deploy_on: [push]\n", "      deploy_on: [push]\n      url: https://other.example\n"));
  const auto changed = commit("other's url");
  ASSERT_EQ(platform_push(changed).status, 202);
  ASSERT_EQ(platform_push(changed).status, 202) << "a redelivery";
  std::int64_t redeploy = 0;
  ASSERT_TRUE(wait_until([&] {
    const auto list = daemon->get("/api/v1/deployments?project=other", kAliceToken).json();  // named: it outlives the loop
    for (const auto& d : list["deployments"])
      if (d["trigger"] == "config") redeploy = d["id"];
    return redeploy != 0;
  }, std::chrono::seconds(20))) << daemon->log();
  const auto d = deployment(redeploy);
  EXPECT_EQ(d["config_commit"], changed);
  EXPECT_EQ(d["version"], deployment(other)["version"]);
  EXPECT_NE(d["history"][0]["reason"].get<std::string>().find("shipgate/projects/other.yaml"), std::string::npos) << d.dump(2);
  EXPECT_TRUE(wait_state(redeploy, "succeeded"));
  std::size_t config_redeploys = 0;
  const auto all = daemon->get("/api/v1/deployments?limit=100", kAliceToken).json();
  for (const auto& e : all["deployments"]) config_redeploys += e["trigger"] == "config";
  EXPECT_EQ(config_redeploys, 1u) << "planera's file did not change; the redelivery redeploys nothing again";
}

// Two replicas on one PostgreSQL, each with its own copy of the platform repository: the push reaches
// one, the poll brings the other to the same commit, and the commit's redeploy happens once.
TEST_F(PlatformConfig, TwoReplicasOnPostgresqlApplyTheSameCommitAndRedeployOnce) {
  Postgres pg;
  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  const auto both = commit("both");
  std::vector<std::unique_ptr<TempDir>> homes;
  std::vector<std::unique_ptr<Daemon>> replicas;
  for (int i = 0; i < 2; ++i) {
    homes.push_back(std::make_unique<TempDir>());
    std::string yaml = replaced(local_config("1s"), "store: sqlite:${STORE}", "store: \"" + pg.uri() + "\"");
    // The same text on both (so they agree on the config), each its own copy of the repository.
    yaml = replaced(yaml, "cache_dir: " + dir.file("cache"), "cache_dir: \"${PLATFORM_CACHE}\"");
    replicas.push_back(std::make_unique<Daemon>(
        *homes.back(), yaml,
        std::map<std::string, std::string>{{"SHIPGATE_REPLICA_ID", "r" + std::to_string(i)},
                                           {"PLATFORM_CACHE", homes.back()->file("cache")}}));
    ASSERT_TRUE(replicas.back()->start()) << replicas.back()->log();
  }
  const auto commit_of = [](const Daemon& d) {
    const auto info = d.get("/api/v1/info", kAliceToken).json();
    return info.value("config_commit", nlohmann::json()).is_string() ? info["config_commit"].get<std::string>() : "";
  };
  ASSERT_EQ(commit_of(*replicas[0]), both);
  ASSERT_EQ(commit_of(*replicas[1]), both);
  const std::string body = push_payload("acme/other", "refs/heads/main", kSha);
  auto pushed = replicas[0]->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  ASSERT_EQ(pushed.status, 202) << pushed.body;
  const std::int64_t other = pushed.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_until([&] { return deployment_of(*replicas[1], other).value("state", "") == "succeeded"; },
                         std::chrono::seconds(30)));

  put("work/shipgate/projects/other.yaml",
      replaced(other_file(dokploy.url()), "      deploy_on: [push]\n", "      deploy_on: [push]\n      url: https://other.example\n"));
  const auto changed = commit("other's url");
  const std::string platform = push_payload("acme/platform", "refs/heads/main", changed);
  ASSERT_EQ(replicas[0]->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, platform), platform).status, 202);
  ASSERT_TRUE(wait_until([&] { return commit_of(*replicas[0]) == changed && commit_of(*replicas[1]) == changed; },
                         std::chrono::seconds(30))) << replicas[1]->log();
  ASSERT_TRUE(wait_until([&] { return replicas[1]->get("/api/v1/info", kAliceToken).json().value("replicas_agree_on_config", false); },
                         std::chrono::seconds(30)));
  std::size_t redeploys = 0;
  ASSERT_TRUE(wait_until([&] {
    const auto list = replicas[1]->get("/api/v1/deployments?project=other", kAliceToken).json();
    redeploys = 0;
    for (const auto& d : list["deployments"]) redeploys += d["trigger"] == "config";
    return redeploys > 0;
  }, std::chrono::seconds(20)));
  // Both replicas applied the commit (each its own reload); the redeploy was stored once.
  const auto reloads = replicas[0]->get("/api/v1/audit?action=reload&limit=100", kAliceToken).json()["entries"];
  std::size_t at_changed = 0;
  for (const auto& e : reloads) at_changed += e["details"].value("commit", "") == changed;
  EXPECT_EQ(at_changed, 2u) << "one reload per replica: " << reloads.dump(2);
  EXPECT_EQ(redeploys, 1u);
}

// A commit made while shipgate was down: the start reads it, and the redeploy it calls for still
// happens, once, however often shipgate starts again.
TEST_F(PlatformConfig, ACommitMadeWhileShipgateWasDownRedeploysWhatItChangedAtTheNextStart) {
  put("work/shipgate/projects/other.yaml", other_file(dokploy.url()));
  commit("both");
  start_with(local_config("1h"));
  const std::int64_t other = push("refs/heads/main", kSha, new_delivery_id(), "acme/other").json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(other, "succeeded"));
  ASSERT_EQ(daemon->terminate(), 0);

  put("work/shipgate/projects/other.yaml",
      replaced(other_file(dokploy.url()), "      deploy_on: [push]\n", "      deploy_on: [push]\n      url: https://other.example\n"));
  const auto changed = commit("other's url, while shipgate was down");
  const auto redeploys = [&] {
    std::vector<std::int64_t> ids;
    const auto list = daemon->get("/api/v1/deployments?project=other", kAliceToken).json();
    for (const auto& d : list["deployments"])
      if (d["trigger"] == "config" && d.value("config_commit", "") == changed) ids.push_back(d["id"]);
    return ids;
  };
  for (int start = 0; start < 2; ++start) {
    ASSERT_TRUE(daemon->start()) << daemon->log();
    EXPECT_EQ(applied_commit(), changed);
    ASSERT_TRUE(wait_until([&] { return !redeploys().empty(); }, std::chrono::seconds(20))) << daemon->log();
    ASSERT_TRUE(wait_state(redeploys().front(), "succeeded"));
    ASSERT_EQ(daemon->terminate(), 0);
  }
  ASSERT_TRUE(daemon->start());
  EXPECT_EQ(redeploys().size(), 1u) << "the second start found the redeploy stored";
}

}  // namespace shipgate::testing
