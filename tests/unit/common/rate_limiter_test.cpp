// Token buckets per client address, with the time passed in.
#include <gtest/gtest.h>

#include "common/rate_limiter.hpp"

using shipgate::RateLimiter;
using namespace std::chrono_literals;

TEST(RateLimiter, ABusyClientKeepsItsBucketWhenManyNewAddressesArrive) {
  RateLimiter limiter(1, 3, 8);
  auto now = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("abuser", now), 0);
  EXPECT_GT(limiter.take("abuser", now), 0);
  // A flood of fresh addresses fills the table many times over; the oldest are dropped, not everyone.
  for (int i = 0; i < 100; ++i) {
    now += 1ms;
    limiter.take("10.0.0." + std::to_string(i), now);
    if (i % 5 == 0) limiter.take("abuser", now);  // still active: never the oldest
  }
  EXPECT_GT(limiter.take("abuser", now), 0) << "the abuser's empty bucket was forgotten";
}

TEST(RateLimiter, RefillsAtItsRate) {
  RateLimiter limiter(2, 2);
  auto now = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.take("a", now), 0);
  EXPECT_EQ(limiter.take("a", now), 0);
  EXPECT_EQ(limiter.take("a", now), 1);
  EXPECT_EQ(limiter.take("a", now + 500ms), 0);
  EXPECT_EQ(limiter.wait_needed("b", now), 0);
}

TEST(RateLimiter, AllowsTheBurstThenRefillsAtTheRate) {
  RateLimiter limiter(2, 3);  // 2 a second, burst 3
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 1);  // empty: a token in half a second, rounded up to 1 s
  EXPECT_EQ(limiter.take("b", t0), 0);  // other addresses have their own bucket
  EXPECT_EQ(limiter.take("a", t0 + 500ms), 0);
  EXPECT_EQ(limiter.take("a", t0 + 500ms), 1);
  EXPECT_EQ(limiter.wait_needed("a", t0 + 2s), 0);
  EXPECT_EQ(limiter.wait_needed("never-seen", t0), 0);
}

TEST(RateLimiter, SlowRatesAnswerWithTheRealWait) {
  RateLimiter failures(3 / 60.0, 3);  // three failures a minute
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(failures.take("x", t0), 0);
  EXPECT_EQ(failures.wait_needed("x", t0), 20);
  EXPECT_EQ(failures.wait_needed("x", t0 + 19s), 1);
  EXPECT_EQ(failures.wait_needed("x", t0 + 20s), 0);
}

TEST(RateLimiter, ForgetsIdleAddressesWhenFull) {
  RateLimiter limiter(1, 1, 2);
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  limiter.take("a", t0);
  limiter.take("b", t0);
  // "a" and "b" refilled by now, so they are forgotten to make room; "c" starts with a full bucket.
  EXPECT_EQ(limiter.take("c", t0 + 5s), 0);
  EXPECT_EQ(limiter.take("a", t0 + 5s), 0);
}
