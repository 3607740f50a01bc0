// The production gate end to end: promotion, approvals, confirmation, override, rollback, config
// redeploys, audit, and the CLI, against the real binary and a stand-in Dokploy.
#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

constexpr const char* kBobToken = "bob-token-0123456789";
constexpr const char* kOncallToken = "oncall-token-0123456789";
constexpr const char* kDevToken = "dev-token-0123456789";
constexpr const char* kSha3 = "8334940a49ca04e9d3c399eaf25a1b08a2cfc468";

std::string gate_config(const std::string& dokploy) {
  return R"(
server: { listen: "127.0.0.1:${PORT}", threads: 2, shutdown_grace: 5s, api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"("] }
platform: { repository: acme/platform, branch: main }
reviewers:
  alice:  { token: ")" + kAliceToken + R"(", github: alice, can: [approve, deploy, rollback] }
  bob:    { token: ")" + kBobToken + R"(", github: bob, can: [approve] }
  oncall: { token: ")" + kOncallToken + R"(", can: [override, deploy] }
  dev:    { token: ")" + kDevToken + R"(", can: [deploy] }
projects:
  planera:
    repository: acme/planera
    config_paths: ["configs/planera/**"]
    components: { backend: { image: ghcr.io/acme/planera-backend } }
    environments:
      staging:
        deploy_on: [push]
        tag: "staging-{short_sha}"
        targets:
          - { type: dokploy, url: ")" + dokploy + R"(", api_key: e2e-key, application_id: app_staging, poll_interval: 20ms }
      production:
        promote_from: staging
        approval: { required: 2, reviewers: [alice, bob], expire_after: 72h }
        confirm: deploy-to-production
        targets:
          - { type: http, url: ")" + dokploy + R"(/release", body: { version: "{version}", image: "{image.backend}" } }
  billing:
    repository: acme/billing
    config_paths: ["configs/billing/**"]
    components: { api: { image: ghcr.io/acme/billing-api } }
    environments:
      staging:
        deploy_on: [push]
        targets:
          - { type: dokploy, url: ")" + dokploy + R"(", api_key: e2e-key, application_id: app_other, poll_interval: 20ms }
)";
}

}  // namespace

class Gate : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    start_with(gate_config(dokploy.url()));
  }
  std::int64_t staging_push(const std::string& sha, const std::string& sender = "octocat") {
    const std::string body = push_payload("acme/planera", "refs/heads/main", sha, false, sender);
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0].value("id", std::int64_t{0});
  }
  // The production deployment promoted from a staging one, once staging succeeded.
  std::int64_t promoted_from(std::int64_t staging) {
    EXPECT_TRUE(wait_state(staging, "succeeded")) << deployment(staging).dump(2);
    std::int64_t id = 0;
    wait_until([&] {
      auto list = daemon->get("/api/v1/deployments?environment=production&limit=1", kAliceToken).json()["deployments"];
      if (!list.empty() && list[0]["version"] == deployment(staging)["version"]) id = list[0]["id"];
      return id != 0;
    });
    return id;
  }
  Reply act(std::int64_t id, const std::string& action, const std::string& token, json body = json::object()) {
    return daemon->post("/api/v1/deployments/" + std::to_string(id) + "/" + action,
                        {{"Authorization", std::string("Bearer ") + token}, {"Content-Type", "application/json"}}, body.dump());
  }
  Reply api_post(const std::string& path, const std::string& token, const json& body) {
    return daemon->post(path, {{"Authorization", std::string("Bearer ") + token}, {"Content-Type", "application/json"}},
                        body.dump());
  }
  std::size_t release_calls() { return dokploy.requests().size() - dokploy.deploy_calls() - polls(); }
  std::size_t polls() {
    std::size_t n = 0;
    for (const auto& r : dokploy.requests()) n += r.method == "GET";
    return n;
  }
  std::vector<json> releases() {
    std::vector<json> out;
    for (const auto& r : dokploy.requests())
      if (r.target == "/release") out.push_back(json::parse(r.body));
    return out;
  }
};

