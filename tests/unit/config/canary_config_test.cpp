#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate::config;

namespace {

// An environment with two Kubernetes workloads and the given canary section.
LoadResult with_canary(const std::string& canary, const std::string& deployments = "{ api: api, web: web }") {
  return load_config_text("github: { secrets: [s] }\n"
                          "projects:\n  app:\n    repository: acme/app\n"
                          "    components: { api: { image: ghcr.io/acme/api }, web: { image: ghcr.io/acme/web } }\n"
                          "    environments:\n      production:\n"
                          "        analysis: { prometheus: http://prom:9090, query: q, max: 0.01 }\n"
                          "        targets: [ { type: command, argv: [/bin/true] },\n"
                          "                   { type: kubernetes, namespace: shop, deployments: " + deployments + " } ]\n"
                          "        canary: " + canary + "\n",
                          [](const std::string&) { return std::optional<std::string>("x"); });
}

}  // namespace

TEST(CanaryConfig, StandsBesideTheComponentsDeploymentInItsTargetsNamespace) {
  const auto r = with_canary("{ component: api, deployment: api-canary, steps: [ { weight: 10, pause: 5m }, { weight: 50, pause: 1m } ] }",
                             "{ api: { deployment: api, container: server }, web: web }");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& env = r.config->projects.at(0).environments.at(0);
  ASSERT_TRUE(env.canary);
  EXPECT_EQ(env.canary->target, 1u);
  EXPECT_EQ(env.canary->container, "server") << "the main Deployment's container by default";
  ASSERT_EQ(env.canary->steps.size(), 2u);
  EXPECT_EQ(env.canary->steps[0].weight, 10);
  EXPECT_EQ(env.canary->steps[0].pause, std::chrono::minutes(5));
  EXPECT_EQ(&env.canary_analysis(), &env.analysis) << "no analysis of its own: the environment's";
  const auto target = env.canary_target();
  const auto& k = std::get<KubernetesTargetConfig>(target.spec);
  EXPECT_EQ(k.namespace_, "shop");
  ASSERT_EQ(k.workloads.size(), 1u);
  EXPECT_EQ(k.workloads[0].deployment, "api-canary");
  EXPECT_EQ(k.workloads[0].container, "server");
}

TEST(CanaryConfig, TheOnlyWorkloadNeedsNoComponentAndOwnAnalysisWins) {
  const auto r = with_canary("{ deployment: api-canary, steps: [ { weight: 5, pause: 30s } ],\n"
                             "          analysis: { prometheus: http://other:9090, query: q2, max: 0.05, for: 1m } }",
                             "{ api: api }");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& env = r.config->projects.at(0).environments.at(0);
  EXPECT_EQ(env.canary->component, "api");
  ASSERT_TRUE(env.canary_analysis());
  EXPECT_EQ(env.canary_analysis()->query, "q2");
}

TEST(CanaryConfig, EveryMistakeIsReportedWithItsPath) {
  const struct {
    std::string canary;
    std::string path;
    std::string says;
  } cases[] = {
      {"{ deployment: api-canary, steps: [ { weight: 10, pause: 1m } ] }", "canary.component", "several components"},
      {"{ component: db, deployment: db-canary, steps: [ { weight: 10, pause: 1m } ] }", "canary", "component 'db'"},
      {"{ component: api, steps: [ { weight: 10, pause: 1m } ] }", "canary", "deployment"},
      {"{ component: api, deployment: api, steps: [ { weight: 10, pause: 1m } ] }", "canary.deployment", "main Deployment"},
      {"{ component: api, deployment: c }", "canary", "steps"},
      {"{ component: api, deployment: c, steps: [] }", "canary.steps", "at least one step"},
      {"{ component: api, deployment: c, steps: [ { weight: 0, pause: 1m } ] }", "canary.steps[0].weight", "1"},
      {"{ component: api, deployment: c, steps: [ { weight: 10 } ] }", "canary.steps[0]", "pause"},
      {"{ component: api, deployment: c, steps: [ { weight: 50, pause: 1m }, { weight: 10, pause: 1m } ] }",
       "canary.steps[1].weight", "not be lower"},
      {"{ component: api, deployment: c, steps: [ { weight: 10, pause: 1m } ], analysis: { query: q, max: 1 } }",
       "canary.analysis", "prometheus"},
      {"{ component: api, deployment: c, steps: [ { weight: 10, pause: 1m } ], replicas: 1 }", "canary.replicas", "unknown key"},
  };
  for (const auto& c : cases) {
    const auto r = with_canary(c.canary);
    ASSERT_EQ(r.errors.size(), 1u) << c.canary << (r.errors.empty() ? "" : r.errors[0].to_string());
    const auto error = r.errors[0].to_string();
    EXPECT_NE(error.find(c.path), std::string::npos) << error;
    EXPECT_NE(error.find(c.says), std::string::npos) << error;
  }
}

TEST(CanaryConfig, NeedsAKubernetesTarget) {
  const auto r = load_config_text("github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n"
                                  "    environments:\n      production:\n        targets: [ { type: command, argv: [/bin/true] } ]\n"
                                  "        canary: { deployment: c, steps: [ { weight: 10, pause: 1m } ] }\n",
                                  [](const std::string&) { return std::optional<std::string>("x"); });
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("needs a kubernetes target"), std::string::npos) << r.errors[0].to_string();
}
