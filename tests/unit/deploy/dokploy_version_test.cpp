// The version reaches Dokploy: an application's Docker image and a stack's environment are set before
// the deploy call, what was there is recorded, and a rollback puts it back.
#include <gtest/gtest.h>

#include "deploy/dokploy_target.hpp"
#include "tests/support/dokploy_standin.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::DokployStandin;
using shipgate::testing::run_awaitable;

namespace {

DeployContext context(std::int64_t id, const std::string& version) {
  DeployContext c;
  c.deployment_id = id;
  c.marker = std::to_string(id) + "-1700000000000";
  c.project = "planera";
  c.environment = "staging";
  c.repository = "acme/planera";
  c.version = version;
  c.sha = "0123456789abcdef0123456789abcdef0123456" + std::to_string(id % 10);
  c.ref = "refs/tags/" + version;
  c.images = {{"backend", "ghcr.io/acme/backend:staging-" + version}, {"frontend", "ghcr.io/acme/frontend:" + version}};
  c.vars = template_vars(c);
  return c;
}

config::DokployTargetConfig application(const DokployStandin& d, const std::string& id) {
  config::DokployTargetConfig c;
  c.url = d.url();
  c.api_key = "key";
  c.application_id = id;
  c.component = "backend";
  c.poll_interval = std::chrono::milliseconds(10);
  c.timeout = std::chrono::seconds(10);
  return c;
}

std::vector<std::string> calls(const DokployStandin& d) {
  std::vector<std::string> out;
  for (const auto& r : d.requests()) out.push_back(r.method + " " + r.target.substr(0, r.target.find('?')));
  return out;
}

}  // namespace

TEST(DokployVersion, AnApplicationGetsTheImageBeforeItsDeployAndTheOldOneIsRecorded) {
  DokployStandin dokploy("key");
  dokploy.add_app("app", {"done", "", 1, false, "docker", "ghcr.io/acme/backend:staging-v1"});
  auto target = make_dokploy_target(application(dokploy, "app"), make_beast_http_client());
  const auto out = run_awaitable(target->deploy(context(2, "v2")));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(dokploy.deployed_images("app"), (std::vector<std::string>{"ghcr.io/acme/backend:staging-v2"}));
  EXPECT_EQ(calls(dokploy), (std::vector<std::string>{"GET /api/application.one", "POST /api/application.saveDockerProvider",
                                                      "POST /api/application.deploy", "GET /api/deployment.all",
                                                      "GET /api/deployment.all"}));
  EXPECT_EQ(out.details["before"]["dockerImage"], "ghcr.io/acme/backend:staging-v1");
  EXPECT_EQ(out.details["image"], "ghcr.io/acme/backend:staging-v2");
  EXPECT_EQ(dokploy.app("app").username, "registry-user") << "the registry credentials Dokploy had are kept";
  // The same image again changes nothing before the deploy.
  const auto again = run_awaitable(target->deploy(context(3, "v2")));
  ASSERT_TRUE(again.ok) << again.message;
  EXPECT_FALSE(again.details["before"].contains("dockerImage"));
}

TEST(DokployVersion, AStackGetsOnlyItsConfiguredKeysChanged) {
  DokployStandin dokploy("key");
  DokployStandin::App stack{"done", "", 1, true};
  stack.env = "# set by hand\nDATABASE_URL=postgres://db/app\nVERSION=v1\n\nBACKEND_IMAGE=old\nFEATURE_X=on";
  dokploy.add_app("stack", stack);
  auto cfg = application(dokploy, "");
  cfg.application_id.clear();
  cfg.component.clear();
  cfg.compose_id = "stack";
  cfg.env = {{"VERSION", "{version}"}, {"BACKEND_IMAGE", "{image.backend}"}, {"RELEASED_SHA", "{sha}"}};
  auto target = make_dokploy_target(cfg, make_beast_http_client());
  const auto ctx = context(4, "v1.6.1");
  const auto out = run_awaitable(target->deploy(ctx));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(dokploy.app("stack").env, "# set by hand\nDATABASE_URL=postgres://db/app\nVERSION=v1.6.1\n\n"
                                      "BACKEND_IMAGE=ghcr.io/acme/backend:staging-v1.6.1\nFEATURE_X=on\n"
                                      "RELEASED_SHA=" + ctx.sha + "\n");
  EXPECT_EQ(out.details["before"]["env"], (nlohmann::json{{"VERSION", "v1"}, {"BACKEND_IMAGE", "old"}, {"RELEASED_SHA", nullptr}}));
  EXPECT_EQ(calls(dokploy)[1], "POST /api/compose.saveEnvironment");
  EXPECT_EQ(calls(dokploy)[2], "POST /api/compose.deploy");
  // The rollback puts back exactly the old values (and takes away the key it added) and deploys again.
  const auto back = run_awaitable(target->rollback(context(3, "v1"), out.details));
  ASSERT_TRUE(back.ok) << back.message;
  EXPECT_EQ(dokploy.app("stack").env, "# set by hand\nDATABASE_URL=postgres://db/app\nVERSION=v1\n\n"
                                      "BACKEND_IMAGE=old\nFEATURE_X=on\n");
  EXPECT_EQ(dokploy.jobs("stack").size(), 2u);
}