TEST_F(Gate, PushStagingApproveTwiceProductionGetsTheSameVersion) {
  const auto staging = staging_push(kSha);
  const auto prod = promoted_from(staging);
  ASSERT_GT(prod, 0);
  auto d = deployment(prod);
  EXPECT_EQ(d["state"], "pending_approval");
  EXPECT_EQ(d["trigger"], "promotion");
  EXPECT_EQ(d["images"], deployment(staging)["images"]);  // exactly what staging ran

  auto first = act(prod, "approve", kAliceToken, {{"comment", "looks good"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["approvals"], 1);
  EXPECT_EQ(first.json()["state"], "pending_approval");
  auto twice = act(prod, "approve", kAliceToken);
  EXPECT_EQ(twice.status, 200) << daemon->log();
  EXPECT_EQ(twice.json()["approvals"], 1);  // the same reviewer counts once
  auto env = daemon->get("/api/v1/projects/planera/environments/production", kAliceToken).json();
  EXPECT_EQ(env["waiting"][0]["approvals"]["missing"], json::array({"bob"}));

  auto second = act(prod, "approve", kBobToken);
  EXPECT_EQ(second.json()["state"], "queued");
  ASSERT_TRUE(wait_state(prod, "succeeded")) << deployment(prod).dump(2);
  const auto sent = releases();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["version"], kSha);
  EXPECT_EQ(sent[0]["image"], deployment(staging)["images"]["backend"]);
  EXPECT_EQ(act(prod, "approve", kBobToken).status, 409);  // no longer pending
}

TEST_F(Gate, SelfApprovalAndUnlistedReviewersAreRefused) {
  const auto prod = promoted_from(staging_push(kSha, "alice"));
  auto self = act(prod, "approve", kAliceToken);
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(self.json()["error"], "self_approval");
  auto unlisted = act(prod, "approve", kOncallToken);
  EXPECT_EQ(unlisted.status, 403);
  EXPECT_EQ(act(prod, "approve", kDevToken).status, 403);
  auto audit = daemon->get("/api/v1/audit?limit=1000", kAliceToken).json()["entries"];
  int refused = 0;
  for (const auto& e : audit) refused += e["action"] == "refused";
  EXPECT_EQ(refused, 3);
}

TEST_F(Gate, ARejectionNeverBlocksTheNextVersion) {
  const auto v1 = promoted_from(staging_push(kSha));
  EXPECT_EQ(act(v1, "reject", kBobToken).status, 400);  // a comment is required
  auto rejected = act(v1, "reject", kBobToken, {{"comment", "login page broken"}});
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(deployment(v1)["state"], "rejected");
  EXPECT_NE(deployment(v1)["message"].get<std::string>().find("login page broken"), std::string::npos);
  const auto v2 = promoted_from(staging_push(kSha2));
  ASSERT_GT(v2, 0);
  EXPECT_EQ(deployment(v2)["state"], "pending_approval");
  act(v2, "approve", kAliceToken);
  act(v2, "approve", kBobToken);
  EXPECT_TRUE(wait_state(v2, "succeeded"));
}

TEST_F(Gate, PendingApprovalsSurviveARestart) {
  const auto prod = promoted_from(staging_push(kSha));
  ASSERT_EQ(act(prod, "approve", kAliceToken).status, 200);
  daemon->kill9();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  EXPECT_EQ(deployment(prod)["approvals"].size(), 1u);
  EXPECT_EQ(act(prod, "approve", kBobToken).json()["state"], "queued");
  EXPECT_TRUE(wait_state(prod, "succeeded"));
}

TEST_F(Gate, ManualDeployNeedsTheConfirmationPhraseAndStillNeedsApproval) {
  const auto staging = staging_push(kSha);
  ASSERT_TRUE(wait_state(staging, "succeeded"));
  auto no_phrase = api_post("/api/v1/deployments", kAliceToken, {{"project", "planera"}, {"environment", "production"}, {"version", kSha}});
  EXPECT_EQ(no_phrase.status, 400);
  EXPECT_EQ(no_phrase.json()["error"], "confirmation_required");
  EXPECT_NE(no_phrase.json()["message"].get<std::string>().find("deploy-to-production"), std::string::npos);
  auto no_permission = api_post("/api/v1/deployments", kBobToken,
                                {{"project", "planera"}, {"environment", "production"}, {"version", kSha}, {"confirm", "deploy-to-production"}});
  EXPECT_EQ(no_permission.status, 403);
  auto ok = api_post("/api/v1/deployments", kAliceToken,
                     {{"project", "planera"}, {"environment", "production"}, {"version", std::string(kSha).substr(0, 7)},
                      {"confirm", "deploy-to-production"}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  const auto d = ok.json()["deployments"][0];
  EXPECT_EQ(d["version"], kSha);  // the short SHA resolved to the version that succeeded in staging
  EXPECT_TRUE(d["state"] == "pending_approval");
  // Not in the store yet anywhere: a named tag resolves with the environment's tag template.
  auto unknown = api_post("/api/v1/deployments", kAliceToken,
                          {{"project", "planera"}, {"environment", "staging"}, {"version", "v9.9.9"}});
  EXPECT_EQ(unknown.status, 400);  // staging's tag template needs {short_sha}
}

TEST_F(Gate, OverrideNeedsItsPermissionAndAReasonAndSkipsApproval) {
  const auto staging = staging_push(kSha);
  ASSERT_TRUE(wait_state(staging, "succeeded"));
  json body = {{"project", "planera"}, {"environment", "production"}, {"version", kSha}, {"confirm", "deploy-to-production"},
               {"override", {{"reason", "INC-42: payments down"}}}};
  auto refused = api_post("/api/v1/deployments", kAliceToken, body);
  EXPECT_EQ(refused.status, 403);
  auto no_reason = body;
  no_reason["override"] = json::object();
  EXPECT_EQ(api_post("/api/v1/deployments", kOncallToken, no_reason).status, 400);
  auto ok = api_post("/api/v1/deployments", kOncallToken, body);
  ASSERT_EQ(ok.status, 202) << ok.body;
  const auto id = ok.json()["deployments"][0]["id"].get<std::int64_t>();
  EXPECT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2);
  EXPECT_EQ(deployment(id)["trigger"], "override");
  bool audited = false;
  const auto entries = daemon->get("/api/v1/audit?limit=1000", kAliceToken).json()["entries"];
  for (const auto& e : entries)
    audited = audited || (e["action"] == "override" && e["reason"] == "INC-42: payments down" && e["actor"] == "oncall");
  EXPECT_TRUE(audited);
}

TEST_F(Gate, RollbackMarksTheVersionBadAndAutomaticPushesOfItAreHeld) {
  const auto v1 = staging_push(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded"));
  const auto v2 = staging_push(kSha2);
  ASSERT_TRUE(wait_state(v2, "succeeded"));
  EXPECT_EQ(api_post("/api/v1/projects/planera/environments/staging/rollback", kBobToken, {{"reason", "x"}}).status, 403);
  auto rb = api_post("/api/v1/projects/planera/environments/staging/rollback", kAliceToken, {{"reason", "500s after deploy"}});
  ASSERT_EQ(rb.status, 202) << rb.body;
  const auto back = rb.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(back, "succeeded"));
  EXPECT_EQ(deployment(back)["version"], kSha);
  EXPECT_EQ(deployment(back)["trigger"], "rollback");
  // Dokploy runs the first version's image again, set before the rollback's own deploy call.
  const std::string first_image = deployment(v1)["images"]["backend"];
  EXPECT_EQ(dokploy.deployed_images("app_staging"),
            (std::vector<std::string>{first_image, deployment(v2)["images"]["backend"].get<std::string>(), first_image}));
  EXPECT_EQ(dokploy.app("app_staging").docker_image, first_image);
  auto env = daemon->get("/api/v1/projects/planera/environments/staging", kAliceToken).json();
  EXPECT_EQ(env["current"]["version"], kSha);
  ASSERT_EQ(env["bad_versions"].size(), 1u);
  EXPECT_EQ(env["bad_versions"][0]["version"], kSha2);

  // The next automatic push of the bad version is recorded, not deployed.
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha2);
  auto again = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  EXPECT_NE(again.json()["deployments"][0]["skipped"].get<std::string>().find("marked bad"), std::string::npos) << again.body;
  EXPECT_EQ(deployment_count("staging"), 3u);
  // An explicit manual deploy still can.
  auto manual = api_post("/api/v1/deployments", kAliceToken, {{"project", "planera"}, {"environment", "staging"}, {"version", kSha2}});
  ASSERT_EQ(manual.status, 202) << manual.body;
  EXPECT_TRUE(wait_state(manual.json()["deployments"][0]["id"].get<std::int64_t>(), "succeeded"));
}

TEST_F(Gate, CancelWorksOnlyBeforeAStart) {
  const auto prod = promoted_from(staging_push(kSha));
  EXPECT_EQ(act(prod, "cancel", kBobToken).status, 403);  // needs deploy
  auto ok = act(prod, "cancel", kDevToken, {{"reason", "wrong build"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(deployment(prod)["state"], "cancelled");
  EXPECT_EQ(act(prod, "cancel", kDevToken).status, 409);
}

TEST_F(Gate, PlatformPushTouchingAProjectsConfigRedeploysOnlyThatProject) {
  const auto planera = staging_push(kSha);
  ASSERT_TRUE(wait_state(planera, "succeeded"));
  const std::string billing_body = push_payload("acme/billing", "refs/heads/main", kSha2);
  auto b = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, billing_body), billing_body);
  ASSERT_TRUE(wait_state(b.json()["deployments"][0]["id"].get<std::int64_t>(), "succeeded"));

  json push = json::parse(push_payload("acme/platform", "refs/heads/main", kSha3));
  push["commits"][0]["modified"] = {"configs/planera/values.yaml", "README.md"};
  const std::string body = push.dump();
  auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_EQ(r.json()["deployments"].size(), 1u);
  const auto redeploy = r.json()["deployments"][0];
  EXPECT_EQ(redeploy["project"], "planera");
  EXPECT_EQ(redeploy["environment"], "staging");
  EXPECT_EQ(redeploy["version"], kSha);  // the current version, not the platform commit
  EXPECT_TRUE(wait_state(redeploy["id"].get<std::int64_t>(), "succeeded"));
  EXPECT_EQ(deployment(redeploy["id"].get<std::int64_t>())["trigger"], "config");
  EXPECT_EQ(deployment(redeploy["id"].get<std::int64_t>())["config_commit"], kSha3);  // the platform commit

  json other = json::parse(push_payload("acme/platform", "refs/heads/main", kSha2));
  other["commits"][0]["modified"] = {"docs/index.md"};
  const std::string b2 = other.dump();
  auto none = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, b2), b2);
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.json()["ignored"], true);
}

