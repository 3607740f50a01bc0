// The gate's durable side, on both stores (a real SQLite file and a real PostgreSQL), with a manual clock.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "orchestration/dispatcher.hpp"
#include "domain/gate_policy.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/run.hpp"
#include "tests/support/store_fixture.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::run_awaitable;
using shipgate::testing::StoreUnderTest;
using shipgate::testing::StoreUnderTestKind;

namespace {

NewDeployment make(const std::string& env, const std::string& version, State initial, int required = 2) {
  NewDeployment d;
  d.project = "planera";
  d.environment = env;
  d.version = version;
  d.sha = version + "000000";
  d.images = {{"backend", "img:" + version}};
  d.trigger = Trigger::push;
  d.actor = "octocat";
  d.initial = initial;
  if (initial == State::pending_approval) d.policy = {{"required", required}, {"reviewers", {"alice", "bob"}}};
  return d;
}

}  // namespace

class GateStore : public shipgate::testing::StoreFixture {
 protected:
  GateStore() : StoreFixture(from_epoch_ms(1'800'000'000'000)) {}
  std::int64_t create(NewDeployment nd, std::vector<BadVersion> bad = {}) {
    IngestRequest r;
    r.delivery_key = "k" + std::to_string(++n);
    r.deployments = {std::move(nd)};
    r.mark_bad = std::move(bad);
    auto out = run_awaitable(store->ingest(std::move(r)));
    EXPECT_TRUE(out);
    return out->deployments[0].id;
  }
  ApprovalOutcome approve(std::int64_t id, const std::string& who, int required = 2) {
    auto r = run_awaitable(store->approve({id, who, "lgtm", required}));
    EXPECT_TRUE(r);
    return *r;
  }
  State state_of(std::int64_t id) { return (*run_awaitable(store->deployment(id, false)))->state; }
  // A pending deployment that expires an hour from now, and a dispatcher whose tick() expires it.
  std::int64_t create_expiring_in_an_hour() {
    auto pending = make("production", "v1", State::pending_approval);
    pending.expires_ms = epoch_ms(clock->now()) + 3'600'000;
    return create(pending);
  }
  std::shared_ptr<Dispatcher> housekeeper() {
    auto cfg = shipgate::testing::load_test_config(shipgate::testing::kTestConfig);
    return std::make_shared<Dispatcher>(ioc.get_executor(), *store, [cfg] { return cfg; },
                                        [](const config::TargetConfig&) { return nullptr; }, clock);
  }

  boost::asio::io_context ioc;
  int n = 0;
};

INSTANTIATE_TEST_SUITE_P(Stores, GateStore, ::testing::Values(StoreUnderTestKind::sqlite, StoreUnderTestKind::postgresql),
                         [](const auto& info) { return shipgate::testing::store_kind_name(info.param); });

TEST_P(GateStore, DistinctReviewersAreCountedOnceAndTheLastQueues) {
  const auto id = create(make("production", "v1", State::pending_approval));
  auto first = approve(id, "alice");
  EXPECT_EQ(first.kind, ApprovalOutcome::Kind::counted);
  EXPECT_EQ(first.approvals, 1);
  EXPECT_EQ(first.state, State::pending_approval);
  auto again = approve(id, "alice");
  EXPECT_EQ(again.kind, ApprovalOutcome::Kind::repeated);
  EXPECT_EQ(again.approvals, 1);
  auto second = approve(id, "bob");
  EXPECT_EQ(second.approvals, 2);
  EXPECT_EQ(second.state, State::queued);
  EXPECT_EQ(approve(id, "carol").kind, ApprovalOutcome::Kind::not_pending);
  const auto d = *run_awaitable(store->deployment(id, true));
  ASSERT_EQ(d->approvals.size(), 2u);
  EXPECT_EQ(d->history.back().actor, "bob");
}

TEST_P(GateStore, ApprovalsSurviveAReopen) {
  const auto id = create(make("production", "v1", State::pending_approval));
  approve(id, "alice");
  store.reset();
  store = under->open();
  ASSERT_TRUE(store);
  EXPECT_EQ(approve(id, "bob").state, State::queued);
}

TEST_P(GateStore, ANewerVersionSupersedesAPendingOneAndItsApprovals) {
  const auto old_id = create(make("production", "v1", State::pending_approval));
  approve(old_id, "alice");
  const auto new_id = create(make("production", "v2", State::pending_approval));
  EXPECT_EQ(state_of(old_id), State::superseded);
  EXPECT_EQ(approve(new_id, "bob").approvals, 1);  // alice's approval of v1 did not carry over
  EXPECT_EQ(state_of(new_id), State::pending_approval);
}

