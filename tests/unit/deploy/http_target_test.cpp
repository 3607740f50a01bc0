#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "deploy/http_target.hpp"
#include "tests/support/http.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::run_awaitable;
using shipgate::testing::StandinReply;

namespace {
DeployContext http_context() {
  DeployContext c;
  c.deployment_id = 5;
  c.marker = "5-100";
  c.project = "planera";
  c.environment = "production";
  c.version = "v1.6.1";
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.images = {{"backend", "ghcr.io/acme/backend:v1.6.1"}};
  c.vars = template_vars(c);
  return c;
}
}  // namespace

TEST(HttpTarget, SendsTemplatedSignedBodyAndSucceedsOn2xx) {
  shipgate::testing::StandinServer server([](const shipgate::testing::RecordedRequest&) { return StandinReply{204, ""}; });
  config::HttpTargetConfig cfg;
  cfg.url = server.url() + "/deploy/{project}?v={version}";
  cfg.headers = {{"X-Env", "{environment}"}};
  cfg.body = {{"image", "{image.backend}"}, {"sha", "{short_sha}"}, {"n", 1}};
  cfg.secret = "hook-secret";
  auto out = run_awaitable(make_http_target(cfg, make_beast_http_client())->deploy(http_context()));
  EXPECT_TRUE(out.ok) << out.message;
  const auto r = server.requests().at(0);
  EXPECT_EQ(r.target, "/deploy/planera?v=v1.6.1");
  EXPECT_EQ(r.header("X-Env"), "production");
  EXPECT_EQ(r.header("Idempotency-Key"), "5-100");
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["image"], "ghcr.io/acme/backend:v1.6.1");
  EXPECT_EQ(body["sha"], "0123456");
  EXPECT_EQ(body["n"], 1);
  EXPECT_EQ(r.header("X-Shipgate-Signature-256"), "sha256=" + hmac_sha256_hex("hook-secret", r.body));
}

TEST(HttpTarget, Non2xxIsAFailureWithTheAnswer) {
  shipgate::testing::StandinServer server([](const shipgate::testing::RecordedRequest&) { return StandinReply{422, R"({"error":"bad image"})"}; });
  config::HttpTargetConfig cfg;
  cfg.url = server.url() + "/deploy";
  auto out = run_awaitable(make_http_target(cfg, make_beast_http_client())->deploy(http_context()));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.message.find("422"), std::string::npos);
  EXPECT_NE(out.message.find("bad image"), std::string::npos);
}
