#include <gtest/gtest.h>

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
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));

  auto unknown = request("GET", "/nope");
  res = run_awaitable(dispatch(router, unknown));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "not_found");

  EXPECT_EQ(router.kind_of("/webhooks/github"), RouteKind::webhook);
  EXPECT_EQ(router.kind_of("/api/v1/deployments/1"), RouteKind::api);
  EXPECT_EQ(router.kind_of("/unknown"), RouteKind::api);
}

TEST(Router, QueryParametersAreDecoded) {
  Request r;
  r.query = "project=planera&state=queued&note=a+b%21";
  EXPECT_EQ(r.query_param("project"), "planera");
  EXPECT_EQ(r.query_param("note"), "a b!");
  EXPECT_EQ(r.query_param("missing"), "");
}
