// The version reaches every target, through the real binary: images waited for in a real registry and
// pinned by digest into Dokploy, compose environments with only their keys changed, git-built
// applications refused, late older builds skipped, and dispatches relayed by the platform repository.
#include "tests/e2e/e2e_fixture.hpp"

#include "tests/support/registry.hpp"

using namespace shipgate::testing;
using nlohmann::json;

class Versions : public E2E {
 protected:
  void SetUp() override {
    dokploy.add_app("app_staging", {"done", "", 1});
    dokploy.add_app("app_prod", {"done", "", 1});
    DokployStandin::App stack{"done", "", 1};
    stack.compose = true;
    stack.env = "# stack settings, kept as written\r\nVERSION=v0.9.0\nDATABASE_URL=postgres://db/stack\n\nexport LOG=debug\n";
    dokploy.add_app("cmp_stack", stack);
    DokployStandin::App git{"done", "", 1};
    git.source_type = "github";
    dokploy.add_app("app_git", git);
    start_with(config());
  }

  std::string config() const {
    const std::string d = "{ type: dokploy, url: \"" + dokploy.url() + "\", api_key: e2e-key, poll_interval: 20ms, ";
    return R"(
server: { listen: "127.0.0.1:${PORT}", api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"("] }
platform: { repository: acme/platform, branch: main }
registries: { ")" + registry.host() + R"(": { plain_http: true } }
reviewers:
  alice: { token: ")" + kAliceToken + R"(", can: [approve, deploy] }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: )" + registry.host() + R"(/acme/backend } }
    environments:
      staging:
        deploy_on: [push]
        tag: "staging-{short_sha}"
        wait_for_images: 30s
        pin_digests: true
        targets: [ )" + d + R"(application_id: app_staging } ]
      production:
        promote_from: staging
        targets: [ )" + d + R"(application_id: app_prod } ]
  stack:
    repository: acme/stack
    components: { api: { image: ghcr.io/acme/stack-api } }
    environments:
      staging:
        deploy_on: [push, build, dispatch]
        tag: "{version}"
        targets: [ )" + d + R"(compose_id: cmp_stack, env: { VERSION: "{version}", API_IMAGE: "{image.api}" } } ]
  gitbuilt:
    repository: acme/gitbuilt
    components: { web: { image: ghcr.io/acme/web } }
    environments:
      staging:
        deploy_on: [push]
        targets: [ )" + d + R"(application_id: app_git } ]
)";
  }

  Reply build(const json& body, const std::string& key) {
    auto headers = github_headers("build", "", kSecret, body.dump());
    headers.emplace_back("Idempotency-Key", key);
    return daemon->post("/webhooks/build", headers, body.dump());
  }
  std::int64_t first_id(const Reply& r) { return r.json()["deployments"][0].value("id", std::int64_t{0}); }

  Registry registry;
};

TEST_F(Versions, APushWaitsForTheImageCiPushesLaterAndProductionRunsTheSameDigest) {
  const auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = first_id(r);
  const std::string tag = "acme/backend:staging-" + std::string(kSha).substr(0, 7);
  // CI is still pushing the image: the deployment says what it waits for, and Dokploy is not called.
  ASSERT_TRUE(wait_until([&] { return deployment(id).value("waiting_reason", "") == "waiting for image " + registry.host() + "/" + tag; },
                         std::chrono::seconds(10)))
      << deployment(id).dump(2);
  // `shipgate status` says what it waits for.
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon->port());
  const auto status = run_command({shipgate_binary(), "status", "planera", "staging"},
                                  {{"SHIPGATE_URL", url}, {"SHIPGATE_TOKEN", kAliceToken}});
  EXPECT_NE(status.output.find("running:  " + std::to_string(id) + " "), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(": waiting for image " + registry.host() + "/" + tag), std::string::npos) << status.output;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(dokploy.deploy_calls(), 0u);
  const auto digest = registry.push(tag, "the build CI finished 3 s later");
  ASSERT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2);
  const std::string pinned = registry.host() + "/acme/backend@" + digest;
  EXPECT_EQ(dokploy.deployed_images("app_staging"), (std::vector<std::string>{pinned}));
  EXPECT_EQ(deployment(id)["result"]["images"]["backend"]["digest"], digest);
  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find("shipgate_image_check_seconds_count{outcome=\"found\"} 1"), std::string::npos) << metrics;
  // The tag moves afterwards (a rebuild); production still gets what staging ran.
  registry.push(tag, "a rebuild nobody tested");
  const auto prod = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"];
  ASSERT_EQ(prod.size(), 1u);
  ASSERT_TRUE(wait_state(prod[0]["id"].get<std::int64_t>(), "succeeded"));
  EXPECT_EQ(dokploy.deployed_images("app_prod"), (std::vector<std::string>{pinned}));
}

