// The PostgreSQL store's ingest against a real server: the same rules as SQLite (supersede, skip an
// older semantic version, answer a redelivery as before), and two replicas taking the same delivery at
// once create one deployment between them.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/postgres/pg_lanes.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/postgres/pg_writes.hpp"
#include "tests/support/pg_session.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::pg_connect;
using shipgate::testing::pg_migrated;
using shipgate::testing::Postgres;
using shipgate::testing::run_awaitable;
namespace asio = boost::asio;

namespace {

NewDeployment push_of(const std::string& version, Trigger trigger = Trigger::push) {
  NewDeployment d;
  d.project = "planera";
  d.environment = "staging";
  d.version = version;
  d.sha = std::string(40, version.back());
  d.ref = "refs/tags/" + version;
  d.images = {{"backend", "ghcr.io/acme/backend:" + version}};
  d.trigger = trigger;
  d.actor = "octocat";
  d.reason = "push";
  return d;
}

IngestRequest request(const std::string& key, NewDeployment d) {
  IngestRequest r;
  r.delivery_key = key;
  r.source = "github push acme/planera";
  r.deployments.push_back(std::move(d));
  r.respond = [](const std::vector<IngestedDeployment>& created) {
    std::string ids;
    for (const auto& c : created) ids += (ids.empty() ? "" : ",") + (c.skipped.empty() ? std::to_string(c.id) : "skipped");
    return StoredResponse{202, "{\"created\":\"" + ids + "\"}"};
  };
  return r;
}

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(from_epoch_ms(1'800'000'000'000));
  PgWrites writes{clock, true};
};

asio::awaitable<std::int64_t> count(PgConnection& c, std::string sql) {
  std::vector<std::optional<std::string>> none;
  auto r = co_await c.query(std::move(sql), std::move(none));
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  co_return r ? r->int64(0, 0) : -1;
}

// A migrated database with one deployment ingested: the connection and the deployment's id (null and
// 0 after a failure the test already reported).
struct Seeded {
  std::unique_ptr<PgConnection> c;
  std::int64_t id = 0;
};
asio::awaitable<Seeded> seeded(std::string uri, Fixture& f, std::string key, NewDeployment d) {
  Seeded out;
  out.c = co_await pg_migrated(uri);
  if (!out.c) co_return out;
  const auto req = request(key, std::move(d));
  auto created = co_await f.writes.ingest(*out.c, req);
  EXPECT_TRUE(created && !created->deployments.empty());
  if (created && !created->deployments.empty()) out.id = created->deployments[0].id;
  else out.c.reset();
  co_return out;
}

asio::awaitable<void> rules(std::string uri) {
  auto c = co_await pg_migrated(uri);
  if (!c) co_return;
  Fixture f;
  const auto d1 = request("github:acme/planera:d1", push_of("v1.0.0"));
  auto first = co_await f.writes.ingest(*c, d1);
  EXPECT_TRUE(first && !first->duplicate && first->deployments.size() == 1);
  if (!first || first->deployments.empty()) co_return;
  const auto id = first->deployments[0].id;
  EXPECT_EQ(first->response.body, "{\"created\":\"" + std::to_string(id) + "\"}");
  // The creation is in the history, the audit log and the outbox, as in the SQLite store.
  const std::string history = "SELECT count(*) FROM history WHERE deployment_id = " + std::to_string(id);
  const auto n1 = co_await count(*c, history);
  EXPECT_EQ(n1, 1);
  const auto n2 = co_await count(*c, "SELECT count(*) FROM audit WHERE action = 'created'");
  EXPECT_EQ(n2, 1);
  const auto n3 = co_await count(*c, "SELECT count(*) FROM outbox WHERE event = 'queued'");
  EXPECT_EQ(n3, 1);

  // A redelivery gets the stored answer and creates nothing.
  auto again = co_await f.writes.ingest(*c, d1);
  EXPECT_TRUE(again && again->duplicate);
  if (again) {
    EXPECT_EQ(again->response.body, first->response.body);
  }
  const auto n4 = co_await count(*c, "SELECT count(*) FROM deployments");
  EXPECT_EQ(n4, 1);

  // A newer version supersedes the one still queued.
  const auto d2 = request("github:acme/planera:d2", push_of("v1.1.0"));
  auto newer = co_await f.writes.ingest(*c, d2);
  EXPECT_TRUE(newer && newer->deployments.size() == 1 && newer->deployments[0].superseded == std::vector<std::int64_t>{id});
  const auto n5 = co_await count(*c, "SELECT count(*) FROM deployments WHERE state = 'superseded'");
  EXPECT_EQ(n5, 1);
  const auto n6 = co_await count(*c, "SELECT n FROM final_counts WHERE state = 'superseded'");
  EXPECT_EQ(n6, 1);

  // A late build of an older semantic version is skipped and audited, not created.
  const auto ci1 = request("build:planera:ci-1", push_of("v1.0.5", Trigger::build));
  auto late = co_await f.writes.ingest(*c, ci1);
  EXPECT_TRUE(late && late->deployments.size() == 1);
  if (late && !late->deployments.empty()) {
    EXPECT_EQ(late->deployments[0].skipped, "version v1.0.5 is older than v1.1.0 in staging; automatic triggers never "
                                            "go back to an older version (deploy it manually to do that)");
  }
  const auto n7 = co_await count(*c, "SELECT count(*) FROM audit WHERE action = 'skipped'");
  EXPECT_EQ(n7, 1);
  const auto n8 = co_await count(*c, "SELECT count(*) FROM deployments");
  EXPECT_EQ(n8, 2);
}

