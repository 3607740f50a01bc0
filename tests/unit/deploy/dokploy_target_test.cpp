// The Dokploy target against the stand-in that follows docs/protocols.md.
#include <gtest/gtest.h>

#include "deploy/dokploy_target.hpp"
#include "tests/support/dokploy_standin.hpp"
#include "tests/support/run.hpp"
#include "tests/support/scripted_http.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::run_awaitable;
using shipgate::http::Headers;

namespace {

DeployContext context(std::int64_t id) {
  DeployContext c;
  c.deployment_id = id;
  c.marker = std::to_string(id) + "-1700000000000";
  c.project = "planera";
  c.environment = "staging";
  c.repository = "acme/planera";
  c.version = "0123456789abcdef0123456789abcdef01234567";
  c.sha = c.version;
  c.ref = "refs/heads/main";
  c.branch = "main";
  c.images = {{"backend", "ghcr.io/acme/backend:" + c.version}};
  c.vars = template_vars(c);
  return c;
}

config::DokployTargetConfig api_config(const shipgate::testing::DokployStandin& d, std::string app, std::string key = "secret-key") {
  config::DokployTargetConfig c;
  c.url = d.url();
  c.api_key = std::move(key);
  c.application_id = std::move(app);
  c.component = "backend";
  c.poll_interval = std::chrono::milliseconds(10);
  c.timeout = std::chrono::seconds(10);
  return c;
}

TargetOutcome deploy_with(const config::DokployTargetConfig& cfg, const DeployContext& ctx, bool resume = false) {
  auto target = make_dokploy_target(cfg, make_beast_http_client());
  return run_awaitable(resume ? target->resume(ctx) : target->deploy(ctx));
}

}  // namespace

TEST(DokployTarget, DeploysAndWaitsForDone) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"done", "", 3});
  auto out = deploy_with(api_config(dokploy, "app_1"), context(7));
  EXPECT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.details["status"], "done");
  auto jobs = dokploy.jobs("app_1");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_NE(jobs[0]["description"].get<std::string>().find("shipgate-deployment=7-1700000000000;"), std::string::npos);
  EXPECT_NE(jobs[0]["title"].get<std::string>().find("planera/staging"), std::string::npos);
  for (const auto& r : dokploy.requests()) {
    EXPECT_EQ(r.header("x-api-key"), "secret-key") << r.target;
    if (r.method == "POST") {
      EXPECT_EQ(r.header("Content-Type"), "application/json") << r.target;
    }
  }
}

TEST(DokployTarget, ErrorRowFailsWithDokploysMessage) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"error", "Error: image pull failed", 1});
  auto out = deploy_with(api_config(dokploy, "app_1"), context(8));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("image pull failed"), std::string::npos) << out.message;
}

TEST(DokployTarget, WrongKeyAndUnknownAppAreClearFailures) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {});
  auto unauthorized = deploy_with(api_config(dokploy, "app_1", "wrong"), context(9));
  EXPECT_FALSE(unauthorized.ok);
  EXPECT_NE(unauthorized.message.find("401"), std::string::npos);
  EXPECT_NE(unauthorized.message.find("Unauthorized"), std::string::npos);
  auto missing = deploy_with(api_config(dokploy, "app_nope"), context(9));
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.message.find("Application not found"), std::string::npos);
}

TEST(DokployTarget, TimesOutWhenTheJobNeverFinishes) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"never", "", 0});
  auto cfg = api_config(dokploy, "app_1");
  cfg.timeout = std::chrono::milliseconds(300);
  auto out = deploy_with(cfg, context(10));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("still 'running'"), std::string::npos) << out.message;
}

TEST(DokployTarget, ResumeWatchesTheExistingJobInsteadOfDeployingAgain) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"done", "", 5});
  auto cfg = api_config(dokploy, "app_1");
  // Start a deploy, then "crash": the job exists at Dokploy; a resume must not deploy again.
  {
    OutboundRequest req;
    req.method = "POST";
    req.url = dokploy.url() + "/api/application.deploy";
    req.headers = {{"x-api-key", "secret-key"}, {"Content-Type", "application/json"}};
    req.body = nlohmann::json{{"applicationId", "app_1"}, {"title", "t"},
                              {"description", "shipgate-deployment=11-1700000000000; version=x"}}.dump();
    ASSERT_EQ(run_awaitable(make_beast_http_client()->send(req))->status, 200);
  }
  auto out = deploy_with(cfg, context(11), /*resume=*/true);
  EXPECT_TRUE(out.ok) << out.message;
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  // A resume with no job at Dokploy deploys.
  auto fresh = deploy_with(cfg, context(12), /*resume=*/true);
  EXPECT_TRUE(fresh.ok);
  EXPECT_EQ(dokploy.deploy_calls(), 2u);
}

