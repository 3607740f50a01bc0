// The dispatcher's run and rollback paths with scripted targets, a real store and a manual clock.
#include <gtest/gtest.h>

#include "common/time_format.hpp"
#include "domain/deployment_rules.hpp"
#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;
using shipgate::testing::new_deployment;

namespace {

const char* kConfig = R"(
github: { secrets: [s] }
reviewers: { alice: { token: "alice-token-123456", can: [approve, deploy, rollback] } }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      staging:
        rollback_on_failure: true
        targets: [ { type: http, url: "http://127.0.0.1:1/a" }, { type: http, url: "http://127.0.0.1:1/b" } ]
      production:
        promote_from: staging
        approval: { required: 1, reviewers: [alice] }
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
      qa:
        windows: [ { days: [sat], from: "10:00", to: "11:00", timezone: UTC } ]
        targets: [ { type: http, url: "http://127.0.0.1:1/q" } ]
)";

deploy::TargetOutcome failure(std::string message) { return {false, std::move(message), nlohmann::json::object()}; }

}  // namespace

TEST(Dispatcher, RunsEveryTargetInOrderAndPromotesTheSameVersion) {
  Gate gate(kConfig);
  const auto id = gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0];
  ASSERT_EQ(gate.settle(id), State::succeeded);
  EXPECT_EQ(gate.targets.versions("deploy"), (std::vector<std::string>{"v1.0.0", "v1.0.0"}));
  const auto& context = gate.targets.calls[0].context;
  EXPECT_EQ(context.images.at("backend"), "ghcr.io/acme/backend:v1.0.0");
  EXPECT_EQ(context.marker, gate.deployment(id).marker());
  const auto d = gate.deployment(id);
  ASSERT_EQ(d.result["targets"].size(), 2u);
  EXPECT_TRUE(d.result["targets"][1]["ok"].get<bool>());
  // The success created the production deployment of exactly this version, waiting for approval.
  auto production = run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}));
  ASSERT_EQ(production->size(), 1u);
  EXPECT_EQ(production->front().state, State::pending_approval);
  EXPECT_EQ(production->front().trigger, Trigger::promotion);
  EXPECT_EQ(production->front().sha, d.sha);
  EXPECT_EQ(production->front().images, d.images);
}

TEST(Dispatcher, EveryTargetCallAndRollbackStepRecordsWhenItEnded) {
  Gate gate(kConfig);
  const auto good = gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0];
  ASSERT_EQ(gate.settle(good), State::succeeded);
  // Each call takes a minute of the clock: the page's timeline places each one at its own time.
  gate.targets.during_call = [&] { gate.clock->advance(std::chrono::minutes(1)); };
  gate.targets.deploys = {{true, "first target ok", nlohmann::json::object()}, failure("HTTP 500")};
  const auto start = epoch_ms(gate.clock->now());
  const auto bad = gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0];
  ASSERT_EQ(gate.settle(bad), State::rolled_back);
  const auto d = gate.deployment(bad);
  const auto minute = [&](int n) { return format_rfc3339_ms(start + n * 60'000); };
  ASSERT_EQ(d.result["targets"].size(), 2u);
  EXPECT_EQ(d.result["targets"][0]["at"], minute(1));
  EXPECT_EQ(d.result["targets"][1]["at"], minute(2));
  ASSERT_EQ(d.result["rollback"].size(), 2u);
  EXPECT_EQ(d.result["rollback"][0]["at"], minute(3));
  EXPECT_EQ(d.result["rollback"][1]["at"], minute(4));
}

TEST(Dispatcher, AFailedTargetRollsBackWhatChangedToThePreviousVersion) {
  Gate gate(kConfig);
  const auto good = gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0];
  ASSERT_EQ(gate.settle(good), State::succeeded);
  gate.targets.calls.clear();
  gate.targets.deploys = {{true, "first target ok", nlohmann::json::object()}, failure("HTTP 500")};
  const auto bad = gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0];
  ASSERT_EQ(gate.settle(bad), State::rolled_back);
  // Both targets changed something (the failed one may have), so both go back, newest first.
  EXPECT_EQ(gate.targets.versions("deploy"), (std::vector<std::string>{"v1.1.0", "v1.1.0"}));
  EXPECT_EQ(gate.targets.versions("rollback"), (std::vector<std::string>{"v1.0.0", "v1.0.0"}));
  const auto d = gate.deployment(bad);
  EXPECT_NE(d.message.find("rolled back to v1.0.0"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("HTTP 500"), std::string::npos) << d.message;
  // The version is marked bad: an automatic trigger for it is skipped, a manual deploy is not.
  auto marks = run_awaitable(gate.store->bad_versions("planera", "staging"));
  ASSERT_EQ(marks->size(), 1u);
  EXPECT_EQ(marks->front().version, "v1.1.0");
  auto again = gate.ingest({new_deployment("planera", "staging", "v1.1.0")});
  EXPECT_EQ(again[0], 0);
  EXPECT_TRUE(run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}))->size() == 1u)
      << "only the good version was promoted";
}