asio::awaitable<void> replica(std::string uri, IngestRequest req, std::vector<IngestResult>* out) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  Fixture f;
  auto r = co_await f.writes.ingest(*c, req);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (r) out->push_back(std::move(*r));
}

asio::awaitable<void> transitions(std::string uri) {
  Fixture f;
  auto [c, id] = co_await seeded(uri, f, "github:acme/planera:t1", push_of("v3.0.0"));
  if (!c) co_return;

  // The replica holding the lane moves it; one whose lease was taken over is refused.
  const std::string take = "INSERT INTO lanes (project, environment, holder, fence, expires_at) VALUES "
                           "('planera', 'staging', 'replica-b', 2, 9999999999999)";
  const auto taken = co_await c->execute(take);
  EXPECT_TRUE(taken);
  const LaneLease stale{"planera", "staging", "replica-a", 1};
  const LaneLease holder{"planera", "staging", "replica-b", 2};
  TransitionRequest start{id, Event::start, "shipgate", "started"};
  auto refused = co_await f.writes.transition(*c, start, &stale);
  EXPECT_TRUE(refused && !refused->applied && refused->state == State::queued);
  auto started = co_await f.writes.transition(*c, start, &holder);
  EXPECT_TRUE(started && started->applied && started->state == State::running);

  // Success with a promotion created in the same transaction; a second success is refused.
  TransitionRequest done{id, Event::succeed, "shipgate", "deployed v3.0.0"};
  done.result = nlohmann::json{{"targets", nlohmann::json::array()}};
  auto promoted = push_of("v3.0.0", Trigger::promotion);
  promoted.environment = "production";
  done.then_create.push_back(promoted);
  auto succeeded = co_await f.writes.transition(*c, done, &holder);
  EXPECT_TRUE(succeeded && succeeded->applied && succeeded->created.size() == 1);
  auto again = co_await f.writes.transition(*c, done, &holder);
  EXPECT_TRUE(again && !again->applied && again->state == State::succeeded);
  const std::string history = "SELECT count(*) FROM history WHERE deployment_id = " + std::to_string(id);
  const auto steps = co_await count(*c, history);
  EXPECT_EQ(steps, 3);  // queued, running, succeeded
  const auto finals = co_await count(*c, "SELECT n FROM final_counts WHERE state = 'succeeded'");
  EXPECT_EQ(finals, 1);
  const auto production = co_await count(*c, "SELECT count(*) FROM deployments WHERE environment = 'production'");
  EXPECT_EQ(production, 1);
  const auto finished = co_await count(*c, "SELECT count(*) FROM deployments WHERE finished_at IS NOT NULL AND "
                                           "message = 'deployed v3.0.0' AND result LIKE '%targets%'");
  EXPECT_EQ(finished, 1);
  TransitionRequest unknown{999, Event::start, "shipgate", ""};
  auto missing = co_await f.writes.transition(*c, unknown);
  EXPECT_FALSE(missing);
}

NewDeployment needing_approval(const std::string& version, std::int64_t expires_ms) {
  auto d = push_of(version, Trigger::promotion);
  d.environment = "production";
  d.initial = State::pending_approval;
  d.expires_ms = expires_ms;
  return d;
}

asio::awaitable<void> approve_as(std::string uri, std::int64_t id, std::string reviewer, std::vector<ApprovalOutcome>* out) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  Fixture f;
  const ApprovalRequest req{id, std::move(reviewer), "looks good", 2};
  auto r = co_await f.writes.approve(*c, req);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (r) out->push_back(*r);
}

asio::awaitable<std::int64_t> seed(std::string uri, NewDeployment d, std::string key) {
  Fixture f;
  auto [c, id] = co_await seeded(std::move(uri), f, std::move(key), std::move(d));
  co_return id;
}

