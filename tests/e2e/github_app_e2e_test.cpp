// shipgate as a GitHub App against the GitHub stand-in, which checks the app's JWT with its public key:
// deployment statuses go out with an installation token bought once and kept until 5 minutes before it
// expires; the key and the tokens never reach the log; a config without a token or with a bad key is
// refused with the reason.
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/github_standin.hpp"
#include "tests/support/pki.hpp"

namespace shipgate::testing {

class GithubApp : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("app.pem"), "2048"}).status, 0);
    ASSERT_EQ(run_command({"/usr/bin/openssl", "rsa", "-in", dir.file("app.pem"), "-pubout", "-out", dir.file("app.pub")}).status, 0);
  }
  // The e2e config with the app and GitHub deployments for planera that name no token of their own.
  std::string app_config() {
    std::string config = e2e_config(dokploy.url());
    config.insert(config.find("\nprojects:") + 1, "github_app: { app_id: 31337, private_key_file: " + dir.file("app.pem") +
                                                ", api_url: \"" + github.url() + "\" }\n");
    config.insert(config.find("    components: { backend"), "    github_deployments: { api_url: \"" + github.url() + "\" }\n");
    return config;
  }
  GithubStandin::Deployment staging() {
    for (const auto& g : github.deployments())
      if (g.environment == "staging") return g;
    return {};
  }

  // The config as a file `shipgate check` reads (the daemon's placeholders filled in).
  std::string checkable(const std::string& name, const std::string& config) {
    dir.write(name, replaced(replaced(config, "${STORE}", dir.file("s.db")), "${PORT}", "18080"));
    return dir.file(name);
  }

  GithubStandin github{"a-personal-token-shipgate-never-has"};
};

TEST_F(GithubApp, StatusesGoWithOneInstallationTokenBoughtWithTheAppsJwt) {
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  start_with(app_config());
  const std::int64_t id = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return staging().states.size() == 3; }, std::chrono::seconds(20)))
      << daemon->log() << "\nrefused: " << ::testing::PrintToString(github.refusals());
  EXPECT_EQ(staging().states, (std::vector<std::string>{"queued", "in_progress", "success"}));
  EXPECT_EQ(github.tokens_issued(), 1) << "one token, kept for every later call";
  EXPECT_TRUE(github.refusals().empty()) << ::testing::PrintToString(github.refusals());
  const std::string pem = read_text_file(dir.file("app.pem"));
  const std::string key_line = pem.substr(pem.find('\n') + 1, 64);
  EXPECT_EQ(daemon->log().find(key_line), std::string::npos);
  EXPECT_EQ(daemon->log().find("ghs_standin"), std::string::npos);
}

TEST_F(GithubApp, ATokenWithinFiveMinutesOfExpiringIsNotUsedAgain) {
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::minutes(4));
  start_with(app_config());
  const std::int64_t id = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return staging().states.size() == 3; }, std::chrono::seconds(20))) << daemon->log();
  EXPECT_GE(github.tokens_issued(), 3) << "each delivery bought its own";
}

TEST_F(GithubApp, AJwtSignedWithAnotherKeyGetsNoTokenAndNoStatus) {
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("other.pem"), "2048"}).status, 0);
  ASSERT_EQ(run_command({"/usr/bin/openssl", "rsa", "-in", dir.file("other.pem"), "-pubout", "-out", dir.file("other.pub")}).status, 0);
  github.enable_app("31337", read_text_file(dir.file("other.pub")), 777, std::chrono::hours(1));
  start_with(app_config());
  const std::int64_t id = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("gave up") != std::string::npos; }, std::chrono::seconds(20)))
      << daemon->log();
  EXPECT_NE(daemon->log().find("finding the GitHub App's installation on acme/planera: HTTP 401"), std::string::npos)
      << daemon->log();
  EXPECT_EQ(github.tokens_issued(), 0);
  EXPECT_TRUE(github.deployments().empty());
}

