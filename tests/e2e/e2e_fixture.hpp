// Shared setup for end-to-end tests: a stand-in Dokploy, a temp directory and a config for the
// real shipgate binary.
#pragma once
#include <gtest/gtest.h>

#include "tests/support/daemon.hpp"
#include "tests/support/dokploy_standin.hpp"
#include "tests/support/wait.hpp"

namespace shipgate::testing {

inline constexpr const char* kSecret = "e2e-secret";
inline constexpr const char* kOtherSecret = "other-secret";
inline constexpr const char* kAliceToken = "alice-token-0123456789";
inline constexpr const char* kViewerToken = "viewer-token-0123456789";
inline constexpr const char* kSha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
inline constexpr const char* kSha2 = "7223839f38bf93d8c2b288d9e14f0fa7f1beb357";

inline std::string e2e_config(const std::string& dokploy_url, const std::string& server_extra = "") {
  return std::string(R"(
server:
  listen: 127.0.0.1:${PORT}
  threads: 2
  max_body: 1MiB
  max_api_body: 64KiB
  timeouts: { header: 1s, body: 2s, idle: 5s }
)") + (server_extra.find("shutdown_grace") == std::string::npos ? "  shutdown_grace: 10s\n" : "") +
         // Tests poll the API in tight loops; the rate limit has tests of its own.
         (server_extra.find("api_rate") == std::string::npos ? "  api_rate: 1000000\n  api_burst: 1000000\n" : "") +
         server_extra + R"(
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"(", "retired-secret"] }
reviewers:
  alice: { token: ")" + kAliceToken + R"(", github: alice, can: [approve, deploy] }
  viewer: { token: ")" + kViewerToken + R"(", projects: [other] }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/planera-backend } }
    environments:
      staging:
        deploy_on: [push, dispatch, build]
        tags: "v*"
        tag: "staging-{short_sha}"
        targets:
          - { type: dokploy, url: ")" + dokploy_url + R"(", api_key: e2e-key, application_id: app_staging,
              poll_interval: 20ms, timeout: 30s }
      production:
        promote_from: staging
        deploy_on: [dispatch]
        tag: "{version}"
        approval: { required: 1, reviewers: [alice] }
        targets:
          - { type: http, url: ")" + dokploy_url + R"(/release", body: { version: "{version}" } }
  other:
    repository: acme/other
    secret: ")" + kOtherSecret + R"("
    components: { web: { image: ghcr.io/acme/other-web } }
    environments:
      staging:
        deploy_on: [push, build]
        targets:
          - { type: dokploy, url: ")" + dokploy_url + R"(", api_key: e2e-key, application_id: app_other,
              poll_interval: 20ms }
)";
}

// server, store, GitHub secret and alice (with `can`), before `projects:`. Tests poll in tight loops.
inline std::string daemon_head(const std::string& can) {
  return std::string("\nserver: { listen: \"127.0.0.1:${PORT}\", api_rate: 1000000, api_burst: 1000000 }\n"
                     "store: sqlite:${STORE}\n"
                     "github: { secrets: [\"") + kSecret + "\"] }\n"
                     "reviewers: { alice: { token: \"" + kAliceToken + "\", can: [" + can + "] } }\n";
}

// A deployment as the API shows it to alice.
inline nlohmann::json deployment_of(const Daemon& daemon, std::int64_t id) {
  return daemon.get("/api/v1/deployments/" + std::to_string(id), kAliceToken).json();
}

// Waits (at most `limit`) until the deployment is neither queued nor running; the state it has then.
inline std::string settled_state(const Daemon& daemon, std::int64_t id, std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::string state;
  wait_until([&] {
    state = deployment_of(daemon, id).value("state", "");
    return state != "queued" && state != "running";
  }, limit);
  return state;
}

// `text` with the first `from` replaced by `to` (a config changed for a reload).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dokploy.add_app("app_staging", {"done", "", 2});
    dokploy.add_app("app_other", {"done", "", 1});
  }
  void start(const std::string& server_extra = "") { start_with(e2e_config(dokploy.url(), server_extra)); }
  void start_with(const std::string& yaml) {
    daemon = std::make_unique<Daemon>(dir, yaml);
    ASSERT_TRUE(daemon->start()) << daemon->log();
  }
  Reply push(const std::string& ref, const std::string& sha, const std::string& delivery = new_delivery_id(),
             const std::string& repo = "acme/planera", const std::string& secret = kSecret) {
    const std::string body = push_payload(repo, ref, sha);
    return daemon->post("/webhooks/github", github_headers("push", delivery, secret, body), body);
  }
  nlohmann::json deployment(std::int64_t id) { return daemon->get("/api/v1/deployments/" + std::to_string(id), kAliceToken).json(); }
  bool wait_state(std::int64_t id, const std::string& state, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait_until([&] { return deployment(id).value("state", "") == state; }, timeout);
  }
  std::size_t deployment_count(const std::string& environment = "") {
    const std::string filter = environment.empty() ? "" : "&environment=" + environment;
    return daemon->get("/api/v1/deployments?limit=500" + filter, kAliceToken).json()["deployments"].size();
  }

  DokployStandin dokploy{"e2e-key"};
  TempDir dir;
  std::unique_ptr<Daemon> daemon;
};

}  // namespace shipgate::testing