TEST(Dispatcher, WithNothingToRollBackToTheDeploymentFails) {
  Gate gate(kConfig);
  gate.targets.deploys = {failure("connection refused")};
  const auto id = gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0];
  ASSERT_EQ(gate.settle(id), State::failed);
  EXPECT_TRUE(gate.targets.versions("rollback").empty());
  EXPECT_NE(gate.deployment(id).message.find("nothing to roll back to"), std::string::npos);
  EXPECT_EQ(gate.targets.versions("deploy").size(), 1u) << "a failed target stops the ones after it";
}

TEST(Dispatcher, AFailedRollbackEndsFailedWithBothErrors) {
  Gate gate(kConfig);
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0]), State::succeeded);
  gate.targets.deploys = {failure("HTTP 500")};
  gate.targets.rollbacks = {failure("HTTP 503 on the way back")};
  const auto id = gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0];
  ASSERT_EQ(gate.settle(id), State::failed);
  const auto message = gate.deployment(id).message;
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 503 on the way back"), std::string::npos) << message;
}

TEST(Dispatcher, AClosedWindowHoldsOrdinaryDeploymentsButNotAnOverride) {
  Gate gate(kConfig);  // the clock stands on Friday 2027-01-15 08:00 UTC: qa's window is closed
  const auto held = gate.ingest({new_deployment("planera", "qa", "v1.0.0")})[0];
  ASSERT_TRUE(gate.run_until([&] { return !gate.deployment(held).waiting_reason.empty(); }));
  EXPECT_EQ(gate.state_of(held), State::queued);
  EXPECT_NE(gate.deployment(held).waiting_reason.find("window"), std::string::npos);
  EXPECT_TRUE(gate.targets.calls.empty());
  const auto urgent = gate.ingest({new_deployment("planera", "qa", "v0.9.9", Trigger::override_)})[0];
  ASSERT_EQ(gate.settle(urgent), State::succeeded);
  EXPECT_EQ(gate.targets.versions("deploy"), (std::vector<std::string>{"v0.9.9"}));
  EXPECT_EQ(gate.state_of(held), State::queued) << "the override supersedes nothing";
}

