// The API's actions as plain functions: a request in, an answer out, with a real store, the dispatcher
// running scripted targets, and a manual clock.
#include <gtest/gtest.h>

#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using nlohmann::json;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;
using shipgate::testing::new_deployment;

namespace {

const char* kActionsConfig = R"(
github: { secrets: [s] }
reviewers:
  alice: { token: "alice-token-123456", can: [approve, deploy, rollback, override] }
  bob: { token: "bob-token-1234567", can: [approve] }
  outsider: { token: "outsider-token-123", can: [approve, deploy], projects: [other] }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      staging:
        targets: [ { type: http, url: "http://127.0.0.1:1/s" } ]
      production:
        promote_from: staging
        approval: { required: 1, reviewers: [alice, bob], expire_after: 1h }
        confirm: ship-it
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
  other:
    repository: acme/other
    environments:
      staging: { targets: [ { type: http, url: "http://127.0.0.1:1/o" } ] }
)";

constexpr const char* kAlice = "alice-token-123456";
constexpr const char* kBob = "bob-token-1234567";
constexpr const char* kOutsider = "outsider-token-123";

json body_of(const handlers::Response& r) { return json::parse(r.body); }

// staging succeeds with v1, production waits for approval of it.
std::int64_t pending_production(Gate& gate, const std::string& version = "v1.0.0") {
  const auto staging = gate.ingest({new_deployment("planera", "staging", version)})[0];
  EXPECT_EQ(gate.settle(staging), State::succeeded);
  auto production = run_awaitable(gate.store->deployments({"planera", "production", {State::pending_approval}, 1, 0}));
  EXPECT_EQ(production->size(), 1u);
  return production->empty() ? 0 : production->front().id;
}

}  // namespace

TEST(ApiActions, AnApprovalQueuesTheDeploymentAndTheDispatcherRunsIt) {
  Gate gate(kActionsConfig);
  const auto id = pending_production(gate);
  const auto path = "/api/v1/deployments/" + std::to_string(id) + "/approve";
  EXPECT_EQ(gate.call("POST", path, json{{"comment", "lgtm"}}).status, 401);
  auto answer = gate.call("POST", path, json{{"comment", "lgtm"}}, kBob);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(body_of(answer)["state"], "queued");
  EXPECT_EQ(gate.settle(id), State::succeeded);
  EXPECT_EQ(gate.targets.versions("deploy"), (std::vector<std::string>{"v1.0.0", "v1.0.0"}));
  EXPECT_EQ(gate.call("POST", path, json::object(), kAlice).status, 409) << "no longer pending";
}

TEST(ApiActions, ApprovalExpiresByTheClock) {
  Gate gate(kActionsConfig);
  const auto id = pending_production(gate);
  gate.clock->advance(std::chrono::minutes(61));
  shipgate::testing::run_awaitable(gate.dispatcher->tick());
  EXPECT_EQ(gate.state_of(id), State::expired);
  const auto path = "/api/v1/deployments/" + std::to_string(id) + "/approve";
  EXPECT_EQ(gate.call("POST", path, json::object(), kBob).status, 409);
}

TEST(ApiActions, SelfApprovalIsRefusedAndTheRefusalIsAudited) {
  Gate gate(kActionsConfig);
  auto d = new_deployment("planera", "production", "v2.0.0", Trigger::manual);
  d.actor = "bob";
  d.initial = State::pending_approval;
  d.policy = {{"required", 1}, {"reviewers", {"alice", "bob"}}};
  const auto id = gate.ingest({d})[0];
  auto refused = gate.call("POST", "/api/v1/deployments/" + std::to_string(id) + "/approve", json::object(), kBob);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(body_of(refused)["error"], "self_approval");
  bool audited = false;
  for (const auto& e : *run_awaitable(gate.store->audit({})))
    audited = audited || (e.action == AuditAction::refused && e.actor == "bob" && e.deployment == id);
  EXPECT_TRUE(audited);
  // Rejecting one's own version is allowed, with a reason.
  EXPECT_EQ(gate.call("POST", "/api/v1/deployments/" + std::to_string(id) + "/reject", json::object(), kBob).status, 400);
  auto rejected = gate.call("POST", "/api/v1/deployments/" + std::to_string(id) + "/reject",
                            json{{"comment", "wrong build"}}, kBob);
  EXPECT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(gate.state_of(id), State::rejected);
}

