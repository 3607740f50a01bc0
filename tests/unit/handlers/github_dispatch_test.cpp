// repository_dispatch as the handler sees it: from an app repository, and relayed by the platform
// repository with the project named in client_payload.
#include <gtest/gtest.h>

#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using nlohmann::json;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;

namespace {

const char* kDispatchConfig = R"(
github: { secrets: [hook-secret] }
platform: { repository: acme/platform }
projects:
  planera:
    repository: acme/planera
    config_paths: ["configs/planera/**"]
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      staging:
        deploy_on: [dispatch]
        targets: [ { type: http, url: "http://127.0.0.1:1/s" } ]
  billing:
    repository: acme/billing
    secret: billing-own-secret
    components: { api: { image: ghcr.io/acme/billing } }
    environments:
      staging:
        deploy_on: [dispatch]
        targets: [ { type: http, url: "http://127.0.0.1:1/b" } ]
)";

handlers::Response dispatch(Gate& gate, const std::string& repository, const json& payload, const std::string& delivery,
                            const std::string& secret = "hook-secret") {
  const json body = {{"action", "deploy"}, {"client_payload", payload}, {"repository", {{"full_name", repository}}},
                     {"sender", {{"login", "ci-bot"}}}};
  return gate.github("repository_dispatch", delivery, body, secret);
}

std::size_t deployments(Gate& gate) { return run_awaitable(gate.store->deployments({})).value().size(); }

}  // namespace

TEST(GithubDispatch, ThePlatformRepositoryRelaysADispatchForTheProjectItNames) {
  Gate gate(kDispatchConfig);
  auto r = dispatch(gate, "acme/platform", {{"project", "planera"}, {"version", "v1.6.1"}, {"sha", std::string(40, 'a')}}, "d1");
  ASSERT_EQ(r.status, 202) << r.body;
  const auto created = json::parse(r.body)["deployments"][0];
  EXPECT_EQ(created["project"], "planera");
  EXPECT_EQ(created["environment"], "staging");
  EXPECT_EQ(created["version"], "v1.6.1");
  EXPECT_EQ(gate.deployment(created["id"].get<std::int64_t>()).trigger, orchestration::Trigger::dispatch);
  // The same delivery again: the original answer, nothing new.
  auto again = dispatch(gate, "acme/platform", {{"project", "planera"}, {"version", "v1.6.1"}, {"sha", std::string(40, 'a')}}, "d1");
  EXPECT_EQ(again.body, r.body);
  EXPECT_EQ(deployments(gate), 1u);
}

TEST(GithubDispatch, APlatformDispatchForNoKnownProjectIsRefusedWithAReason) {
  Gate gate(kDispatchConfig);
  auto unknown = dispatch(gate, "acme/platform", {{"project", "nope"}, {"version", "v1"}}, "d2");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(json::parse(unknown.body)["message"].get<std::string>().find("no project 'nope'"), std::string::npos);
  auto unnamed = dispatch(gate, "acme/platform", {{"version", "v1"}}, "d3");
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.body.find("client_payload.project"), std::string::npos);
  // Only the global secret speaks for the platform repository, not a project's own.
  auto own_secret = dispatch(gate, "acme/platform", {{"project", "billing"}, {"version", "v1"}}, "d4", "billing-own-secret");
  EXPECT_EQ(own_secret.status, 401);
  EXPECT_EQ(deployments(gate), 0u);
}

TEST(GithubDispatch, AnAppRepositoryStillDeploysItsOwnProject) {
  Gate gate(kDispatchConfig);
  auto r = dispatch(gate, "acme/billing", {{"version", "v2"}, {"sha", std::string(40, 'b')}}, "d5", "billing-own-secret");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["deployments"][0]["project"], "billing");
  // A project named in the payload of an app repository's dispatch is not followed.
  auto other = dispatch(gate, "acme/billing", {{"project", "planera"}, {"version", "v3"}, {"sha", std::string(40, 'c')}}, "d6",
                        "billing-own-secret");
  ASSERT_EQ(other.status, 202) << other.body;
  EXPECT_EQ(json::parse(other.body)["deployments"][0]["project"], "billing");
}

TEST(GithubDispatch, AConfigChangeRedeploysTheNewestVersionOnItsWayNotAnOlderOne) {
  Gate gate(kDispatchConfig);
  const auto v1 = gate.ingest({shipgate::testing::new_deployment("planera", "staging", "v1")})[0];
  ASSERT_EQ(gate.settle(v1), orchestration::State::succeeded);
  // v2 is queued (the dispatcher has not run it yet) when the platform's config changes.
  const auto v2 = gate.ingest({shipgate::testing::new_deployment("planera", "staging", "v2")})[0];
  const json body = {{"ref", "refs/heads/main"}, {"after", std::string(40, 'd')},
                     {"repository", {{"full_name", "acme/platform"}}}, {"sender", {{"login", "ops"}}},
                     {"commits", json::array({{{"modified", {"configs/planera/app.yaml"}}}})}};
  auto r = gate.github("push", "p1", body, "hook-secret");
  ASSERT_EQ(r.status, 202) << r.body;
  const auto created = json::parse(r.body)["deployments"][0];
  EXPECT_EQ(created["version"], "v2");
  EXPECT_EQ(created["id"], v2) << "the queued v2 is the answer; v1 does not come back over it";
  EXPECT_EQ(gate.settle(v2), orchestration::State::succeeded);
  EXPECT_EQ(gate.targets.versions("deploy"), (std::vector<std::string>{"v1", "v2"}));
}
