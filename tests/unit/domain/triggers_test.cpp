#include <gtest/gtest.h>

#include "domain/triggers.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;

namespace {
const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
}

class Triggers : public ::testing::Test {
 protected:
  config::ConfigPtr cfg = shipgate::testing::load_test_config(shipgate::testing::kTestConfig);
  const config::Project& project() { return *cfg->project("planera"); }
};

TEST_F(Triggers, PushToMainDeploysStagingWithTemplatedImages) {
  auto plan = plan_push(project(), {"acme/planera", "refs/heads/main", kSha, false, "octocat"});
  ASSERT_TRUE(plan.error.empty());
  ASSERT_EQ(plan.deployments.size(), 1u);
  const auto& d = plan.deployments[0];
  EXPECT_EQ(d.environment, "staging");
  EXPECT_EQ(d.version, kSha);
  EXPECT_EQ(d.sha, kSha);
  EXPECT_EQ(d.images.at("backend"), "ghcr.io/acme/backend:staging-0123456");
  EXPECT_EQ(d.images.at("frontend"), "ghcr.io/acme/frontend:staging-0123456");
  EXPECT_EQ(d.initial, State::queued);
  EXPECT_EQ(d.trigger, Trigger::push);
  EXPECT_EQ(d.actor, "octocat");
}

TEST_F(Triggers, EnvironmentBranchOverridesProjectBranch) {
  auto plan = plan_push(project(), {"acme/planera", "refs/heads/develop", kSha, false, "octocat"});
  ASSERT_EQ(plan.deployments.size(), 1u);
  EXPECT_EQ(plan.deployments[0].environment, "preview");
  EXPECT_EQ(plan.deployments[0].images.at("backend"), "ghcr.io/acme/backend:" + kSha);  // default {sha}
}

TEST_F(Triggers, TagPushMatchingPatternDeploysTheTag) {
  auto plan = plan_push(project(), {"acme/planera", "refs/tags/v1.6.1", kSha, false, "octocat"});
  ASSERT_EQ(plan.deployments.size(), 1u);
  EXPECT_EQ(plan.deployments[0].version, "v1.6.1");
  EXPECT_EQ(plan.deployments[0].sha, kSha);
  auto other = plan_push(project(), {"acme/planera", "refs/tags/nightly", kSha, false, "octocat"});
  EXPECT_TRUE(other.deployments.empty());
  EXPECT_NE(other.ignored.find("tag nightly"), std::string::npos);
}

TEST_F(Triggers, DeletedRefsAndOtherBranchesNeverDeploy) {
  auto deleted = plan_push(project(), {"acme/planera", "refs/heads/main", std::string(40, '0'), true, "x"});
  EXPECT_TRUE(deleted.deployments.empty());
  EXPECT_NE(deleted.ignored.find("deleted"), std::string::npos);
  auto zeros = plan_push(project(), {"acme/planera", "refs/heads/main", std::string(40, '0'), false, "x"});
  EXPECT_TRUE(zeros.deployments.empty());
  auto feature = plan_push(project(), {"acme/planera", "refs/heads/feature/x", kSha, false, "x"});
  EXPECT_TRUE(feature.deployments.empty());
  EXPECT_NE(feature.ignored.find("feature/x"), std::string::npos);
  auto bad = plan_push(project(), {"acme/planera", "refs/heads/main", "not-a-sha", false, "x"});
  EXPECT_FALSE(bad.error.empty());
}

TEST_F(Triggers, DispatchWithExplicitImagesAndApproval) {
  VersionRequest req;
  req.environment = "production";
  req.version = "v1.6.1";
  req.sha = kSha;
  const std::string digest = "ghcr.io/acme/backend@sha256:" + std::string(64, 'a');
  req.images = {{"backend", digest}};
  auto plan = plan_version_request(project(), req, config::Trigger::dispatch);
  ASSERT_TRUE(plan.error.empty()) << plan.error;
  ASSERT_EQ(plan.deployments.size(), 1u);
  const auto& d = plan.deployments[0];
  EXPECT_EQ(d.initial, State::pending_approval);
  EXPECT_EQ(d.images.at("backend"), digest);                                // explicit wins
  EXPECT_EQ(d.images.at("frontend"), "ghcr.io/acme/frontend:v1.6.1");     // template for the rest
}

TEST_F(Triggers, DispatchWithoutEnvironmentUsesEveryDispatchEnvironment) {
  VersionRequest req;
  req.sha = kSha;
  req.version = "v2.0.0";
  auto plan = plan_version_request(project(), req, config::Trigger::dispatch);
  ASSERT_EQ(plan.deployments.size(), 2u);
  EXPECT_EQ(plan.deployments[0].environment, "staging");
  EXPECT_EQ(plan.deployments[1].environment, "production");
}

