// The store suite, run against both stores: SQLite on a real file, PostgreSQL on a real server.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/store_fixture.hpp"
#include "tests/support/run.hpp"
#include "tests/support/wait.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::run_awaitable;
using shipgate::testing::StoreUnderTest;
using shipgate::testing::StoreUnderTestKind;

namespace {

NewDeployment new_deployment(const std::string& env, const std::string& version, State initial = State::queued) {
  NewDeployment d;
  d.project = "planera";
  d.environment = env;
  d.version = version;
  d.sha = version;
  d.ref = "refs/heads/main";
  d.images = {{"backend", "ghcr.io/acme/backend:" + version}};
  d.trigger = Trigger::push;
  d.actor = "octocat";
  d.initial = initial;
  d.reason = "push";
  return d;
}

IngestRequest ingest_request(const std::string& key, std::vector<NewDeployment> ds) {
  IngestRequest r;
  r.delivery_key = key;
  r.source = "test";
  r.deployments = std::move(ds);
  r.respond = [](const std::vector<IngestedDeployment>& created) {
    return StoredResponse{202, "ids:" + std::to_string(created.empty() ? 0 : created.front().id)};
  };
  return r;
}

boost::asio::awaitable<void> ingest_one(Store& store, int i, std::atomic<int>& ok) {
  // Built outside the co_await: GCC 12 miscompiles initializer lists inside a co_await expression.
  auto request = ingest_request("c" + std::to_string(i), {new_deployment("env" + std::to_string(i % 7), "v" + std::to_string(i))});
  auto r = co_await store.ingest(std::move(request));
  if (r && !r->duplicate) ++ok;
}

}  // namespace

class StoreTest : public shipgate::testing::StoreFixture {
 protected:
  StoreTest() : StoreFixture(from_epoch_ms(1'700'000'000'000)) {}
  bool postgres() const { return GetParam() == StoreUnderTestKind::postgresql; }
  IngestResult ingest(IngestRequest r) {
    auto out = run_awaitable(store->ingest(std::move(r)));
    EXPECT_TRUE(out) << out.error().message();
    return *out;
  }
  TransitionOutcome transition(std::int64_t id, Event e) {
    auto out = run_awaitable(store->transition({id, e, "tester", "because"}));
    EXPECT_TRUE(out);
    return *out;
  }
  State state_of(std::int64_t id) { return (*run_awaitable(store->deployment(id, false)))->state; }
  void exec(const std::string& sql) { under->exec(sql); }
  std::int64_t rows(const std::string& table) { return under->rows(table); }
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values(StoreUnderTestKind::sqlite, StoreUnderTestKind::postgresql),
                         [](const auto& info) { return shipgate::testing::store_kind_name(info.param); });

TEST_P(StoreTest, IngestCreatesDeploymentsWithHistory) {
  auto nd = new_deployment("staging", "aaaaaaa");
  nd.committed_ms = 1'699'999'000'000;
  auto r = ingest(ingest_request("github:1", {nd}));
  EXPECT_FALSE(r.duplicate);
  ASSERT_EQ(r.deployments.size(), 1u);
  EXPECT_EQ(r.response.status, 202);
  const auto id = r.deployments[0].id;
  auto d = run_awaitable(store->deployment(id, true));
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->state, State::queued);
  EXPECT_EQ((*d)->images.at("backend"), "ghcr.io/acme/backend:aaaaaaa");
  EXPECT_EQ((*d)->created_ms, 1'700'000'000'000);
  EXPECT_EQ((*d)->committed_ms, 1'699'999'000'000);
  ASSERT_EQ((*d)->history.size(), 1u);
  EXPECT_FALSE((*d)->history[0].from);
  EXPECT_EQ((*d)->history[0].actor, "octocat");
  EXPECT_EQ(rows("deliveries"), 1);
}

