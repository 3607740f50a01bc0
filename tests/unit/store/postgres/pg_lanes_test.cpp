// Lane leases against a real PostgreSQL: one holder at a time, taken over only after the holder
// stopped renewing, and a stale holder's fenced writes change nothing.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/postgres/pg_lanes.hpp"
#include "store/postgres/pg_schema.hpp"
#include "tests/support/pg_session.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/run.hpp"

using namespace shipgate::orchestration;
using shipgate::testing::pg_connect;
using shipgate::testing::Postgres;
using shipgate::testing::run_awaitable;
namespace asio = boost::asio;

namespace {

asio::awaitable<void> pause(Millis ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, ms);
  co_await t.async_wait(asio::use_awaitable);
}

// A write of the kind a running deployment makes, fenced by the lease: how many rows it changed.
asio::awaitable<std::int64_t> fenced_write(PgConnection& c, const LaneLease& lease, std::string message) {
  const std::string sql = "UPDATE deployments SET message = $5 WHERE id = 1 AND " + lane_fence_condition(1);
  std::vector<std::optional<std::string>> params{lease.project, lease.environment, lease.holder,
                                                 std::to_string(lease.fence), std::move(message)};
  auto r = co_await c.query(sql, params);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  co_return r ? r->affected() : -1;
}

asio::awaitable<void> two_replicas(std::string uri) {
  auto a = co_await pg_connect(uri);
  auto b = co_await pg_connect(uri);
  if (!a || !b) co_return;
  const auto migrated = co_await migrate_pg(*a);
  EXPECT_EQ(migrated, "");
  auto seeded = co_await a->execute(
      "INSERT INTO deployments (project, environment, state, version, sha, ref, images, trigger, actor, created_at, "
      "updated_at) VALUES ('planera', 'production', 'running', 'v1', 'sha', 'ref', '{}', 'push', 'x', 0, 0)");
  EXPECT_TRUE(seeded);

  // Generous margins: a busy test machine may oversleep a pause by hundreds of milliseconds.
  const Millis ttl(2'000);
  auto first = co_await claim_lane(*a, "planera", "production", "replica-a", ttl);
  EXPECT_TRUE(first && *first);
  if (!first || !*first) co_return;
  const LaneLease lease_a = **first;
  EXPECT_EQ(lease_a.fence, 1);
  // While A renews, B cannot take the lane.
  auto refused = co_await claim_lane(*b, "planera", "production", "replica-b", ttl);
  EXPECT_TRUE(refused && !*refused);
  co_await pause(Millis(1'200));
  auto renewed = co_await renew_lane(*a, lease_a, ttl);
  EXPECT_TRUE(renewed && *renewed);
  co_await pause(Millis(1'200));
  auto still = co_await claim_lane(*b, "planera", "production", "replica-b", ttl);
  EXPECT_TRUE(still && !*still) << "the renewal kept the lease";
  const auto wrote_a = co_await fenced_write(*a, lease_a, "written by a");
  EXPECT_EQ(wrote_a, 1);

  // A stops renewing (paused, partitioned): once its lease runs out B takes over with a new fence.
  co_await pause(Millis(2'500));
  auto taken = co_await claim_lane(*b, "planera", "production", "replica-b", ttl);
  EXPECT_TRUE(taken && *taken);
  if (!taken || !*taken) co_return;
  const LaneLease lease_b = **taken;
  EXPECT_EQ(lease_b.fence, 2);
  // A wakes up: it cannot renew, and its writes change nothing; B's do.
  auto lost = co_await renew_lane(*a, lease_a, ttl);
  EXPECT_TRUE(lost && !*lost);
  const auto stale = co_await fenced_write(*a, lease_a, "stale write by a");
  EXPECT_EQ(stale, 0);
  const auto wrote_b = co_await fenced_write(*b, lease_b, "written by b");
  EXPECT_EQ(wrote_b, 1);
  auto message = co_await b->query("SELECT message FROM deployments WHERE id = 1");
  EXPECT_TRUE(message && message->text(0, 0) == "written by b");

  // A replica that drains gives the lane up at once: the other takes it without waiting out the lease.
  auto released = co_await release_lane(*b, lease_b);
  EXPECT_TRUE(released && *released);
  auto again = co_await claim_lane(*a, "planera", "production", "replica-a2", Millis(60'000));
  EXPECT_TRUE(again && *again);
  if (!again || !*again) co_return;
  EXPECT_EQ((*again)->fence, 3);
  auto not_held = co_await release_lane(*b, lease_b);
  EXPECT_TRUE(not_held && !*not_held) << "no longer b's";
}

}  // namespace

TEST(PgLanes, OneHolderAtATimeAndAStaleHoldersWritesChangeNothing) {
  Postgres pg;
  run_awaitable(two_replicas(pg.uri()));
}
