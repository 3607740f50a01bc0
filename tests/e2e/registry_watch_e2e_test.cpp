// The registry watch against a real docker-registry: the newest tag in the range deploys (trigger
// registry), once; a newer one pushed later deploys next; tags outside the range, pre-releases and
// names that are no version never do; a restart queues nothing twice.
#include "tests/e2e/e2e_fixture.hpp"

#include "tests/support/registry.hpp"

namespace shipgate::testing {

class RegistryWatchE2E : public E2E {
 protected:
  std::string watch_config() const {
    return R"(
server: { listen: "127.0.0.1:${PORT}", api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"("] }
registries: { ")" + registry.host() + R"(": { plain_http: true } }
reviewers:
  alice: { token: ")" + kAliceToken + R"(", can: [approve, deploy] }
projects:
  api:
    repository: acme/api
    components: { api: { image: )" + registry.host() + R"(/acme/api } }
    environments:
      staging:
        watch: { every: 1s, semver: "^1" }
        targets: [ { type: dokploy, url: ")" + dokploy.url() + R"(", api_key: e2e-key, application_id: app_staging, poll_interval: 20ms } ]
)";
  }
  std::vector<std::string> deployed_versions() {
    const auto list = daemon->get("/api/v1/deployments?environment=staging&limit=50", kAliceToken).json();
    std::vector<std::string> out;
    for (const auto& d : list["deployments"]) out.insert(out.begin(), d["version"].get<std::string>());
    return out;
  }

  Registry registry;
};

TEST_F(RegistryWatchE2E, TheNewestTagInTheRangeDeploysOnceAndANewerOneNext) {
  for (const char* tag : {"1.0.0", "1.1.0", "2.0.0", "1.2.0-rc.1", "latest", "nightly-5"})
    registry.push(std::string("acme/api:") + tag, tag);
  start_with(watch_config());
  ASSERT_TRUE(wait_until([&] { return deployed_versions() == std::vector<std::string>{"1.1.0"}; }, std::chrono::seconds(20)))
      << ::testing::PrintToString(deployed_versions()) << daemon->log();
  const auto list = daemon->get("/api/v1/deployments?environment=staging", kAliceToken).json();
  const auto first = deployment(list["deployments"][0]["id"].get<std::int64_t>());
  EXPECT_EQ(first["trigger"], "registry");
  ASSERT_TRUE(wait_state(first["id"].get<std::int64_t>(), "succeeded"));
  EXPECT_EQ(dokploy.deployed_images("app_staging"), std::vector<std::string>{registry.host() + "/acme/api:1.1.0"});

  registry.push("acme/api:1.2.0", "1.2.0");
  ASSERT_TRUE(wait_until([&] { return deployed_versions() == std::vector<std::string>{"1.1.0", "1.2.0"}; },
                         std::chrono::seconds(20))) << ::testing::PrintToString(deployed_versions());
  // Several more checks and a restart: each tag was queued once.
  daemon->kill9();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // checks run every second
  EXPECT_EQ(deployed_versions(), (std::vector<std::string>{"1.1.0", "1.2.0"}));
}

}  // namespace shipgate::testing
