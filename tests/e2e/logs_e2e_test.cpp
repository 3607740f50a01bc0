// The log: one JSON object per line when asked, and never a secret, in either format.
#include <sstream>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;

namespace {

// Exercises every path that handles a secret: signed webhooks (right and wrong), token-authenticated
// API calls (right and wrong), and a Dokploy deploy with its API key.
void exercise(E2E& t, Daemon& d, std::int64_t& deployed) {
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha);
  auto ok = d.post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  deployed = ok.json()["deployments"][0]["id"];
  d.post("/webhooks/github", github_headers("push", new_delivery_id(), "guessed-secret-123", body), body);
  d.get("/api/v1/deployments", kAliceToken);
  d.get("/api/v1/deployments", "not-the-token-but-secret-looking-987");
  (void)t;
}

void expect_no_secrets(const std::string& log) {
  for (const std::string& secret : {std::string(kSecret), std::string(kOtherSecret), std::string(kAliceToken),
                                   std::string(kViewerToken), std::string("e2e-key"), std::string("guessed-secret-123"),
                                   std::string("not-the-token-but-secret-looking-987")})
    EXPECT_EQ(log.find(secret), std::string::npos) << "secret \"" << secret << "\" appears in the log";
}

}  // namespace

TEST_F(E2E, JsonLogLinesParseAndCarryIdsAndNoSecretIsEverLogged) {
  start("log: { format: json, level: debug }\n");
  std::int64_t id = 0;
  exercise(*this, *daemon, id);
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_EQ(daemon->terminate(), 0);
  const std::string log = daemon->log();
  std::istringstream lines(log);
  std::string line;
  int parsed = 0, with_request = 0, with_deployment = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not JSON: " << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    ++parsed;
    with_request += j.contains("request_id");
    with_deployment += j.value("deployment", std::int64_t{0}) == id;
  }
  EXPECT_GT(parsed, 10);
  EXPECT_GE(with_request, 5);
  EXPECT_GE(with_deployment, 3);
  expect_no_secrets(log);
}

TEST_F(E2E, TextLogsNeverCarrySecretsEither) {
  start("log: { level: debug }\n");
  std::int64_t id = 0;
  exercise(*this, *daemon, id);
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_EQ(daemon->terminate(), 0);
  EXPECT_NE(daemon->log().find(" info "), std::string::npos);
  expect_no_secrets(daemon->log());
}
