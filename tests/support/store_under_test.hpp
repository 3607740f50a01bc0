// The store a parametrised store test runs against: an SQLite file in a fresh directory, or a fresh
// database on a PostgreSQL cluster the test binary starts once (the first test that needs it) and
// stops at exit. The PostgreSQL store runs on an io_context of its own thread, as it would beside the
// daemon's threads; the tests' run_awaitable calls reach it from their private io_contexts.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "store/store.hpp"
#include "tests/support/daemon.hpp"

namespace shipgate::testing {

enum class StoreUnderTestKind { sqlite, postgresql };
std::string store_kind_name(StoreUnderTestKind kind);

class StoreUnderTest {
 public:
  StoreUnderTest(StoreUnderTestKind kind, std::shared_ptr<const Clock> clock);
  ~StoreUnderTest();

  // Opens the store; again after the last one was destroyed: the same data. Null (and the test
  // failed) when it cannot.
  std::unique_ptr<orchestration::Store> open(const std::string& replica = "replica-a");
  // SQL on a connection of the test's own (the store is idle between the test's calls).
  void exec(const std::string& sql);
  std::int64_t rows(const std::string& table);
  StoreUnderTestKind kind() const { return kind_; }
  std::string sqlite_path() const { return dir_.file("state/shipgate.db"); }
  const std::string& postgres_uri() const { return uri_; }

 private:
  StoreUnderTestKind kind_;
  std::shared_ptr<const Clock> clock_;
  TempDir dir_;
  std::string uri_;  // this test's own database
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace shipgate::testing
