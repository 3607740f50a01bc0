// A PostgreSQL connection for a test coroutine, failing the test (not throwing) when it cannot connect.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/this_coro.hpp>

#include <memory>
#include <string>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_schema.hpp"

namespace shipgate::testing {

inline boost::asio::awaitable<std::unique_ptr<orchestration::PgConnection>> pg_connect(std::string uri) {
  auto c = co_await orchestration::PgConnection::connect(co_await boost::asio::this_coro::executor, std::move(uri),
                                                         orchestration::Millis(5'000));
  if (!c) ADD_FAILURE() << c.error().message;
  co_return c ? std::move(*c) : nullptr;
}

// A connection to a database migrated to the current schema; null (the test failed) otherwise.
inline boost::asio::awaitable<std::unique_ptr<orchestration::PgConnection>> pg_migrated(std::string uri) {
  auto c = co_await pg_connect(std::move(uri));
  if (!c) co_return nullptr;
  const auto migrated = co_await orchestration::migrate_pg(*c);
  EXPECT_EQ(migrated, "");
  if (!migrated.empty()) c.reset();
  co_return c;
}

}  // namespace shipgate::testing