TEST(DokployTarget, AResumeThatCannotListTheJobsDeploysNothing) {
  auto http = std::make_shared<shipgate::testing::ScriptedHttp>([](const OutboundRequest&) {
    return shipgate::testing::ScriptedHttp::reply(502, "bad gateway");
  });
  config::DokployTargetConfig cfg;
  cfg.url = "https://dokploy.example.test";
  cfg.api_key = "secret-key";
  cfg.application_id = "app_1";
  cfg.component = "backend";
  auto out = run_awaitable(make_dokploy_target(cfg, http)->resume(context(13)));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("cannot tell whether Dokploy already has this deployment's job"), std::string::npos)
      << out.message;
  const auto sent = http->requests();
  ASSERT_EQ(sent.size(), 1u) << "only the job list was asked for";
  EXPECT_NE(sent[0].url.find("/api/deployment.all"), std::string::npos) << sent[0].url;
}

TEST(DokployTarget, MarkerOfDeployment4DoesNotMatchDeployment42) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"never", "", 0});
  auto cfg = api_config(dokploy, "app_1");
  cfg.timeout = std::chrono::milliseconds(200);
  auto ctx42 = context(42);
  ctx42.marker = "42-1";
  deploy_with(cfg, ctx42);  // leaves a running job for 42
  dokploy.add_app("app_1", {"done", "", 0});
  auto ctx4 = context(4);
  ctx4.marker = "4-1";
  auto out = deploy_with(cfg, ctx4, /*resume=*/true);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(dokploy.deploy_calls(), 2u);  // 4 had no job of its own, so it deployed
}

TEST(DokployTarget, ComposeUsesComposeEndpoints) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("cmp_1", {"done", "", 1, /*compose=*/true});
  auto cfg = api_config(dokploy, "");
  cfg.application_id.clear();
  cfg.component.clear();
  cfg.compose_id = "cmp_1";
  cfg.env = {{"VERSION", "{version}"}};
  auto out = deploy_with(cfg, context(13));
  EXPECT_TRUE(out.ok) << out.message;
  const auto reqs = dokploy.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/api/compose.one?composeId=cmp_1");
  EXPECT_EQ(reqs[1].target, "/api/compose.saveEnvironment");
  EXPECT_EQ(reqs[2].target, "/api/compose.deploy");
}

TEST(DokployTarget, DeployUrlModeSucceedsOnlyOn2xx) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_deploy_token("tok_main", "main");
  dokploy.add_deploy_token("tok_release", "release");
  config::DokployTargetConfig cfg;
  cfg.deploy_url = dokploy.url() + "/api/deploy/tok_main";
  auto ok = deploy_with(cfg, context(14));
  EXPECT_TRUE(ok.ok) << ok.message;
  cfg.deploy_url = dokploy.url() + "/api/deploy/tok_release";
  auto mismatch = deploy_with(cfg, context(15));
  EXPECT_FALSE(mismatch.ok);
  EXPECT_NE(mismatch.message.find("301"), std::string::npos);
  EXPECT_NE(mismatch.message.find("Branch Not Match"), std::string::npos);
  cfg.deploy_url = dokploy.url() + "/api/deploy/unknown";
  EXPECT_FALSE(deploy_with(cfg, context(16)).ok);
  const auto sent = nlohmann::json::parse(dokploy.requests()[0].body);
  EXPECT_EQ(sent["ref"], "refs/heads/main");
  EXPECT_EQ(sent["head_commit"]["id"], context(14).sha);
  EXPECT_EQ(dokploy.requests()[0].header("X-GitHub-Event"), "push");
}

// The stand-in must behave as docs/protocols.md describes, or the tests above prove nothing.
TEST(DokployStandin, FollowsTheDocumentedProtocol) {
  shipgate::testing::DokployStandin dokploy("secret-key");
  dokploy.add_app("app_1", {"done", "", 1});
  auto client = make_beast_http_client();
  auto send = [&](std::string method, std::string path, Headers headers, std::string body = {}) {
    OutboundRequest r;
    r.method = std::move(method);
    r.url = dokploy.url() + path;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return *run_awaitable(client->send(r));
  };
  const std::string deploy = R"({"applicationId":"app_1","title":"t","description":"d"})";
  auto no_key = send("POST", "/api/application.deploy", {{"Content-Type", "application/json"}}, deploy);
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(nlohmann::json::parse(no_key.body)["message"], "Unauthorized");
  auto form = send("POST", "/api/application.deploy", {{"x-api-key", "secret-key"}, {"Content-Type", "text/plain"}}, deploy);
  EXPECT_EQ(form.status, 415);
  auto ok = send("POST", "/api/application.deploy", {{"x-api-key", "secret-key"}, {"Content-Type", "application/json"}}, deploy);
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.body.empty());  // deploy returns no id
  auto list = [&] {
    return nlohmann::json::parse(send("GET", "/api/deployment.all?applicationId=app_1", {{"x-api-key", "secret-key"}}).body);
  };
  EXPECT_EQ(list()[0]["status"], "running");
  EXPECT_EQ(list()[0]["status"], "done");
  EXPECT_FALSE(list()[0]["finishedAt"].is_null());
  EXPECT_EQ(send("GET", "/api/deployment.all?applicationId=nope", {{"x-api-key", "secret-key"}}).status, 404);
}
