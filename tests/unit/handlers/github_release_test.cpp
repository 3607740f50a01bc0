// A published GitHub release deploys its tag to the environments that deploy on releases.
#include <gtest/gtest.h>

#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using nlohmann::json;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;

namespace {

const char* kReleaseConfig = R"(
github: { secrets: [hook-secret] }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      staging:
        deploy_on: [push]
        targets: [ { type: http, url: "http://127.0.0.1:1/s" } ]
      production:
        deploy_on: [release]
        tag: "{version}"
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
)";

handlers::Response release(Gate& gate, const std::string& action, const json& release, const std::string& delivery) {
  const json body = {{"action", action}, {"release", release}, {"repository", {{"full_name", "acme/planera"}}},
                     {"sender", {{"login", "maintainer"}}}};
  return gate.github("release", delivery, body, "hook-secret");
}

}  // namespace

TEST(GithubRelease, APublishedReleaseDeploysItsTagWhereReleasesDeploy) {
  Gate gate(kReleaseConfig);
  const std::string sha(40, 'e');
  auto r = release(gate, "published", {{"tag_name", "v1.6.1"}, {"target_commitish", sha}}, "r1");
  ASSERT_EQ(r.status, 202) << r.body;
  const auto list = json::parse(r.body)["deployments"];
  ASSERT_EQ(list.size(), 1u) << "staging deploys on pushes only";
  const auto d = gate.deployment(list[0]["id"].get<std::int64_t>());
  EXPECT_EQ(d.environment, "production");
  EXPECT_EQ(d.version, "v1.6.1");
  EXPECT_EQ(d.sha, sha);
  EXPECT_EQ(d.ref, "refs/tags/v1.6.1");
  EXPECT_EQ(d.images.at("backend"), "ghcr.io/acme/backend:v1.6.1");
  EXPECT_EQ(d.trigger, orchestration::Trigger::release);
  EXPECT_EQ(d.actor, "maintainer");
}

TEST(GithubRelease, OtherActionsAndMalformedReleasesCreateNothing) {
  Gate gate(kReleaseConfig);
  auto drafted = release(gate, "created", {{"tag_name", "v1.6.2"}}, "r2");
  EXPECT_EQ(drafted.status, 200);
  EXPECT_EQ(json::parse(drafted.body)["ignored"], true);
  EXPECT_EQ(release(gate, "published", {{"name", "no tag"}}, "r3").status, 400);
  auto bad_tag = release(gate, "published", {{"tag_name", "v1\nx"}}, "r4");
  EXPECT_EQ(bad_tag.status, 400) << bad_tag.body;
  // A branch name as target_commitish says nothing of the commit: the tag alone is the version.
  auto on_branch = release(gate, "published", {{"tag_name", "v1.7.0"}, {"target_commitish", "main"}}, "r5");
  ASSERT_EQ(on_branch.status, 202) << on_branch.body;
  EXPECT_EQ(gate.deployment(json::parse(on_branch.body)["deployments"][0]["id"].get<std::int64_t>()).sha, "");
  EXPECT_EQ(run_awaitable(gate.store->deployments({})).value().size(), 1u);
}