TEST(Dispatcher, ALateOlderBuildIsSkippedAndAuditedButAManualDeployMayGoBack) {
  Gate gate(kConfig);
  const auto current = gate.ingest({new_deployment("planera", "staging", "v1.6.1", Trigger::build)})[0];
  ASSERT_EQ(gate.settle(current), State::succeeded);
  // CI finished v1.5.0's build late: it never replaces v1.6.1, and the audit log says why.
  EXPECT_EQ(gate.ingest({new_deployment("planera", "staging", "v1.5.0", Trigger::build)})[0], 0);
  const auto audit = run_awaitable(gate.store->audit({0, 0, 100}));
  ASSERT_TRUE(audit);
  const auto& last = audit->back();
  EXPECT_EQ(last.action, AuditAction::skipped);
  EXPECT_EQ(last.reason, "version v1.5.0 is older than v1.6.1 in staging; automatic triggers never go back to an "
                         "older version (deploy it manually to do that)");
  EXPECT_EQ(last.details["newer"], "v1.6.1");
  // A newer version queued (not yet started) counts as well.
  const auto queued = gate.ingest({new_deployment("planera", "staging", "v1.7.0")})[0];
  EXPECT_NE(queued, 0);
  EXPECT_EQ(gate.ingest({new_deployment("planera", "staging", "v1.6.5")})[0], 0);
  ASSERT_EQ(gate.settle(queued), State::succeeded);
  // A person may still go back on purpose (the rollback flow).
  const auto back = gate.ingest({new_deployment("planera", "staging", "v1.5.0", Trigger::manual)})[0];
  ASSERT_NE(back, 0);
  EXPECT_EQ(gate.settle(back), State::succeeded);
}

TEST(Dispatcher, WhateverATargetThrowsEndsThatDeploymentRolledBackAndTheLaneGoesOn) {
  Gate gate(kConfig);
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0]), State::succeeded);
  gate.targets.calls.clear();
  int calls = 0;
  gate.targets.during_call = [&] {
    if (++calls == 2) throw std::runtime_error("an answer of a shape nobody expected");
  };
  const auto thrown = gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0];
  ASSERT_EQ(gate.settle(thrown), State::rolled_back);
  const auto d = gate.deployment(thrown);
  EXPECT_NE(d.message.find("stopped by an unexpected error: an answer of a shape nobody expected"), std::string::npos)
      << d.message;
  // The first target changed, the second threw while changing: both go back, newest first.
  EXPECT_EQ(gate.targets.versions("rollback"), (std::vector<std::string>{"v1.0.0", "v1.0.0"}));
  gate.targets.during_call = nullptr;
  const auto next = gate.ingest({new_deployment("planera", "staging", "v1.2.0")})[0];
  EXPECT_EQ(gate.settle(next), State::succeeded) << "the lane goes on";
}

TEST(Dispatcher, AThrowWithNothingToRollBackToEndsFailedAndTheNextDeploymentRuns) {
  Gate gate(kConfig);
  gate.targets.during_call = [] { throw std::logic_error("null where an object was"); };
  const auto thrown = gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0];
  ASSERT_EQ(gate.settle(thrown), State::failed);
  EXPECT_NE(gate.deployment(thrown).message.find("null where an object was"), std::string::npos);
  gate.targets.during_call = nullptr;
  EXPECT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.1")})[0]), State::succeeded);
}

TEST(Dispatcher, OnlyNewWorkIsPromotedNotARedeployAScheduleOrARollback) {
  Gate gate(kConfig);
  const auto production = [&] { return run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}))->size(); };
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0")})[0]), State::succeeded);
  ASSERT_EQ(production(), 1u) << "a new version asks production";
  // The same version again in staging while production has it waiting: nothing new to ask for.
  for (const auto trigger : {Trigger::manual, Trigger::schedule}) {
    ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0", trigger)})[0]), State::succeeded);
    EXPECT_EQ(production(), 1u) << to_string(trigger);
  }
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.1.0")})[0]), State::succeeded);
  ASSERT_EQ(production(), 2u);
  // Going back in staging leaves production's newer version waiting where it is.
  ASSERT_EQ(gate.settle(gate.ingest({new_deployment("planera", "staging", "v1.0.0", Trigger::rollback)})[0]),
            State::succeeded);
  const auto list = run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}));
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->front().version, "v1.1.0");
  EXPECT_EQ(list->front().state, State::pending_approval);
}
