// Unit tests for the operational pieces: rate limits, config generations, notification texts and
// the GitHub status mapping.
#include <gtest/gtest.h>

#include "common/rate_limiter.hpp"
#include "config/loader.hpp"
#include "config/registry.hpp"
#include "config/time_zone.hpp"
#include "orchestration/outbox.hpp"

using namespace shipgate;
using namespace std::chrono_literals;

TEST(RateLimiter, AllowsTheBurstThenRefillsAtTheRate) {
  RateLimiter limiter(2, 3);  // 2 a second, burst 3
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 0);
  EXPECT_EQ(limiter.take("a", t0), 1);  // empty: a token in half a second, rounded up to 1 s
  EXPECT_EQ(limiter.take("b", t0), 0);  // other addresses have their own bucket
  EXPECT_EQ(limiter.take("a", t0 + 500ms), 0);
  EXPECT_EQ(limiter.take("a", t0 + 500ms), 1);
  EXPECT_EQ(limiter.wait_needed("a", t0 + 2s), 0);
  EXPECT_EQ(limiter.wait_needed("never-seen", t0), 0);
}

TEST(RateLimiter, SlowRatesAnswerWithTheRealWait) {
  RateLimiter failures(3 / 60.0, 3);  // three failures a minute
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(failures.take("x", t0), 0);
  EXPECT_EQ(failures.wait_needed("x", t0), 20);
  EXPECT_EQ(failures.wait_needed("x", t0 + 19s), 1);
  EXPECT_EQ(failures.wait_needed("x", t0 + 20s), 0);
}

TEST(RateLimiter, ForgetsIdleAddressesWhenFull) {
  RateLimiter limiter(1, 1, 2);
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  limiter.take("a", t0);
  limiter.take("b", t0);
  // "a" and "b" refilled by now, so they are forgotten to make room; "c" starts with a full bucket.
  EXPECT_EQ(limiter.take("c", t0 + 5s), 0);
  EXPECT_EQ(limiter.take("a", t0 + 5s), 0);
}

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

TEST(Notifications, TextsNameTheEnvironmentVersionAndForApprovalsTheCommand) {
  orchestration::Deployment d;
  d.id = 42;
  d.project = "planera";
  d.environment = "production";
  d.version = "v1.4.0";
  d.sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
  d.message = "target 1 (http): HTTP 500";
  d.actor = "oncall";
  config::Notifier slack;
  slack.slack = true;
  const std::string link = "https://shipgate.acme.dev/api/v1/deployments/42";
  auto s = orchestration::notification_body(slack, "pending_approval", d, link, 0);
  ASSERT_EQ(s.size(), 1u);  // Slack: {"text"} only
  EXPECT_EQ(s["text"], ":hourglass: planera/production: v1.4.0 (6113728) waits for approval. Approve with "
                       "`shipgate approve 42` (<https://shipgate.acme.dev/api/v1/deployments/42|deployment 42>)");
  config::Notifier json_format;
  auto j = orchestration::notification_body(json_format, "failed", d, link, 1'700'000'000'000);
  EXPECT_EQ(j["event"], "failed");
  EXPECT_EQ(j["text"], ":x: planera/production: deploying v1.4.0 (6113728) failed: target 1 (http): HTTP 500");
  EXPECT_EQ(j["deployment"]["id"], 42);
  EXPECT_EQ(j["link"], link);
  EXPECT_EQ(j["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_FALSE(j.contains("approve_command"));
  auto o = orchestration::notification_body(json_format, "override", d, link, 0);
  EXPECT_NE(o["text"].get<std::string>().find("emergency override by oncall"), std::string::npos);
}

TEST(Notifications, GithubStatesFollowTheDeploymentStates) {
  using orchestration::github_state;
  EXPECT_EQ(github_state("queued"), "queued");
  EXPECT_EQ(github_state("pending_approval"), "queued");
  EXPECT_EQ(github_state("running"), "in_progress");
  EXPECT_EQ(github_state("succeeded"), "success");
  EXPECT_EQ(github_state("failed"), "failure");
  EXPECT_EQ(github_state("rolled_back"), "failure");
  for (const char* s : {"superseded", "cancelled", "rejected", "expired"}) EXPECT_EQ(github_state(s), "inactive");
  EXPECT_EQ(github_state("override"), "");
}

TEST(Rfc3339, AcceptsExactlyOneInstantPerValue) {
  using config::parse_rfc3339;
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00Z"), 1'795'694'400'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T13:00:00+01:00"), 1'795'694'400'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.250Z"), 1'795'694'400'250);
  // Found by fuzzing: a control character inside made the library read NaN seconds.
  for (const char* bad : {"2027-01-05T\x7f" "00:00:00Z", "2026-11-26T12:00Z", "2026-11-26 12:00:00Z", "nan",
                          "2026-11-26T12:00:00", "2026-11-26T12:00:00.Z", "2026-11-26T12:00:00+0100", ""})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}