TEST_F(Versions, AComposeStackGetsOnlyItsConfiguredKeysChanged) {
  const auto r = build({{"project", "stack"}, {"version", "v1.6.1"}, {"sha", kSha}}, "ci-1");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(wait_state(first_id(r), "succeeded")) << deployment(first_id(r)).dump(2);
  EXPECT_EQ(dokploy.app("cmp_stack").env,
            "# stack settings, kept as written\r\nVERSION=v1.6.1\nDATABASE_URL=postgres://db/stack\n\nexport LOG=debug\n"
            "API_IMAGE=ghcr.io/acme/stack-api:v1.6.1\n");
}

TEST_F(Versions, ALateOlderBuildIsSkippedAndTheNewerOneKeepsRunning) {
  const auto newer = build({{"project", "stack"}, {"version", "v1.6.1"}, {"sha", kSha}}, "ci-2");
  ASSERT_TRUE(wait_state(first_id(newer), "succeeded"));
  const auto late = build({{"project", "stack"}, {"version", "v1.5.0"}, {"sha", kSha2}}, "ci-1");
  ASSERT_EQ(late.status, 202) << late.body;
  const auto answer = late.json()["deployments"][0];
  EXPECT_FALSE(answer.contains("id"));
  EXPECT_EQ(answer["skipped"], "version v1.5.0 is older than v1.6.1 in staging; automatic triggers never go back "
                               "to an older version (deploy it manually to do that)");
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  EXPECT_NE(dokploy.app("cmp_stack").env.find("VERSION=v1.6.1\n"), std::string::npos);
  const auto audit = daemon->get("/api/v1/audit?limit=1", kAliceToken).json()["entries"];
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"], "skipped");
}

TEST_F(Versions, AGitBuiltApplicationFailsWithWhatToChange) {
  const auto r = push("refs/heads/main", kSha, new_delivery_id(), "acme/gitbuilt");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(wait_state(first_id(r), "failed"));
  const std::string message = deployment(first_id(r))["message"];
  EXPECT_NE(message.find("dokploy application app_git builds from its github source, so shipgate cannot give it "
                         "version ghcr.io/acme/web:" + std::string(kSha)),
            std::string::npos) << message;
  EXPECT_NE(message.find("or set pin_version: false on this target"), std::string::npos) << message;
  EXPECT_EQ(dokploy.deploy_calls(), 0u);
}

TEST_F(Versions, ADispatchRelayedByThePlatformRepositoryDeploysTheNamedProject) {
  const json body = {{"action", "deploy"},
                     {"client_payload", {{"project", "stack"}, {"version", "v2.0.0"}, {"sha", kSha}}},
                     {"repository", {{"full_name", "acme/platform"}}},
                     {"sender", {{"login", "release-bot"}}}};
  auto r = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, body.dump()),
                        body.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["deployments"][0]["project"], "stack");
  ASSERT_TRUE(wait_state(first_id(r), "succeeded"));
  EXPECT_NE(dokploy.app("cmp_stack").env.find("VERSION=v2.0.0\n"), std::string::npos);
  // An unknown project is a 4xx GitHub shows on the delivery, and nothing is created.
  json unknown = body;
  unknown["client_payload"]["project"] = "nope";
  r = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, unknown.dump()),
                   unknown.dump());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.json()["message"].get<std::string>().find("nope"), std::string::npos) << r.body;
  EXPECT_EQ(deployment_count(), 1u);
}
