#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate::config;

namespace {

LoadResult with_slack(const std::string& slack, const std::string& notify_format = "slack") {
  return load_config_text("github: { secrets: [s] }\n"
                          "reviewers: { alice: { token: alice-token-0123456789, can: [approve] } }\n"
                          "notify: [ { url: https://hooks.slack.com/services/T/B/x, format: " + notify_format + " } ]\n" +
                          slack +
                          "projects:\n  app:\n    repository: acme/app\n"
                          "    components: { api: { image: ghcr.io/acme/api } }\n"
                          "    environments:\n      production:\n"
                          "        targets: [ { type: http, url: https://deploy.acme.dev/hook } ]\n",
                          [](const std::string&) { return std::optional<std::string>("x"); });
}

}  // namespace

TEST(SlackConfig, UsersMapToReviewersAndSlackNotifiersGetButtons) {
  const auto r = with_slack("slack: { signing_secret: abc, users: { U0123ABCD: alice } }\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  ASSERT_TRUE(r.config->slack);
  EXPECT_EQ(r.config->slack->users.at("U0123ABCD"), "alice");
  EXPECT_EQ(r.config->slack->response_url_prefix, "https://hooks.slack.com/");
  EXPECT_TRUE(r.config->notify.at(0).buttons);
  EXPECT_FALSE(with_slack("slack: { signing_secret: abc }\n", "json").config->notify.at(0).buttons);
  EXPECT_FALSE(with_slack("").config->notify.at(0).buttons) << "no slack section: plain messages";
}

TEST(SlackConfig, MistakesAreNamed) {
  struct Case {
    std::string slack, path, message;
  };
  const Case cases[] = {
      {"slack: { users: {} }\n", "slack.signing_secret", "is required"},
      {"slack: { signing_secret: abc, users: { U0123ABCD: mallory } }\n", "slack.users.U0123ABCD", "unknown reviewer 'mallory'"},
      {"slack: { signing_secret: abc, users: { alice: alice } }\n", "slack.users.alice", "a Slack user id"},
      {"slack: { signing_secret: abc, response_url_prefix: \"http://evil.example/\" }\n", "slack.response_url_prefix",
       "must start with https://"},
  };
  for (const auto& c : cases) {
    const auto r = with_slack(c.slack);
    ASSERT_FALSE(r.errors.empty()) << c.slack;
    EXPECT_EQ(r.errors[0].path, c.path) << c.slack;
    EXPECT_NE(r.errors[0].message.find(c.message), std::string::npos) << r.errors[0].to_string();
  }
}
