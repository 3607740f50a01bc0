// Slack's Approve and Reject buttons against the real daemon: the pending_approval message carries
// them; a signed click by a mapped user approves with the API's rules and the message is updated
// through response_url; stale or badly signed requests are 401; an unmapped user is told why and
// nothing changes; a response_url elsewhere is refused.
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/http.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

constexpr const char* kSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";

class Slack : public E2E {
 protected:
  void start_slack() {
    std::string c = e2e_config(dokploy.url());
    const std::string top = "notify:\n  - { url: \"" + receiver.url() + "/incoming\", format: slack, events: [pending_approval] }\n"
                            "slack:\n  signing_secret: " + kSigningSecret + "\n"
                            "  users: { U0ALICE1: alice, U0VIEWR1: viewer }\n"
                            "  response_url_prefix: \"" + receiver.url() + "/respond/\"\n";
    c.insert(c.find("\nprojects:") + 1, top);
    start_with(c);
  }
  // A pending production deployment, announced in Slack.
  std::int64_t pending() {
    const std::string body = R"({"action":"deploy","client_payload":{"version":"v1.2.3","sha":")" + std::string(kSha) +
                             R"(","environment":"production"},"repository":{"full_name":"acme/planera"}})";
    auto r = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0]["id"].get<std::int64_t>();
  }
  Reply click(const std::string& user, const std::string& action, std::int64_t id, std::int64_t ts,
              const std::string& secret = kSigningSecret, const std::string& respond = "") {
    const json payload = {{"type", "block_actions"},
                          {"user", {{"id", user}, {"username", "someone"}, {"team_id", "T0TEAM"}}},
                          {"api_app_id", "A0APP"},
                          {"response_url", respond.empty() ? receiver.url() + "/respond/T0TEAM/1/abc" : respond},
                          {"actions", {{{"action_id", action}, {"block_id", "shipgate_review"},
                                        {"value", std::to_string(id)}, {"type", "button"}}}}};
    const std::string body = "payload=" + percent_encode(payload.dump());
    const std::string stamp = std::to_string(ts);
    const std::string signature = "v0=" + hmac_sha256_hex(secret, "v0:" + stamp + ":" + body);
    return daemon->post("/webhooks/slack", {{"Content-Type", "application/x-www-form-urlencoded"},
                                            {"X-Slack-Request-Timestamp", stamp}, {"X-Slack-Signature", signature}},
                        body);
  }
  std::vector<json> responses() {
    std::vector<json> out;
    for (const auto& r : receiver.requests())
      if (r.target.rfind("/respond/", 0) == 0) out.push_back(json::parse(r.body, nullptr, false));
    return out;
  }
  static std::int64_t now_s() { return std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count(); }

  StandinServer receiver{[](const RecordedRequest&) { return StandinReply{200, "ok", "text/plain"}; }};
};

TEST_F(Slack, ButtonsApproveWithTheApiRulesAndTheMessageIsUpdated) {
  start_slack();
  const auto id = pending();
  ASSERT_TRUE(wait_until([&] { return receiver.count("POST", "/incoming") == 1; }));
  const auto message = json::parse(receiver.requests()[0].body);
  ASSERT_TRUE(message.contains("blocks")) << message.dump();
  const auto& buttons = message["blocks"][1]["elements"];
  ASSERT_EQ(buttons.size(), 2u);
  EXPECT_EQ(buttons[0]["action_id"], "approve");
  EXPECT_EQ(buttons[1]["action_id"], "reject");
  EXPECT_EQ(buttons[0]["value"], std::to_string(id));

  auto r = click("U0ALICE1", "approve", id, now_s());
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_state(id, "succeeded"));
  const auto d = deployment(id);
  ASSERT_EQ(d["approvals"].size(), 1u);
  EXPECT_EQ(d["approvals"][0]["reviewer"], "alice");
  EXPECT_EQ(d["approvals"][0]["comment"], "approved in Slack");
  ASSERT_TRUE(wait_until([&] { return responses().size() == 1; }));
  EXPECT_EQ(responses()[0]["replace_original"], true);
  EXPECT_NE(responses()[0]["text"].get<std::string>().find("approved by alice"), std::string::npos);

  // A second click on the old message: no longer pending, told so, nothing changes.
  EXPECT_EQ(click("U0ALICE1", "reject", id, now_s()).status, 200);
  ASSERT_TRUE(wait_until([&] { return responses().size() == 2; }));
  EXPECT_EQ(responses()[1]["response_type"], "ephemeral");
  EXPECT_NE(responses()[1]["text"].get<std::string>().find("Not rejected"), std::string::npos);
  EXPECT_EQ(deployment(id)["state"], "succeeded");
}

TEST_F(Slack, ForgedStaleOrUnmappedClicksChangeNothing) {
  start_slack();
  const auto id = pending();
  EXPECT_EQ(click("U0ALICE1", "approve", id, now_s() - 301).status, 401);
  EXPECT_EQ(click("U0ALICE1", "approve", id, now_s(), "wrong-secret").status, 401);
  EXPECT_EQ(daemon->post("/webhooks/slack", {{"Content-Type", "application/x-www-form-urlencoded"}}, "payload=%7B%7D").status, 401);
  EXPECT_EQ(click("U0ALICE1", "approve", id, now_s(), kSigningSecret, "https://evil.example/respond/").status, 400);

  EXPECT_EQ(click("U0NOBODY", "approve", id, now_s()).status, 200);
  ASSERT_TRUE(wait_until([&] { return responses().size() == 1; }));
  EXPECT_EQ(responses()[0]["response_type"], "ephemeral");
  EXPECT_NE(responses()[0]["text"].get<std::string>().find("not a shipgate reviewer"), std::string::npos);

  // Mapped, but the reviewer may not see the project.
  EXPECT_EQ(click("U0VIEWR1", "approve", id, now_s()).status, 200);
  ASSERT_TRUE(wait_until([&] { return responses().size() == 2; }));
  EXPECT_NE(responses()[1]["text"].get<std::string>().find("not one you can see"), std::string::npos);
  EXPECT_EQ(deployment(id)["state"], "pending_approval");
  EXPECT_TRUE(deployment(id)["approvals"].empty());

  // A rejection from Slack carries who and where.
  EXPECT_EQ(click("U0ALICE1", "reject", id, now_s()).status, 200);
  ASSERT_TRUE(wait_state(id, "rejected"));
  ASSERT_TRUE(wait_until([&] { return responses().size() == 3; }));
  EXPECT_NE(responses()[2]["text"].get<std::string>().find("rejected by alice"), std::string::npos);
}

}  // namespace
}  // namespace shipgate::testing
