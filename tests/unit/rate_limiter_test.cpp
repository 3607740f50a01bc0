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
