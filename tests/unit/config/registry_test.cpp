// Config generations: kept while a deployment created under them may still run.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/registry.hpp"

using namespace shipgate;

namespace {

config::ConfigPtr config_from(const std::string& yaml) {
  auto r = config::load_config_text(yaml, [](const std::string&) { return std::optional<std::string>("x"); });
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config;
}

const char* kBase = R"(
github: { secrets: [s] }
projects:
  app:
    repository: acme/app
    environments:
      staging: { targets: [ { type: http, url: "http://x" } ] }
)";

}  // namespace

TEST(ConfigRegistry, KeepsGenerationsUntilNoDeploymentNeedsThem) {
  auto one = config_from(kBase);
  auto two = config_from(std::string(kBase) + "# edited\n");
  auto three = config_from(std::string(kBase) + "# edited again\n");
  config::ConfigRegistry registry(one);
  registry.install(two);
  registry.install(three);
  EXPECT_EQ(registry.current(), three);
  EXPECT_EQ(registry.find(one->source_sha256), one);
  registry.retain_only({two->source_sha256});
  EXPECT_EQ(registry.find(one->source_sha256), nullptr);
  EXPECT_EQ(registry.find(two->source_sha256), two);
  EXPECT_EQ(registry.find(three->source_sha256), three);  // current always stays
  EXPECT_EQ(registry.generations(), 2u);
}
