// GitHub and build webhooks through the real binary to a stand-in Dokploy.
#include "tests/e2e/e2e_fixture.hpp"

#include "common/text.hpp"

using namespace shipgate::testing;
using nlohmann::json;

TEST_F(E2E, SignedPushDeploysStagingThroughDokployAndShowsSucceeded) {
  start();
  auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto body = r.json();
  ASSERT_EQ(body["deployments"].size(), 1u);
  const auto id = body["deployments"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(body["deployments"][0]["environment"], "staging");
  EXPECT_EQ(body["deployments"][0]["state"], "queued");
  ASSERT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2) << daemon->log();

  const auto d = deployment(id);
  EXPECT_EQ(d["version"], kSha);
  EXPECT_EQ(d["images"]["backend"], std::string("ghcr.io/acme/planera-backend:staging-") + std::string(kSha).substr(0, 7));
  EXPECT_EQ(d["actor"], "octocat");
  EXPECT_EQ(d["committed_at"], "2026-11-26T10:00:00.000Z") << "the push's head_commit.timestamp, where lead time starts";
  const auto promoted = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"];
  ASSERT_EQ(promoted.size(), 1u);
  EXPECT_EQ(promoted[0]["committed_at"], "2026-11-26T10:00:00.000Z") << "the promoted version keeps its commit time";
  std::vector<std::string> states;
  for (const auto& h : d["history"]) states.push_back(h["to"]);
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "running", "succeeded"}));
  EXPECT_EQ(d["result"]["targets"][0]["ok"], true);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  // The version reached Dokploy: the application ran the pushed SHA's image when the deploy was called.
  EXPECT_EQ(dokploy.deployed_images("app_staging"), (std::vector<std::string>{d["images"]["backend"].get<std::string>()}));
  EXPECT_NE(dokploy.jobs("app_staging")[0]["description"].get<std::string>().find("shipgate-deployment=" + std::to_string(id) + "-"),
            std::string::npos);

  const auto env = daemon->get("/api/v1/projects/planera/environments/staging", kAliceToken);
  ASSERT_EQ(env.status, 200);
  EXPECT_EQ(env.json()["current"]["version"], kSha);
  EXPECT_EQ(env.json()["recent"][0]["id"], id);
  const auto projects = daemon->get("/api/v1/projects", kAliceToken).json();
  EXPECT_EQ(projects["projects"][0]["environments"][0]["current"]["deployment"], id);
}

TEST_F(E2E, TagPushDeploysTheTagAsVersion) {
  start();
  auto r = push("refs/tags/v1.6.1", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(deployment(id)["version"], "v1.6.1");
  EXPECT_EQ(deployment(id)["sha"], kSha);
  EXPECT_TRUE(wait_state(id, "succeeded"));
}

TEST_F(E2E, DeletedBranchOtherBranchAndUnknownRepoChangeNothing) {
  start();
  const std::string deleted = push_payload("acme/planera", "refs/heads/main", kSha, /*deleted=*/true);
  auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, deleted), deleted);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["ignored"], true);
  EXPECT_NE(r.json()["message"].get<std::string>().find("deleted"), std::string::npos);
  r = push("refs/heads/feature/login", kSha);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.json()["message"].get<std::string>().find("feature/login"), std::string::npos);
  r = push("refs/heads/main", kSha, new_delivery_id(), "acme/unknown");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.json()["message"].get<std::string>().find("not configured"), std::string::npos);
  const std::string issue = R"({"action":"opened","repository":{"full_name":"acme/planera"}})";
  r = daemon->post("/webhooks/github", github_headers("issues", new_delivery_id(), kSecret, issue), issue);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["ignored"], true);
  EXPECT_EQ(deployment_count(), 0u);
  EXPECT_EQ(dokploy.deploy_calls(), 0u);
}

TEST_F(E2E, PingIsAnswered) {
  start();
  const std::string body = R"({"zen":"Keep it logically awesome.","hook_id":123456,"hook":{"type":"Repository"}})";
  auto r = daemon->post("/webhooks/github", github_headers("ping", new_delivery_id(), kSecret, body), body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["message"], "pong");
  EXPECT_EQ(r.json()["zen"], "Keep it logically awesome.");
}

