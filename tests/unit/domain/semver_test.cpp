// Semantic version order, as semver.org 2.0 defines precedence.
#include <gtest/gtest.h>

#include "domain/semver.hpp"

using namespace shipgate::orchestration;

TEST(SemVer, OrdersAsTheSpecificationSays) {
  // Each is lower than the next (the specification's own example, plus v-prefixed and larger numbers).
  const char* ascending[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                             "1.0.0-beta.11", "1.0.0-rc.1", "v1.0.0", "1.0.1", "v1.5.0", "1.9.0", "1.10.0",
                             "v1.10.2", "2.0.0"};
  for (std::size_t i = 0; i + 1 < std::size(ascending); ++i) {
    const auto a = parse_semver(ascending[i]), b = parse_semver(ascending[i + 1]);
    ASSERT_TRUE(a && b) << ascending[i] << " " << ascending[i + 1];
    EXPECT_LT(compare(*a, *b), 0) << ascending[i] << " < " << ascending[i + 1];
    EXPECT_GT(compare(*b, *a), 0) << ascending[i + 1] << " > " << ascending[i];
  }
  // Build metadata and the v prefix do not change the order.
  EXPECT_EQ(compare(*parse_semver("v1.6.1+build.7"), *parse_semver("1.6.1")), 0);
}

TEST(SemVer, RefusesWhatIsNotASemanticVersion) {
  for (const char* bad : {"", "v", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.3-", "1.2.3-01", "1.2.3+",
                          "1.2.3-a..b", "latest", "0123456789abcdef0123456789abcdef01234567", "2026-11-30",
                          "1.2.x", "1.2.3-a_b", "99999999999999999999.0.0"})
    EXPECT_FALSE(parse_semver(bad)) << bad;
}
