// Deploy files and credentials of the platform repository: compose and env files reach Dokploy byte
// for byte and a rollback puts them back; the repository is fetched over HTTP with a token file and over
// HTTPS with the GitHub App's token, from a real nginx that wants the credentials.
#include "tests/e2e/platform_fixture.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/pki.hpp"

namespace shipgate::testing {

namespace {

std::string stack_file(const std::string& dokploy) {
  return "other:\n"
         "  repository: acme/other\n"
         "  components: { web: { image: ghcr.io/acme/other-web } }\n"
         "  environments:\n"
         "    staging:\n"
         "      deploy_on: [push]\n"
         "      rollback_on_failure: true\n"
         "      targets: [ { type: dokploy, url: \"" + dokploy + "\", api_key: e2e-key, compose_id: stack_other,\n"
         "                   compose_file: compose/other.yml, env_file: env/other.env, env: { VERSION: \"{version}\" },\n"
         "                   poll_interval: 20ms } ]\n";
}

}  // namespace

TEST_F(PlatformConfig, ComposeAndEnvFilesOfTheCommitReachDokployByteForByteAndARollbackPutsThemBack) {
  DokployStandin::App stack;
  stack.compose = true;
  stack.ticks = 1;
  dokploy.add_app("stack_other", stack);
  const std::string compose2 = "services:\n  web:\n    image: ghcr.io/acme/other-web:2 # two\n";
  const std::string env2 = "DB_PASSWORD=s3cret-two\r\nLOG_LEVEL=debug\n";
  put("work/shipgate/compose/other.yml", "services:\n  web:\n    image: ghcr.io/acme/other-web:1\n");
  put("work/shipgate/env/other.env", "DB_PASSWORD=hunter2\n");
  put("work/shipgate/projects/other.yaml", stack_file(dokploy.url()));
  commit("stack");
  start_with(local_config("1h"));
  const std::int64_t first_deploy = push("refs/heads/main", kSha, new_delivery_id(), "acme/other").json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(first_deploy, "succeeded")) << deployment(first_deploy).dump(2);
  EXPECT_EQ(dokploy.app("stack_other").env, "DB_PASSWORD=hunter2\nVERSION=" + std::string(kSha) + "\n");

  // Only the files change: the project's section does not, and it still redeploys with them.
  put("work/shipgate/compose/other.yml", compose2);
  put("work/shipgate/env/other.env", env2);
  const auto second = commit("files");
  ASSERT_EQ(platform_push(second).status, 202);
  ASSERT_TRUE(wait_until([&] { return dokploy.app("stack_other").compose_file == compose2; }, std::chrono::seconds(20)))
      << daemon->log();
  ASSERT_TRUE(wait_until([&] {
    const auto list = daemon->get("/api/v1/deployments?project=other&limit=1", kAliceToken).json();
    const auto& newest = list["deployments"][0];
    return newest.value("config_commit", "") == second && newest["state"] == "succeeded";
  }, std::chrono::seconds(20))) << daemon->get("/api/v1/deployments?project=other", kAliceToken).body;
  EXPECT_EQ(dokploy.app("stack_other").env, "DB_PASSWORD=s3cret-two\r\nLOG_LEVEL=debug\nVERSION=" + std::string(kSha) + "\n");

  // The next commit's job fails: the automatic rollback puts the second commit's files back.
  auto failing = dokploy.app("stack_other");
  failing.outcome = "error";
  dokploy.add_app("stack_other", failing);
  put("work/shipgate/compose/other.yml", "services:\n  web:\n    image: ghcr.io/acme/other-web:3\n");
  put("work/shipgate/env/other.env", "DB_PASSWORD=s3cret-three\n");
  const auto third = commit("broken stack");
  ASSERT_EQ(platform_push(third).status, 202);
  std::int64_t redeploy = 0;
  ASSERT_TRUE(wait_until([&] {
    const auto list = daemon->get("/api/v1/deployments?project=other&limit=1", kAliceToken).json();
    const auto& newest = list["deployments"][0];
    if (newest.value("config_commit", "") == third) redeploy = newest["id"];
    return redeploy != 0 && newest["state"] != "running" && newest["state"] != "queued";
  }, std::chrono::seconds(30))) << daemon->log();
  EXPECT_EQ(dokploy.app("stack_other").compose_file, compose2) << deployment(redeploy).dump(2);
  EXPECT_EQ(dokploy.app("stack_other").env.rfind("DB_PASSWORD=s3cret-two\r\nLOG_LEVEL=debug\n", 0), 0u) << dokploy.app("stack_other").env;
  // The environment text the rollback kept is never shown.
  const std::string shown = deployment(redeploy).dump();
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("(hidden)"), std::string::npos) << shown;
  EXPECT_EQ(daemon->log().find("s3cret"), std::string::npos);
}

// Over HTTP (Git's dumb protocol from a real nginx that wants Basic credentials): the token file's token
// opens it, and neither the token nor a wrong one's refusal puts the token in the log.
TEST_F(PlatformConfig, TheTokenFileFetchesOverHttpAndNeverReachesTheLog) {
  git({"update-server-info"}, dir.file("origin.git"));
  Nginx server(dir.path(), "x-access-token", "ghs_platform-token-0123");
  dir.write("token", "ghs_platform-token-0123\n");
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/origin.git";
  std::string yaml = replaced(local_config("1h"), "git: " + dir.file("origin.git"), "git: " + url);
  yaml = replaced(yaml, "poll: 1h,", "poll: 1h, token_file: " + dir.file("token") + ",");
  start_with(yaml);
  EXPECT_EQ(applied_commit(), first);
  EXPECT_EQ(daemon->log().find("ghs_platform"), std::string::npos);

  dir.write("token", "ghs_wrong-token\n");
  // A copy of its own: with none to fall back on, the refused fetch is the error.
  const std::string fresh = replaced(yaml, "cache_dir: " + dir.file("cache"), "cache_dir: " + dir.file("fresh"));
  dir.write("local.yaml", replaced(replaced(fresh, "${STORE}", dir.file("s2.db")), "${PORT}", "18080"));
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("local.yaml")});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("cannot fetch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ghs_"), std::string::npos) << r.output;
}

// Over HTTPS with an internal CA and no token file: the local file's GitHub App buys the installation
// token that opens the repository.
TEST_F(PlatformConfig, WithoutATokenFileTheGithubAppsTokenFetchesOverHttps) {
  git({"update-server-info"}, dir.file("origin.git"));
  const auto pki = make_test_pki(dir.path());
  Nginx server(dir.path(), "x-access-token", "ghs_app-installation-token", pki.server_cert_file, pki.server_key_file);
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("app.pem"), "2048"}).status, 0);
  ASSERT_EQ(run_command({"/usr/bin/openssl", "rsa", "-in", dir.file("app.pem"), "-pubout", "-out", dir.file("app.pub")}).status, 0);
  GithubStandin github("unused-token");
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  github.issue_token("ghs_app-installation-token");
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/origin.git";
  std::string yaml = replaced(local_config("1h", "github_app: { app_id: 31337, private_key_file: " + dir.file("app.pem") +
                                                     ", api_url: \"" + github.url() + "\" }\n"),
                              "git: " + dir.file("origin.git"), "git: " + url);
  yaml = replaced(yaml, "poll: 1h,", "poll: 1h, ca_file: " + pki.ca_pem_file + ",");
  start_with(yaml);
  EXPECT_EQ(applied_commit(), first) << daemon->log();
  EXPECT_GE(github.tokens_issued(), 1);
  EXPECT_EQ(daemon->log().find("ghs_app"), std::string::npos);
}

}  // namespace shipgate::testing
