// The gate's rules as tables: approvals, self-approval, promotion, deploy windows (midnight, DST), freezes.
#include <gtest/gtest.h>

#include "config/time_zone.hpp"
#include "domain/deploy_gate.hpp"
#include "domain/gate_policy.hpp"
#include "domain/triggers.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;

namespace {

TimePoint at(const std::string& rfc3339) { return from_epoch_ms(*config::parse_rfc3339(rfc3339)); }

config::Environment env_with_approval(int required, std::vector<std::string> reviewers, bool allow_self = false) {
  config::Environment e;
  e.name = "production";
  e.approval = config::ApprovalConfig{required, std::move(reviewers), std::chrono::hours(72), allow_self};
  return e;
}

config::Reviewer reviewer(std::string name, std::string github = "") {
  config::Reviewer r;
  r.name = std::move(name);
  r.github = std::move(github);
  r.can = {config::Permission::approve};
  return r;
}

Deployment pending(const config::Environment& env, std::string actor) {
  NewDeployment nd;
  apply_approval_policy(nd, env, at("2026-11-26T10:00:00Z"));
  Deployment d;
  d.id = 7;
  d.project = "planera";
  d.environment = env.name;
  d.state = nd.initial;
  d.policy = nd.policy;
  d.expires_ms = nd.expires_ms;
  d.actor = std::move(actor);
  return d;
}

config::DeployWindow window(std::set<int> days, int from, int to, std::string tz) {
  return config::DeployWindow{std::move(days), from, to, std::move(tz)};
}

}  // namespace

TEST(GatePolicy, ApprovalPolicyIsFrozenIntoTheDeployment) {
  auto d = pending(env_with_approval(2, {"alice", "bob"}), "octocat");
  EXPECT_EQ(d.state, State::pending_approval);
  EXPECT_EQ(required_approvals(d), 2);
  EXPECT_EQ(d.expires_ms, *config::parse_rfc3339("2026-11-29T10:00:00Z"));
  config::Environment open;
  NewDeployment nd;
  apply_approval_policy(nd, open, at("2026-11-26T10:00:00Z"));
  EXPECT_EQ(nd.initial, State::queued);
}

TEST(GatePolicy, WhoMayApprove) {
  struct Case { const char* name; config::Reviewer who; std::string actor; bool allow_self; std::optional<std::string> refusal; };
  const Case cases[] = {
      {"listed reviewer", reviewer("alice", "alice-gh"), "octocat", false, std::nullopt},
      {"not listed", reviewer("mallory"), "octocat", false, "forbidden"},
      {"pusher by GitHub login", reviewer("alice", "Alice-GH"), "alice-gh", false, "self_approval"},
      {"manual deploy by the same reviewer", reviewer("bob"), "bob", false, "self_approval"},
      {"self-approval allowed", reviewer("alice", "alice-gh"), "alice-gh", true, std::nullopt},
  };
  for (const auto& c : cases) {
    auto d = pending(env_with_approval(1, {"alice", "bob"}, c.allow_self), c.actor);
    auto r = check_approver(d, c.who);
    EXPECT_EQ(r ? std::optional<std::string>(r->code) : std::nullopt, c.refusal) << c.name;
  }
  // An empty reviewer list means anyone holding the approve permission.
  auto anyone = pending(env_with_approval(1, {}), "octocat");
  EXPECT_FALSE(check_approver(anyone, reviewer("carol")));
}

TEST(GatePolicy, MissingApproversShrinkAsApprovalsArrive) {
  auto d = pending(env_with_approval(2, {"alice", "bob", "carol"}), "octocat");
  EXPECT_EQ(missing_approvers(d), (std::vector<std::string>{"alice", "bob", "carol"}));
  d.approvals.push_back({"bob", 1, ""});
  EXPECT_EQ(missing_approvers(d), (std::vector<std::string>{"alice", "carol"}));
}

