// A PostgreSQL connection for a test coroutine, failing the test (not throwing) when it cannot connect.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/this_coro.hpp>

#include <memory>
#include <string>

#include "orchestration/pg_connection.hpp"

namespace shipgate::testing {

inline boost::asio::awaitable<std::unique_ptr<orchestration::PgConnection>> pg_connect(std::string uri) {
  auto c = co_await orchestration::PgConnection::connect(co_await boost::asio::this_coro::executor, std::move(uri),
                                                         orchestration::Millis(5'000));
  if (!c) ADD_FAILURE() << c.error().message;
  co_return c ? std::move(*c) : nullptr;
}

}  // namespace shipgate::testing
