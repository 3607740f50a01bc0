// What a blue_green Kubernetes target may say, and where {preview_url} may be used.
#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate;

namespace {

std::string blue_green_errors(const std::string& target, const std::string& smoke = "") {
  const std::string yaml = "store: sqlite:/tmp/x.db\ngithub: { secrets: [s] }\nprojects:\n  web:\n    repository: acme/web\n"
                           "    components: { api: { image: ghcr.io/acme/api } }\n    environments:\n      production:\n"
                           "        targets: [ { type: kubernetes, namespace: web, deployments: { api: api }" + target + " } ]\n" + smoke;
  std::string all;
  for (const auto& e : config::load_config_text(yaml, [](const std::string&) { return std::optional<std::string>(); }).errors)
    all += e.to_string() + "\n";
  return all;
}

}  // namespace

TEST(BlueGreenConfig, StrategyAndItsSettings) {
  EXPECT_EQ(blue_green_errors(", strategy: blue_green, blue_green: { preview_url: \"https://preview.web\", keep_old: 5m, label: track }",
                              "        smoke: [ { url: \"{preview_url}/health\" } ]\n"),
            "");
  EXPECT_NE(blue_green_errors(", strategy: canary").find("strategy: is rolling (the default) or blue_green, not 'canary'"), std::string::npos);
  EXPECT_NE(blue_green_errors(", blue_green: { keep_old: 5m }").find("blue_green: needs strategy: blue_green"), std::string::npos);
  EXPECT_NE(blue_green_errors(", strategy: blue_green, drift: {}").find("is not watched for blue_green targets"), std::string::npos);
  EXPECT_NE(blue_green_errors(", strategy: blue_green, blue_green: { preview_url: \"preview.web\" }").find("must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(blue_green_errors("", "        smoke: [ { url: \"{preview_url}/health\" } ]\n")
                .find("smoke[0]: uses {preview_url}, but no blue_green target of this environment sets preview_url"),
            std::string::npos);
}