TEST(GatePolicy, PromotionCarriesExactlyTheTestedVersion) {
  auto cfg = shipgate::testing::load_test_config(R"(
github: { secrets: [s] }
reviewers: { alice: { token: "alice-token-123456", can: [approve] } }
projects:
  app:
    repository: acme/app
    components: { web: { image: ghcr.io/acme/web } }
    environments:
      staging: { tag: "staging-{sha}", targets: [ { type: http, url: "http://x" } ] }
      production:
        promote_from: staging
        tag: "{version}"
        approval: { required: 1, reviewers: [alice] }
        targets: [ { type: http, url: "http://x" } ]
      qa: { promote_from: staging, targets: [ { type: http, url: "http://x" } ] }
)");
  Deployment ok;
  ok.id = 3;
  ok.project = "app";
  ok.environment = "staging";
  ok.version = "v1.6.1";
  ok.sha = "0123456789abcdef0123456789abcdef01234567";
  ok.ref = "refs/tags/v1.6.1";
  ok.images = {{"web", "ghcr.io/acme/web@sha256:feed"}};
  ok.actor = "octocat";
  ok.config_commit = "fedcba9876543210fedcba9876543210fedcba98";
  auto plan = plan_promotion(*cfg->project("app"), ok, at("2026-11-26T10:00:00Z"));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].environment, "production");
  EXPECT_EQ(plan[0].images, ok.images);  // not re-resolved with production's tag template
  EXPECT_EQ(plan[0].sha, ok.sha);
  EXPECT_EQ(plan[0].version, "v1.6.1");
  EXPECT_EQ(plan[0].initial, State::pending_approval);
  EXPECT_EQ(plan[0].actor, "octocat");
  EXPECT_EQ(plan[0].trigger, Trigger::promotion);
  EXPECT_EQ(plan[0].config_commit, ok.config_commit);  // a config redeploy's commit travels with it
  EXPECT_TRUE(is_automatic(plan[0].trigger));
  EXPECT_EQ(plan[1].environment, "qa");
  EXPECT_EQ(plan[1].initial, State::queued);
  ok.environment = "production";
  EXPECT_TRUE(plan_promotion(*cfg->project("app"), ok, at("2026-11-26T10:00:00Z")).empty());
}

TEST(GatePolicy, PromotionSkipsWhatIsNoNewWorkTable) {
  NewDeployment candidate;
  candidate.environment = "production";
  candidate.sha = "0123456789abcdef0123456789abcdef01234567";
  candidate.images = {{"web", "ghcr.io/acme/web@sha256:feed"}};
  const auto deployment = [&](std::int64_t id, State state, std::string sha, std::string image) {
    Deployment d;
    d.id = id;
    d.state = state;
    d.sha = std::move(sha);
    d.images = {{"web", std::move(image)}};
    return d;
  };
  const auto same = deployment(9, State::succeeded, candidate.sha, "ghcr.io/acme/web@sha256:feed");
  const auto older = deployment(8, State::succeeded, std::string(40, 'a'), "ghcr.io/acme/web@sha256:0ld");
  const auto rebuilt = deployment(7, State::pending_approval, candidate.sha, "ghcr.io/acme/web@sha256:beef");
  const struct {
    const char* name;
    Trigger trigger;
    PromotionTarget next;
    const char* skipped;  // a part of the reason, or "" when it is promoted
  } cases[] = {
      {"a new version over an older one", Trigger::push, {older, {}}, ""},
      {"nothing there yet", Trigger::manual, {std::nullopt, {}}, ""},
      {"the same commit with other images", Trigger::push, {older, {rebuilt}}, ""},
      {"already running", Trigger::manual, {same, {}}, "already runs it (deployment 9)"},
      {"already waiting for approval", Trigger::push,
       {older, {deployment(10, State::pending_approval, candidate.sha, "ghcr.io/acme/web@sha256:feed")}},
       "already has it pending_approval (deployment 10)"},
      {"already queued", Trigger::config_change,
       {older, {deployment(11, State::queued, candidate.sha, "ghcr.io/acme/web@sha256:feed")}}, "queued"},
      {"a rollback", Trigger::rollback, {older, {}}, "rollback"},
      {"a scheduled redeploy", Trigger::schedule, {std::nullopt, {}}, "scheduled"},
  };
  for (const auto& c : cases) {
    Deployment ok;
    ok.trigger = c.trigger;
    const auto why = promotion_skipped(ok, candidate, c.next);
    if (std::string(c.skipped).empty()) {
      EXPECT_FALSE(why.has_value()) << c.name << ": " << why.value_or("");
    } else {
      ASSERT_TRUE(why.has_value()) << c.name;
      EXPECT_NE(why->find(c.skipped), std::string::npos) << c.name << ": " << *why;
    }
  }
}

