#include <gtest/gtest.h>

#include "handlers/params.hpp"
#include "handlers/router.hpp"
#include "tests/support/run.hpp"

using namespace shipgate::handlers;
using shipgate::testing::run_awaitable;

namespace {
Handler answer(int status) {
  return [status](Request& r) -> boost::asio::awaitable<Response> {
    co_return json_response(status, {{"id", r.params.count("id") ? r.params["id"] : ""}});
  };
}
Request request(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}
}  // namespace

TEST(Router, MatchesParamsAndReportsMethodAndPathErrors) {
  Router router;
  router.add("GET", "/api/v1/deployments/{id}", RouteKind::api, answer(200));
  router.add("POST", "/api/v1/deployments/{id}/approve", RouteKind::api, answer(201));
  router.add("POST", "/webhooks/github", RouteKind::webhook, answer(202));

  auto r = request("GET", "/api/v1/deployments/42");
  auto res = run_awaitable(dispatch(router, r));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(nlohmann::json::parse(res.body)["id"], "42");

  auto wrong_method = request("DELETE", "/api/v1/deployments/42");
  res = run_awaitable(dispatch(router, wrong_method));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "method_not_allowed");
  auto header = [&](const std::string& name) {
    for (const auto& [k, v] : res.headers)
      if (k == name) return v;
    return std::string();
  };
  EXPECT_EQ(header("Allow"), "GET");
  // Every answer carries the security headers, errors included.
  EXPECT_EQ(header("X-Frame-Options"), "DENY");
  EXPECT_NE(header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);

  auto unknown = request("GET", "/nope");
  res = run_awaitable(dispatch(router, unknown));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "not_found");

  EXPECT_EQ(router.classify(request("POST", "/webhooks/github")).kind, RouteKind::webhook);
  EXPECT_EQ(router.classify(request("GET", "/api/v1/deployments/1")).kind, RouteKind::api);
  EXPECT_EQ(router.classify(request("GET", "/unknown")).kind, RouteKind::api);
  EXPECT_EQ(router.classify(request("GET", "/unknown")).label, "unmatched");
}

TEST(Router, TellsTheServerHowToTreatEachRoute) {
  Router router;
  router.add("GET", "/api/v1/deployments/{id}", RouteKind::api, answer(200));
  router.add("GET", "/healthz", RouteKind::api, answer(200));
  router.add("POST", "/webhooks/github", RouteKind::webhook, answer(202));
  router.add("POST", "/webhooks/build", RouteKind::webhook, answer(401), "build");
  const auto api = router.classify(request("GET", "/api/v1/deployments/7"));
  EXPECT_EQ(api.label, "/api/v1/deployments/{id}");
  EXPECT_TRUE(api.limited);
  EXPECT_FALSE(api.probe);
  const auto health = router.classify(request("GET", "/healthz"));
  EXPECT_TRUE(health.probe);
  EXPECT_FALSE(health.limited);
  auto push = request("POST", "/webhooks/github");
  push.headers = {{"X-GitHub-Event", "push"}};
  EXPECT_EQ(router.classify(push).webhook_event, "push");
  push.headers = {{"X-GitHub-Event", "made-up"}};
  EXPECT_EQ(router.classify(push).webhook_event, "other");  // never a label per request
  auto build = request("POST", "/webhooks/build");
  EXPECT_EQ(router.classify(build).webhook_event, "build");
  // Webhook answers carry their outcome for the server to count; other answers carry none.
  EXPECT_EQ(run_awaitable(router.handle(push)).outcome, "accepted");
  EXPECT_EQ(run_awaitable(router.handle(build)).outcome, "bad_signature");
  auto wrong_method = request("GET", "/webhooks/github");  // counted under the webhook route too
  EXPECT_EQ(run_awaitable(router.handle(wrong_method)).outcome, "other");
  auto read = request("GET", "/api/v1/deployments/7");
  EXPECT_EQ(run_awaitable(router.handle(read)).outcome, "");
}

TEST(Router, WebhookLabelsAreBounded) {
  EXPECT_EQ(webhook_event_label("push"), "push");
  EXPECT_EQ(webhook_event_label("repository_dispatch"), "repository_dispatch");
  EXPECT_EQ(webhook_event_label("Push"), "other");
  EXPECT_EQ(webhook_outcome(202, false), "accepted");
  EXPECT_EQ(webhook_outcome(202, true), "duplicate");
  EXPECT_EQ(webhook_outcome(415, false), "malformed");
  EXPECT_EQ(webhook_outcome(418, false), "other");
}

TEST(Router, QueryParametersAreDecoded) {
  Request r;
  r.query = "project=planera&state=queued&note=a+b%21";
  EXPECT_EQ(r.query_param("project"), "planera");
  EXPECT_EQ(r.query_param("note"), "a b!");
  EXPECT_EQ(r.query_param("missing"), "");
}

TEST(Params, NumbersAreDigitsOnlyAndInRange) {
  EXPECT_EQ(parse_integer("12", 1, 100), 12);
  EXPECT_EQ(parse_integer("0", 0, 10), 0);
  EXPECT_EQ(parse_integer("9223372036854775807", 1, INT64_MAX), INT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 12", "12 ", "12x", "1e3", "0x10", "9223372036854775808", "101"})
    EXPECT_FALSE(parse_integer(bad, 0, 100)) << bad;
  EXPECT_FALSE(parse_integer("0", 1, 100));
}
