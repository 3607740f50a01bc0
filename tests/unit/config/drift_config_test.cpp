#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate::config;

namespace {

LoadResult with_target(const std::string& target) {
  return load_config_text("github: { secrets: [s] }\n"
                          "projects:\n  app:\n    repository: acme/app\n"
                          "    components: { api: { image: ghcr.io/acme/api } }\n"
                          "    environments:\n      production:\n"
                          "        targets: [ " + target + " ]\n",
                          [](const std::string&) { return std::optional<std::string>("x"); });
}

}  // namespace

TEST(DriftConfig, DeclaredReplicasAndDriftSettings) {
  const auto r = with_target("{ type: kubernetes, namespace: shop, deployments: { api: { deployment: api, replicas: 2 } },\n"
                             "            drift: { self_heal: true, relist: 1m, max_heals: 5, heal_window: 30m } }");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& k = std::get<KubernetesTargetConfig>(r.config->projects.at(0).environments.at(0).targets.at(0).spec);
  EXPECT_EQ(k.workloads.at(0).replicas, 2);
  ASSERT_TRUE(k.drift);
  EXPECT_TRUE(k.drift->self_heal);
  EXPECT_EQ(k.drift->relist, std::chrono::minutes(1));
  EXPECT_EQ(k.drift->max_heals, 5);
  EXPECT_EQ(k.drift->heal_window, std::chrono::minutes(30));
}

TEST(DriftConfig, DefaultsWatchWithoutHealing) {
  const auto r = with_target("{ type: kubernetes, namespace: shop, deployments: { api: api }, drift: {} }");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& k = std::get<KubernetesTargetConfig>(r.config->projects.at(0).environments.at(0).targets.at(0).spec);
  EXPECT_FALSE(k.workloads.at(0).replicas) << "replicas are left alone unless declared";
  ASSERT_TRUE(k.drift);
  EXPECT_FALSE(k.drift->self_heal);
  EXPECT_EQ(k.drift->relist, std::chrono::minutes(5));
  EXPECT_EQ(k.drift->max_heals, 3);
  EXPECT_EQ(k.drift->heal_window, std::chrono::hours(1));
}

TEST(DriftConfig, MistakesAreReportedWithTheirPath) {
  const struct {
    std::string target, path, says;
  } cases[] = {
      {"{ type: kubernetes, namespace: s, deployments: { api: { deployment: api, replicas: -1 } } }", "deployments.api.replicas", "0"},
      {"{ type: kubernetes, namespace: s, deployments: { api: api }, drift: { relist: 10ms } }", "drift.relist", "at least 1s"},
      {"{ type: kubernetes, namespace: s, deployments: { api: api }, drift: { max_heals: 0 } }", "drift.max_heals", "1"},
      {"{ type: kubernetes, namespace: s, deployments: { api: api }, drift: { heal: yes } }", "drift.heal", "unknown key"},
  };
  for (const auto& c : cases) {
    const auto r = with_target(c.target);
    ASSERT_EQ(r.errors.size(), 1u) << c.target << (r.errors.empty() ? "" : r.errors[0].to_string());
    const auto error = r.errors[0].to_string();
    EXPECT_NE(error.find(c.path), std::string::npos) << error;
    EXPECT_NE(error.find(c.says), std::string::npos) << error;
  }
}