TEST(DeployGate, WindowsTable) {
  const std::set<int> mon_thu = {1, 2, 3, 4};
  struct Case { const char* name; config::DeployWindow w; const char* now; bool open; const char* opens; };
  const Case cases[] = {
      // 2026-11-26 is a Thursday. Berlin is UTC+1 in November.
      {"inside, Berlin", window(mon_thu, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-11-26T10:00:00Z", true, ""},
      {"before opening", window(mon_thu, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-11-26T07:59:00Z", false, "2026-11-26T08:00:00Z"},
      {"closing time is exclusive", window(mon_thu, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-11-26T15:00:00Z", false, "2026-11-30T08:00:00Z"},
      {"friday waits for monday", window(mon_thu, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-11-27T10:00:00Z", false, "2026-11-30T08:00:00Z"},
      {"same instant, New York", window(mon_thu, 9 * 60, 16 * 60, "America/New_York"), "2026-11-26T10:00:00Z", false, "2026-11-26T14:00:00Z"},
      // Across midnight: Friday 22:00 to Saturday 02:00 UTC.
      {"late evening", window({5}, 22 * 60, 2 * 60, "UTC"), "2026-11-27T23:30:00Z", true, ""},
      {"after midnight", window({5}, 22 * 60, 2 * 60, "UTC"), "2026-11-28T01:59:00Z", true, ""},
      {"after the window", window({5}, 22 * 60, 2 * 60, "UTC"), "2026-11-28T02:00:00Z", false, "2026-12-04T22:00:00Z"},
      {"morning of a listed day", window({5}, 22 * 60, 2 * 60, "UTC"), "2026-11-27T01:00:00Z", false, "2026-11-27T22:00:00Z"},
      // DST: Berlin springs forward on 2026-03-29 at 02:00 (to 03:00). A 02:30 start does not exist that day:
      // it opens when the clocks jump (01:00 UTC), and is inside from then on.
      {"spring gap start", window({0}, 2 * 60 + 30, 5 * 60, "Europe/Berlin"), "2026-03-29T00:30:00Z", false, "2026-03-29T01:00:00Z"},
      {"spring gap inside", window({0}, 2 * 60 + 30, 5 * 60, "Europe/Berlin"), "2026-03-29T01:30:00Z", true, ""},
      // Autumn: 2026-10-25 at 03:00 back to 02:00; 09:00-16:00 is then UTC+1.
      {"after fall back", window({0}, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-10-25T07:30:00Z", false, "2026-10-25T08:00:00Z"},
      {"summer offset", window({6}, 9 * 60, 16 * 60, "Europe/Berlin"), "2026-10-24T07:30:00Z", true, ""},
  };
  for (const auto& c : cases) {
    config::Environment env;
    env.windows = {c.w};
    const auto gate = deploy_gate(env, at(c.now));
    EXPECT_EQ(gate.open, c.open) << c.name << ": " << gate.reason;
    if (!c.open) {
      ASSERT_TRUE(gate.opens) << c.name;
      EXPECT_EQ(epoch_ms(*gate.opens), *config::parse_rfc3339(c.opens)) << c.name << ": " << gate.reason;
      EXPECT_NE(gate.reason.find("outside deploy window"), std::string::npos) << c.name;
    }
  }
}

TEST(DeployGate, AnyOfSeveralWindowsOpensAndFreezesWin) {
  config::Environment env;
  env.windows = {window({1, 2, 3, 4, 5}, 9 * 60, 12 * 60, "UTC"), window({1, 2, 3, 4, 5}, 14 * 60, 16 * 60, "UTC")};
  EXPECT_TRUE(deploy_gate(env, at("2026-11-26T15:00:00Z")).open);
  auto lunch = deploy_gate(env, at("2026-11-26T12:30:00Z"));
  EXPECT_FALSE(lunch.open);
  EXPECT_EQ(epoch_ms(*lunch.opens), *config::parse_rfc3339("2026-11-26T14:00:00Z"));
  env.freezes = {{*config::parse_rfc3339("2026-11-26T00:00:00Z"), *config::parse_rfc3339("2026-11-27T00:00:00Z"), "release party"}};
  auto frozen = deploy_gate(env, at("2026-11-26T15:00:00Z"));
  EXPECT_FALSE(frozen.open);
  EXPECT_NE(frozen.reason.find("release party"), std::string::npos);
  EXPECT_EQ(epoch_ms(*frozen.opens), *config::parse_rfc3339("2026-11-27T00:00:00Z"));
  EXPECT_TRUE(deploy_gate(env, at("2026-11-27T10:00:00Z")).open);  // the freeze ended
  config::Environment always;
  EXPECT_TRUE(deploy_gate(always, at("2026-11-26T03:00:00Z")).open);
}

TEST(ConfigWindows, ParsedAndValidated) {
  auto ok = config::load_config_text(R"(
github: { secrets: [s] }
projects:
  app:
    repository: acme/app
    environments:
      prod:
        windows: [ { days: [mon, Fri], from: "22:00", to: "02:00", timezone: Europe/Berlin } ]
        freezes: [ { from: "2026-12-20T00:00:00Z", to: "2027-01-05T00:00:00+01:00", reason: holidays } ]
        targets: [ { type: http, url: "http://x" } ]
)", [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(ok.errors.empty()) << ok.errors[0].to_string();
  const auto& env = ok.config->projects[0].environments[0];
  EXPECT_EQ(env.windows[0].days, (std::set<int>{1, 5}));
  EXPECT_EQ(env.windows[0].from_minute, 22 * 60);
  EXPECT_EQ(env.freezes[0].to_ms, *config::parse_rfc3339("2027-01-04T23:00:00Z"));
  auto bad = config::load_config_text(R"(
github: { secrets: [s] }
projects:
  app:
    repository: acme/app
    environments:
      prod:
        windows: [ { days: [someday], from: "9am", to: "17:00", timezone: Mars/Olympus } ]
        freezes: [ { from: "tomorrow", to: "2026-01-01T00:00:00Z" } ]
        targets: [ { type: http, url: "http://x" } ]
)", [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  std::vector<std::string> paths;
  for (const auto& e : bad.errors) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"projects.app.environments.prod.windows[0].days[0]",
                                             "projects.app.environments.prod.windows[0].from",
                                             "projects.app.environments.prod.windows[0].timezone",
                                             "projects.app.environments.prod.freezes[0].from"}));
}

TEST(ConfigChange, RedeploysTouchedProjectsAndTreatsTruncatedListsAsTouched) {
  auto cfg = shipgate::testing::load_test_config(R"(
github: { secrets: [s] }
platform: { repository: acme/platform, branch: main }
projects:
  planera:
    repository: acme/planera
    config_paths: ["configs/planera/**"]
    environments: { staging: { targets: [ { type: http, url: "http://x" } ] } }
  billing:
    repository: acme/billing
    config_paths: ["configs/billing/**"]
    environments: { staging: { targets: [ { type: http, url: "http://x" } ] } }
  untracked:
    repository: acme/untracked
    environments: { staging: { targets: [ { type: http, url: "http://x" } ] } }
)");
  // billing has nothing deployed yet
  Deployment d;
  d.version = "v1";
  d.sha = "0123456789abcdef0123456789abcdef01234567";
  d.images = {{"web", "img:v1"}};
  const CurrentVersions current{{{"planera", "staging"}, d}};
  const std::vector<std::pair<std::string, std::string>> asked{{"planera", "staging"}, {"billing", "staging"}};
  EXPECT_EQ(config_change_lanes(*cfg), asked);  // untracked has no config_paths
  PlatformPush push{"refs/heads/main", "fedcba9876543210fedcba9876543210fedcba98", false, "octocat",
                    {"configs/planera/deep/values.yaml", "docs/x.md"}, false};
  auto plan = plan_config_change(*cfg, push, current);
  ASSERT_EQ(plan.deployments.size(), 1u);
  EXPECT_EQ(plan.deployments[0].project, "planera");
  EXPECT_EQ(plan.deployments[0].version, "v1");
  EXPECT_EQ(plan.deployments[0].trigger, Trigger::config_change);
  EXPECT_EQ(plan.deployments[0].config_commit, push.after);  // targets see it as {config_commit}
  EXPECT_NE(plan.deployments[0].reason.find("configs/planera/deep/values.yaml"), std::string::npos);

  push.files = {"docs/x.md"};
  EXPECT_TRUE(plan_config_change(*cfg, push, current).deployments.empty());
  push.truncated = true;  // GitHub cut the list: it may have touched anything with config_paths
  auto all = plan_config_change(*cfg, push, current);
  ASSERT_EQ(all.deployments.size(), 1u);  // billing has nothing deployed, untracked has no config_paths
  EXPECT_NE(all.deployments[0].reason.find("truncated"), std::string::npos);
  push.ref = "refs/heads/feature";
  EXPECT_NE(plan_config_change(*cfg, push, current).ignored.find("not refs/heads/main"), std::string::npos);
}

TEST(PlanApproval, ANewApprovalIsAuditedAndTheLastRequiredOneQueues) {
  struct Case {
    const char* name;
    bool counted;
    int approvals, required;
    bool audited, queues;
  };
  const Case cases[] = {
      {"the first of two", true, 1, 2, true, false},
      {"the second of two", true, 2, 2, true, true},
      {"a repeat by the same reviewer", false, 1, 2, false, false},
      {"a repeat once enough approved", false, 2, 2, false, true},
      {"one of one", true, 1, 1, true, true},
  };
  for (const auto& c : cases) {
    const auto plan = plan_approval({7, "app", "production", "alice", "ok", c.counted, c.approvals, c.required}, 99);
    EXPECT_EQ(plan.audit.has_value(), c.audited) << c.name;
    EXPECT_EQ(plan.queue_reason.has_value(), c.queues) << c.name;
    if (plan.audit) {
      EXPECT_EQ(plan.audit->action, AuditAction::approve) << c.name;
      EXPECT_EQ(plan.audit->deployment, 7) << c.name;
      EXPECT_EQ(plan.audit->details.value("required", 0), c.required) << c.name;
    }
    if (plan.queue_reason) {
      EXPECT_EQ(*plan.queue_reason, "approved by " + std::to_string(c.approvals) + " of " + std::to_string(c.required) +
                                        " required reviewers");
    }
  }
}