TEST_F(E2E, RedeliveryAnswersAsBeforeAndDeploysOnce) {
  start();
  const std::string delivery = new_delivery_id();
  auto first = push("refs/heads/main", kSha, delivery);
  ASSERT_EQ(first.status, 202);
  auto again = push("refs/heads/main", kSha, delivery);
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("X-Shipgate-Duplicate"), "true");
  const auto id = first.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(id, "succeeded"));
  auto late = push("refs/heads/main", kSha, delivery);  // redelivered after it finished
  EXPECT_EQ(late.body, first.body);
  EXPECT_EQ(deployment_count("staging"), 1u);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}

TEST_F(E2E, FormEncodedPushIsAccepted) {
  start();
  const std::string json_payload = push_payload("acme/planera", "refs/heads/main", kSha);
  std::string encoded;
  for (unsigned char c : json_payload) {
    if (std::isalnum(c)) encoded.push_back(static_cast<char>(c));
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  const std::string body = "payload=" + encoded;
  auto r = daemon->post("/webhooks/github",
                        github_headers("push", new_delivery_id(), kSecret, body, "application/x-www-form-urlencoded"), body);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["deployments"][0]["version"], kSha);
}

TEST_F(E2E, BadSignaturesAre401AndStoreNothing) {
  start();
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha);
  auto headers = github_headers("push", new_delivery_id(), "", body);
  auto missing = daemon->post("/webhooks/github", headers, body);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.json()["error"], "bad_signature");
  EXPECT_NE(missing.json()["message"].get<std::string>().find("missing"), std::string::npos);

  auto wrong = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), "guess", body), body);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find(shipgate::to_lower("sha256=")), std::string::npos);  // never reveals a MAC

  auto tampered_headers = github_headers("push", new_delivery_id(), kSecret, body);
  auto tampered = daemon->post("/webhooks/github", tampered_headers, body + " ");
  EXPECT_EQ(tampered.status, 401);

  // A project's own secret may not sign for another project.
  auto cross = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kOtherSecret, body), body);
  EXPECT_EQ(cross.status, 401);

  // A project may sign with its own secret.
  const std::string other = push_payload("acme/other", "refs/heads/main", kSha);
  auto own = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kOtherSecret, other), other);
  EXPECT_EQ(own.status, 202) << own.body;

  // The retired secret still verifies (rotation).
  auto rotated = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), "retired-secret", body), body);
  EXPECT_EQ(rotated.status, 202);
  EXPECT_EQ(deployment_count(), 2u);
}

TEST_F(E2E, MalformedBodiesAre400WithAReason) {
  start();
  for (const std::string& body : {std::string("{not json"), std::string("[1,2]"), std::string(200, '[')}) {
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.json()["error"], "malformed");
  }
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha);
  auto no_event = github_headers("push", new_delivery_id(), kSecret, body);
  no_event.erase(no_event.begin() + 2);  // X-GitHub-Event
  EXPECT_EQ(daemon->post("/webhooks/github", no_event, body).status, 400);
  auto xml = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body, "text/xml"), body);
  EXPECT_EQ(xml.status, 415);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(E2E, RepositoryDispatchQueuesTheNamedVersion) {
  start();
  const json payload = {{"action", "deploy"},
                        {"branch", "main"},
                        {"client_payload", {{"environment", "production"}, {"version", "v2.0.0"}, {"sha", kSha2},
                                            {"images", {{"backend", "ghcr.io/acme/planera-backend@sha256:" + std::string(64, 'f')}}}}},
                        {"repository", {{"full_name", "acme/planera"}}},
                        {"sender", {{"login", "release-bot"}}}};
  const std::string body = payload.dump();
  auto r = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, body), body);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto d = r.json()["deployments"][0];
  EXPECT_EQ(d["environment"], "production");
  EXPECT_EQ(d["state"], "pending_approval");  // approval comes with the gate
  const auto full = deployment(d["id"].get<std::int64_t>());
  EXPECT_EQ(full["images"]["backend"], "ghcr.io/acme/planera-backend@sha256:" + std::string(64, 'f'));
  EXPECT_EQ(full["actor"], "release-bot");

  const json other_action = {{"action", "something-else"}, {"repository", {{"full_name", "acme/planera"}}}};
  const std::string b2 = other_action.dump();
  auto ignored = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, b2), b2);
  EXPECT_EQ(ignored.status, 200);
  const json bad = {{"action", "deploy"}, {"client_payload", {{"images", {{"worker", "x"}}}, {"sha", kSha}}},
                    {"repository", {{"full_name", "acme/planera"}}}};
  const std::string b3 = bad.dump();
  auto invalid = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, b3), b3);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_NE(invalid.json()["message"].get<std::string>().find("worker"), std::string::npos);
  EXPECT_EQ(dokploy.requests().size(), 0u);  // production waits for approval
}

