// The platform repository's e2e fixture: a real bare repository on disk (origin.git) the test pushes
// commits to from a work tree, and the daemon's local config naming it (config_source).
#pragma once
#include <filesystem>
#include <set>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/github_standin.hpp"

namespace shipgate::testing {

inline std::string planera_file(const std::string& dokploy) {
  return "planera:\n"
         "  repository: acme/planera\n"
         "  components: { backend: { image: ghcr.io/acme/planera-backend } }\n"
         "  environments:\n"
         "    staging:\n"
         "      deploy_on: [push]\n"
         "      targets: [ { type: dokploy, url: \"" + dokploy + "\", api_key: e2e-key, application_id: app_staging, poll_interval: 20ms } ]\n";
}

inline std::string other_file(const std::string& dokploy) {
  return "other:\n"
         "  repository: acme/other\n"
         "  components: { web: { image: ghcr.io/acme/other-web } }\n"
         "  environments:\n"
         "    staging:\n"
         "      deploy_on: [push]\n"
         "      targets: [ { type: dokploy, url: \"" + dokploy + "\", api_key: e2e-key, application_id: app_other, poll_interval: 20ms } ]\n";
}

class PlatformConfig : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    git({"init", "-q", "--bare", "-b", "main", dir.file("origin.git")}, dir.path());
    git({"init", "-q", "-b", "main", dir.file("work")}, dir.path());
    put("work/shipgate/shipgate.yaml", "reviewers:\n  alice: { token: \"" + std::string(kAliceToken) + "\", can: [approve, deploy] }\n");
    put("work/shipgate/projects/planera.yaml", planera_file(dokploy.url()));
    first = commit("planera");
  }
  // A file of the work tree, its folders made as needed.
  void put(const std::string& name, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(dir.file(name)).parent_path());
    dir.write(name, content);
  }
  void git(std::vector<std::string> args, const std::string& cwd) {
    args.insert(args.begin(), {"/usr/bin/git", "-C", cwd, "-c", "user.name=t", "-c", "user.email=t@example.com"});
    const auto r = run_command(args);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  // Commits the work tree and pushes it to origin's main; its SHA.
  std::string commit(const std::string& message) {
    git({"add", "-A"}, dir.file("work"));
    git({"commit", "-q", "-m", message}, dir.file("work"));
    git({"push", "-q", "-f", dir.file("origin.git"), "HEAD:main"}, dir.file("work"));
    const auto r = run_command({"/usr/bin/git", "-C", dir.file("work"), "rev-parse", "HEAD"});
    return r.output.substr(0, 40);
  }
  std::string local_config(const std::string& poll, const std::string& extra = "") {
    return "\nserver: { listen: \"127.0.0.1:${PORT}\", api_rate: 1000000, api_burst: 1000000 }\n"
           "store: sqlite:${STORE}\n"
           "github: { secrets: [\"" + std::string(kSecret) + "\"] }\n" + extra +
           "config_source: { git: " + dir.file("origin.git") + ", repository: acme/platform, branch: main, path: shipgate/, "
           "poll: " + poll + ", cache_dir: " + dir.file("cache") + " }\n";
  }
  Reply platform_push(const std::string& sha) {
    const std::string body = push_payload("acme/platform", "refs/heads/main", sha);
    return daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
  }
  std::string applied_commit() {
    const auto info = daemon->get("/api/v1/info", kAliceToken).json();
    return info.value("config_commit", nlohmann::json()).is_string() ? info["config_commit"].get<std::string>() : "";
  }
  nlohmann::json audit(const std::string& action) {
    return daemon->get("/api/v1/audit?action=" + action, kAliceToken).json()["entries"];
  }

  std::string first;
};

}  // namespace shipgate::testing