TEST_P(GateStore, ARejectionEndsOnlyThatDeployment) {
  const auto v1 = create(make("production", "v1", State::pending_approval));
  auto r = run_awaitable(store->transition({v1, Event::reject, "alice", "broken login page"}));
  ASSERT_TRUE(r && r->applied);
  EXPECT_EQ(state_of(v1), State::rejected);
  const auto v2 = create(make("production", "v2", State::pending_approval));
  EXPECT_EQ(state_of(v2), State::pending_approval);
  EXPECT_EQ(approve(v2, "alice").kind, ApprovalOutcome::Kind::counted);
}

TEST_P(GateStore, TheDispatchersTickExpiresOverdueApprovalsByItsClock) {
  const auto id = create_expiring_in_an_hour();
  auto dispatcher = housekeeper();
  run_awaitable(dispatcher->tick());
  EXPECT_EQ(state_of(id), State::pending_approval);
  clock->advance(std::chrono::minutes(61));
  run_awaitable(dispatcher->tick());
  EXPECT_EQ(state_of(id), State::expired);
  EXPECT_EQ(approve(id, "alice").kind, ApprovalOutcome::Kind::not_pending);
}

TEST_P(GateStore, TheClockJumpingBackNeverExpiresEarlyAndAJumpForwardExpiresOnce) {
  const auto id = create_expiring_in_an_hour();
  auto dispatcher = housekeeper();
  clock->advance(-std::chrono::hours(5));  // NTP steps the clock back
  run_awaitable(dispatcher->tick());
  EXPECT_EQ(state_of(id), State::pending_approval);
  clock->advance(std::chrono::hours(5) + std::chrono::minutes(59));
  run_awaitable(dispatcher->tick());
  EXPECT_EQ(state_of(id), State::pending_approval);
  clock->advance(std::chrono::hours(24 * 365));  // a jump far ahead
  run_awaitable(dispatcher->tick());
  run_awaitable(dispatcher->tick());
  EXPECT_EQ(state_of(id), State::expired);
  int expired_entries = 0;
  const auto history = run_awaitable(store->deployment(id, true)).value()->history;  // a copy: the result is a temporary
  for (const auto& h : history) expired_entries += h.to == State::expired;
  EXPECT_EQ(expired_entries, 1);
}

TEST_P(GateStore, BadVersionsAreSkippedForAutomaticTriggersOnly) {
  const auto good = create(make("staging", "v1", State::queued));
  BadVersion bad{"planera", "staging", "v2", "v2000000", 0, good, "500s on login", "alice"};
  create(make("staging", "v1-rollback", State::queued), {bad});
  IngestRequest automatic;
  automatic.delivery_key = "push-v2";
  automatic.deployments = {make("staging", "v2", State::queued)};
  auto out = run_awaitable(store->ingest(std::move(automatic)));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->deployments[0].id, 0);
  EXPECT_NE(out->deployments[0].skipped.find("marked bad"), std::string::npos);
  EXPECT_NE(out->deployments[0].skipped.find("500s on login"), std::string::npos);
  auto manual = make("staging", "v2", State::queued);
  manual.trigger = Trigger::manual;
  EXPECT_GT(create(manual), 0);
  auto listed = run_awaitable(store->bad_versions("planera", "staging"));
  ASSERT_EQ(listed->size(), 1u);
  bool skipped_in_audit = false;
  for (const auto& e : *run_awaitable(store->audit({}))) skipped_in_audit = skipped_in_audit || e.action == AuditAction::skipped;
  EXPECT_TRUE(skipped_in_audit);
}

TEST_P(GateStore, AChosenVersionThatSucceedsClearsEveryMarkNamingItAndNoOther) {
  const auto base = create(make("staging", "v1", State::queued));
  // Marked once by its version and once, under another name, by its SHA; a third mark is another version.
  create(make("staging", "v0", State::queued), {{"planera", "staging", "v2", "v2000000", 0, base, "a", "alice"},
                                                {"planera", "staging", "v2-hotfix", "v2000000", 0, base, "b", "bob"},
                                                {"planera", "staging", "v3", "v3000000", 0, base, "c", "carol"}});
  auto manual = make("staging", "v2", State::queued);
  manual.trigger = Trigger::manual;
  const auto id = create(manual);
  ASSERT_TRUE(run_awaitable(store->transition({id, Event::start})));
  ASSERT_TRUE(run_awaitable(store->transition({id, Event::succeed})));
  const auto left = *run_awaitable(store->bad_versions("planera", "staging"));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].version, "v3");
}

