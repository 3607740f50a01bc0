// POST /webhooks/slack as a plain function: a signed click in, the decision in the store and the message
// Slack's response_url gets, with a real store and a scripted outbound client.
#include <gtest/gtest.h>

#include <cstdio>

#include "common/crypto.hpp"
#include "handlers/router.hpp"
#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"
#include "tests/support/scripted_http.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using nlohmann::json;
using shipgate::testing::Gate;
using shipgate::testing::ScriptedHttp;
using shipgate::testing::new_deployment;
using shipgate::testing::run_awaitable;

namespace {

const char* kConfig = R"(
github: { secrets: [s] }
reviewers:
  alice: { token: "alice-token-123456", can: [approve] }
  bob: { token: "bob-token-1234567", can: [approve] }
  outsider: { token: "outsider-token-123", can: [approve], projects: [other] }
slack:
  signing_secret: slack-signing-secret
  users: { UALICE: alice, UBOB: bob, UOUTSIDER: outsider }
projects:
  planera:
    repository: acme/planera
    environments:
      production:
        approval: { required: 1, reviewers: [alice, bob] }
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
      release:
        approval: { required: 2, reviewers: [alice, bob] }
        targets: [ { type: http, url: "http://127.0.0.1:1/r" } ]
  other:
    repository: acme/other
    environments:
      staging: { targets: [ { type: http, url: "http://127.0.0.1:1/o" } ] }
)";

constexpr const char* kResponseUrl = "https://hooks.slack.com/actions/T1/1/abc";

std::string form_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

class SlackWebhook : public ::testing::Test {
 protected:
  SlackWebhook() : gate(kConfig) {
    http = std::make_shared<ScriptedHttp>([](const auto&) { return ScriptedHttp::reply(200, "ok"); });
    gate.app.http = http;
  }

  std::int64_t pending(const std::string& environment) {
    auto d = new_deployment("planera", environment, "v1.0.0", Trigger::manual);
    d.actor = "carol";
    d.initial = State::pending_approval;
    d.policy = {{"required", environment == "release" ? 2 : 1}, {"reviewers", {"alice", "bob"}}};
    return gate.ingest({d})[0];
  }

  // A click as Slack sends it, signed at `at_s` (default: the gate's clock).
  handlers::Response click(const std::string& user, const std::string& action, std::int64_t deployment,
                           std::optional<std::int64_t> at_s = std::nullopt) {
    const json payload = {{"type", "block_actions"},
                          {"user", {{"id", user}}},
                          {"response_url", kResponseUrl},
                          {"actions", json::array({{{"action_id", action}, {"value", std::to_string(deployment)}}})}};
    handlers::Request req;
    req.method = "POST";
    req.path = "/webhooks/slack";
    req.request_id = "slack-test";
    req.body = "payload=" + form_encode(payload.dump());
    const std::string ts = std::to_string(at_s.value_or(epoch_ms(gate.clock->now()) / 1000));
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"X-Slack-Request-Timestamp", ts},
                   {"X-Slack-Signature", "v0=" + hmac_sha256_hex("slack-signing-secret", "v0:" + ts + ":" + req.body)}};
    return run_awaitable(handlers::dispatch(*gate.router, req));
  }

  // The messages sent to response_url, in order.
  std::vector<json> replies() const {
    std::vector<json> out;
    for (const auto& r : http->requests()) {
      EXPECT_EQ(r.url, kResponseUrl);
      out.push_back(json::parse(r.body));
    }
    return out;
  }

  Gate gate;
  std::shared_ptr<ScriptedHttp> http;
};

TEST_F(SlackWebhook, AnApprovalQueuesTheDeploymentAndReplacesTheButtons) {
  const auto id = pending("production");
  const auto answer = click("UALICE", "approve", id);
  EXPECT_EQ(answer.status, 200);
  EXPECT_TRUE(answer.body.empty()) << "Slack gets a quick empty answer";
  EXPECT_EQ(gate.state_of(id), State::queued);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["replace_original"], true);
  EXPECT_EQ(sent[0]["text"], ":white_check_mark: planera/production v1.0.0 approved by alice: deploying");
}

TEST_F(SlackWebhook, AFirstOfTwoApprovalsKeepsTheButtonsAndCountsBesideThem) {
  const auto id = pending("release");
  ASSERT_EQ(click("UBOB", "approve", id).status, 200);
  EXPECT_EQ(gate.state_of(id), State::pending_approval);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["response_type"], "in_channel");
  EXPECT_EQ(sent[0]["replace_original"], false);
  EXPECT_EQ(sent[0]["text"], ":ballot_box_with_check: planera/release v1.0.0: approved by bob (1 of 2)");
}

TEST_F(SlackWebhook, ARejectionSaysWhoRejected) {
  const auto id = pending("production");
  ASSERT_EQ(click("UBOB", "reject", id).status, 200);
  EXPECT_EQ(gate.state_of(id), State::rejected);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["text"], ":no_entry: planera/production v1.0.0 rejected by bob");
}

TEST_F(SlackWebhook, AnUnmappedUserIsToldAloneAndNothingChanges) {
  const auto id = pending("production");
  ASSERT_EQ(click("USTRANGER", "approve", id).status, 200);
  EXPECT_EQ(gate.state_of(id), State::pending_approval);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["response_type"], "ephemeral");
  EXPECT_NE(sent[0]["text"].get<std::string>().find("USTRANGER is not a shipgate reviewer"), std::string::npos);
}

TEST_F(SlackWebhook, AReviewerOfOtherProjectsCannotSeeTheDeployment) {
  const auto id = pending("production");
  ASSERT_EQ(click("UOUTSIDER", "approve", id).status, 200);
  EXPECT_EQ(gate.state_of(id), State::pending_approval);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["text"], "Deployment " + std::to_string(id) + " is not one you can see.");
}

TEST_F(SlackWebhook, ARefusedDecisionIsToldWithTheApisReason) {
  const auto id = pending("production");
  ASSERT_EQ(click("UALICE", "approve", id).status, 200);
  ASSERT_EQ(click("UBOB", "approve", id).status, 200);
  const auto sent = replies();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1]["response_type"], "ephemeral");
  EXPECT_EQ(sent[1]["text"].get<std::string>().rfind("Not approved: ", 0), 0u) << sent[1];
}

TEST_F(SlackWebhook, AStaleOrBadlySignedClickIsRefusedAndCountsAsAFailedAuthentication) {
  const auto id = pending("production");
  const auto now_s = epoch_ms(gate.clock->now()) / 1000;
  const auto stale = click("UALICE", "approve", id, now_s - 6 * 60);
  EXPECT_EQ(stale.status, 401);
  EXPECT_TRUE(stale.failed_authentication);
  EXPECT_EQ(json::parse(stale.body)["error"], "stale");
  EXPECT_EQ(click("UALICE", "approve", id, now_s + 4 * 60).status, 200) << "within 5 minutes either way";

  handlers::Request unsigned_click;
  unsigned_click.method = "POST";
  unsigned_click.path = "/webhooks/slack";
  unsigned_click.body = "payload=%7B%7D";
  const auto refused = run_awaitable(handlers::dispatch(*gate.router, unsigned_click));
  EXPECT_EQ(refused.status, 401);
  EXPECT_TRUE(refused.failed_authentication);
  EXPECT_EQ(replies().size(), 1u) << "only the accepted click was answered";
}
