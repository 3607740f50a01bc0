// Webhook verification and readiness, called as plain functions with a Request.
#include <gtest/gtest.h>

#include "handlers/app.hpp"
#include "handlers/intake.hpp"
#include "handlers/signature.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/run.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::handlers;

namespace {

const char* kProjectSecrets = R"(
projects:
  alpha:
    repository: acme/alpha
    secret: alpha-secret
    environments: { s: { targets: [ { type: http, url: "http://x" } ] } }
  beta:
    repository: acme/beta
    secret: beta-secret
    environments: { s: { targets: [ { type: http, url: "http://x" } ] } }
)";

Request signed_request(const std::string& secret, const std::string& body) {
  Request r;
  r.body = body;
  r.headers = {{"X-Hub-Signature-256", sign_body(secret, body)}};
  return r;
}

}  // namespace

bool verify(const config::Config& cfg, const Request& r, const ClaimedProject& claim, std::string& project,
            Response& error) {
  return shipgate::testing::run_awaitable(verify_webhook(cfg, r, claim, project, error));
}

TEST(VerifyWebhook, ProjectSecretVerifiesOnlyForThatProject) {
  auto cfg = shipgate::testing::load_test_config(kProjectSecrets);
  std::string project;
  Response error;
  int lookups = 0;
  auto claims = [&](std::string name) -> ClaimedProject {
    return [&lookups, name]() -> boost::asio::awaitable<std::string> {
      ++lookups;
      co_return name;
    };
  };
  EXPECT_TRUE(verify(*cfg, signed_request("alpha-secret", "{}"), claims("alpha"), project, error));
  EXPECT_EQ(project, "alpha");
  EXPECT_EQ(lookups, 1);
  EXPECT_FALSE(verify(*cfg, signed_request("alpha-secret", "{}"), claims("beta"), project, error));
  EXPECT_EQ(error.status, 401);
  EXPECT_FALSE(verify(*cfg, signed_request("alpha-secret", "{}"), claims(""), project, error));
}

TEST(VerifyWebhook, GlobalSecretNeedsNoLookupAndShapeErrorsAreNamed) {
  auto cfg = shipgate::testing::load_test_config(shipgate::testing::kTestConfig);  // global secret "s"
  std::string project = "x";
  Response error;
  bool looked_up = false;
  const ClaimedProject claim = [&]() -> boost::asio::awaitable<std::string> {
    looked_up = true;
    co_return std::string("planera");
  };
  EXPECT_TRUE(verify(*cfg, signed_request("s", "{\"a\":1}"), claim, project, error));
  EXPECT_EQ(project, "");
  EXPECT_FALSE(looked_up);  // the body is not parsed when a global secret verifies
  // Nor when it does not, while no project has a secret of its own: nothing could use the claim.
  EXPECT_FALSE(verify(*cfg, signed_request("wrong", "{\"a\":1}"), claim, project, error));
  EXPECT_FALSE(looked_up);

  Request missing;
  missing.body = "{}";
  EXPECT_FALSE(verify(*cfg, missing, claim, project, error));
  EXPECT_NE(error.body.find("missing X-Hub-Signature-256"), std::string::npos);
  Request malformed = missing;
  malformed.headers = {{"X-Hub-Signature-256", "sha1=abc"}};
  EXPECT_FALSE(verify(*cfg, malformed, claim, project, error));
  EXPECT_NE(error.body.find("64 hex digits"), std::string::npos);
  EXPECT_FALSE(looked_up);  // nor for a malformed header
}

TEST(VerifyWebhook, LargeBodiesVerifyAcrossSlices) {
  auto cfg = shipgate::testing::load_test_config(kProjectSecrets);
  std::string body = "{\"repository\":{\"full_name\":\"acme/beta\"},\"pad\":\"" + std::string(1'000'000, 'x') + "\"}";
  std::string project;
  Response error;
  const ClaimedProject claim = [&]() -> boost::asio::awaitable<std::string> {
    co_return co_await read_claimed_project(*cfg, body, ClaimBy::repository);
  };
  EXPECT_TRUE(verify(*cfg, signed_request("beta-secret", body), claim, project, error));
  EXPECT_EQ(project, "beta");
  EXPECT_FALSE(verify(*cfg, signed_request("alpha-secret", body), claim, project, error));
  body.back() = ']';  // no longer JSON: no project is claimed
  EXPECT_FALSE(verify(*cfg, signed_request("beta-secret", body), claim, project, error));
}

TEST(ReadClaimedProject, ReadsTheNamingFieldOfEitherKind) {
  auto cfg = shipgate::testing::load_test_config(kProjectSecrets);
  using shipgate::testing::run_awaitable;
  EXPECT_EQ(run_awaitable(read_claimed_project(*cfg, R"({"repository":{"full_name":"ACME/Alpha"}})", ClaimBy::repository)),
            "alpha");
  EXPECT_EQ(run_awaitable(read_claimed_project(*cfg, R"({"project":"beta"})", ClaimBy::project)), "beta");
  EXPECT_EQ(run_awaitable(read_claimed_project(*cfg, R"({"project":"gamma"})", ClaimBy::project)), "");
  EXPECT_EQ(run_awaitable(read_claimed_project(*cfg, R"({"project":"beta")", ClaimBy::project)), "");
}

TEST(ParseJson, BoundsNestingAndRequiresAnObject) {
  Response error;
  EXPECT_TRUE(parse_json(R"({"a":[{"b":"[[[[ not nesting ]]]]"}]})", error));
  EXPECT_FALSE(parse_json(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']'), error));
  EXPECT_NE(error.body.find("deeper than"), std::string::npos);
  EXPECT_FALSE(parse_json("[]", error));
  EXPECT_FALSE(parse_json("{\"a\":", error));
  EXPECT_FALSE(parse_json("\xff\xfe", error));
}

TEST(Readiness, ReadyzTurns503WhileDraining) {
  shipgate::testing::TempDir dir;
  auto store = orchestration::open_sqlite_store({dir.file("s.db")}, std::make_shared<SystemClock>());
  ASSERT_TRUE(store);
  auto cfg = shipgate::testing::load_test_config(shipgate::testing::kTestConfig);
  std::atomic<bool> draining{false};
  App app{[cfg] { return cfg; }, store->get(), nullptr, &draining};
  const auto router = build_router(app);
  Request r;
  r.method = "GET";
  r.path = "/readyz";
  EXPECT_EQ(shipgate::testing::run_awaitable(dispatch(router, r)).status, 200);
  draining = true;
  auto res = shipgate::testing::run_awaitable(dispatch(router, r));
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(res.body.find("shutting down"), std::string::npos);
  r.path = "/healthz";
  EXPECT_EQ(shipgate::testing::run_awaitable(dispatch(router, r)).status, 200);  // alive while draining
}
