// The asynchronous PostgreSQL connection against a real server (a temporary cluster on loopback):
// queries with parameters, errors with their SQLSTATE, timeouts, a server that goes away and comes back,
// and the schema migrated once by replicas that start together.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "store/postgres/pg_connection.hpp"
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

asio::awaitable<void> queries(std::string uri) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  auto made = co_await c->query("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE, note TEXT)");
  EXPECT_TRUE(made) << (made ? "" : made.error().message);
  // Parameters travel apart from the SQL text: a quote in a value is data, never syntax.
  std::vector<std::optional<std::string>> rows{"o'brien", std::nullopt, "second", "x"};
  auto inserted = co_await c->query("INSERT INTO t (name, note) VALUES ($1, $2), ($3, $4) RETURNING id", rows);
  EXPECT_TRUE(inserted) << (inserted ? "" : inserted.error().message);
  if (inserted) {
    EXPECT_EQ(inserted->size(), 2);
    EXPECT_EQ(inserted->int64(0, 0), 1);
  }
  std::vector<std::optional<std::string>> name{"o'brien"};
  auto read = co_await c->query("SELECT name, note FROM t WHERE name = $1", name);
  EXPECT_TRUE(read && read->size() == 1);
  if (read && read->size() == 1) {
    EXPECT_EQ(read->text(0, 0), "o'brien");
    EXPECT_TRUE(read->is_null(0, 1));
  }
  auto updated = co_await c->query("UPDATE t SET note = 'n'");
  EXPECT_TRUE(updated && updated->affected() == 2);
  // A constraint violation is an answer with its SQLSTATE; the connection stays usable.
  std::vector<std::optional<std::string>> second{"second"};
  auto duplicate = co_await c->query("INSERT INTO t (name) VALUES ($1)", second);
  EXPECT_FALSE(duplicate);
  if (!duplicate) {
    EXPECT_EQ(duplicate.error().sqlstate, "23505");
    EXPECT_NE(duplicate.error().message.find("duplicate key"), std::string::npos) << duplicate.error().message;
    EXPECT_FALSE(duplicate.error().connection_lost);
  }
  EXPECT_TRUE(c->ok());
  auto count = co_await c->query("SELECT count(*) FROM t");
  EXPECT_TRUE(count && count->int64(0, 0) == 2);
  // A big answer arrives whole, read as the socket allows.
  auto big = co_await c->query("SELECT repeat('x', 1000) FROM generate_series(1, 5000)");
  EXPECT_TRUE(big && big->size() == 5000 && big->text(4999, 0).size() == 1000);
}

asio::awaitable<void> timeout(std::string uri) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  std::vector<std::optional<std::string>> none;
  auto slow = co_await c->query("SELECT pg_sleep(5)", none, Millis(200));
  EXPECT_FALSE(slow);
  if (!slow) {
    EXPECT_EQ(slow.error().message, "PostgreSQL query timed out");
  }
  EXPECT_FALSE(c->ok()) << "a connection left mid-query is dropped";
  auto again = co_await c->query("SELECT 1");
  EXPECT_FALSE(again);
}

