// Webhooks ingested together (PgWrites::ingest_batch) leave the database exactly as ingesting them one
// after the other does: the same answers, deployments, history, audit, outbox events, counts and
// marks, row for row. Two databases on one real server, the same webhooks, compared table by table.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <regex>

#include "store/postgres/pg_ingest_queue.hpp"
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
using Params = std::vector<std::optional<std::string>>;

namespace {

NewDeployment deployment(const std::string& environment, const std::string& version, Trigger trigger = Trigger::push,
                         State initial = State::queued) {
  NewDeployment d;
  d.project = "planera";
  d.environment = environment;
  d.version = version;
  d.sha = std::string(40, version.back());
  d.ref = "refs/tags/" + version;
  d.images = {{"backend", "ghcr.io/acme/backend:" + version}};
  d.trigger = trigger;
  d.actor = "octocat";
  d.initial = initial;
  d.reason = to_string(trigger);
  if (initial == State::pending_approval) d.expires_ms = 1'900'000'000'000;
  return d;
}

IngestRequest request(const std::string& key, std::vector<NewDeployment> deployments) {
  IngestRequest r;
  r.delivery_key = key;
  r.source = "github push acme/planera";
  r.deployments = std::move(deployments);
  r.respond = [](const std::vector<IngestedDeployment>& created) {
    std::string out;
    for (const auto& c : created)
      out += std::to_string(c.id) + (c.reused ? " reused" : "") + (c.skipped.empty() ? "" : " skipped: " + c.skipped) + ";";
    return StoredResponse{202, out};
  };
  return r;
}

// The webhooks of the comparison: supersedes in one environment, others beside it, an older semantic
// version skipped, a version marked bad and then pushed, the same version twice (reused), one waiting
// for approval, an override with its audit entry, a delivery seen before and one sent twice.
std::vector<IngestRequest> webhooks() {
  std::vector<IngestRequest> out;
  out.push_back(request("github:seen-before", {deployment("staging", "v0.9.0")}));
  out.push_back(request("github:a", {deployment("staging", "v1.0.0")}));
  out.push_back(request("github:b", {deployment("staging", "v1.1.0"), deployment("qa", "v1.1.0")}));
  out.push_back(request("github:c", {deployment("staging", "v1.1.0")}));
  out.push_back(request("github:d", {deployment("production", "v1.5.0")}));
  out.push_back(request("github:e", {deployment("production", "v2.5.0", Trigger::promotion, State::pending_approval)}));
  auto marking = request("github:f", {});
  marking.mark_bad.push_back({"planera", "qa", "v1.2.0", std::string(40, '0'), 0, 7, "broke checkout", "alice"});
  out.push_back(std::move(marking));
  out.push_back(request("github:g", {deployment("qa", "v1.2.0")}));
  auto forced = request("github:h", {deployment("qa", "v1.2.0", Trigger::override_)});
  forced.audit.push_back({0, 0, "alice", AuditAction::override_, "planera", "qa", 0, "hotfix", {{"why", "customers"}}});
  out.push_back(std::move(forced));
  out.push_back(request("github:a", {deployment("staging", "v1.0.0")}));
  out.push_back(request("github:i", {deployment("staging", "v1.3.0")}));
  // A GitHub Actions job waiting beside a pending promotion, with GitHub's ids in its result.
  auto job = deployment("production", "v2.5.0", Trigger::github_actions, State::pending_approval);
  job.result = {{"github", {{"run_id", 9001}, {"deployment_id", 555}, {"environment", "Production EU"}}}};
  out.push_back(request("github:j", {job}));
  return out;
}

asio::awaitable<std::unique_ptr<PgConnection>> database(std::string server, std::string name) {
  auto admin = co_await pg_connect(server);
  if (!admin) co_return nullptr;
  const std::string create = "CREATE DATABASE " + name;
  const auto created = co_await admin->execute(create);
  EXPECT_TRUE(created) << (created ? "" : created.error().message);
  const auto uri = std::regex_replace(server, std::regex("/postgres\\?"), "/" + name + "?");
  auto c = co_await pg_migrated(uri);
  if (!c) co_return nullptr;
  // Production already runs v2.0.0: an automatic push of an older semantic version is skipped there.
  const std::string seed =
      "INSERT INTO deployments (project, environment, state, version, sha, ref, images, trigger, actor, created_at, "
      "updated_at, finished_at) VALUES ('planera', 'production', 'succeeded', 'v2.0.0', 'x', 'r', '{}', 'push', 'o', 1, 1, 1)";
  const auto seeded = co_await c->execute(seed);
  EXPECT_TRUE(seeded) << (seeded ? "" : seeded.error().message);
  co_return c;
}

// Every table an ingest writes, as text in row order.
asio::awaitable<std::string> contents(PgConnection& c) {
  const char* tables[] = {
      "SELECT string_agg(concat_ws('|', id, project, environment, state, version, sha, ref, images, trigger, actor, "
      "delivery, created_at, updated_at, finished_at, message, priority, policy, expires_at, result), E'\\n' ORDER BY id) FROM deployments",
      "SELECT string_agg(concat_ws('|', deployment_id, at, from_state, to_state, actor, reason), E'\\n' ORDER BY id) FROM history",
      "SELECT string_agg(concat_ws('|', at, actor, action, project, environment, deployment_id, reason, details), E'\\n' "
      "ORDER BY id) FROM audit",
      "SELECT string_agg(concat_ws('|', kind, deployment_id, event, next_at), E'\\n' ORDER BY id) FROM outbox",
      "SELECT string_agg(concat_ws('|', project, environment, state, n), E'\\n' ORDER BY project, environment, state) FROM final_counts",
      "SELECT string_agg(concat_ws('|', key, source, status, body), E'\\n' ORDER BY key) FROM deliveries",
      "SELECT string_agg(concat_ws('|', project, environment, version, sha, deployment_id, reason, actor), E'\\n' "
      "ORDER BY version) FROM bad_versions"};
  std::string out;
  for (const char* sql : tables) {
    Params none;
    std::string statement = sql;
    auto r = co_await c.query(statement, none);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    out += statement.substr(statement.rfind("FROM")) + ":\n" + (r ? r->text(0, 0) : "") + "\n";
  }
  co_return out;
}

std::string describe(const IngestResult& r) {
  std::string s = (r.duplicate ? "duplicate " : "") + std::to_string(r.response.status) + " " + r.response.body;
  for (const auto& d : r.deployments) {
    s += " [" + std::to_string(d.id) + " " + d.environment + " " + std::string(to_string(d.state)) + " " + d.version;
    for (auto id : d.superseded) s += " supersedes " + std::to_string(id);
    s += "]";
  }
  return s;
}

asio::awaitable<void> compare(std::string server) {
  auto one_by_one = co_await database(server, "one_by_one");
  auto batched = co_await database(server, "batched");
  if (!one_by_one || !batched) co_return;
  auto clock = std::make_shared<ManualClock>(from_epoch_ms(1'800'000'000'000));
  PgWrites writes{clock, true};
  auto all = webhooks();
  // The first delivery was committed before: both databases have it.
  const auto before_a = co_await writes.ingest(*one_by_one, all[0]);
  const auto before_b = co_await writes.ingest(*batched, all[0]);
  EXPECT_TRUE(before_a && before_b);

  std::vector<std::string> expected, got;
  for (const auto& r : all) {
    auto result = co_await writes.ingest(*one_by_one, r);
    EXPECT_TRUE(result) << r.delivery_key;
    expected.push_back(result ? describe(*result) : "failed");
  }
  std::vector<const IngestRequest*> requests;
  for (const auto& r : all) requests.push_back(&r);
  auto together = co_await writes.ingest_batch(*batched, requests);
  EXPECT_TRUE(together) << "the batch was rolled back";
  if (!together) co_return;
  for (const auto& r : *together) got.push_back(describe(r));
  EXPECT_EQ(got, expected);
  const auto want = co_await contents(*one_by_one);
  const auto have = co_await contents(*batched);
  EXPECT_EQ(have, want);
  // The comparison is not vacuous: supersedes, a skip, a reuse and both duplicates happened.
  EXPECT_NE(want.find("superseded by deployment"), std::string::npos);
  EXPECT_NE(want.find("is marked bad in qa"), std::string::npos);
  EXPECT_NE(want.find("is older than v2.0.0"), std::string::npos);
  EXPECT_NE(expected[3].find("reused"), std::string::npos) << expected[3];
  EXPECT_EQ(expected[0].rfind("duplicate", 0), 0u) << expected[0];
  EXPECT_EQ(expected[9].rfind("duplicate", 0), 0u) << expected[9];
  EXPECT_NE(want.find("Production EU"), std::string::npos) << "the job's result is stored";
  EXPECT_EQ(expected[11].find("reused"), std::string::npos) << "a job never stands in for the waiting promotion";
}

}  // namespace

