// What the reviewer page keeps in the store, on both stores: sessions (found while unexpired, gone
// after sign-out, expired ones removed when a new one opens) and the audit log's filters.
#include <gtest/gtest.h>

#include "tests/support/run.hpp"
#include "tests/support/store_fixture.hpp"

namespace shipgate::orchestration {
namespace {

using shipgate::testing::run_awaitable;
using shipgate::testing::StoreUnderTestKind;

class WebStore : public shipgate::testing::StoreFixture {
 protected:
  WebStore() : StoreFixture(from_epoch_ms(1'700'000'000'000)) {}
};

INSTANTIATE_TEST_SUITE_P(Stores, WebStore, ::testing::Values(StoreUnderTestKind::sqlite, StoreUnderTestKind::postgresql),
                         [](const auto& info) { return shipgate::testing::store_kind_name(info.param); });

TEST_P(WebStore, SessionsAreFoundUntilTheyExpireOrEnd) {
  const std::int64_t now = 1'700'000'000'000;
  ASSERT_TRUE(run_awaitable(store->open_session({"aa", "alice", "tok", now, now + 1000})));
  ASSERT_TRUE(run_awaitable(store->open_session({"bb", "bob", "tok2", now, now + 5000})));
  auto found = run_awaitable(store->find_session("aa", now + 999));
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->reviewer, "alice");
  EXPECT_EQ((*found)->token_sha256, "tok");
  EXPECT_EQ((*found)->expires_ms, now + 1000);
  EXPECT_FALSE(*run_awaitable(store->find_session("aa", now + 1000))) << "expired";
  EXPECT_FALSE(*run_awaitable(store->find_session("zz", now)));
  ASSERT_TRUE(run_awaitable(store->close_session("bb")));
  EXPECT_FALSE(*run_awaitable(store->find_session("bb", now)));
  // Opening a session later removes the expired ones: "aa" is gone even for a lookup in the past.
  ASSERT_TRUE(run_awaitable(store->open_session({"cc", "carol", "tok3", now + 2000, now + 9000})));
  EXPECT_FALSE(*run_awaitable(store->find_session("aa", now)));
  reopen();
  EXPECT_TRUE(*run_awaitable(store->find_session("cc", now + 2000))) << "kept across a restart";
}

TEST_P(WebStore, AuditFiltersAndPagesBack) {
  for (int i = 0; i < 6; ++i) {
    AuditEntry e;
    e.actor = i % 2 ? "alice" : "bob";
    e.action = i % 3 ? AuditAction::approve : AuditAction::reject;
    e.project = i < 3 ? "one" : "two";
    e.reason = "entry " + std::to_string(i);
    ASSERT_TRUE(run_awaitable(store->record_audit(e)));
  }
  AuditFilter by_actor;
  by_actor.actor = "alice";
  auto alice = run_awaitable(store->audit(by_actor));
  ASSERT_EQ(alice->size(), 3u);
  for (const auto& e : *alice) EXPECT_EQ(e.actor, "alice");
  AuditFilter both;
  both.project = "two";
  both.action = "reject";
  auto two = run_awaitable(store->audit(both));
  ASSERT_EQ(two->size(), 1u);
  EXPECT_EQ(two->front().reason, "entry 3");
  AuditFilter newest;
  newest.limit = 2;
  auto page = *run_awaitable(store->audit(newest));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page.back().reason, "entry 5");
  AuditFilter older;
  older.limit = 2;
  older.before_id = page.front().id;
  auto back = *run_awaitable(store->audit(older));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.front().reason, "entry 2");
  EXPECT_EQ(back.back().reason, "entry 3");
}

}  // namespace
}  // namespace shipgate::orchestration