asio::awaitable<void> approvals_and_expiry(std::string uri, std::int64_t id, std::int64_t stale) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  Fixture f;
  // Once queued, another approval changes nothing.
  const ApprovalRequest again{id, "alice", "twice", 2};
  auto late = co_await f.writes.approve(*c, again);
  EXPECT_TRUE(late && late->kind == ApprovalOutcome::Kind::not_pending && late->state == State::queued);
  const auto approved_steps = co_await count(*c, "SELECT count(*) FROM history WHERE to_state = 'queued'");
  EXPECT_EQ(approved_steps, 1) << "the last approval queued it once";
  // Expiry: only the deployment whose time passed, once.
  auto expired = co_await f.writes.expire_due(*c, epoch_ms(f.clock->now()));
  EXPECT_TRUE(expired && *expired == std::vector<std::int64_t>{stale});
  auto none = co_await f.writes.expire_due(*c, epoch_ms(f.clock->now()));
  EXPECT_TRUE(none && none->empty());
}

asio::awaitable<void> progress_and_outbox(std::string uri) {
  Fixture f;
  auto [c, id] = co_await seeded(uri, f, "github:acme/planera:o1", push_of("v6.0.0"));
  if (!c) co_return;

  // Progress of a running deployment lands only while the writer's lease holds the lane.
  const auto taken = co_await c->execute("INSERT INTO lanes (project, environment, holder, fence, expires_at) VALUES "
                                         "('planera', 'staging', 'replica-b', 2, 9999999999999)");
  EXPECT_TRUE(taken);
  const LaneLease stale{"planera", "staging", "replica-a", 1};
  const LaneLease holder{"planera", "staging", "replica-b", 2};
  const nlohmann::json progress = {{"targets", nlohmann::json::array({{{"ok", true}}})}};
  auto lost = co_await f.writes.record_result(*c, id, progress, &stale);
  EXPECT_TRUE(lost && !*lost);
  auto kept = co_await f.writes.record_result(*c, id, progress, &holder);
  EXPECT_TRUE(kept && *kept);
  const auto waited = co_await f.writes.set_waiting_reason(*c, id, "waiting for image x");
  EXPECT_TRUE(waited);
  const auto stored = co_await count(*c, "SELECT count(*) FROM deployments WHERE result LIKE '%targets%' AND "
                                         "waiting_reason = 'waiting for image x'");
  EXPECT_EQ(stored, 1);

  // The creation's event becomes a notification delivery, which is delivered, and both are pruned.
  const auto event = co_await count(*c, "SELECT id FROM outbox WHERE kind = 'event'");
  OutboxItem notice;
  notice.kind = OutboxKind::notify;
  notice.destination = "https://hooks.example.com/x";
  notice.deployment = id;
  notice.event = "queued";
  const std::vector<std::int64_t> events{event};
  const std::vector<OutboxItem> deliveries{notice};
  const auto expanded = co_await f.writes.outbox_expand(*c, events, deliveries);
  EXPECT_TRUE(expanded);
  const auto delivery = co_await count(*c, "SELECT id FROM outbox WHERE kind = 'notify'");
  const OutboxAttempt attempt{delivery, id, OutboxOutcome::delivered, "", 0, 0};
  const auto recorded = co_await f.writes.outbox_record(*c, attempt);
  EXPECT_TRUE(recorded);
  const auto open_rows = co_await count(*c, "SELECT count(*) FROM outbox WHERE done_at IS NULL");
  EXPECT_EQ(open_rows, 0);
  auto pruned = co_await f.writes.outbox_prune(*c, epoch_ms(f.clock->now()) + 1);
  EXPECT_TRUE(pruned && *pruned == 2);
}

}  // namespace

TEST(PgWrites, ProgressIsFencedAndTheOutboxExpandsRecordsAndPrunes) {
  Postgres pg;
  run_awaitable(progress_and_outbox(pg.uri()));
}

