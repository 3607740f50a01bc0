// Smoke checks with the deployment's values: the new version has to prove it answers.
#include <gtest/gtest.h>

#include <atomic>

#include "deploy/smoke.hpp"
#include "tests/support/http.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::run_awaitable;
using shipgate::testing::StandinReply;
using shipgate::testing::StandinServer;

namespace {

config::TemplateVars vars(const std::string& version) {
  DeployContext c;
  c.project = "planera";
  c.environment = "staging";
  c.version = version;
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.images = {{"backend", "ghcr.io/acme/backend:" + version}};
  return template_vars(c);
}

}  // namespace

TEST(Smoke, BodyContainsTheVersionOnlyWhenTheNewVersionAnswers) {
  std::atomic<bool> rolled_out{false};
  StandinServer app([&](const shipgate::testing::RecordedRequest&) {
    return StandinReply{200, rolled_out ? R"({"version":"v1.6.1"})" : R"({"version":"v1.6.0"})"};
  });
  config::SmokeCheck check;
  check.url = app.url() + "/version";
  check.body_contains = "\"{version}\"";
  check.interval = std::chrono::milliseconds(1);
  auto http = make_beast_http_client();
  const auto old = run_awaitable(run_smoke_check(*http, check, vars("v1.6.1"), nullptr));
  EXPECT_FALSE(old.ok);
  EXPECT_NE(old.message.find("without \"\"v1.6.1\"\""), std::string::npos) << old.message;
  rolled_out = true;
  EXPECT_TRUE(run_awaitable(run_smoke_check(*http, check, vars("v1.6.1"), nullptr)).ok);
}

TEST(Smoke, APostWithTemplatedUrlHeadersAndBody) {
  StandinServer app([](const shipgate::testing::RecordedRequest&) { return StandinReply{201, "created"}; });
  config::SmokeCheck check;
  check.url = app.url() + "/check/{version}?image={image.backend}";
  check.method = "POST";
  check.headers = {{"X-Expect-Version", "{version}"}};
  check.body = {{"sha", "{sha}"}, {"environment", "{environment}"}};
  check.expect = 201;
  auto http = make_beast_http_client();
  const auto out = run_awaitable(run_smoke_check(*http, check, vars("v2/../x"), nullptr));
  ASSERT_TRUE(out.ok) << out.message;
  const auto seen = app.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  // Values from the deployment stay inside their URL segment or query value.
  EXPECT_EQ(seen.target, "/check/v2%2F..%2Fx?image=ghcr.io%2Facme%2Fbackend%3Av2%2F..%2Fx");
  EXPECT_EQ(seen.header("X-Expect-Version"), "v2/../x");
  EXPECT_EQ(seen.header("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(seen.body),
            (nlohmann::json{{"sha", "0123456789abcdef0123456789abcdef01234567"}, {"environment", "staging"}}));
}