TEST_F(Gate, AuditListsTransitionsAndApprovalsInOrder) {
  const auto prod = promoted_from(staging_push(kSha));
  act(prod, "approve", kAliceToken, {{"comment", "ok"}});
  auto r = daemon->get("/api/v1/audit?limit=1000", kAliceToken);
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> seen;
  const auto entries = r.json()["entries"];
  for (const auto& e : entries)
    if (e.value("deployment", 0) == prod) seen.push_back(e["action"]);
  EXPECT_EQ(seen, (std::vector<std::string>{"created", "approve"})) << r.body.substr(0, 1500);
  EXPECT_EQ(daemon->get("/api/v1/audit?since=yesterday", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/audit?since=2099-01-01T00:00:00Z", kAliceToken).json()["entries"].size(), 0u);
  EXPECT_EQ(daemon->get("/api/v1/audit").status, 401);
}

// The CLI against the running daemon: every command, and its error messages.
TEST_F(Gate, CliCommandsAgainstTheRunningDaemon) {
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon->port());
  auto cli = [&](std::vector<std::string> args, const std::string& token = kAliceToken) {
    args.insert(args.begin(), shipgate_binary());
    return run_command(args, {{"SHIPGATE_URL", url}, {"SHIPGATE_TOKEN", token}});
  };
  const auto staging = staging_push(kSha);
  const auto prod = promoted_from(staging);

  auto status = cli({"status"});
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("PROJECT"), std::string::npos);
  EXPECT_NE(status.output.find(std::string(kSha).substr(0, 12)), std::string::npos) << status.output;
  auto env_status = cli({"status", "planera", "production"});
  EXPECT_NE(env_status.output.find("needs 2 more approval(s) from alice, bob"), std::string::npos) << env_status.output;
  auto as_json = cli({"status", "planera", "production", "--json"});
  EXPECT_EQ(json::parse(as_json.output)["environment"], "production");

  auto list = cli({"deployments", "--environment", "production"});
  EXPECT_NE(list.output.find("pending_approval"), std::string::npos) << list.output;

  auto self = cli({"approve", std::to_string(prod)}, kOncallToken);
  EXPECT_EQ(self.status, 1);
  EXPECT_NE(self.output.find("lacks the 'approve' permission"), std::string::npos) << self.output;
  EXPECT_NE(self.output.find("HTTP 403"), std::string::npos);
  auto approved = cli({"approve", std::to_string(prod), "-m", "ok"});
  EXPECT_EQ(approved.status, 0) << approved.output;
  EXPECT_NE(approved.output.find("1 of 2 approvals"), std::string::npos) << approved.output;
  auto reject_usage = cli({"reject", std::to_string(prod)}, kBobToken);
  EXPECT_EQ(reject_usage.status, 2);
  auto rejected = cli({"reject", std::to_string(prod), "-m", "not today"}, kBobToken);
  EXPECT_EQ(rejected.status, 0) << rejected.output;
  EXPECT_NE(rejected.output.find("rejected"), std::string::npos);

  auto no_confirm = cli({"deploy", "planera", "production", kSha});
  EXPECT_EQ(no_confirm.status, 1);
  EXPECT_NE(no_confirm.output.find("deploy-to-production"), std::string::npos) << no_confirm.output;
  auto deployed = cli({"deploy", "planera", "production", kSha, "--confirm", "deploy-to-production"});
  EXPECT_EQ(deployed.status, 0) << deployed.output;
  EXPECT_NE(deployed.output.find("pending_approval"), std::string::npos) << deployed.output;
  const auto manual_id = daemon->get("/api/v1/deployments?environment=production&limit=1", kAliceToken).json()["deployments"][0]["id"];
  auto cancelled = cli({"cancel", std::to_string(manual_id.get<std::int64_t>())});
  EXPECT_EQ(cancelled.status, 0) << cancelled.output;
  auto again = cli({"cancel", std::to_string(manual_id.get<std::int64_t>())});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.output.find("can no longer be cancelled"), std::string::npos) << again.output;

  auto nothing = cli({"rollback", "planera", "production", "--reason", "test"});
  EXPECT_EQ(nothing.status, 1);
  EXPECT_NE(nothing.output.find("no succeeded deployment"), std::string::npos) << nothing.output;
  auto audit = cli({"audit", "--limit", "50"});
  EXPECT_EQ(audit.status, 0);
  EXPECT_NE(audit.output.find("reject"), std::string::npos) << audit.output;

  auto unauthorized = cli({"status"}, "wrong-token");
  EXPECT_EQ(unauthorized.status, 1);
  EXPECT_NE(unauthorized.output.find("token is not valid"), std::string::npos);
  auto unreachable = run_command({shipgate_binary(), "status"}, {{"SHIPGATE_URL", "http://127.0.0.1:1"}});
  EXPECT_EQ(unreachable.status, 1);
  EXPECT_NE(unreachable.output.find("cannot reach"), std::string::npos);
  EXPECT_EQ(cli({"deploy", "planera"}).status, 2);
}

