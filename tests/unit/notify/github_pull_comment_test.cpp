// The pull request comment's text, kept row by row as environments end, and GitHub's answers read
// without trusting their shape.
#include <gtest/gtest.h>

#include "notify/github_pull_comment.hpp"

namespace shipgate::testing {

TEST(PullComment, EachEnvironmentHasOneRowThatALaterOutcomeReplaces) {
  notify::PullComment c{"acme/planera", "planera", "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "staging", "succeeded",
                        "v1|2", 7, "https://shipgate.example/deployments/7"};
  const auto first = notify::pull_comment_body("", c);
  EXPECT_EQ(first.rfind("<!-- shipgate:planera -->\n", 0), 0u);
  EXPECT_NE(first.find("| staging | succeeded | v1\\|2 | [deployment 7](https://shipgate.example/deployments/7) |\n"),
            std::string::npos) << first;
  c.environment = "production";
  c.state = "pending_approval";
  c.deployment = 8;
  const auto second = notify::pull_comment_body(first, c);
  c.state = "rolled_back";
  const auto third = notify::pull_comment_body(second, c);
  EXPECT_NE(third.find("| staging | succeeded |"), std::string::npos) << third;
  EXPECT_NE(third.find("| production | failed, rolled back |"), std::string::npos) << third;
  EXPECT_EQ(third.find("waiting for approval"), std::string::npos) << third;
  EXPECT_LT(third.find("| staging |"), third.find("| production |"));
}

TEST(PullComment, GithubsAnswersOfAnyShapeAreReadOrRefused) {
  const std::string sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
  EXPECT_EQ(notify::read_merged_pull(R"([{"number":3,"merged_at":null},{"number":4,"merged_at":"2026-12-07T10:00:00Z","merge_commit_sha":")" + sha + R"("}])", sha),
            std::optional<std::int64_t>(4));
  for (const char* bad : {"", "{}", "[1]", R"([{"number":"4","merged_at":"x"}])", R"([{"number":5}])"})
    EXPECT_FALSE(notify::read_merged_pull(bad, sha)) << bad;
  const auto found = notify::find_marked_comment(R"([{"id":9,"body":"hi"},{"id":10,"body":"<!-- shipgate:planera -->\nx"}])",
                                                 "<!-- shipgate:planera -->");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->first, 10);
  for (const char* bad : {"", "null", R"({"id":10})", R"([{"id":"10","body":"<!-- shipgate:planera -->"}])", R"([{"body":"<!-- shipgate:planera -->"}])"})
    EXPECT_FALSE(notify::find_marked_comment(bad, "<!-- shipgate:planera -->")) << bad;
}

}  // namespace shipgate::testing
