// The four delivery figures from a table of deployments: what counts as a deployment, a failure, a
// lead time and a restore.
#include <gtest/gtest.h>

#include "domain/insights.hpp"

namespace shipgate::orchestration {
namespace {

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kNow = 20'000 * kDay + 12 * 60 * kMin;  // noon UTC

Deployment made(State state, std::int64_t started, std::int64_t finished, std::int64_t committed = 0,
                Trigger trigger = Trigger::promotion) {
  Deployment d;
  d.state = state;
  d.trigger = trigger;
  d.created_ms = started - kMin;
  d.started_ms = started;
  d.finished_ms = finished;
  d.committed_ms = committed;
  return d;
}

TEST(Insights, CountsDeploymentsFailuresLeadTimesAndRestores) {
  const std::vector<Deployment> ds = {
      // Two good deployments with lead times of 60 and 120 minutes.
      made(State::succeeded, kNow - 3 * kDay, kNow - 3 * kDay + 5 * kMin, kNow - 3 * kDay + 5 * kMin - 60 * kMin),
      made(State::succeeded, kNow - 2 * kDay, kNow - 2 * kDay + 5 * kMin, kNow - 2 * kDay + 5 * kMin - 120 * kMin),
      // A failure, restored 30 minutes after it started by the next success (no commit time: no lead time).
      made(State::failed, kNow - kDay, kNow - kDay + 10 * kMin),
      made(State::succeeded, kNow - kDay + 25 * kMin, kNow - kDay + 30 * kMin),
      // A deployment rolled back by itself: restored when it finished.
      made(State::rolled_back, kNow - 60 * kMin, kNow - 48 * kMin),
      // A reviewer's rollback restores, it does not count as delivering; the version it took the
      // environment back from (the one the automatic rollback left running) failed as a change, and the
      // rollback restored in a minute.
      made(State::succeeded, kNow - 40 * kMin, kNow - 39 * kMin, 0, Trigger::rollback),
      // Outside the period, and never reaching a target: ignored.
      made(State::succeeded, kNow - 40 * kDay, kNow - 40 * kDay + kMin, kNow - 41 * kDay),
      made(State::cancelled, kNow - 5 * kMin, 0),
  };
  const auto f = delivery_figures(ds, kNow, 7);
  EXPECT_EQ(f.deployments, 2);
  EXPECT_DOUBLE_EQ(f.per_day, 2.0 / 7);
  EXPECT_EQ(f.lead_time_samples, 2);
  EXPECT_EQ(*f.lead_time_median_ms, 60 * kMin);
  EXPECT_EQ(*f.lead_time_p90_ms, 120 * kMin);
  EXPECT_EQ(f.failures, 3);
  EXPECT_EQ(f.reached_target, 5);
  EXPECT_DOUBLE_EQ(*f.change_failure_rate, 3.0 / 5);
  EXPECT_EQ(f.restore_samples, 3);
  // Restores of 30, 12 and 1 minutes: the median is 12 (nearest rank).
  EXPECT_EQ(*f.restore_median_ms, 12 * kMin);
  EXPECT_EQ(f.unrestored, 0);
  ASSERT_EQ(f.daily.size(), 7u);
  EXPECT_EQ(f.daily.back().day_ms, kNow / kDay * kDay) << "the last bucket is today";
  EXPECT_EQ(f.daily[6].failures, 1);
  EXPECT_EQ(f.daily[5].failures, 2) << "the failure and the version later rolled back by hand";
  EXPECT_EQ(f.daily[5].deployments, 0);
  EXPECT_EQ(f.daily[3].deployments, 1);
  EXPECT_EQ(*f.daily[3].lead_time_median_ms, 60 * kMin);
}

TEST(Insights, NothingYetMeansNoFiguresRatherThanZeros) {
  const auto f = delivery_figures({}, kNow, 30);
  EXPECT_EQ(f.deployments, 0);
  EXPECT_FALSE(f.lead_time_median_ms);
  EXPECT_FALSE(f.change_failure_rate);
  EXPECT_FALSE(f.restore_median_ms);
  EXPECT_EQ(f.daily.size(), 30u);
  const auto j = to_json(f);
  EXPECT_TRUE(j["lead_time"]["median_s"].is_null());
  EXPECT_TRUE(j["change_failure_rate"]["rate"].is_null());
}

TEST(Insights, AFailureNotYetRestoredIsCountedAsSuch) {
  const auto f = delivery_figures({made(State::failed, kNow - 30 * kMin, kNow - 20 * kMin)}, kNow, 7);
  EXPECT_EQ(f.failures, 1);
  EXPECT_EQ(f.unrestored, 1);
  EXPECT_FALSE(f.restore_median_ms);
}

}  // namespace
}  // namespace shipgate::orchestration

namespace shipgate::orchestration {
namespace {

TEST(Insights, AVersionRolledBackByHandIsAFailureRestoredByItsRollback) {
  const std::vector<Deployment> ds = {
      made(State::succeeded, kNow - 5 * 60 * kMin, kNow - 5 * 60 * kMin + 2 * kMin),  // v1, good
      made(State::succeeded, kNow - 3 * 60 * kMin, kNow - 3 * 60 * kMin + 2 * kMin),  // v2, later rolled back
      made(State::succeeded, kNow - 60 * kMin, kNow - 50 * kMin, 0, Trigger::rollback),  // back to v1 in 10 min
  };
  const auto f = delivery_figures(ds, kNow, 7);
  EXPECT_EQ(f.deployments, 1);
  EXPECT_EQ(f.failures, 1);
  EXPECT_EQ(f.reached_target, 2) << "the rollback itself is not a change";
  EXPECT_DOUBLE_EQ(*f.change_failure_rate, 0.5);
  EXPECT_EQ(f.restore_samples, 1);
  EXPECT_EQ(*f.restore_median_ms, 10 * kMin);
  EXPECT_EQ(f.unrestored, 0);
}

}  // namespace
}  // namespace shipgate::orchestration
