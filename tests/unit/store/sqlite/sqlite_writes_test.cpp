// The SQLite store's writes when SQLite fails part-way through a read they decide on: a failed
// duplicate check is an error that writes nothing (never "a new delivery"), and a failed read of the
// expired approvals is an error, never "none expired" (every failure point is swept).
#include <gtest/gtest.h>

#include "tests/support/sqlite_interruption.hpp"

using namespace shipgate::orchestration;
using shipgate::testing::SqliteFile;
using shipgate::testing::SqliteInterruption;

namespace {

IngestRequest one_deployment(const std::string& key, State initial, std::int64_t expires_ms = 0,
                             const std::string& version = "v2.0.0") {
  NewDeployment nd;
  nd.project = "app";
  nd.environment = "production";
  nd.version = version;
  nd.sha = std::string(40, 'b');
  nd.initial = initial;
  nd.expires_ms = expires_ms;
  IngestRequest req;
  req.delivery_key = key;
  req.deployments.push_back(nd);
  return req;
}

std::int64_t deployments_in(Db& db) {
  auto st = db.prepare("SELECT count(*) FROM deployments");
  return st.step() == SQLITE_ROW ? st.int64(0) : -1;
}

}  // namespace

TEST(SqliteWrites, AFailedDuplicateCheckWritesNothing) {
  SqliteFile file;
  ASSERT_TRUE(file.writes.do_ingest(file.writer, one_deployment("github:delivery-1", State::queued)));
  ASSERT_EQ(deployments_in(file.writer), 1);
  // The same key answers from the key alone; another version in it makes anything written visible.
  const auto req = one_deployment("github:delivery-1", State::queued, 0, "v3.0.0");

  int failed = 0;
  for (int at = 1;; ++at) {
    std::optional<Result<IngestResult>> again;
    {
      SqliteInterruption interruption(file.writer.handle(), at);
      again = file.writes.do_ingest(file.writer, req);
      if (!interruption.fired()) {
        ASSERT_TRUE(*again && (*again)->duplicate);
        break;
      }
    }
    if (*again) EXPECT_TRUE((*again)->duplicate) << "interrupted at step " << at;
    else ++failed;
    ASSERT_EQ(deployments_in(file.writer), 1) << "a repeated delivery deployed again (interrupted at step " << at << ")";
  }
  EXPECT_GT(failed, 0) << "the sweep interrupted nothing";
}

TEST(SqliteWrites, AFailedReadOfExpiredApprovalsIsAnErrorNotNone) {
  SqliteFile file;
  const auto now = shipgate::epoch_ms(file.clock->now());
  auto waiting = file.writes.do_ingest(file.writer, one_deployment("build:app:7", State::pending_approval, now - 1));
  ASSERT_TRUE(waiting && waiting->deployments.size() == 1);
  const auto id = waiting->deployments.front().id;

  int failed = 0;
  for (int at = 1;; ++at) {
    ASSERT_EQ(file.writer.exec("BEGIN"), SQLITE_OK);  // each try is undone: the deployment stays due
    std::optional<Result<std::vector<std::int64_t>>> expired;
    bool fired = false;
    {
      SqliteInterruption interruption(file.writer.handle(), at);
      expired = file.writes.do_expire(file.writer, now);
      fired = interruption.fired();
    }
    // An interrupted write may have rolled the transaction back already.
    if (!sqlite3_get_autocommit(file.writer.handle())) {
      ASSERT_EQ(file.writer.exec("ROLLBACK"), SQLITE_OK);
    }
    if (*expired) EXPECT_EQ(**expired, (std::vector<std::int64_t>{id})) << "interrupted at step " << at;
    else ++failed;
    if (!fired) break;
  }
  EXPECT_GT(failed, 0) << "the sweep interrupted nothing";
}
