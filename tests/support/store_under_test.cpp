#include "tests/support/store_under_test.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/pg_session.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/run.hpp"

namespace shipgate::testing {

namespace {

// One cluster per test binary: starting one takes a second or two, a database in it a few ms.
Postgres& shared_postgres() {
  static Postgres postgres;
  return postgres;
}

std::string with_database(const std::string& uri, const std::string& name) {
  const auto slash = uri.rfind('/');
  const auto query = uri.find('?', slash);
  return uri.substr(0, slash + 1) + name + (query == std::string::npos ? "" : uri.substr(query));
}

boost::asio::awaitable<bool> run_sql(std::string uri, std::string sql) {
  auto c = co_await pg_connect(std::move(uri));
  if (!c) co_return false;
  auto r = co_await c->execute(sql);
  if (!r) ADD_FAILURE() << sql << ": " << r.error().message;
  co_return r.has_value();
}

boost::asio::awaitable<std::int64_t> count_rows(std::string uri, std::string table) {
  auto c = co_await pg_connect(std::move(uri));
  if (!c) co_return -1;
  const std::string sql = "SELECT count(*) FROM " + table;
  const std::vector<std::optional<std::string>> none;
  auto r = co_await c->query(sql, none);
  co_return r ? r->int64(0, 0) : -1;
}

}  // namespace

std::string store_kind_name(StoreUnderTestKind kind) {
  return kind == StoreUnderTestKind::sqlite ? "SQLite" : "PostgreSQL";
}

StoreUnderTest::StoreUnderTest(StoreUnderTestKind kind, std::shared_ptr<const Clock> clock)
    : kind_(kind), clock_(std::move(clock)), work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {
  if (kind_ != StoreUnderTestKind::postgresql) return;
  static std::atomic<int> made{0};
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++made);
  const auto& server = shared_postgres();
  if (run_awaitable(run_sql(server.uri(), "CREATE DATABASE " + name))) uri_ = with_database(server.uri(), name);
}

StoreUnderTest::~StoreUnderTest() {
  work_.reset();
  ioc_.stop();
  thread_.join();
}

std::unique_ptr<orchestration::Store> StoreUnderTest::open(const std::string& replica) {
  if (kind_ == StoreUnderTestKind::sqlite) {
    auto s = orchestration::open_sqlite_store({sqlite_path()}, clock_);
    if (!s) ADD_FAILURE() << "cannot open " << sqlite_path() << ": " << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  if (uri_.empty()) return nullptr;  // the database could not be made (the failure is reported)
  orchestration::PgStoreOptions options;
  options.conninfo = uri_;
  options.replica = replica;
  options.lease = std::chrono::seconds(3);
  auto s = orchestration::open_pg_store(ioc_.get_executor(), options, clock_);
  if (!s) ADD_FAILURE() << "cannot open " << uri_ << ": " << s.error();
  return s ? std::move(*s) : nullptr;
}

void StoreUnderTest::exec(const std::string& sql) {
  if (kind_ == StoreUnderTestKind::postgresql) {
    run_awaitable(run_sql(uri_, sql));
    return;
  }
  sqlite3* db = nullptr;
  sqlite3_open(sqlite_path().c_str(), &db);
  sqlite3_busy_timeout(db, 5000);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::int64_t StoreUnderTest::rows(const std::string& table) {
  if (kind_ == StoreUnderTestKind::postgresql) return run_awaitable(count_rows(uri_, table));
  sqlite3* db = nullptr;
  sqlite3_open_v2(sqlite_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_busy_timeout(db, 5000);  // the store may be writing: wait for it, never race it
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT count(*) FROM " + table;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  const std::int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

}  // namespace shipgate::testing