TEST_F(E2E, DokployErrorEndsFailedWithItsMessage) {
  dokploy.add_app("app_staging", {"error", "Error: pull access denied for ghcr.io/acme/planera-backend", 1});
  start();
  auto r = push("refs/heads/main", kSha);
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(id, "failed")) << deployment(id).dump(2);
  EXPECT_NE(deployment(id)["message"].get<std::string>().find("pull access denied"), std::string::npos);
}

TEST_F(E2E, BuildWebhookWithIdempotencyKey) {
  start();
  // A commit time that is not a time is refused and creates nothing.
  for (const json& bad : {json("yesterday"), json(1764496800), json("2026-11-30T10:00:00")}) {
    const std::string refused = json{{"project", "other"}, {"sha", kSha}, {"committed_at", bad}}.dump();
    auto h = github_headers("build", "", kOtherSecret, refused);
    h.emplace_back("Idempotency-Key", "bad-time-" + bad.dump());
    auto r = daemon->post("/webhooks/build", h, refused);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("committed_at must be an RFC 3339 time"), std::string::npos) << r.body;
  }
  EXPECT_EQ(deployment_count(), 0u);
  const std::string body = json{{"project", "other"}, {"sha", kSha}, {"committed_at", "2026-11-30T10:00:00+01:00"}}.dump();
  auto headers = github_headers("build", "", kOtherSecret, body);
  auto no_key = daemon->post("/webhooks/build", headers, body);
  EXPECT_EQ(no_key.status, 400);
  EXPECT_NE(no_key.json()["message"].get<std::string>().find("Idempotency-Key"), std::string::npos);
  headers.emplace_back("Idempotency-Key", "ci-run-881-1");
  auto first = daemon->post("/webhooks/build", headers, body);
  ASSERT_EQ(first.status, 202) << first.body;
  auto retry = daemon->post("/webhooks/build", headers, body);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.header("X-Shipgate-Duplicate"), "true");
  // Signed with another project's secret: refused.
  const std::string planera = json{{"project", "planera"}, {"sha", kSha}}.dump();
  auto h2 = github_headers("build", "", kOtherSecret, planera);
  h2.emplace_back("Idempotency-Key", "x");
  EXPECT_EQ(daemon->post("/webhooks/build", h2, planera).status, 401);
  const auto id = first.json()["deployments"][0]["id"].get<std::int64_t>();
  EXPECT_TRUE(wait_state(id, "succeeded"));
  EXPECT_EQ(deployment(id)["trigger"], "build");
  EXPECT_EQ(deployment(id)["committed_at"], "2026-11-30T09:00:00.000Z");
}

TEST_F(E2E, ReadApiNeedsATokenAndHonoursProjectLimits) {
  start();
  push("refs/heads/main", kSha);
  auto none = daemon->get("/api/v1/deployments");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json()["error"], "unauthorized");
  EXPECT_EQ(daemon->get("/api/v1/deployments", "not-a-token").status, 401);
  auto viewer = daemon->get("/api/v1/deployments", kViewerToken);
  ASSERT_EQ(viewer.status, 200);
  EXPECT_EQ(viewer.json()["deployments"].size(), 0u);  // planera is not theirs
  EXPECT_EQ(daemon->get("/api/v1/deployments/1", kViewerToken).status, 404);
  EXPECT_EQ(daemon->get("/api/v1/projects", kViewerToken).json()["projects"].size(), 1u);
  EXPECT_EQ(daemon->get("/api/v1/deployments?state=bogus", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/deployments?limit=0", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/deployments/abc", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/projects/planera/environments/qa", kAliceToken).status, 404);
  EXPECT_EQ(daemon->get("/api/v1/deployments?project=planera&state=queued&limit=5", kAliceToken).status, 200);
}