TEST_P(GateStore, PriorityJumpsTheQueueWithoutSupersedingIt) {
  const auto a = create(make("staging", "v1", State::queued));
  auto urgent = make("staging", "v0", State::queued);
  urgent.trigger = Trigger::override_;
  const auto b = create(urgent);
  EXPECT_EQ(state_of(a), State::queued);
  EXPECT_EQ((*run_awaitable(store->next_to_run("planera", "staging")))->id, b);
}

TEST_P(GateStore, PromotionIsCreatedInTheSameTransactionAsTheSuccess) {
  const auto id = create(make("staging", "v1", State::queued));
  run_awaitable(store->transition({id, Event::start}));
  auto promoted = make("production", "v1", State::pending_approval);
  promoted.trigger = Trigger::promotion;
  auto r = run_awaitable(store->transition({id, Event::succeed, "shipgate", "deployed", std::nullopt, {promoted}}));
  ASSERT_TRUE(r && r->applied);
  ASSERT_EQ(r->created.size(), 1u);
  EXPECT_EQ(state_of(r->created[0].id), State::pending_approval);
  // A refused transition creates nothing.
  auto again = run_awaitable(store->transition({id, Event::succeed, "shipgate", "x", std::nullopt, {promoted}}));
  EXPECT_FALSE(again->applied);
  EXPECT_TRUE(again->created.empty());
}

TEST_P(GateStore, AuditKeepsEveryTransitionInOrderAndPages) {
  const auto id = create(make("production", "v1", State::pending_approval));
  approve(id, "alice");
  approve(id, "bob");
  auto all = *run_awaitable(store->audit({0, 0, 100}));
  std::vector<std::string_view> actions;
  for (const auto& e : all) actions.push_back(to_string(e.action));
  EXPECT_EQ(actions, (std::vector<std::string_view>{"created", "approve", "approve", "transition"}));
  auto page = *run_awaitable(store->audit({0, all[1].id, 1}));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, all[2].id);
  auto since = *run_awaitable(store->audit({epoch_ms(clock->now()) + 1, 0, 100}));
  EXPECT_TRUE(since.empty());
}

TEST_P(GateStore, AGithubActionsJobKeepsItsIdsIsHandedOverAndNeitherSupersedesNorIsSuperseded) {
  store->record_events(true);
  auto job = make("production", "v1", State::pending_approval, 1);
  job.trigger = Trigger::github_actions;
  job.images.clear();
  job.result = {{"github", {{"run_id", 9001}, {"deployment_id", 555}, {"environment", "Production EU"}}}};
  const auto id = create(job);
  const auto push_id = create(make("production", "v2", State::pending_approval, 1));
  EXPECT_EQ(state_of(id), State::pending_approval) << "a push does not supersede a waiting job";
  EXPECT_EQ(approve(id, "bob", 1).state, State::queued);
  auto start = run_awaitable(store->transition({id, Event::start, "shipgate", "started"}));
  ASSERT_TRUE(start);
  EXPECT_FALSE(start->applied) << "a job is never run here";
  auto handed = run_awaitable(store->transition({id, Event::hand_over, "shipgate", "passed the gate"}));
  ASSERT_TRUE(handed && handed->applied);
  auto d = *run_awaitable(store->deployment(id, true));
  EXPECT_EQ(d->state, State::deploying_externally);
  EXPECT_GT(d->started_ms, 0);
  EXPECT_EQ(d->result["github"]["run_id"], 9001);
  auto next = run_awaitable(store->next_to_run("planera", "production"));
  ASSERT_TRUE(next);
  EXPECT_FALSE(*next) << "nothing runs: the job deploys outside and the push waits for approval";
  DeploymentFilter outside{"planera", "production", {State::deploying_externally}, 10, 0};
  auto listed = run_awaitable(store->deployments(outside));
  ASSERT_TRUE(listed && listed->size() == 1u);
  EXPECT_EQ(listed->front().id, id);
  EXPECT_EQ(state_of(push_id), State::pending_approval);
  auto events = run_awaitable(store->outbox_due(epoch_ms(clock->now()) + 1, 100));
  ASSERT_TRUE(events);
  std::vector<std::string> of_job;
  for (const auto& e : *events)
    if (e.deployment == id) of_job.push_back(e.event);
  EXPECT_EQ(of_job, (std::vector<std::string>{"pending_approval", "queued", "deploying_externally"}));
  auto done = run_awaitable(store->transition({id, Event::succeed, "github", "GitHub Actions reported success"}));
  ASSERT_TRUE(done && done->applied);
  EXPECT_EQ(state_of(id), State::succeeded);
}