TEST(ApiActions, AManualDeployToProductionNeedsTheTypedPhraseAndRunsTheStagedVersion) {
  Gate gate(kActionsConfig);
  const auto promoted = pending_production(gate, "v1.0.0");
  json request = {{"project", "planera"}, {"environment", "production"}, {"version", "v1.0.0"}};
  auto unconfirmed = gate.call("POST", "/api/v1/deployments", request, kAlice);
  EXPECT_EQ(unconfirmed.status, 400);
  EXPECT_EQ(body_of(unconfirmed)["error"], "confirmation_required");
  request["confirm"] = "ship-it";
  // The same version already waits there: that deployment is the answer, nothing is deployed twice.
  auto waiting = gate.call("POST", "/api/v1/deployments", request, kAlice);
  ASSERT_EQ(waiting.status, 202) << waiting.body;
  EXPECT_EQ(body_of(waiting)["deployments"][0]["id"], promoted);
  EXPECT_EQ(body_of(waiting)["deployments"][0]["existing"], true);
  ASSERT_EQ(gate.call("POST", "/api/v1/deployments/" + std::to_string(promoted) + "/reject",
                      json{{"comment", "not this way"}}, kBob).status, 200);
  auto accepted = gate.call("POST", "/api/v1/deployments", request, kAlice, {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const auto id = body_of(accepted)["deployments"][0]["id"].get<std::int64_t>();
  const auto d = gate.deployment(id);
  EXPECT_EQ(d.trigger, Trigger::manual);
  EXPECT_EQ(d.images.at("backend"), "ghcr.io/acme/backend:v1.0.0");  // as staging ran it
  // The same Idempotency-Key is the same request: answered as before, nothing new.
  auto repeated = gate.call("POST", "/api/v1/deployments", request, kAlice, {{"Idempotency-Key", "k1"}});
  EXPECT_EQ(repeated.body, accepted.body);
  EXPECT_TRUE(repeated.duplicate);
}

TEST(ApiActions, RollbackQueuesThePreviousVersionFirstAndMarksTheCurrentOneBad) {
  Gate gate(kActionsConfig);
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0]), State::succeeded);
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0]), State::succeeded);
  auto answer = gate.call("POST", "/api/v1/projects/planera/environments/staging/rollback",
                          json{{"reason", "500s on login"}}, kAlice);
  ASSERT_EQ(answer.status, 202) << answer.body;
  const auto id = body_of(answer)["deployments"][0]["id"].get<std::int64_t>();
  const auto d = gate.deployment(id);
  EXPECT_EQ(d.trigger, Trigger::rollback);
  EXPECT_EQ(d.version, "v1.0.0");
  EXPECT_EQ(priority(d.trigger), 1);
  EXPECT_EQ(gate.settle(id), State::succeeded);
  auto marks = run_awaitable(gate.store->bad_versions("planera", "staging"));
  ASSERT_EQ(marks->size(), 1u);
  EXPECT_EQ(marks->front().version, "v1.1.0");
  EXPECT_EQ(marks->front().reason, "500s on login");
}

TEST(ApiActions, OpeningStepsAnswerTheSameEverywhere) {
  Gate gate(kActionsConfig);
  const auto id = pending_production(gate);
  const std::string deployment = "/api/v1/deployments/" + std::to_string(id);
  // A reviewer restricted to another project cannot tell a hidden project from a missing one.
  EXPECT_EQ(gate.call("GET", deployment, nullptr, kOutsider).status, 404);
  EXPECT_EQ(gate.call("POST", deployment + "/approve", json::object(), kOutsider).status, 404);
  EXPECT_EQ(gate.call("GET", "/api/v1/projects/planera/environments/staging", nullptr, kOutsider).status, 404);
  EXPECT_EQ(gate.call("GET", "/api/v1/projects/planera/environments/nowhere", nullptr, kAlice).status, 404);
  EXPECT_EQ(gate.call("GET", "/api/v1/projects/planera/environments/staging", nullptr, kAlice).status, 200);
  // Malformed ids and bodies are 400; a missing token 401.
  EXPECT_EQ(gate.call("GET", "/api/v1/deployments/12x", nullptr, kAlice).status, 400);
  EXPECT_EQ(gate.call("GET", "/api/v1/deployments/99999", nullptr, kAlice).status, 404);
  auto not_json = gate.call("POST", deployment + "/approve", "not json", kBob);  // a JSON string, not an object
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(gate.call("GET", deployment).status, 401);
  EXPECT_EQ(gate.state_of(id), State::pending_approval) << "nothing changed";
}
