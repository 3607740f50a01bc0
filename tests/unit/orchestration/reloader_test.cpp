// Reloads that overlap: a SIGHUP waits for the reload in progress, an API call is refused and audited.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fstream>

#include "orchestration/reloader.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/test_config.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::run_awaitable;

TEST(Reloader, OverlappingReloadsWaitOrAreRefusedOnTheRecord) {
  shipgate::testing::TempDir dir;
  auto store = open_sqlite_store({dir.file("s.db")}, std::make_shared<SystemClock>());
  ASSERT_TRUE(store);
  const std::string path = dir.file("shipgate.yaml");
  std::ofstream(path) << shipgate::testing::kTestConfig;
  config::ConfigRegistry registry(shipgate::testing::load_test_config(shipgate::testing::kTestConfig));
  Reloader reloader(path, [](const std::string&) { return std::optional<std::string>("x"); }, registry, **store);
  // The first reload holds its turn until its audit entry is committed by the store's writer thread;
  // the other two start meanwhile, on the same io_context.
  boost::asio::io_context ioc;
  std::vector<ReloadOutcome> outcomes(3);
  boost::asio::co_spawn(ioc, reloader.reload("first"), [&](std::exception_ptr, ReloadOutcome o) { outcomes[0] = o; });
  boost::asio::co_spawn(ioc, reloader.reload("SIGHUP", true), [&](std::exception_ptr, ReloadOutcome o) { outcomes[1] = o; });
  boost::asio::co_spawn(ioc, reloader.reload("api"), [&](std::exception_ptr, ReloadOutcome o) { outcomes[2] = o; });
  ioc.run();
  EXPECT_TRUE(outcomes[0].applied);
  EXPECT_TRUE(outcomes[1].applied) << "the waiting reload was lost";
  EXPECT_TRUE(outcomes[2].busy);
  auto audit = run_awaitable((*store)->audit({}));
  ASSERT_TRUE(audit);
  int applied = 0, refused = 0;
  for (const auto& e : *audit) {
    applied += e.action == AuditAction::reload;
    refused += e.action == AuditAction::reload_refused && e.actor == "api";
  }
  EXPECT_EQ(applied, 2);
  EXPECT_EQ(refused, 1);
  (*store)->close();
}
