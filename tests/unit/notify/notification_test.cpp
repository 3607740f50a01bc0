// What notifications say, and the GitHub states shipgate reports.
#include <gtest/gtest.h>

#include "notify/github_deployments.hpp"
#include "notify/notification.hpp"
#include "orchestration/outbox.hpp"

using namespace shipgate;

namespace {

// What the outbox says about an event of a production deployment of v1.4.0 that failed at its target.
notify::Notice failed_deploy(std::string event, nlohmann::json payload = nlohmann::json::object()) {
  orchestration::Deployment d;
  d.id = 42;
  d.project = "planera";
  d.environment = "production";
  d.version = "v1.4.0";
  d.sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
  d.message = "target 1 (http): HTTP 500";
  d.actor = "oncall";
  orchestration::OutboxItem item;
  item.event = event;
  item.payload = std::move(payload);
  item.created_ms = 1'700'000'000'000;
  return orchestration::notice_of(item, d, "https://shipgate.acme.dev/deployments/42");
}

}  // namespace

TEST(Notifications, TextsNameTheEnvironmentVersionAndForApprovalsTheCommand) {
  config::Notifier slack;
  slack.slack = true;
  auto s = notify::notification_body(slack, failed_deploy("pending_approval"));
  ASSERT_EQ(s.size(), 1u);  // Slack: {"text"} only
  EXPECT_EQ(s["text"], ":hourglass: planera/production: v1.4.0 (6113728) waits for approval. Approve with "
                       "`shipgate approve 42` (<https://shipgate.acme.dev/deployments/42|deployment 42>)");
  config::Notifier json_format;
  auto j = notify::notification_body(json_format, failed_deploy("failed"));
  EXPECT_EQ(j["event"], "failed");
  EXPECT_EQ(j["text"], ":x: planera/production: deploying v1.4.0 (6113728) failed: target 1 (http): HTTP 500");
  EXPECT_EQ(j["deployment"]["id"], 42);  // the deployment as the API shows it
  EXPECT_EQ(j["deployment"]["state"], "queued");
  EXPECT_EQ(j["link"], "https://shipgate.acme.dev/deployments/42");
  EXPECT_EQ(j["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_FALSE(j.contains("approve_command"));
  auto o = notify::notification_body(json_format, failed_deploy("override"));
  EXPECT_NE(o["text"].get<std::string>().find("emergency override by oncall"), std::string::npos);
  auto done = notify::notification_body(json_format, failed_deploy("succeeded"));
  EXPECT_EQ(done["text"], ":white_check_mark: planera/production: deployed v1.4.0 (6113728)");
}

TEST(Notifications, AFailedScheduledCheckSaysWhatFailedRatherThanTheDeploymentsOwnMessage) {
  const auto n = failed_deploy("verify_failed", {{"message", "v1.4.0: smoke 1/1 https://app/health: HTTP 503"}});
  config::Notifier json_format;
  EXPECT_EQ(notify::notification_body(json_format, n)["text"],
            ":warning: planera/production: v1.4.0 (6113728) failed its scheduled check: v1.4.0: smoke 1/1 "
            "https://app/health: HTTP 503");
  EXPECT_EQ(notify::github_state("verify_failed"), "") << "no GitHub deployment status for a check";
}

TEST(Notifications, AVersionThatIsItsShaIsNamedOnce) {
  notify::Notice n;
  n.event = "succeeded";
  n.project = "p";
  n.environment = "staging";
  n.sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
  n.version = n.sha;
  config::Notifier json_format;
  EXPECT_EQ(notify::notification_body(json_format, n)["text"], ":white_check_mark: p/staging: deployed 6113728f27ae");
}

TEST(Notifications, GithubStatesFollowTheDeploymentStates) {
  using notify::github_state;
  EXPECT_EQ(github_state("queued"), "queued");
  EXPECT_EQ(github_state("pending_approval"), "queued");
  EXPECT_EQ(github_state("running"), "in_progress");
  EXPECT_EQ(github_state("succeeded"), "success");
  EXPECT_EQ(github_state("failed"), "failure");
  EXPECT_EQ(github_state("rolled_back"), "failure");
  for (const char* s : {"superseded", "cancelled", "rejected", "expired"}) EXPECT_EQ(github_state(s), "inactive");
  EXPECT_EQ(github_state("override"), "");
}
