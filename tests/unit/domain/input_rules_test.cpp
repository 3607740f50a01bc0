// The rules for values that arrive in webhooks and request bodies, and where they are written.
#include <gtest/gtest.h>

#include "common/logging.hpp"
#include "common/text.hpp"
#include "config/template.hpp"
#include "domain/input_rules.hpp"
#include "domain/triggers.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;

TEST(InputRules, VersionsAreGitRefNames) {
  for (const char* ok : {"v1.6.1", "1.0.0-rc.1", "release/2026-11", "v1_2", "6113728f27ae82c7b1a177c8d03f9e96e0adf246"})
    EXPECT_FALSE(check_version(ok)) << ok;
  for (const char* bad : {"", "v9\r\nX-Injected: yes", "../../admin/delete", "v1?token=x", "v1 2", "-rf", ".hidden",
                          "a/.b", "v1.", "v1/", "/v1", "a//b", "v1.lock", "v1~1", "v1^", "v1:2", "v*", "v[1]",
                          "a\\b", "a@{1}", "@", "tab\there", "nul\x01"})
    EXPECT_TRUE(check_version(bad)) << bad;
  EXPECT_TRUE(check_version(std::string(129, 'a')));
  EXPECT_FALSE(check_version(std::string(128, 'a')));
}

TEST(InputRules, RefsShasAndTags) {
  EXPECT_FALSE(check_ref("refs/heads/main"));
  EXPECT_FALSE(check_ref("refs/tags/v1.2.0"));
  EXPECT_TRUE(check_ref("heads/main"));
  EXPECT_TRUE(check_ref("refs/heads/a..b"));
  EXPECT_TRUE(check_ref("refs/heads/" + std::string(250, 'a')));
  EXPECT_FALSE(check_sha("6113728f27ae82c7b1a177c8d03f9e96e0adf246"));
  EXPECT_TRUE(check_sha("6113728"));
  EXPECT_TRUE(check_sha("6113728f27ae82c7b1a177c8d03f9e96e0adf24g"));
  EXPECT_FALSE(check_image_tag("staging-1a2b3c4"));
  EXPECT_TRUE(check_image_tag("release/1"));
  EXPECT_TRUE(check_image_tag("-x"));
  EXPECT_TRUE(check_image_tag(std::string(129, 'a')));
}

TEST(InputRules, ImageOverridesNameTheComponentsRepository) {
  config::Component c{"backend", "ghcr.io/acme/api", {}};
  const std::string digest = "@sha256:" + std::string(64, 'a');
  EXPECT_FALSE(check_image_override(c, "ghcr.io/acme/api:v1"));
  EXPECT_FALSE(check_image_override(c, "ghcr.io/acme/api" + digest));
  EXPECT_FALSE(check_image_override(c, "ghcr.io/acme/api:v1" + digest));
  EXPECT_TRUE(check_image_override(c, "evil.example.com/backdoor:latest"));
  EXPECT_TRUE(check_image_override(c, "ghcr.io/acme/api"));  // no tag: would mean "latest"
  EXPECT_TRUE(check_image_override(c, "ghcr.io/acme/api-other:v1"));
  EXPECT_TRUE(check_image_override(c, "ghcr.io/acme/api:v1\r\nX: y"));
  EXPECT_TRUE(check_image_override(c, "ghcr.io/acme/api@sha256:abc"));
  config::Component mirrored{"backend", "ghcr.io/acme/api", {"registry.internal:5000/mirror/*"}};
  EXPECT_FALSE(check_image_override(mirrored, "registry.internal:5000/mirror/api:v1"));
  EXPECT_TRUE(check_image_override(mirrored, "registry.internal:5000/other/api:v1"));
}

namespace {
const char* kProject = R"(
github: { secrets: [s] }
projects:
  app:
    repository: acme/app
    components: { backend: { image: ghcr.io/acme/api } }
    environments:
      staging:
        deploy_on: [push, dispatch, build]
        tags: "v*"
        tag: "{version}"
        targets: [ { type: http, url: "http://x" } ]
)";
}  // namespace

TEST(InputRules, PlansRefuseWhatBreaksARuleAndSayWhichField) {
  auto cfg = shipgate::testing::load_test_config(kProject);
  const auto& p = cfg->projects.front();
  VersionRequest vr;
  vr.sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
  vr.version = "v9\r\nX-Injected: yes";
  auto plan = plan_version_request(p, vr, config::Trigger::dispatch);
  EXPECT_TRUE(plan.deployments.empty());
  EXPECT_EQ(plan.invalid, "version");
  vr.version = "v1.0.0";
  vr.images = {{"backend", "evil.example.com/backdoor:latest"}};
  plan = plan_version_request(p, vr, config::Trigger::dispatch);
  EXPECT_EQ(plan.invalid, "image");
  EXPECT_NE(plan.error.find("evil.example.com/backdoor"), std::string::npos);
  vr.images.clear();
  vr.sha = "abc1234";
  EXPECT_EQ(plan_version_request(p, vr, config::Trigger::dispatch).invalid, "sha");
  vr.sha.clear();
  vr.version = "v1+build.7";  // a valid Git tag, but not a valid image tag once {version} makes one
  plan = plan_version_request(p, vr, config::Trigger::dispatch);
  EXPECT_EQ(plan.invalid, "image");
  vr.version = "v1.0.0";
  plan = plan_version_request(p, vr, config::Trigger::dispatch);
  ASSERT_EQ(plan.deployments.size(), 1u) << plan.error;
  EXPECT_EQ(plan.deployments[0].images.at("backend"), "ghcr.io/acme/api:v1.0.0");

  PushEvent push{"acme/app", "refs/tags/v1?x", "6113728f27ae82c7b1a177c8d03f9e96e0adf246", false, "octocat"};
  EXPECT_EQ(plan_push(p, push).invalid, "ref");
  push.ref = "refs/tags/v2.0.0";
  push.after = "6113728";
  EXPECT_EQ(plan_push(p, push).invalid, "sha");
}

TEST(Escaping, UrlPlaceholdersArePercentEncoded) {
  const config::TemplateVars vars = {{"version", "../../admin/delete?token=x"}, {"project", "app"}};
  EXPECT_EQ(config::expand_template("https://h/deploy/{project}/{version}?v={version}", vars, nullptr,
                                    config::Escape::url_component),
            "https://h/deploy/app/..%2F..%2Fadmin%2Fdelete%3Ftoken%3Dx?v=..%2F..%2Fadmin%2Fdelete%3Ftoken%3Dx");
  EXPECT_EQ(config::percent_encode("v1.2.0-rc_1~x"), "v1.2.0-rc_1~x");
  EXPECT_EQ(config::percent_encode("a b\r\n"), "a%20b%0D%0A");
}

TEST(Escaping, TextLogLinesCannotBeForged) {
  const auto line = text_log_line("delivery v9\r\n2026-01-01T00:00:00Z info forged\x01");
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the line's own end only
  EXPECT_NE(line.find("v9\\r\\n2026"), std::string::npos) << line;
  EXPECT_NE(line.find("forged\\x01"), std::string::npos) << line;
}

TEST(Escaping, UrlOriginsShowNoSecretPaths) {
  EXPECT_EQ(url_origin("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/...");
  EXPECT_EQ(url_origin("https://user:pass@example.com:8443/x?token=1"), "https://example.com:8443/...");
  EXPECT_EQ(url_origin("http://example.com"), "http://example.com");
  EXPECT_EQ(url_origin("http://example.com/"), "http://example.com");
}
