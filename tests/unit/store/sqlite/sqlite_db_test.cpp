// The thin layer over SQLite's C API: a bind that fails is not lost, it is what the statement's step()
// answers, and each_row says whether it read every row.
#include <gtest/gtest.h>

#include <vector>

#include "store/sqlite/sqlite_db.hpp"

using namespace shipgate::orchestration;

namespace {

int interrupt_now(void*) { return 1; }

}  // namespace

TEST(SqliteDb, AFailedBindIsWhatStepAnswers) {
  Db db;
  ASSERT_EQ(db.open(":memory:", false), "");
  auto st = db.prepare("SELECT ?1");
  st.bind(2, std::int64_t{7});  // there is no parameter 2
  EXPECT_EQ(st.step(), SQLITE_RANGE);
  EXPECT_EQ(st.step(), SQLITE_RANGE) << "the statement never runs with a parameter missing";
}

TEST(SqliteDb, TheFirstFailedBindIsKeptAndTheNextPrepareStartsClean) {
  Db db;
  ASSERT_EQ(db.open(":memory:", false), "");
  {
    auto st = db.prepare("SELECT ?1");
    st.bind(3, "x").bind(1, "fine");
    EXPECT_EQ(st.step(), SQLITE_RANGE);
  }
  auto again = db.prepare("SELECT ?1");
  again.bind(1, "fine");
  ASSERT_EQ(again.step(), SQLITE_ROW);
  EXPECT_EQ(again.text(0), "fine");
}

TEST(SqliteDb, EachRowReadsEveryRowThenSaysDone) {
  Db db;
  ASSERT_EQ(db.open(":memory:", false), "");
  ASSERT_EQ(db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)"), SQLITE_OK);
  auto st = db.prepare("SELECT n FROM t ORDER BY n");
  std::vector<std::int64_t> seen;
  EXPECT_EQ(st.each_row([&](Statement& row) { seen.push_back(row.int64(0)); }), SQLITE_DONE);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(SqliteDb, EachRowSaysWhenTheReadWasCutShort) {
  Db db;
  ASSERT_EQ(db.open(":memory:", false), "");
  ASSERT_EQ(db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)"), SQLITE_OK);
  auto st = db.prepare("SELECT n FROM t ORDER BY n");
  sqlite3_progress_handler(db.handle(), 1, interrupt_now, nullptr);
  std::vector<std::int64_t> seen;
  EXPECT_EQ(st.each_row([&](Statement& row) { seen.push_back(row.int64(0)); }), SQLITE_INTERRUPT);
  sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
}
