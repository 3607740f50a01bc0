// Images checked before the first target, against a real registry: targets get them by digest, the
// next environment gets the digests staging was checked against (or its own images with retag), and a
// missing image fails the deployment before any target is called.
#include <gtest/gtest.h>

#include "orchestration/image_check.hpp"
#include "tests/support/gate.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;
using shipgate::testing::new_deployment;
using shipgate::testing::Registry;

namespace {

std::string config_for(const Registry& registry, const std::string& production_extra) {
  return R"(
github: { secrets: [s] }
registries: { ")" + registry.host() + R"(": { plain_http: true } }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: )" + registry.host() + R"(/acme/backend } }
    environments:
      staging:
        tag: "staging-{version}"
        wait_for_images: 20s
        pin_digests: true
        targets: [ { type: http, url: "http://127.0.0.1:1/a" } ]
      production:
        promote_from: staging
)" + production_extra + R"(
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
)";
}

NewDeployment staging(const Registry& registry, const std::string& version) {
  auto d = new_deployment("planera", "staging", version);
  d.images = {{"backend", registry.host() + "/acme/backend:staging-" + version}};
  return d;
}

}  // namespace

TEST(ImageGate, TargetsGetTheCheckedDigestAndProductionGetsTheSameOneAfterTheTagMoves) {
  Registry registry;
  Gate gate(config_for(registry, ""));
  const auto tested = registry.push("acme/backend:staging-v1.0.0", "tested build");
  const auto id = gate.ingest({staging(registry, "v1.0.0")})[0];
  ASSERT_TRUE(gate.run_until([&] { return gate.targets.calls.size() == 2; }, std::chrono::seconds(20)));
  const std::string pinned = registry.host() + "/acme/backend@" + tested;
  EXPECT_EQ(gate.targets.calls[0].context.images.at("backend"), pinned);
  EXPECT_EQ(gate.targets.calls[0].context.vars.at("image.backend"), pinned);
  const auto d = gate.deployment(id);
  EXPECT_EQ(d.state, State::succeeded);
  EXPECT_EQ(recorded_digests(d.result).at("backend"), tested);
  EXPECT_EQ(d.result["images"]["backend"]["reference"], registry.host() + "/acme/backend:staging-v1.0.0");
  // Production (no checks of its own) was promoted with the digest, not the tag: a re-push of the
  // tag after staging tested it changes nothing for production.
  registry.push("acme/backend:staging-v1.0.0", "rebuilt behind everyone's back");
  auto production = run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}));
  ASSERT_EQ(production->size(), 1u);
  EXPECT_EQ(production->front().images.at("backend"), pinned);
  ASSERT_EQ(gate.settle(production->front().id), State::succeeded);
  EXPECT_EQ(gate.targets.calls[1].context.environment, "production");
  EXPECT_EQ(gate.targets.calls[1].context.images.at("backend"), pinned);
}

TEST(ImageGate, AnImageThatNeverArrivesFailsBeforeAnyTargetRuns) {
  Registry registry;
  auto yaml = config_for(registry, "");
  yaml.replace(yaml.find("wait_for_images: 20s"), 20, "wait_for_images: 1s");
  Gate gate(yaml);
  const auto id = gate.ingest({staging(registry, "v2.0.0")})[0];
  ASSERT_TRUE(gate.run_until([&] { return is_final(gate.state_of(id)); }, std::chrono::seconds(15)));
  const auto d = gate.deployment(id);
  EXPECT_EQ(d.state, State::failed);
  EXPECT_EQ(d.message, "image " + registry.host() + "/acme/backend:staging-v2.0.0 not found after 1s");
  EXPECT_TRUE(gate.targets.calls.empty());
  bool noted = false;
  for (const auto& h : d.history) noted = noted || h.reason == "waiting for image " + registry.host() + "/acme/backend:staging-v2.0.0";
  EXPECT_TRUE(noted) << "the history says what it waited for";
  EXPECT_TRUE(run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}))->empty());
}

TEST(ImageGate, RetagResolvesProductionsOwnImageForTheSameShaAndWaitsForIt) {
  Registry registry;
  Gate gate(config_for(registry, "        tag: \"prod-{version}\"\n        promote: { images: retag }\n        wait_for_images: 20s\n"));
  registry.push("acme/backend:staging-v3.0.0", "built for staging");
  const auto id = gate.ingest({staging(registry, "v3.0.0")})[0];
  ASSERT_EQ(gate.settle(id), State::succeeded);
  auto production = run_awaitable(gate.store->deployments({"planera", "production", {}, 10, 0}));
  ASSERT_EQ(production->size(), 1u);
  const auto prod = production->front();
  EXPECT_EQ(prod.sha, gate.deployment(id).sha);
  EXPECT_EQ(prod.images.at("backend"), registry.host() + "/acme/backend:prod-v3.0.0");
  // Production's own build lands a little later; the deployment waits for it, then deploys it.
  ASSERT_TRUE(gate.run_until([&] { return !gate.deployment(prod.id).waiting_reason.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(gate.deployment(prod.id).waiting_reason, "waiting for image " + registry.host() + "/acme/backend:prod-v3.0.0");
  const auto digest = registry.push("acme/backend:prod-v3.0.0", "built for production");
  ASSERT_TRUE(gate.run_until([&] { return is_final(gate.state_of(prod.id)); }, std::chrono::seconds(30)));
  EXPECT_EQ(gate.state_of(prod.id), State::succeeded);
  EXPECT_EQ(recorded_digests(gate.deployment(prod.id).result).at("backend"), digest);
  EXPECT_EQ(gate.targets.calls.back().context.images.at("backend"), registry.host() + "/acme/backend:prod-v3.0.0");
  EXPECT_TRUE(gate.deployment(prod.id).waiting_reason.empty());
}

TEST(ImageGate, ANewerVersionQueuedBehindAMissingImageSupersedesTheWait) {
  Registry registry;
  Gate gate(config_for(registry, ""));
  // CI never finished v4.0.0's image; v4.1.0's is there. The queue does not wait out the 20 s for it.
  const auto stuck = gate.ingest({staging(registry, "v4.0.0")})[0];
  ASSERT_TRUE(gate.run_until([&] { return !gate.deployment(stuck).waiting_reason.empty(); }, std::chrono::seconds(10)));
  registry.push("acme/backend:staging-v4.1.0");
  const auto next = gate.ingest({staging(registry, "v4.1.0")})[0];
  ASSERT_TRUE(gate.run_until([&] { return gate.state_of(next) == State::succeeded; }, std::chrono::seconds(15)));
  const auto d = gate.deployment(stuck);
  EXPECT_EQ(d.state, State::superseded);
  EXPECT_EQ(d.message, "superseded by deployment " + std::to_string(next) + " (v4.1.0) while waiting for image " +
                           registry.host() + "/acme/backend:staging-v4.0.0");
  EXPECT_TRUE(d.waiting_reason.empty());
  EXPECT_EQ(gate.targets.versions("deploy").front(), "v4.1.0") << "no target ever saw v4.0.0";
}
