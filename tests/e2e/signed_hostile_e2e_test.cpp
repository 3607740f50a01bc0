// What someone who can push or send a repository_dispatch (or holds one project's build secret) can
// make the daemon do, against the real binary: versions that would forge headers or change a URL,
// foreign images, another project's delivery ids, and actors named by a build.
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string dispatch_body(const json& client_payload, const std::string& repo = "acme/planera") {
  return json{{"action", "deploy"}, {"client_payload", client_payload}, {"repository", {{"full_name", repo}}},
              {"sender", {{"login", "mallory"}}}}.dump();
}

}  // namespace

class SignedHostile : public E2E {
 protected:
  Reply dispatch(const json& client_payload) {
    const std::string body = dispatch_body(client_payload);
    return daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, body), body);
  }
};

TEST_F(SignedHostile, VersionsRefsShasAndForeignImagesAreRefusedBeforeAnythingIsCreated) {
  start();
  const std::vector<json> hostile = {
      {{"environment", "staging"}, {"version", "v9\r\nX-Injected: yes"}, {"sha", kSha}},
      {{"environment", "staging"}, {"version", "../../admin/delete"}, {"sha", kSha}},
      {{"environment", "staging"}, {"version", "v1?token=x"}, {"sha", kSha}},
      {{"environment", "staging"}, {"version", "-rf"}, {"sha", kSha}},
      {{"environment", "staging"}, {"version", std::string(200, 'v')}, {"sha", kSha}},
      {{"environment", "staging"}, {"version", "v1.0.0"}, {"sha", "abc"}},
      {{"environment", "staging"}, {"version", "v1.0.0"}, {"ref", "refs/heads/a b"}},
      {{"environment", "staging"}, {"version", "v1.0.0"}, {"sha", kSha},
       {"images", {{"backend", "evil.example.com/backdoor:latest"}}}},
  };
  for (const auto& payload : hostile) {
    const auto r = dispatch(payload);
    EXPECT_EQ(r.status, 400) << payload.dump() << " " << r.body;
    EXPECT_EQ(r.json().value("error", ""), "invalid") << r.body;
  }
  EXPECT_EQ(deployment_count(), 0u);
  EXPECT_TRUE(dokploy.requests().empty());
  const auto m = parse_exposition(daemon->get("/metrics").body);
  EXPECT_EQ(m.get(R"(shipgate_rejected_inputs_total{field="version"})"), 5);
  EXPECT_EQ(m.get(R"(shipgate_rejected_inputs_total{field="sha"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_rejected_inputs_total{field="ref"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_rejected_inputs_total{field="image"})"), 1);
  // A push of a tag no Git would make is refused the same way.
  const std::string body = push_payload("acme/planera", "refs/tags/v1?token=x", kSha);
  EXPECT_EQ(daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body).status, 400);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(SignedHostile, ValuesStayInsideTheirPlaceInATargetUrl) {
  std::string yaml = e2e_config(dokploy.url());
  // Production's http target puts the version in its path and query.
  const std::string from = "url: \"" + dokploy.url() + "/release\"";
  yaml.replace(yaml.find(from), from.size(), "url: \"" + dokploy.url() + "/release/{version}?v={version}\"");
  yaml.replace(yaml.find("tag: \"{version}\""), 16, "tag: \"p-{short_sha}\"");
  yaml.replace(yaml.find("approval: { required: 1, reviewers: [alice] }"), 45, "");
  start_with(yaml);
  const auto r = dispatch({{"environment", "production"}, {"version", "release/2026.11#1"}, {"sha", kSha}});
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  // (The stand-in knows no such path and answers 401: what matters here is the path it was sent.)
  ASSERT_TRUE(wait_state(id, "failed")) << deployment(id).dump();
  std::string target;
  for (const auto& req : dokploy.requests())
    if (req.target.rfind("/release/", 0) == 0) target = req.target;
  EXPECT_EQ(target, "/release/release%2F2026.11%231?v=release%2F2026.11%231");
  // Results and logs name the target by its origin only: paths of webhook URLs are secrets.
  const auto d = deployment(id);
  EXPECT_EQ(d.dump().find("/release/"), std::string::npos) << d.dump();
  EXPECT_EQ(daemon->log().find(dokploy.url() + "/release"), std::string::npos);
}

TEST_F(SignedHostile, DeliveryIdsBelongToTheirRepository) {
  start();
  const std::string delivery = new_delivery_id();
  const auto planera = push("refs/heads/main", kSha, delivery);
  ASSERT_EQ(planera.status, 202) << planera.body;
  // The holder of other's secret replays planera's delivery id: it reads nothing of planera's answer,
  // and its own push is handled as its own.
  const auto other = push("refs/heads/main", kSha2, delivery, "acme/other", kOtherSecret);
  ASSERT_EQ(other.status, 202) << other.body;
  EXPECT_TRUE(other.header("X-Shipgate-Duplicate").empty());
  EXPECT_EQ(other.json()["deployments"][0]["project"], "other");
  EXPECT_EQ(other.body.find("planera"), std::string::npos);
  // Redelivering either still answers as before.
  EXPECT_EQ(push("refs/heads/main", kSha, delivery).body, planera.body);
  EXPECT_EQ(push("refs/heads/main", kSha2, delivery, "acme/other", kOtherSecret).body, other.body);
  EXPECT_EQ(deployment_count("staging"), 2u);
}

TEST_F(SignedHostile, ABuildNamesItsActorOnlyWhereTheProjectTrustsIt) {
  for (const bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "trusted" : "untrusted");
    std::string yaml = e2e_config(dokploy.url());
    if (trusted) yaml.replace(yaml.find("  planera:\n"), 11, "  planera:\n    trust_build_actor: true\n");
    TempDir here;
    Daemon d(here, yaml);
    ASSERT_TRUE(d.start()) << d.log();
    const std::string body = json{{"project", "planera"}, {"sha", kSha}, {"actor", "alice"}}.dump();
    auto headers = github_headers("build", "", kSecret, body);
    headers.emplace_back("Idempotency-Key", "ci-1");
    const auto r = d.post("/webhooks/build", headers, body);
    ASSERT_EQ(r.status, 202) << r.body;
    const auto staging = r.json()["deployments"][0]["id"].get<std::int64_t>();
    const auto get = [&](std::int64_t id) { return d.get("/api/v1/deployments/" + std::to_string(id), kAliceToken).json(); };
    EXPECT_EQ(get(staging)["actor"], trusted ? "alice" : "build (claimed: alice)");
    ASSERT_TRUE(wait_until([&] { return get(staging + 1).value("state", "") == "pending_approval"; }, 30s));
    Headers auth = {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}};
    const auto approve = d.post("/api/v1/deployments/" + std::to_string(staging + 1) + "/approve", auth, "{}");
    if (trusted) {
      EXPECT_EQ(approve.status, 403) << approve.body;
      EXPECT_EQ(approve.json().value("error", ""), "self_approval");
    } else {
      EXPECT_EQ(approve.status, 200) << approve.body;
    }
    // A name that could forge a log line or an audit entry is refused.
    const std::string forged = json{{"project", "planera"}, {"sha", kSha}, {"actor", "alice\nroot"}}.dump();
    auto h2 = github_headers("build", "", kSecret, forged);
    h2.emplace_back("Idempotency-Key", "ci-2");
    EXPECT_EQ(d.post("/webhooks/build", h2, forged).status, 400);
  }
}
