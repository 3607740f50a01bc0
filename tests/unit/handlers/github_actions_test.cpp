// GitHub Actions' deployment_protection_rule and deployment_status deliveries, read by code that cannot
// throw on their shape: every hostile variant of a valid delivery is answered 200, 202 or 400, and no
// variant creates more than the one deployment the valid delivery asks for.
#include <gtest/gtest.h>

#include "tests/support/gate.hpp"
#include "tests/support/hostile_json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using nlohmann::json;
using shipgate::testing::Gate;

namespace {

std::string actions_gate_config(const std::string& key_file) {
  return R"(
github: { secrets: [hook-secret] }
github_app: { app_id: 31337, private_key_file: )" + key_file + R"(, api_url: "https://api.github.example" }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      production:
        github_environment: Production EU
        approval: { required: 1 }
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
)";
}

const json kProtectionRequest = {
    {"action", "requested"},
    {"environment", "Production EU"},
    {"event", "push"},
    {"deployment_callback_url", "https://api.github.example/repos/acme/planera/actions/runs/42/deployment_protection_rule"},
    {"deployment", {{"id", 555}, {"sha", std::string(40, 'a')}, {"ref", "main"}, {"creator", {{"login", "octocat"}}}}},
    {"repository", {{"full_name", "acme/planera"}}},
    {"installation", {{"id", 7}}},
    {"sender", {{"login", "octocat"}}}};

}  // namespace

class GithubActionsDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(shipgate::testing::run_command({"/usr/bin/openssl", "genrsa", "-out", keys.file("app.pem"), "2048"}).status, 0);
    gate = std::make_unique<Gate>(actions_gate_config(keys.file("app.pem")));
  }
  std::size_t deployments() {
    auto list = shipgate::testing::run_awaitable(gate->store->deployments({"planera", "", {}, 500, 0}));
    return list ? list->size() : 0;
  }
  shipgate::testing::TempDir keys;
  std::unique_ptr<Gate> gate;
  int deliveries = 0;
};

TEST_F(GithubActionsDelivery, EveryHostileProtectionRequestIsAnsweredAndMakesAtMostOneDeployment) {
  auto valid = gate->github("deployment_protection_rule", "valid", kProtectionRequest, "hook-secret");
  ASSERT_EQ(valid.status, 202) << valid.body;
  const auto variants = shipgate::testing::hostile_answers(kProtectionRequest.dump());
  ASSERT_GT(variants.size(), 40u);
  std::size_t created = 0;
  for (const auto& v : variants) {
    const auto before = deployments();
    const auto body = json::parse(v.body, nullptr, false);
    if (body.is_discarded() || body.is_null()) continue;  // cut bodies fail to parse before any event is read
    auto r = gate->github("deployment_protection_rule", "d" + std::to_string(++deliveries), body, "hook-secret");
    EXPECT_TRUE(r.status == 200 || r.status == 202 || r.status == 400) << v.what << ": " << r.status << " " << r.body;
    EXPECT_LE(deployments(), before + 1) << v.what;
    created += deployments() - before;
  }
  EXPECT_GT(created, 0u) << "harmless variants (another event name, an extra sender) still ask for a deployment";
}

TEST_F(GithubActionsDelivery, EveryHostileDeploymentStatusIsAnsweredAndEndsNothingItDoesNotName) {
  // A job GitHub deploys as its deployment 999; every status below names 555 (or nothing usable).
  orchestration::NewDeployment job = shipgate::testing::new_deployment("planera", "production", std::string(40, 'a'),
                                                                       orchestration::Trigger::github_actions);
  job.images.clear();
  job.initial = orchestration::State::pending_approval;  // handed over below, as an override does
  job.result = {{"github", {{"run_id", 42}, {"deployment_id", 999}, {"environment", "Production EU"}}}};
  const auto id = gate->ingest({job}).at(0);
  auto handed = shipgate::testing::run_awaitable(gate->store->transition({id, orchestration::Event::hand_over, "t", "test"}));
  ASSERT_TRUE(handed && handed->applied);
  const json status = {{"action", "created"},
                       {"deployment_status", {{"state", "success"}, {"description", "done"}, {"log_url", "https://x.example/1"}}},
                       {"deployment", {{"id", 555}, {"environment", "Production EU"}}},
                       {"repository", {{"full_name", "acme/planera"}}}};
  for (const auto& v : shipgate::testing::hostile_answers(status.dump())) {
    const auto body = json::parse(v.body, nullptr, false);
    if (body.is_discarded() || body.is_null()) continue;
    auto r = gate->github("deployment_status", "s" + std::to_string(++deliveries), body, "hook-secret");
    EXPECT_TRUE(r.status == 200 || r.status == 400) << v.what << ": " << r.status << " " << r.body;
  }
  EXPECT_EQ(deployments(), 1u);
  EXPECT_EQ(gate->state_of(id), orchestration::State::deploying_externally);
  // The same status naming 999 ends it: the check above could have failed.
  json mine = status;
  mine["deployment"]["id"] = 999;
  EXPECT_EQ(gate->github("deployment_status", "mine", mine, "hook-secret").status, 200);
  EXPECT_EQ(gate->state_of(id), orchestration::State::succeeded);
}