TEST(PgIngestBatch, WebhooksIngestedTogetherLeaveWhatIngestingThemOneByOneLeaves) {
  Postgres pg;
  run_awaitable(compare(pg.uri()));
}

// Through the queue, a webhook the batch cannot take (a string PostgreSQL refuses) fails alone: the
// batch is rolled back and the others are ingested one by one.
TEST(PgIngestBatch, AWebhookTheDatabaseRefusesFailsAloneAndTheOthersAreStored) {
  Postgres pg;
  run_awaitable([](std::string uri) -> asio::awaitable<void> { co_await pg_migrated(uri); }(pg.uri()));
  asio::io_context ioc;
  auto strand = asio::make_strand(ioc.get_executor());
  auto pool = std::make_shared<PgPool>(strand, pg.uri(), 4);
  auto clock = std::make_shared<ManualClock>(from_epoch_ms(1'800'000'000'000));
  PgWrites writes{clock, true};
  PgIngestQueue queue(strand, pool, writes);
  std::vector<IngestRequest> sent;
  for (int i = 0; i < 6; ++i) {
    auto d = deployment(i % 2 ? "staging" : "qa", "v1." + std::to_string(i) + ".0");
    if (i == 3) d.actor = "bad\xff\xfe";  // not UTF-8: PostgreSQL refuses it, the JSON of a batch too
    sent.push_back(request("github:q" + std::to_string(i), {d}));
  }
  std::vector<std::optional<Result<IngestResult>>> results(sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i)
    asio::co_spawn(strand, queue.submit(sent[i]), [&results, i](std::exception_ptr e, Result<IngestResult> r) {
      EXPECT_FALSE(e);
      results[i].emplace(std::move(r));
    });
  ioc.run();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    ASSERT_TRUE(results[i]) << i;
    EXPECT_EQ(results[i]->has_value(), i != 3) << i;
    if (results[i]->has_value()) {
      EXPECT_EQ((*results[i])->deployments.size(), 1u) << i;
    }
  }
}
