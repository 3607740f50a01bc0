// Several shipgate replicas on one real PostgreSQL, in front of one stand-in Dokploy: `projects`
// projects, each with a staging environment deployed to its own Dokploy application (app_pNN).
#pragma once
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/dokploy_standin.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/wait.hpp"

namespace shipgate::testing {

inline constexpr const char* kReplicaSecret = "replica-secret";
inline constexpr const char* kReplicaToken = "replica-token-0123456789";

inline std::string project_name(int i) { return (i < 10 ? "p0" : "p") + std::to_string(i); }

inline std::string replicas_config(const std::string& store_uri, const std::string& dokploy_url, int projects) {
  std::string yaml = R"(
server:
  listen: 127.0.0.1:${PORT}
  threads: 2
  shutdown_grace: 10s
  lane_lease: 3s
  api_rate: 1000000
  api_burst: 1000000
  max_connections_per_client: 4096
store: ")" + store_uri + R"("
github: { secrets: [")" + std::string(kReplicaSecret) + R"("] }
reviewers:
  alice: { token: ")" + kReplicaToken + R"(", can: [approve, deploy] }
projects:
)";
  for (int i = 0; i < projects; ++i) {
    const auto p = project_name(i);
    yaml += "  " + p + ":\n    repository: acme/" + p + "\n    components: { web: { image: ghcr.io/acme/" + p +
            " } }\n    environments:\n      staging:\n        deploy_on: [push]\n        tag: \"{short_sha}\"\n"
            "        targets:\n          - { type: dokploy, url: \"" + dokploy_url +
            "\", api_key: replica-key, application_id: app_" + p + ", poll_interval: 20ms, timeout: 120s }\n";
  }
  return yaml;
}

inline std::string random_sha(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string s(40, '0');
  for (auto& c : s) c = hex[rng() % 16];
  return s;
}

class Replicas : public ::testing::Test {
 protected:
  // Starts `count` replicas named r0, r1, ... on the cluster's own `postgres` database; with
  // `fixed_ports`, each on a port of its own that stays the same across restarts (a load balancer's
  // upstream list names them).
  void start_replicas(int count, int projects, int ticks = 3, bool fixed_ports = false) {
    for (int i = 0; i < projects; ++i) dokploy.add_app("app_" + project_name(i), {"done", "", ticks});
    for (int i = 0; i < count; ++i) {
      auto yaml = replicas_config(pg.uri(), dokploy.url(), projects);
      if (fixed_ports) yaml.replace(yaml.find("${PORT}"), 7, std::to_string(free_loopback_port()));
      dirs.push_back(std::make_unique<TempDir>());
      replicas.push_back(std::make_unique<Daemon>(*dirs.back(), yaml,
                                                  std::map<std::string, std::string>{{"SHIPGATE_REPLICA_ID", "r" + std::to_string(i)}}));
      ASSERT_TRUE(replicas.back()->start()) << replicas.back()->log();
    }
  }
  Reply push_to(Daemon& replica, const std::string& project, const std::string& sha, const std::string& delivery) {
    const std::string body = push_payload("acme/" + project, "refs/heads/main", sha);
    return replica.post("/webhooks/github", github_headers("push", delivery, kReplicaSecret, body), body);
  }
  // A replica that answers (the first one up).
  Daemon& any_up() {
    for (auto& r : replicas)
      if (r->process().running()) return *r;
    return *replicas.front();
  }
  // An API answer as JSON; a failed test (with the answer and the replica's log) when it is not JSON.
  nlohmann::json get(const std::string& target) {
    auto& replica = any_up();
    const auto reply = replica.get(target, kReplicaToken);
    auto body = reply.json();
    if (body.is_discarded()) {
      ADD_FAILURE() << "GET " << target << ": status " << reply.status << " " << reply.error << "\n"
                    << reply.body << "\n" << replica.log();
      return nlohmann::json::object();
    }
    return body;
  }
  // Every deployment, newest first, through the API's pages.
  std::vector<nlohmann::json> all_deployments(const std::string& state = "") {
    std::vector<nlohmann::json> out;
    std::string before;
    for (;;) {
      auto page = get("/api/v1/deployments?limit=500" + (state.empty() ? "" : "&state=" + state) + before);
      for (auto& d : page["deployments"]) out.push_back(d);
      if (!page.contains("next_before")) break;
      before = "&before=" + std::to_string(page["next_before"].get<std::int64_t>());
    }
    return out;
  }
  bool settled(std::chrono::milliseconds timeout) {
    return wait_until([&] { return all_deployments("queued").empty() && all_deployments("running").empty(); }, timeout);
  }

  Postgres pg;
  DokployStandin dokploy{"replica-key"};
  std::vector<std::unique_ptr<TempDir>> dirs;
  std::vector<std::unique_ptr<Daemon>> replicas;
};

}  // namespace shipgate::testing