TEST_F(Triggers, InvalidVersionRequests) {
  VersionRequest none;
  EXPECT_NE(plan_version_request(project(), none, config::Trigger::build).error.find("needs sha or version"), std::string::npos);
  VersionRequest bad_sha;
  bad_sha.sha = "xyz";
  EXPECT_FALSE(plan_version_request(project(), bad_sha, config::Trigger::build).error.empty());
  VersionRequest unknown_component;
  unknown_component.sha = kSha;
  unknown_component.images = {{"worker", "x"}};
  EXPECT_NE(plan_version_request(project(), unknown_component, config::Trigger::build).error.find("worker"), std::string::npos);
  VersionRequest unknown_env;
  unknown_env.sha = kSha;
  unknown_env.environment = "qa";
  EXPECT_NE(plan_version_request(project(), unknown_env, config::Trigger::build).error.find("qa"), std::string::npos);
  // staging builds tags from {short_sha}: a version without a SHA cannot be deployed there.
  VersionRequest tag_only;
  tag_only.version = "v3";
  tag_only.environment = "staging";
  EXPECT_NE(plan_version_request(project(), tag_only, config::Trigger::build).error.find("short_sha"), std::string::npos);
}

TEST_F(Triggers, TriggerNotEnabledIsIgnoredWithReason) {
  VersionRequest req;
  req.sha = kSha;
  req.environment = "preview";
  auto plan = plan_version_request(project(), req, config::Trigger::build);
  EXPECT_TRUE(plan.deployments.empty());
  EXPECT_TRUE(plan.error.empty());
  EXPECT_NE(plan.ignored.find("does not deploy on build"), std::string::npos);
}

TEST_F(Triggers, AGithubActionsJobBecomesOneDeploymentWithGithubsIdsInItsEnvironment) {
  ActionsRequest request{"Production", 9001, 555, kSha, "main", "octocat", "push"};
  auto plan = plan_actions_request(project(), request);
  ASSERT_EQ(plan.deployments.size(), 1u) << plan.error << plan.ignored;
  const auto& d = plan.deployments[0];
  EXPECT_EQ(d.environment, "production") << "GitHub's environment names are compared without case";
  EXPECT_EQ(d.trigger, Trigger::github_actions);
  EXPECT_EQ(d.version, kSha);
  EXPECT_EQ(d.ref, "main");
  EXPECT_EQ(d.actor, "octocat");
  EXPECT_TRUE(d.images.empty()) << "the job deploys its own images";
  EXPECT_EQ(d.initial, State::pending_approval);
  EXPECT_EQ(d.result["github"], (nlohmann::json{{"run_id", 9001}, {"deployment_id", 555}, {"environment", "Production"}}));
  EXPECT_NE(d.reason.find("run 9001"), std::string::npos) << d.reason;

  request.environment = "qa";
  plan = plan_actions_request(project(), request);
  EXPECT_TRUE(plan.deployments.empty());
  EXPECT_NE(plan.ignored.find("'qa'"), std::string::npos) << plan.ignored;

  request = {"production", 1, 2, "not-a-sha", "main", "", ""};
  plan = plan_actions_request(project(), request);
  EXPECT_EQ(plan.invalid, "sha");
  request = {"production", 1, 2, kSha, "bad..ref", "", ""};
  plan = plan_actions_request(project(), request);
  EXPECT_EQ(plan.invalid, "ref");
}

TEST_F(Triggers, APlatformCommitChangesTheProjectsWhoseSectionOrConfigPathsChanged) {
  const std::map<std::string, std::string> before = {{"planera", "a"}, {"gone", "x"}};
  const std::map<std::string, std::string> same = {{"planera", "a"}};
  const std::map<std::string, std::string> files = {{"planera", "shipgate/projects/planera.yaml"}};
  EXPECT_TRUE(config_changes(before, same, files, {}, {"shipgate/projects/planera.yaml"}, *cfg).empty())
      << "a file that changed in a way its section did not (a comment) redeploys nothing";
  const std::map<std::string, std::string> edited = {{"planera", "b"}};
  auto changes = config_changes(before, edited, files, {}, {"shipgate/projects/planera.yaml", "README.md"}, *cfg);
  const std::map<std::string, std::vector<std::string>> referenced = {{"planera", {"shipgate/compose/planera.yml", "shipgate/k8s"}}};
  const auto by_files = config_changes(before, same, files, referenced, {"shipgate/k8s/deploy.yaml", "shipgate/compose/other.yml"}, *cfg);
  ASSERT_EQ(by_files.size(), 1u) << "a file its targets read changed, its section did not";
  EXPECT_EQ(by_files.at("planera"), std::vector<std::string>{"shipgate/k8s/deploy.yaml"});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes["planera"], std::vector<std::string>{"shipgate/projects/planera.yaml"});

  CurrentVersions current;
  Deployment running;
  running.id = 7;
  running.version = "v1.2.0";
  running.sha = kSha;
  running.images = {{"backend", "ghcr.io/acme/planera-backend@sha256:" + std::string(64, 'a')}};
  current[{"planera", "staging"}] = running;
  auto plan = plan_config_redeploys(*cfg, changes, current, std::string(40, 'c'), "platform");
  ASSERT_EQ(plan.deployments.size(), 1u) << plan.ignored;
  EXPECT_EQ(plan.deployments[0].environment, "staging");
  EXPECT_EQ(plan.deployments[0].trigger, Trigger::config_change);
  EXPECT_EQ(plan.deployments[0].images, running.images) << "exactly what runs, by digest";
  EXPECT_EQ(plan.deployments[0].config_commit, std::string(40, 'c'));
  EXPECT_NE(plan.deployments[0].reason.find("shipgate/projects/planera.yaml"), std::string::npos);
  EXPECT_TRUE(plan_config_redeploys(*cfg, changes, {}, std::string(40, 'c'), "platform").deployments.empty())
      << "nothing deployed yet: nothing to redeploy";
}
