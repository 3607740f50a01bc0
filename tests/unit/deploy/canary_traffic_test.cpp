// How a canary's weight becomes replicas or an HTTPRoute's backend weights.
#include <gtest/gtest.h>

#include "deploy/canary_traffic.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using nlohmann::json;

TEST(CanaryTraffic, ReplicasGiveTheWeightsShareBesideTheMainDeployment) {
  struct Case {
    int main;
    int percent;
    int want;
  };
  const Case cases[] = {{4, 0, 0}, {4, 20, 1}, {4, 50, 4}, {9, 10, 1}, {10, 25, 3}, {1, 1, 1}, {4, 100, 4}, {0, 100, 1}, {3, 75, 9}};
  for (const auto& c : cases) EXPECT_EQ(canary_replicas(c.main, c.percent), c.want) << c.main << " " << c.percent;
}

TEST(CanaryTraffic, TheRoutePatchSetsBothServicesInEveryRuleThatNamesTheCanary) {
  const json route = json::parse(R"({"metadata":{"name":"api","resourceVersion":"41"},"spec":{"rules":[
      {"backendRefs":[{"name":"api","weight":100},{"name":"api-canary"}]},
      {"backendRefs":[{"name":"admin"}]},
      {"backendRefs":[{"kind":"ServiceImport","name":"api"},{"name":"api-canary","weight":0},{"name":"api","weight":1}]}]}})");
  const config::CanaryRoute cfg{"api", "api", "api-canary"};
  std::string error;
  const json ops = weight_patch(route, cfg, 30, error);
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(ops, json::parse(R"([
      {"op":"test","path":"/metadata/resourceVersion","value":"41"},
      {"op":"add","path":"/spec/rules/0/backendRefs/0/weight","value":70},
      {"op":"add","path":"/spec/rules/0/backendRefs/1/weight","value":30},
      {"op":"add","path":"/spec/rules/2/backendRefs/1/weight","value":30},
      {"op":"add","path":"/spec/rules/2/backendRefs/2/weight","value":70}])"));
  EXPECT_EQ(route.patch(ops)["spec"]["rules"][0]["backendRefs"][1]["weight"], 30);

  for (const char* shape : {R"({"spec":{"rules":[{"backendRefs":[{"name":"api"}]}]}})", R"({"spec":"x"})", "[]", "null"}) {
    error.clear();
    (void)weight_patch(json::parse(shape), cfg, 30, error);
    EXPECT_EQ(error, "HTTPRoute api has no rule with a backendRef to Service api-canary (add one beside api with weight: 0)") << shape;
  }
}
