// The PostgreSQL pool against a real server: it lends at most `size` connections, a borrower waits for
// one given back, gives up after its wait, and a pool whose connections broke in a server restart
// recovers by itself once the server is back.
#include <gtest/gtest.h>

#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/postgres/pg_pool.hpp"
#include "tests/support/postgres.hpp"

using namespace shipgate::orchestration;
using shipgate::testing::Postgres;
namespace asio = boost::asio;

namespace {

// Borrows a connection, asks the server which backend it is, holds it for `hold`, and records the answer.
asio::awaitable<void> borrow(std::shared_ptr<PgPool> pool, Millis hold, Millis wait, std::vector<std::string>* out) {
  auto lease = co_await pool->acquire(wait);
  if (!lease) {
    out->push_back("error: " + lease.error().message);
    co_return;
  }
  auto pid = co_await (*lease)->query("SELECT pg_backend_pid()");
  out->push_back(pid ? pid->text(0, 0) : "error: " + pid.error().message);
  asio::steady_timer timer(co_await asio::this_coro::executor, hold);
  co_await timer.async_wait(asio::use_awaitable);
}

std::vector<std::string> run_borrowers(std::shared_ptr<PgPool> pool, asio::io_context& ioc, int n, Millis hold, Millis wait) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) asio::co_spawn(ioc, borrow(pool, hold, wait, &out), asio::detached);
  ioc.restart();
  ioc.run();
  return out;
}

}  // namespace

TEST(PgPool, LendsAtMostItsSizeAndABorrowerWaitsForOneGivenBack) {
  Postgres pg;
  asio::io_context ioc;
  auto pool = std::make_shared<PgPool>(ioc.get_executor(), pg.uri(), 2);
  const auto seen = run_borrowers(pool, ioc, 5, Millis(50), Millis(5'000));
  ASSERT_EQ(seen.size(), 5u);
  const std::set<std::string> backends(seen.begin(), seen.end());
  EXPECT_EQ(backends.size(), 2u) << "five borrowers shared two connections";
  for (const auto& s : seen) EXPECT_EQ(s.find("error"), std::string::npos) << s;
  EXPECT_EQ(pool->open(), 2u);
  EXPECT_EQ(pool->idle(), 2u);
}

TEST(PgPool, ABorrowerGivesUpAfterItsWait) {
  Postgres pg;
  asio::io_context ioc;
  auto pool = std::make_shared<PgPool>(ioc.get_executor(), pg.uri(), 1);
  std::vector<std::string> out;
  asio::co_spawn(ioc, borrow(pool, Millis(1'000), Millis(5'000), &out), asio::detached);
  asio::co_spawn(ioc, borrow(pool, Millis(0), Millis(100), &out), asio::detached);
  ioc.run();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].find("error"), std::string::npos) << out[0];
  EXPECT_EQ(out[1], "error: no PostgreSQL connection came free within 100 ms");
}

TEST(PgPool, RecoversByItselfAfterTheServerRestarts) {
  Postgres pg;
  asio::io_context ioc;
  auto pool = std::make_shared<PgPool>(ioc.get_executor(), pg.uri(), 2);
  auto before = run_borrowers(pool, ioc, 2, Millis(10), Millis(5'000));
  ASSERT_EQ(pool->idle(), 2u);
  pg.stop();
  // While it is down: the idle connections fail and are dropped, and new ones cannot be made.
  auto down = run_borrowers(pool, ioc, 3, Millis(0), Millis(1'000));
  ASSERT_EQ(down.size(), 3u);
  for (const auto& s : down) EXPECT_EQ(s.rfind("error", 0), 0u) << s;
  EXPECT_EQ(pool->open(), 0u);
  pg.start();
  auto after = run_borrowers(pool, ioc, 2, Millis(10), Millis(5'000));
  for (const auto& s : after) EXPECT_EQ(s.find("error"), std::string::npos) << s;
  EXPECT_GE(pool->idle(), 1u);
}

namespace {

// Borrows a connection, opens a transaction and gives the connection back inside it (a borrower that
// returned early, or a ROLLBACK that failed); records the backend it had.
asio::awaitable<void> leave_in_transaction(std::shared_ptr<PgPool> pool, std::vector<std::string>* out) {
  auto lease = co_await pool->acquire(Millis(5'000));
  if (!lease) co_return;
  auto pid = co_await (*lease)->query("SELECT pg_backend_pid()");
  auto begun = co_await (*lease)->execute("BEGIN");
  out->push_back(pid && begun ? pid->text(0, 0) : "error");
}

}  // namespace

TEST(PgPool, AConnectionGivenBackInsideATransactionIsClosedNotLentAgain) {
  Postgres pg;
  asio::io_context ioc;
  auto pool = std::make_shared<PgPool>(ioc.get_executor(), pg.uri(), 1);
  std::vector<std::string> left;
  asio::co_spawn(ioc, leave_in_transaction(pool, &left), asio::detached);
  ioc.run();
  ASSERT_EQ(left.size(), 1u);
  ASSERT_NE(left[0], "error");
  EXPECT_EQ(pool->idle(), 0u) << "a connection inside a transaction went back to the idle list";
  EXPECT_EQ(pool->open(), 0u) << "its slot is free for a fresh connection";
  const auto next = run_borrowers(pool, ioc, 1, Millis(0), Millis(5'000));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0], left[0]) << "the next borrower got the connection left inside a transaction";
  EXPECT_EQ(next[0].find("error"), std::string::npos) << next[0];
}
