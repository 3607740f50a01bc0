// The registry watch against a real docker-registry: the newest tag in the range deploys (trigger
// registry), once; a newer one pushed later deploys next; tags outside the range, pre-releases and
// names that are no version never do; after a restart a new tag deploys and the old ones are not queued again.
#include "tests/e2e/e2e_fixture.hpp"

#include "tests/support/registry.hpp"

namespace shipgate::testing {

class RegistryWatchE2E : public E2E {
 protected:
  std::string watch_config() const {
    return daemon_head("approve, deploy") + R"(registries: { ")" + registry.host() + R"(": { plain_http: true } }
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

  // 1.2.0 is killed while it deploys: after the restart what has succeeded is still 1.1.0, so the watch
  // finds 1.2.0 newer again, and only the tag's delivery key keeps it from being queued twice.
  dokploy.add_app("app_staging", {"done", "", 200});
  registry.push("acme/api:1.2.0", "1.2.0");
  ASSERT_TRUE(wait_until([&] { return deployed_versions() == std::vector<std::string>{"1.1.0", "1.2.0"}; },
                         std::chrono::seconds(20))) << ::testing::PrintToString(deployed_versions());
  const auto second = daemon->get("/api/v1/deployments?environment=staging", kAliceToken).json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(second.get<std::int64_t>(), "running"));
  daemon->kill9();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  dokploy.add_app("app_staging", {"done", "", 1});
  ASSERT_TRUE(wait_state(second.get<std::int64_t>(), "succeeded"));
  registry.push("acme/api:1.3.0", "1.3.0");
  ASSERT_TRUE(wait_until([&] { return deployed_versions().size() >= 3; }, std::chrono::seconds(20)))
      << ::testing::PrintToString(deployed_versions());
  EXPECT_EQ(deployed_versions(), (std::vector<std::string>{"1.1.0", "1.2.0", "1.3.0"}));
}

}  // namespace shipgate::testing