TEST_P(StoreTest, AFailedSideWriteFailsTheWholeWrite) {
  const auto id = ingest(ingest_request("github:side", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  const auto audit_before = rows("audit"), history_before = rows("history");
  // Every audit insert now fails, as a full disk or a broken page would make it.
  if (postgres())
    exec("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql; "
         "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse()");
  else
    exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END");
  auto moved = run_awaitable(store->transition({id, Event::start, "tester", "because"}));
  EXPECT_FALSE(moved) << "the transition was applied without its audit entry";
  EXPECT_EQ(state_of(id), State::queued);
  EXPECT_EQ(rows("history"), history_before);  // no history entry without its audit entry
  auto created = run_awaitable(store->ingest(ingest_request("github:side2", {new_deployment("staging", "bbbbbbb")})));
  EXPECT_FALSE(created);
  EXPECT_EQ(rows("deliveries"), 1);  // nothing of the refused delivery was kept
  EXPECT_FALSE(run_awaitable(store->record_audit({0, 0, "tester", AuditAction::refused, "", "", 0, "x", {}})));
  exec(postgres() ? "DROP TRIGGER refuse_audit ON audit" : "DROP TRIGGER refuse_audit");
  // The store goes on: the same transition now lands, with its entries.
  EXPECT_TRUE(run_awaitable(store->transition({id, Event::start, "tester", "because"})));
  EXPECT_EQ(state_of(id), State::running);
  EXPECT_EQ(rows("history"), history_before + 1);
  EXPECT_EQ(rows("audit"), audit_before + 1);
}

TEST_P(StoreTest, RepeatedDeliveryReturnsTheOriginalAnswerAndCreatesNothing) {
  auto first = ingest(ingest_request("github:dup", {new_deployment("staging", "aaaaaaa")}));
  auto again = ingest(ingest_request("github:dup", {new_deployment("staging", "bbbbbbb")}));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.response.status, first.response.status);
  EXPECT_EQ(again.response.body, first.response.body);
  EXPECT_EQ(run_awaitable(store->deployments({}))->size(), 1u);
}

TEST_P(StoreTest, NewerVersionSupersedesWaitingOnesButNotRunningOnes) {
  auto a = ingest(ingest_request("k1", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  ASSERT_TRUE(transition(a, Event::start).applied);
  auto b = ingest(ingest_request("k2", {new_deployment("staging", "bbbbbbb")})).deployments[0].id;
  auto p = ingest(ingest_request("k3", {new_deployment("production", "bbbbbbb", State::pending_approval)})).deployments[0].id;
  auto c = ingest(ingest_request("k4", {new_deployment("staging", "ccccccc")}));
  EXPECT_EQ(state_of(a), State::running);        // started: never superseded
  EXPECT_EQ(state_of(b), State::superseded);
  EXPECT_EQ(state_of(p), State::pending_approval);  // other environment untouched
  EXPECT_EQ(c.deployments[0].superseded, std::vector<std::int64_t>{b});
  auto hist = (*run_awaitable(store->deployment(b, true)))->history;
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(hist[1].to, State::superseded);
  EXPECT_NE(hist[1].reason.find("ccccccc"), std::string::npos);
}

TEST_P(StoreTest, SameVersionAlreadyWaitingIsReused) {
  auto a = ingest(ingest_request("k1", {new_deployment("staging", "aaaaaaa")}));
  auto b = ingest(ingest_request("k2", {new_deployment("staging", "aaaaaaa")}));
  EXPECT_TRUE(b.deployments[0].reused);
  EXPECT_EQ(b.deployments[0].id, a.deployments[0].id);
  EXPECT_EQ(run_awaitable(store->deployments({}))->size(), 1u);
}

TEST_P(StoreTest, TransitionsFollowTheStateMachineAndStampTimes) {
  auto id = ingest(ingest_request("k", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  EXPECT_FALSE(transition(id, Event::succeed).applied);  // queued cannot succeed
  clock->advance(std::chrono::seconds(5));
  EXPECT_TRUE(transition(id, Event::start).applied);
  EXPECT_FALSE(transition(id, Event::start).applied);  // never claimed twice
  clock->advance(std::chrono::seconds(7));
  auto done = run_awaitable(store->transition({id, Event::succeed, "shipgate", "deployed", nlohmann::json{{"k", 1}}}));
  ASSERT_TRUE(done && done->applied);
  auto d = *run_awaitable(store->deployment(id, true));
  EXPECT_EQ(d->state, State::succeeded);
  EXPECT_EQ(d->started_ms, 1'700'000'005'000);
  EXPECT_EQ(d->finished_ms, 1'700'000'012'000);
  EXPECT_EQ(d->message, "deployed");
  EXPECT_EQ(d->result["k"], 1);
  EXPECT_EQ(d->history.size(), 3u);
  auto missing = run_awaitable(store->transition({9999, Event::start}));
  EXPECT_FALSE(missing);
}

TEST_P(StoreTest, NextToRunPrefersOrphanedRunningThenOldestQueued) {
  auto a = ingest(ingest_request("k1", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  ingest(ingest_request("k2", {new_deployment("production", "bbbbbbb")}));
  EXPECT_EQ((*run_awaitable(store->next_to_run("planera", "staging")))->id, a);
  transition(a, Event::start);
  EXPECT_EQ((*run_awaitable(store->next_to_run("planera", "staging")))->id, a);  // running one first (resume)
  transition(a, Event::succeed);
  EXPECT_FALSE(*run_awaitable(store->next_to_run("planera", "staging")));
  EXPECT_EQ(run_awaitable(store->lanes_with_work())->size(), 1u);
}

// SQLite admits one daemon (a lock file); PostgreSQL admits replicas, which see each other's writes.
TEST_P(StoreTest, SurvivesReopenAndAdmitsASecondOpenerOnlyOnPostgres) {
  auto id = ingest(ingest_request("k1", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  if (postgres()) {
    auto second = under->open("replica-b");
    ASSERT_TRUE(second);
    EXPECT_EQ((*run_awaitable(second->deployment(id, false)))->version, "aaaaaaa");
    EXPECT_TRUE(second->shared());
  } else {
    auto second = open_sqlite_store({under->sqlite_path()}, clock);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), make_error_code(StoreErrc::in_use));
    EXPECT_FALSE(store->shared());
  }
  reopen();
  EXPECT_EQ((*run_awaitable(store->deployment(id, false)))->version, "aaaaaaa");
  EXPECT_TRUE(ingest(ingest_request("k1", {})).duplicate);
}

TEST_P(StoreTest, ConcurrentWritesShareCommitsAndAllLand) {
  boost::asio::io_context ioc;
  constexpr int kWrites = 300;
  std::atomic<int> ok{0};
  for (int i = 0; i < kWrites; ++i)
    boost::asio::co_spawn(ioc, ingest_one(*store, i, ok), boost::asio::detached);
  auto guard = boost::asio::make_work_guard(ioc);
  std::thread t([&] { ioc.run(); });
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return rows("deliveries") == kWrites; }));
  guard.reset();
  t.join();
  EXPECT_EQ(ok, kWrites);
}

TEST_P(StoreTest, FilterByEnvironmentStateAndPage) {
  for (int i = 0; i < 5; ++i) ingest(ingest_request("k" + std::to_string(i), {new_deployment("e" + std::to_string(i % 2), "v" + std::to_string(i))}));
  EXPECT_EQ(run_awaitable(store->deployments({"planera", "e0", {}, 50, 0}))->size(), 3u);
  auto page = *run_awaitable(store->deployments({"", "", {}, 2, 0}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_GT(page[0].id, page[1].id);  // newest first
  auto next = *run_awaitable(store->deployments({"", "", {}, 2, page[1].id}));
  EXPECT_LT(next[0].id, page[1].id);
  EXPECT_EQ(run_awaitable(store->deployments({"", "", {State::superseded}, 50, 0}))->size(), 3u);
}

TEST_P(StoreTest, ARollbackByHandThatSucceededCountsAsTheVersionRolledBack) {
  const auto good = ingest(ingest_request("r1", {new_deployment("staging", "aaaaaaa")})).deployments[0].id;
  ASSERT_TRUE(transition(good, Event::start).applied);
  ASSERT_TRUE(transition(good, Event::succeed).applied);
  auto back = new_deployment("staging", "aaaaaaa");
  back.trigger = Trigger::rollback;
  const auto rollback = ingest(ingest_request("r2", {back})).deployments[0].id;
  ASSERT_TRUE(transition(rollback, Event::start).applied);
  ASSERT_TRUE(transition(rollback, Event::succeed).applied);
  std::map<std::string, std::int64_t> finals;
  for (const auto& c : *run_awaitable(store->state_counts()))
    if (c.project == "planera" && c.environment == "staging" && is_final(c.state)) finals[std::string(to_string(c.state))] += c.count;
  EXPECT_EQ(finals["succeeded"], 1);
  EXPECT_EQ(finals["rolled_back"], 1) << "the rollback's success is the end of the version it replaced";
}
