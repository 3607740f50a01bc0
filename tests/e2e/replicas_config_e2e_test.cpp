// Replicas started with different config files: reported by /api/v1/info and /metrics, and a
// deployment created under one replica's config runs with that config on another replica.
#include "tests/e2e/replicas_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

// One project whose production needs alice's approval and deploys to Dokploy application `app`.
std::string gated_config(const std::string& store_uri, const std::string& dokploy_url, const std::string& app) {
  return R"(
server: { listen: "127.0.0.1:${PORT}", threads: 2, lane_lease: 3s, api_rate: 1000000, api_burst: 1000000 }
store: ")" + store_uri + R"("
github: { secrets: [")" + std::string(kReplicaSecret) + R"("] }
reviewers:
  alice: { token: ")" + kReplicaToken + R"(", can: [approve, deploy] }
projects:
  p00:
    repository: acme/p00
    components: { web: { image: ghcr.io/acme/p00 } }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        approval: { required: 1, reviewers: [alice] }
        targets:
          - { type: dokploy, url: ")" + dokploy_url + R"(", api_key: replica-key, application_id: )" + app + R"(, poll_interval: 20ms }
)";
}

}  // namespace

TEST_F(Replicas, ADeploymentRunsWithTheConfigItWasCreatedUnderOnAReplicaThatNeverLoadedIt) {
  dokploy.add_app("app_a", {"done", "", 2});
  dokploy.add_app("app_b", {"done", "", 2});
  TempDir dir_a, dir_b;
  Daemon r0(dir_a, gated_config(pg.uri(), dokploy.url(), "app_a"), {{"SHIPGATE_REPLICA_ID", "r0"}});
  Daemon r1(dir_b, gated_config(pg.uri(), dokploy.url(), "app_b"), {{"SHIPGATE_REPLICA_ID", "r1"}});
  ASSERT_TRUE(r1.start()) << r1.log();
  std::mt19937_64 rng(7);
  auto accepted = push_to(r1, "p00", random_sha(rng), new_delivery_id());
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const auto id = accepted.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(r0.start()) << r0.log();

  // Two replicas, two configs: reported where an operator looks.
  ASSERT_TRUE(wait_until([&] { return r0.get("/api/v1/info", kReplicaToken).json()["replicas"].size() == 2; }))
      << r0.get("/api/v1/info", kReplicaToken).body;
  const auto info = r0.get("/api/v1/info", kReplicaToken).json();
  EXPECT_FALSE(info["replicas_agree_on_config"].get<bool>()) << info.dump(2);
  EXPECT_EQ(info["store"], "postgresql");
  EXPECT_NE(r0.get("/metrics").body.find("shipgate_replica_config_generations 2"), std::string::npos);

  // r1 goes away; r0, which never loaded r1's config, runs the deployment r1 created: to app_b.
  EXPECT_EQ(r1.terminate(), 0) << r1.log();
  const auto approved = r0.post("/api/v1/deployments/" + std::to_string(id) + "/approve",
                                {{"Authorization", std::string("Bearer ") + kReplicaToken}, {"Content-Type", "application/json"}},
                                R"({"comment":"ship it"})");
  ASSERT_EQ(approved.status, 200) << approved.body;
  ASSERT_TRUE(wait_until([&] { return r0.get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).json()["state"] == "succeeded"; },
                         std::chrono::seconds(30)))
      << r0.get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).body << r0.log();
  EXPECT_EQ(dokploy.jobs("app_b").size(), 1u);
  EXPECT_EQ(dokploy.jobs("app_a").size(), 0u);
  const auto d = r0.get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).json();
  EXPECT_NE(d.dump().find("started on replica r0"), std::string::npos) << d.dump(2);
}

TEST_F(Replicas, AReplicaThatRunsNoDeploymentsLeavesWhatItAcceptsToOneThatDoes) {
  dokploy.add_app("app_p00", {"done", "", 2});
  auto ingress_yaml = replicas_config(pg.uri(), dokploy.url(), 1);
  const std::string lease = "  lane_lease: 3s\n";
  ingress_yaml.replace(ingress_yaml.find(lease), lease.size(), lease + "  run_deployments: false\n");
  TempDir dir_a, dir_b;
  Daemon ingress(dir_a, ingress_yaml, {{"SHIPGATE_REPLICA_ID", "ingress"}});
  Daemon runner(dir_b, replicas_config(pg.uri(), dokploy.url(), 1), {{"SHIPGATE_REPLICA_ID", "runner"}});
  ASSERT_TRUE(ingress.start()) << ingress.log();
  EXPECT_FALSE(ingress.get("/api/v1/info", kReplicaToken).json()["runs_deployments"].get<bool>());

  // Alone it accepts and stores: a replica that ran deployments would have started this one at once.
  std::mt19937_64 rng(11);
  auto first = push_to(ingress, "p00", random_sha(rng), new_delivery_id());
  ASSERT_EQ(first.status, 202) << first.body;
  const auto first_id = std::to_string(first.json()["deployments"][0]["id"].get<std::int64_t>());
  EXPECT_EQ(ingress.get("/api/v1/deployments/" + first_id, kReplicaToken).json()["state"], "queued");

  // The runner takes it, and what the ingress replica accepts next reaches the runner by NOTIFY.
  ASSERT_TRUE(runner.start()) << runner.log();
  const auto finished = [&](const std::string& id) {
    return wait_until([&] { return ingress.get("/api/v1/deployments/" + id, kReplicaToken).json()["state"] == "succeeded"; },
                      std::chrono::seconds(30));
  };
  ASSERT_TRUE(finished(first_id)) << ingress.get("/api/v1/deployments/" + first_id, kReplicaToken).body << runner.log();
  auto second = push_to(ingress, "p00", random_sha(rng), new_delivery_id());
  ASSERT_EQ(second.status, 202) << second.body;
  const auto second_id = std::to_string(second.json()["deployments"][0]["id"].get<std::int64_t>());
  ASSERT_TRUE(finished(second_id)) << ingress.get("/api/v1/deployments/" + second_id, kReplicaToken).body << runner.log();
  for (const auto& id : {first_id, second_id}) {
    const auto d = ingress.get("/api/v1/deployments/" + id, kReplicaToken).json();
    EXPECT_NE(d.dump().find("started on replica runner"), std::string::npos) << d.dump(2);
    EXPECT_EQ(d.dump().find("replica ingress"), std::string::npos) << d.dump(2);
  }
  EXPECT_EQ(dokploy.jobs("app_p00").size(), 2u);
}