asio::awaitable<void> server_restart(Postgres* pg) {
  const std::string uri = pg->uri();
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  pg->stop();
  std::vector<std::optional<std::string>> none;
  auto lost = co_await c->query("SELECT 1", none, Millis(5'000));
  EXPECT_FALSE(lost);
  if (!lost) {
    EXPECT_TRUE(lost.error().connection_lost) << lost.error().message;
  }
  EXPECT_FALSE(c->ok());
  const auto executor = co_await asio::this_coro::executor;
  auto refused = co_await PgConnection::connect(executor, uri, Millis(5'000));
  EXPECT_FALSE(refused);
  if (!refused) {
    EXPECT_NE(refused.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
  }
  pg->start();
  auto fresh = co_await pg_connect(uri);
  if (!fresh) co_return;
  auto one = co_await fresh->query("SELECT 1");
  EXPECT_TRUE(one && one->int64(0, 0) == 1);
}

}  // namespace

TEST(PgConnection, QueriesWithParametersAndErrorsWithTheirSqlstate) {
  Postgres pg;
  run_awaitable(queries(pg.uri()));
}

TEST(PgConnection, AQueryPastItsTimeoutEndsAndTheConnectionIsDropped) {
  Postgres pg;
  run_awaitable(timeout(pg.uri()));
}

TEST(PgConnection, AServerThatGoesAwayIsALostConnectionAndANewOneWorksOnceItIsBack) {
  Postgres pg;
  run_awaitable(server_restart(&pg));
}

namespace {

asio::awaitable<std::string> migrate_once(std::string uri) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return "no connection";
  co_return co_await migrate_pg(*c);
}

asio::awaitable<void> check_schema(std::string uri) {
  auto c = co_await pg_connect(uri);
  if (!c) co_return;
  auto versions = co_await c->query("SELECT count(*), max(version) FROM schema_migrations");
  EXPECT_TRUE(versions && versions->int64(0, 0) == pg_schema_version() && versions->int64(0, 1) == pg_schema_version());
  auto tables = co_await c->query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND "
                                  "table_name IN ('deployments', 'history', 'audit', 'deliveries', 'outbox', 'lanes')");
  EXPECT_TRUE(tables && tables->int64(0, 0) == 6);
  // History rows carry no foreign key (see the migration); approvals still do.
  auto keys = co_await c->query("SELECT string_agg(conrelid::regclass::text, ',' ORDER BY conrelid::regclass::text) FROM pg_constraint "
                                "WHERE contype = 'f'");
  EXPECT_TRUE(keys && keys->text(0, 0) == "approvals") << (keys ? keys->text(0, 0) : keys.error().message);
  // A database a newer shipgate migrated is refused.
  auto newer = co_await c->execute("INSERT INTO schema_migrations (version) VALUES (999)");
  EXPECT_TRUE(newer);
  const auto refused = co_await migrate_pg(*c);
  EXPECT_EQ(refused, "database schema version 999 is newer than this shipgate");
}

}  // namespace

TEST(PgSchema, ReplicasStartingTogetherMigrateOnceUnderTheLock) {
  Postgres pg;
  // Three replicas at once, each on its own connection; the advisory lock lets one migrate.
  boost::asio::io_context ioc;
  std::vector<std::string> outcomes;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(ioc, migrate_once(pg.uri()), [&](std::exception_ptr e, std::string r) {
      outcomes.push_back(e ? "exception" : r);
    });
  ioc.run();
  EXPECT_EQ(outcomes, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(run_awaitable(migrate_once(pg.uri())), "") << "a second start applies nothing and succeeds";
  run_awaitable(check_schema(pg.uri()));
}

namespace {

asio::awaitable<void> listen_and_notify(std::string uri) {
  auto listener = co_await pg_connect(uri);
  auto sender = co_await pg_connect(uri);
  if (!listener || !sender) co_return;
  auto listening = co_await listener->execute("LISTEN shipgate_work");
  EXPECT_TRUE(listening);
  // Nothing said yet: the wait ends empty at its timeout, and the connection stays usable.
  auto quiet = co_await listener->notifications(Millis(150));
  EXPECT_TRUE(quiet && quiet->empty());
  // Another session's commit wakes the listener with the payload (a replica naming a lane with work).
  std::vector<std::optional<std::string>> lane{"planera/production"};
  auto sent = co_await sender->query("SELECT pg_notify('shipgate_work', $1)", lane);
  EXPECT_TRUE(sent);
  auto heard = co_await listener->notifications(Millis(5'000));
  EXPECT_TRUE(heard && heard->size() == 1);
  if (heard && heard->size() == 1) {
    EXPECT_EQ((*heard)[0].channel, "shipgate_work");
    EXPECT_EQ((*heard)[0].payload, "planera/production");
  }
  EXPECT_TRUE(listener->ok());
}

}  // namespace

TEST(PgConnection, AListenerHearsAnotherSessionsNotifyWithItsPayload) {
  Postgres pg;
  run_awaitable(listen_and_notify(pg.uri()));
}