TEST(DokployVersion, ARollbackPutsTheOldImageBackAndWaitsForItsOwnJob) {
  DokployStandin dokploy("key");
  dokploy.add_app("app", {"done", "", 2, false, "docker", "ghcr.io/acme/backend:staging-v1"});
  auto target = make_dokploy_target(application(dokploy, "app"), make_beast_http_client());
  const auto v1 = context(1, "v1");
  const auto failed = run_awaitable(target->deploy(context(2, "v2")));
  ASSERT_TRUE(failed.ok);  // say its smoke check failed afterwards
  const auto back = run_awaitable(target->rollback(v1, failed.details));
  ASSERT_TRUE(back.ok) << back.message;
  EXPECT_EQ(dokploy.app("app").docker_image, "ghcr.io/acme/backend:staging-v1");
  EXPECT_EQ(dokploy.deployed_images("app"),
            (std::vector<std::string>{"ghcr.io/acme/backend:staging-v2", "ghcr.io/acme/backend:staging-v1"}));
  // Its job carries a marker of its own, not the one of the deployment that failed or of v1's.
  const auto jobs = dokploy.jobs("app");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_NE(jobs[0]["description"].get<std::string>().find("shipgate-deployment=2-1700000000000-rollback;"), std::string::npos);
  EXPECT_EQ(back.details["status"], "done");
}

TEST(DokployVersion, AGitBuiltApplicationFailsAtOnceUnlessTheTargetSaysNotToPin) {
  DokployStandin dokploy("key");
  dokploy.add_app("app", {"done", "", 1, false, "github"});
  auto cfg = application(dokploy, "app");
  auto refused = run_awaitable(make_dokploy_target(cfg, make_beast_http_client())->deploy(context(5, "v2")));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.message.find("builds from its github source"), std::string::npos) << refused.message;
  EXPECT_NE(refused.message.find("pin_version: false"), std::string::npos) << refused.message;
  EXPECT_EQ(dokploy.deploy_calls(), 0u);
  cfg.pin_version = false;
  auto unpinned = run_awaitable(make_dokploy_target(cfg, make_beast_http_client())->deploy(context(6, "v2")));
  EXPECT_TRUE(unpinned.ok) << unpinned.message;
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  EXPECT_EQ(dokploy.app("app").source_type, "github") << "nothing was changed on the application";
}

TEST(DokployVersion, AResumeAfterACrashBetweenSettingAndDeployingDeploysOnce) {
  DokployStandin dokploy("key");
  // The crash came after the image was saved: Dokploy already has v2, and no job.
  dokploy.add_app("app", {"done", "", 1, false, "docker", "ghcr.io/acme/backend:staging-v2"});
  auto target = make_dokploy_target(application(dokploy, "app"), make_beast_http_client());
  const auto ctx = context(7, "v2");
  const auto resumed = run_awaitable(target->resume(ctx));
  ASSERT_TRUE(resumed.ok) << resumed.message;
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  // A second resume finds the job by its marker and only watches it.
  ASSERT_TRUE(run_awaitable(target->resume(ctx)).ok);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  EXPECT_EQ(dokploy.deployed_images("app"), (std::vector<std::string>{"ghcr.io/acme/backend:staging-v2"}));
}

TEST(DokployVersion, AValueThatWouldBreakTheEnvironmentTextIsRefused) {
  DokployStandin dokploy("key");
  dokploy.add_app("app", {"done", "", 1});
  auto cfg = application(dokploy, "app");
  cfg.env = {{"VERSION", "{version}"}};
  auto ctx = context(8, "v2");
  ctx.vars["version"] = "v2\nINJECTED=1";
  const auto out = run_awaitable(make_dokploy_target(cfg, make_beast_http_client())->deploy(ctx));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("line break"), std::string::npos);
  EXPECT_TRUE(dokploy.requests().empty()) << "nothing was sent";
}

TEST(DokployVersion, AnApplicationsEnvironmentKeysAreSetWithItsBuildSettingsSentBack) {
  DokployStandin dokploy("key");
  DokployStandin::App app{"done", "", 1, false, "docker", "ghcr.io/acme/backend:staging-v1"};
  app.env = "LOG_LEVEL=info\nVERSION=v1";
  dokploy.add_app("app", app);
  auto cfg = application(dokploy, "app");
  cfg.env = {{"VERSION", "{version}"}};
  const auto out = run_awaitable(make_dokploy_target(cfg, make_beast_http_client())->deploy(context(9, "v2")));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(dokploy.app("app").env, "LOG_LEVEL=info\nVERSION=v2");  // no newline added where there was none
  for (const auto& r : dokploy.requests())
    if (r.target == "/api/application.saveEnvironment") {
      const auto body = nlohmann::json::parse(r.body);
      EXPECT_EQ(body["buildArgs"], "NODE_ENV=production");  // what Dokploy had, unchanged
      EXPECT_TRUE(body.contains("buildSecrets"));
      EXPECT_EQ(body["createEnvFile"], true);
    }
  EXPECT_EQ(out.details["before"]["env"], (nlohmann::json{{"VERSION", "v1"}}));
}
