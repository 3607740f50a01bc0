// The SQLite store's reads when SQLite fails part-way through one: a deployment's history and approvals
// come back whole or as an error, never cut short as if that were all (every failure point is swept).
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_reads.hpp"
#include "tests/support/sqlite_interruption.hpp"

using namespace shipgate::orchestration;
using shipgate::testing::SqliteFile;
using shipgate::testing::SqliteInterruption;

namespace {

// A deployment waiting for approval, approved by two of the three reviewers it needs.
std::int64_t waiting_with_two_approvals(SqliteFile& file) {
  NewDeployment nd;
  nd.project = "app";
  nd.environment = "production";
  nd.version = "v1.2.3";
  nd.sha = std::string(40, 'a');
  nd.initial = State::pending_approval;
  IngestRequest req;
  req.delivery_key = "build:app:1";
  req.deployments.push_back(nd);
  auto ingested = file.writes.do_ingest(file.writer, req);
  if (!ingested || ingested->deployments.size() != 1) return 0;
  const auto id = ingested->deployments.front().id;
  for (const char* reviewer : {"alice", "bob"})
    if (!file.writes.do_approve(file.writer, {id, reviewer, "looks good", 3})) return 0;
  return id;
}

}  // namespace

TEST(SqliteReads, ADeploymentsHistoryAndApprovalsAreWholeOrAnError) {
  SqliteFile file;
  const auto id = waiting_with_two_approvals(file);
  ASSERT_GT(id, 0);
  Db reader;
  ASSERT_EQ(reader.open(file.dir.file("store.db"), true), "");
  SqliteReads reads(reader);
  const auto whole = reads.deployment(id, true);
  ASSERT_TRUE(whole && *whole);
  ASSERT_FALSE((*whole)->history.empty());
  ASSERT_EQ((*whole)->approvals.size(), 2u);

  int failed = 0;
  for (int at = 1;; ++at) {
    SqliteInterruption interruption(reader.handle(), at);
    const auto read = reads.deployment(id, true);
    if (!interruption.fired()) break;  // the read finished before step `at`: every point was tried
    if (!read) {
      ++failed;
      continue;
    }
    ASSERT_TRUE(*read) << "interrupted at step " << at;
    EXPECT_EQ((*read)->history.size(), (*whole)->history.size()) << "interrupted at step " << at;
    EXPECT_EQ((*read)->approvals.size(), 2u) << "interrupted at step " << at;
  }
  EXPECT_GT(failed, 0) << "the sweep interrupted nothing";
}
