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
  std::string edited = kBase, edited_again = kBase;  // appended, not concatenated: GCC 12 warns falsely on that
  edited += "# edited\n";
  edited_again += "# edited again\n";
  auto two = config_from(edited);
  auto three = config_from(edited_again);
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
