// The SQLite schema as migrated: the partial index of unfinished deployments carries the same term the
// queries build from the states (SQLite uses a partial index only when a query repeats its WHERE).
#include <gtest/gtest.h>

#include "store/store.hpp"
#include "tests/support/sqlite_interruption.hpp"
#include "store/sql_terms.hpp"

using namespace shipgate::orchestration;
using shipgate::testing::SqliteFile;

TEST(SqliteSchema, TheUnfinishedIndexCarriesTheTermMadeFromTheStates) {
  EXPECT_EQ(unfinished_term(), "state IN ('pending_approval', 'queued', 'running', 'deploying_externally')");
  SqliteFile file;
  auto st = file.writer.prepare("SELECT sql FROM sqlite_master WHERE name = 'deployments_active'");
  ASSERT_EQ(st.step(), SQLITE_ROW);
  EXPECT_NE(st.text(0).find("WHERE " + unfinished_term()), std::string::npos) << st.text(0);
}

TEST(SqliteSchema, AQueryOverUnfinishedDeploymentsUsesThePartialIndex) {
  SqliteFile file;
  auto st = file.writer.prepare("EXPLAIN QUERY PLAN SELECT DISTINCT config_sha FROM deployments WHERE " + unfinished_term());
  std::string plan;
  ASSERT_EQ(st.each_row([&](Statement& row) { plan += row.text(3) + "\n"; }), SQLITE_DONE);
  EXPECT_NE(plan.find("deployments_active"), std::string::npos) << plan;
}