TEST(PgWrites, ConcurrentApprovalsCountOnceEachAndTheLastQueuesItAndExpiryEndsOnlyTheOverdue) {
  Postgres pg;
  const auto now = 1'800'000'000'000LL;
  const auto id = run_awaitable(seed(pg.uri(), needing_approval("v5.0.0", now + 3'600'000), "github:x:a"));
  ASSERT_GT(id, 0);
  // Alice and Bob approve at the same moment, on two replicas.
  asio::io_context ioc;
  std::vector<ApprovalOutcome> outcomes;
  asio::co_spawn(ioc, approve_as(pg.uri(), id, "alice", &outcomes), asio::detached);
  asio::co_spawn(ioc, approve_as(pg.uri(), id, "bob", &outcomes), asio::detached);
  ioc.run();
  ASSERT_EQ(outcomes.size(), 2u);
  // Each was counted; whichever came second saw both and queued the deployment.
  EXPECT_EQ(outcomes[0].kind, ApprovalOutcome::Kind::counted);
  EXPECT_EQ(outcomes[1].kind, ApprovalOutcome::Kind::counted);
  const auto& last = outcomes[0].approvals == 2 ? outcomes[0] : outcomes[1];
  const auto& first = outcomes[0].approvals == 2 ? outcomes[1] : outcomes[0];
  EXPECT_EQ(first.approvals, 1);
  EXPECT_EQ(first.state, State::pending_approval);
  EXPECT_EQ(last.approvals, 2);
  EXPECT_EQ(last.state, State::queued);
  auto stale = needing_approval("v5.1.0", now - 1);
  stale.environment = "qa";
  const auto overdue = run_awaitable(seed(pg.uri(), stale, "github:x:b"));
  run_awaitable(approvals_and_expiry(pg.uri(), id, overdue));
}

TEST(PgWrites, TransitionsFollowTheStateMachineAndTheLaneFence) {
  Postgres pg;
  run_awaitable(transitions(pg.uri()));
}

TEST(PgWrites, IngestAppliesTheStoreRules) {
  Postgres pg;
  run_awaitable(rules(pg.uri()));
}

TEST(PgWrites, TwoReplicasTakingTheSameDeliveryAtOnceCreateOneDeployment) {
  Postgres pg;
  run_awaitable([](std::string uri) -> asio::awaitable<void> { co_await pg_migrated(uri); }(pg.uri()));
  asio::io_context ioc;
  std::vector<IngestResult> results;
  for (int i = 0; i < 4; ++i)
    asio::co_spawn(ioc, replica(pg.uri(), request("github:acme/planera:same", push_of("v2.0.0")), &results), asio::detached);
  ioc.run();
  ASSERT_EQ(results.size(), 4u);
  int fresh = 0;
  for (const auto& r : results) fresh += r.duplicate ? 0 : 1;
  EXPECT_EQ(fresh, 1);
  for (const auto& r : results) EXPECT_EQ(r.response.body, results[0].response.body);
  std::vector<std::int64_t> counted;
  run_awaitable([](std::string uri, std::vector<std::int64_t>* n) -> asio::awaitable<void> {
    auto c = co_await pg_connect(uri);
    if (!c) co_return;
    const auto rows = co_await count(*c, "SELECT count(*) FROM deployments");
    n->push_back(rows);
  }(pg.uri(), &counted));
  EXPECT_EQ(counted, std::vector<std::int64_t>{1});
}

namespace {

// Replica A starts the deployment (its transaction holds the row) while replica B's ingest of a newer
// version decides to supersede it; A commits first.
asio::awaitable<void> start_while_superseding(std::string uri, std::vector<IngestResult>* b_result, std::string* state) {
  Fixture f;
  auto [a, id] = co_await seeded(uri, f, "github:acme/planera:s1", push_of("v6.0.0"));
  if (!a) co_return;
  const std::string begin = "BEGIN", commit = "COMMIT";
  co_await a->execute(begin);
  const std::string start = "UPDATE deployments SET state = 'running' WHERE id = " + std::to_string(id);
  const std::vector<std::optional<std::string>> none;
  auto started = co_await a->query(start, none);
  EXPECT_TRUE(started);
  const auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, replica(uri, request("github:acme/planera:s2", push_of("v6.1.0")), b_result), asio::detached);
  // B reads the queued deployment, decides to supersede it, and waits on A's row lock: commit only then.
  const std::string waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted";
  asio::steady_timer poll(executor);
  for (int i = 0; i < 1000; ++i) {
    auto blocked = co_await a->query(waiting, none);
    if (blocked && blocked->int64(0, 0) > 0) break;
    poll.expires_after(std::chrono::milliseconds(5));
    co_await poll.async_wait(asio::use_awaitable);
  }
  co_await a->execute(commit);
  const std::string read = "SELECT state FROM deployments WHERE id = " + std::to_string(id);
  auto row = co_await a->query(read, none);
  if (row) *state = row->text(0, 0);
}

}  // namespace

TEST(PgWrites, ADeploymentAnotherReplicaStartedMeanwhileIsNeverSuperseded) {
  Postgres pg;
  std::vector<IngestResult> b;
  std::string state;
  asio::io_context ioc;
  asio::co_spawn(ioc, start_while_superseding(pg.uri(), &b, &state), asio::detached);
  ioc.run();
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(b[0].deployments.size(), 1u);
  EXPECT_TRUE(b[0].deployments[0].superseded.empty());  // it was running by the time B could change it
  EXPECT_EQ(state, "running");
}