TEST_F(GithubApp, TheConfigNeedsATokenOrTheAppAndARealKey) {
  std::string no_token = e2e_config(dokploy.url());
  no_token.insert(no_token.find("    components: { backend"), "    github_deployments: { api_url: \"" + github.url() + "\" }\n");
  auto r = run_command({shipgate_binary(), "check", "-c", checkable("no-token.yaml", no_token)});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("projects.planera.github_deployments.token: is required without github_app"), std::string::npos)
      << r.output;

  dir.write("not-a-key.pem", read_text_file(dir.file("app.pub")));
  const auto bad_key = checkable("bad-key.yaml", replaced(app_config(), dir.file("app.pem"), dir.file("not-a-key.pem")));
  r = run_command({shipgate_binary(), "check", "-c", bad_key});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("github_app.private_key_file: " + dir.file("not-a-key.pem") + " is not a PEM private key"),
            std::string::npos) << r.output;
  r = run_command({shipgate_binary(), "check", "-c", checkable("ok.yaml", app_config())});
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(GithubApp, EachEnvironmentsOutcomeIsACommitStatusAndItsUrlIsOnTheDeployment) {
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  std::string config = replaced(app_config(), "    github_deployments: {", "    report: { commit_status: true }\n    github_deployments: {");
  config = replaced(config, "        tag: \"staging-{short_sha}\"\n", "        tag: \"staging-{short_sha}\"\n        url: https://staging.planera.example\n");
  start_with(config);
  const std::int64_t id = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  const auto of = [&](const std::string& context) {
    std::vector<std::string> states;
    for (const auto& c : github.commit_statuses())
      if (c.context == context && c.sha == kSha && c.repository == "acme/planera") states.push_back(c.state);
    return states;
  };
  ASSERT_TRUE(wait_until([&] { return of("shipgate/staging").size() == 3 && of("shipgate/production").size() == 1; },
                         std::chrono::seconds(20))) << daemon->log();
  EXPECT_EQ(of("shipgate/staging"), (std::vector<std::string>{"pending", "pending", "success"}));
  EXPECT_EQ(of("shipgate/production"), std::vector<std::string>{"pending"});
  for (const auto& c : github.commit_statuses()) {
    if (c.context != "shipgate/production") continue;
    EXPECT_NE(c.description.find("waiting for approval"), std::string::npos) << c.description;
    EXPECT_NE(c.target_url.find("/deployments/"), std::string::npos) << c.target_url;
  }
  ASSERT_TRUE(wait_until([&] { return staging().states.size() == 3; }, std::chrono::seconds(20)));
  EXPECT_EQ(staging().environment_urls, std::vector<std::string>(3, "https://staging.planera.example"));
  EXPECT_EQ(github.tokens_issued(), 1);

  const std::string no_token = replaced(e2e_config(dokploy.url()), "    components: { backend",
                                        "    report: { commit_status: true }\n    components: { backend");
  const auto r = run_command({shipgate_binary(), "check", "-c", checkable("report.yaml", no_token)});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("projects.planera.report.commit_status: needs a GitHub token"), std::string::npos) << r.output;
}

TEST_F(GithubApp, AMergedPullRequestGetsOneCommentEditedAsItsEnvironmentsEnd) {
  github.enable_app("31337", read_text_file(dir.file("app.pub")), 777, std::chrono::hours(1));
  github.add_merged_pull("acme/planera", 42, kSha);
  start_with(replaced(app_config(), "    github_deployments: {", "    report: { pull_request: true }\n    github_deployments: {"));
  const std::int64_t id = push("refs/heads/main", kSha).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  const auto body = [&] {
    const auto c = github.comments("acme/planera", 42);
    return c.empty() ? std::string() : c[0].body;
  };
  ASSERT_TRUE(wait_until([&] {
    return body().find("| production | waiting for approval |") != std::string::npos &&
           body().find("| staging | succeeded |") != std::string::npos;
  }, std::chrono::seconds(20))) << body() << daemon->log();
  EXPECT_NE(body().find("| staging | succeeded | " + std::string(kSha) + " | [deployment " + std::to_string(id) + "]("),
            std::string::npos) << body();
  std::int64_t production = 0;
  wait_until([&] {
    const auto list = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json();  // named: no dangling
    for (const auto& d : list["deployments"]) production = d["id"].get<std::int64_t>();
    return production != 0;
  });
  const auto approved = daemon->post("/api/v1/deployments/" + std::to_string(production) + "/approve",
                                     {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}},
                                     "{}");
  ASSERT_EQ(approved.status, 200) << approved.body;
  ASSERT_TRUE(wait_state(production, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return body().find("| production | succeeded |") != std::string::npos; },
                         std::chrono::seconds(20))) << body();
  const auto comments = github.comments("acme/planera", 42);
  ASSERT_EQ(comments.size(), 1u) << "one comment, edited";
  EXPECT_GE(comments[0].edits, 2);
  EXPECT_EQ(comments[0].body.rfind("<!-- shipgate:planera -->", 0), 0u);
  EXPECT_NE(comments[0].body.find("| staging | succeeded |"), std::string::npos) << comments[0].body;

  // A commit no pull request was merged as gets no comment anywhere.
  const std::int64_t other = push("refs/heads/main", kSha2).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(other, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return github.pull_lookups(kSha2) >= 1; }, std::chrono::seconds(20))) << daemon->log();
  EXPECT_EQ(github.comments("acme/planera", 42).size(), 1u);
  EXPECT_EQ(daemon->log().find("gave up"), std::string::npos) << daemon->log();
}

}  // namespace shipgate::testing