// A deployment that arrives during a freeze waits as queued with the reason, and starts when it ends.
TEST_F(E2E, FreezeHoldsTheQueueWithAReasonAndReleasesItWhenItEnds) {
  using namespace std::chrono;
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  auto rfc3339 = [](long long ms) {
    const std::time_t secs = ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
    return std::string(buf);
  };
  std::string yaml = e2e_config(dokploy.url());
  const std::string anchor = "        tag: \"staging-{short_sha}\"\n";
  yaml.replace(yaml.find(anchor), anchor.size(),
               anchor + "        freezes: [ { from: \"" + rfc3339(now_ms - 3'600'000) + "\", to: \"" +
                   rfc3339(now_ms + 2'500) + "\", reason: \"release review\" } ]\n");
  start_with(yaml);
  auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return deployment(id).contains("waiting_reason"); }, std::chrono::seconds(2)));
  EXPECT_EQ(deployment(id)["state"], "queued");
  EXPECT_NE(deployment(id)["waiting_reason"].get<std::string>().find("release review"), std::string::npos);
  EXPECT_EQ(dokploy.deploy_calls(), 0u);
  const auto env = daemon->get("/api/v1/projects/planera/environments/staging", kAliceToken).json();
  EXPECT_EQ(env["waiting"][0]["waiting_for"], "window");
  EXPECT_EQ(env["gate"]["open"], false);
  ASSERT_TRUE(wait_state(id, "succeeded", std::chrono::seconds(15))) << deployment(id).dump(2);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}
