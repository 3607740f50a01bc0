// What a registry watch deploys: semantic version ranges as npm spells them, the tag glob, and only a
// tag newer than what runs.
#include <gtest/gtest.h>

#include "config/semver_range.hpp"
#include "domain/semver.hpp"

namespace shipgate::testing {

TEST(SemverRange, EachFormCoversWhatNpmDoes) {
  struct Case {
    const char* range;
    std::vector<config::SemverRange::Triple> in, out;
  };
  const Case cases[] = {
      {"^1", {{1, 0, 0}, {1, 9, 3}}, {{0, 9, 9}, {2, 0, 0}}},
      {"^1.4", {{1, 4, 0}, {1, 99, 0}}, {{1, 3, 9}, {2, 0, 0}}},
      {"^0.3", {{0, 3, 0}, {0, 3, 7}}, {{0, 4, 0}, {0, 2, 9}}},
      {"^0.0.3", {{0, 0, 3}}, {{0, 0, 4}, {0, 0, 2}}},
      {"~1.4", {{1, 4, 0}, {1, 4, 9}}, {{1, 5, 0}, {1, 3, 0}}},
      {"1.4", {{1, 4, 2}}, {{1, 5, 0}}},
      {"v1.4.2", {{1, 4, 2}}, {{1, 4, 3}, {1, 4, 1}}},
      {">=1.4.0", {{1, 4, 0}, {7, 0, 0}}, {{1, 3, 9}}},
      {"*", {{0, 0, 0}, {99, 0, 0}}, {}},
  };
  for (const auto& c : cases) {
    const auto r = config::parse_semver_range(c.range);
    ASSERT_TRUE(r) << c.range;
    for (const auto& v : c.in) EXPECT_TRUE(r->contains(v)) << c.range << " " << v[0] << "." << v[1] << "." << v[2];
    for (const auto& v : c.out) EXPECT_FALSE(r->contains(v)) << c.range << " " << v[0] << "." << v[1] << "." << v[2];
  }
  for (const char* bad : {"", "^", "^01", "1.2.3.4", "^1.x", ">1", "latest", "~-1", "^1 || ^2"})
    EXPECT_FALSE(config::parse_semver_range(bad)) << bad;
}

TEST(WatchedTag, TheNewestMatchingReleaseNewerThanWhatRuns) {
  config::RegistryWatch w;
  w.semver = config::parse_semver_range("^1");
  const std::vector<std::string> tags = {"1.0.0", "1.10.0", "1.9.0", "2.0.0", "1.11.0-rc.1", "latest", "sha-6113728", "v1.10.1"};
  EXPECT_EQ(orchestration::newest_watched_tag(tags, w, ""), std::optional<std::string>("v1.10.1"));
  EXPECT_EQ(orchestration::newest_watched_tag(tags, w, "1.9.0"), std::optional<std::string>("v1.10.1"));
  EXPECT_EQ(orchestration::newest_watched_tag(tags, w, "v1.10.1"), std::nullopt);
  EXPECT_EQ(orchestration::newest_watched_tag(tags, w, "1.12.0"), std::nullopt);
  // What runs is no semantic version (a SHA): the newest matching tag is the one.
  EXPECT_EQ(orchestration::newest_watched_tag(tags, w, "6113728f27ae82c7b1a177c8d03f9e96e0adf246"),
            std::optional<std::string>("v1.10.1"));
  w.tags = "release-*";
  EXPECT_EQ(orchestration::newest_watched_tag({"release-1.2.0", "release-1.3.0", "1.4.0", "release-x"}, w, "release-1.2.0"),
            std::optional<std::string>("release-1.3.0"));
  w.semver.reset();
  EXPECT_EQ(orchestration::newest_watched_tag({"release-1.2.0", "release-3.0.0"}, w, ""), std::optional<std::string>("release-3.0.0"));
  EXPECT_EQ(orchestration::newest_watched_tag({}, w, ""), std::nullopt);
}

}  // namespace shipgate::testing
