// The rules every store applies when it writes, as tables of cases.
#include <gtest/gtest.h>

#include "domain/deployment_rules.hpp"
#include "tests/unit/domain/deployment_cases.hpp"

using namespace shipgate::orchestration;
using namespace shipgate::orchestration::cases;

TEST(NewerVersionInPlace, AnAutomaticTriggerNeverGoesBackToAnOlderSemanticVersion) {
  struct Case {
    const char* name;
    NewDeployment incoming;
    std::vector<Unfinished> unfinished;
    std::string running;
    std::optional<std::string> newer;
  };
  const Case cases[] = {
      {"older than what runs", incoming("v1.5.0", Trigger::build), {}, "v1.6.1", "v1.6.1"},
      {"older than what is queued", incoming("v1.5.0"), {waiting(1, "v1.6.1", State::queued)}, "v1.4.0", "v1.6.1"},
      {"older than what waits for approval", incoming("v1.5.0", Trigger::promotion),
       {waiting(1, "v1.6.1", State::pending_approval)}, "", "v1.6.1"},
      {"the newest of several is named", incoming("v1.0.0", Trigger::release),
       {waiting(1, "v1.2.0", State::running), waiting(2, "v1.3.0", State::queued)}, "v1.1.0", "v1.3.0"},
      {"newer than everything", incoming("v1.7.0"), {waiting(1, "v1.6.1", State::running)}, "v1.6.0", std::nullopt},
      {"the same version (a rebuild)", incoming("v1.6.1"), {}, "v1.6.1", std::nullopt},
      {"a release after its candidate", incoming("v2.0.0"), {}, "v2.0.0-rc.2", std::nullopt},
      {"a candidate after its release", incoming("v2.0.0-rc.3", Trigger::dispatch), {}, "v2.0.0", "v2.0.0"},
      {"not a semantic version", incoming("0123456789abcdef0123456789abcdef01234567"), {}, "v9.9.9", std::nullopt},
      {"running version not semantic", incoming("v1.0.0"), {}, "0123456789abcdef0123456789abcdef01234567", std::nullopt},
      {"manual may go back", incoming("v1.5.0", Trigger::manual), {}, "v1.6.1", std::nullopt},
      {"override may go back", incoming("v1.5.0", Trigger::override_), {}, "v1.6.1", std::nullopt},
      {"rollback goes back", incoming("v1.5.0", Trigger::rollback), {}, "v1.6.1", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(newer_version_in_place(c.incoming, c.unfinished, c.running), c.newer) << c.name;
}

TEST(NewerQueuedWork, OnlyLaterWorkOfAtLeastTheSameRankEndsAnImageWait) {
  auto deployment = [](std::int64_t id, Trigger trigger) {
    Deployment d;
    d.id = id;
    d.trigger = trigger;
    return d;
  };
  struct Case {
    const char* name;
    Deployment waiting;
    std::vector<Deployment> queued;
    std::optional<std::int64_t> ends_it;
  };
  const Case cases[] = {
      {"a later push", deployment(5, Trigger::push), {deployment(6, Trigger::push)}, 6},
      {"the newest of several", deployment(5, Trigger::build), {deployment(7, Trigger::push), deployment(6, Trigger::push)}, 7},
      {"nothing queued", deployment(5, Trigger::push), {}, std::nullopt},
      {"an older one queued behind an override", deployment(5, Trigger::override_), {deployment(3, Trigger::push)}, std::nullopt},
      {"a later push does not replace an override", deployment(5, Trigger::override_), {deployment(6, Trigger::push)}, std::nullopt},
      {"a later rollback replaces a push", deployment(5, Trigger::push), {deployment(6, Trigger::rollback)}, 6},
      {"a later override replaces an override", deployment(5, Trigger::override_), {deployment(6, Trigger::override_)}, 6},
  };
  for (const auto& c : cases) {
    const Deployment* found = newer_queued_work(c.waiting, c.queued);
    EXPECT_EQ(found ? std::optional<std::int64_t>(found->id) : std::nullopt, c.ends_it) << c.name;
  }
}

TEST(Place, SupersedesWhatHasNotStartedAndReusesTheSameVersion) {
  struct Case {
    const char* name;
    NewDeployment incoming;
    std::vector<Unfinished> unfinished;
    std::optional<std::int64_t> existing;
    std::vector<std::int64_t> superseded;
  };
  auto other_image = waiting(9, "v2", State::queued);
  other_image.images["api"] = "ghcr.io/acme/api:rebuilt";
  const Case cases[] = {
      {"empty lane", incoming("v2"), {}, std::nullopt, {}},
      {"older queued and pending are superseded", incoming("v2"),
       {waiting(1, "v1", State::queued), waiting(2, "v0", State::pending_approval)}, std::nullopt, {1, 2}},
      {"a running one is left alone", incoming("v2"), {waiting(1, "v1", State::running)}, std::nullopt, {}},
      {"the same version waiting is reused, nothing superseded", incoming("v2"),
       {waiting(1, "v1", State::queued), waiting(2, "v2", State::queued)}, 2, {}},
      {"the same version running is reused", incoming("v2"), {waiting(3, "v2", State::running)}, 3, {}},
      {"same version with other images is a new deployment", incoming("v2"), {other_image}, std::nullopt, {9}},
      {"an override waiting is not superseded", incoming("v2"),
       {waiting(1, "v1", State::queued, Trigger::override_), waiting(2, "v0", State::queued, Trigger::rollback)},
       std::nullopt, {}},
      {"an override supersedes nothing", incoming("v2", Trigger::override_), {waiting(1, "v1", State::queued)},
       std::nullopt, {}},
      {"an override of a waiting version gets its own row", incoming("v2", Trigger::override_),
       {waiting(2, "v2", State::queued)}, std::nullopt, {}},
      {"a rollback supersedes nothing", incoming("v0", Trigger::rollback), {waiting(1, "v1", State::pending_approval)},
       std::nullopt, {}},
      {"a promotion supersedes like a push", incoming("v2", Trigger::promotion),
       {waiting(1, "v1", State::pending_approval)}, std::nullopt, {1}},
      // Each GitHub Actions job waits for its own answer.
      {"a job never stands in for the same version", incoming("v2", Trigger::github_actions),
       {waiting(1, "v2", State::pending_approval)}, std::nullopt, {}},
      {"a job supersedes nothing", incoming("v2", Trigger::github_actions), {waiting(1, "v1", State::queued)},
       std::nullopt, {}},
      {"a push neither reuses nor supersedes a waiting job", incoming("v2"),
       {waiting(1, "v2", State::pending_approval, Trigger::github_actions),
        waiting(2, "v1", State::queued, Trigger::github_actions)}, std::nullopt, {}},
  };
  for (const auto& c : cases) {
    const Placement p = place(c.incoming, c.unfinished);
    EXPECT_EQ(p.existing ? std::optional<std::int64_t>(p.existing->id) : std::nullopt, c.existing) << c.name;
    EXPECT_EQ(ids(p.superseded), c.superseded) << c.name;
  }
}

TEST(BadMarks, NameAVersionByVersionOrKnownShaAndClearOnlyOnAChosenSuccess) {
  const BadVersion mark{"p", "production", "v1.5.0", "abc123", 0, 7, "500s", "alice"};
  struct Case {
    const char* version;
    const char* sha;
    bool named;
  };
  for (const auto& c : {Case{"v1.5.0", "", true}, Case{"v1.5.0", "other", true}, Case{"v1.6.0", "abc123", true},
                        Case{"v1.6.0", "", false}, Case{"v1.6.0", "def456", false}})
    EXPECT_EQ(names_version(mark, c.version, c.sha), c.named) << c.version << " " << c.sha;
  // A mark without a SHA never matches an empty one.
  EXPECT_FALSE(names_version({"p", "production", "v1", "", 0, 0, "", ""}, "v2", ""));

  for (Trigger t : {Trigger::push, Trigger::tag, Trigger::dispatch, Trigger::build, Trigger::manual,
                    Trigger::promotion, Trigger::override_, Trigger::rollback, Trigger::config_change})
    for (State s : {State::succeeded, State::failed, State::rolled_back, State::running}) {
      const bool chosen = t == Trigger::manual || t == Trigger::override_;
      EXPECT_EQ(clears_bad_mark(t, s), chosen && s == State::succeeded) << to_string(t) << " " << to_string(s);
    }
}

TEST(AuditAction, NamesEveryHistoryEntry) {
  struct Case {
    std::optional<State> from;
    State to;
    AuditAction action;
  };
  const Case cases[] = {
      {std::nullopt, State::queued, AuditAction::created},
      {std::nullopt, State::pending_approval, AuditAction::created},
      {State::pending_approval, State::rejected, AuditAction::reject},
      {State::queued, State::cancelled, AuditAction::cancel},
      {State::pending_approval, State::cancelled, AuditAction::cancel},
      {State::pending_approval, State::queued, AuditAction::transition},
      {State::running, State::succeeded, AuditAction::transition},
      {State::queued, State::superseded, AuditAction::transition},
      {State::running, State::running, AuditAction::transition},
  };
  for (const auto& c : cases)
    EXPECT_EQ(audit_action(c.from, c.to), c.action) << (c.from ? to_string(*c.from) : "none") << " -> " << to_string(c.to);
}

TEST(PreviousVersion, IsTheNewestSucceededOneThatDiffers) {
  auto deployment = [](std::int64_t id, std::string version, std::string image = "") {
    Deployment d;
    d.id = id;
    d.version = version;
    d.images = {{"api", image.empty() ? "ghcr.io/acme/api:" + version : image}};
    return d;
  };
  // Newest first, as the store lists them.
  const std::vector<Deployment> succeeded = {deployment(9, "v3"), deployment(8, "v3"), deployment(7, "v3", "rebuilt"),
                                             deployment(5, "v2"), deployment(2, "v1")};
  // The current one succeeded (a rollback asked for by a reviewer): skip every copy of it.
  EXPECT_EQ(previous_version(succeeded, succeeded[0])->id, 7);  // same version, other image
  // A failed deployment of a new version (automatic rollback): the newest other one.
  EXPECT_EQ(previous_version(succeeded, deployment(10, "v4"))->id, 9);
  // A failed redeploy of what runs now: back past every copy of it.
  EXPECT_EQ(previous_version(succeeded, deployment(11, "v2"))->id, 9);
  EXPECT_EQ(previous_version({deployment(1, "v1")}, deployment(1, "v1")), nullptr);
  EXPECT_EQ(previous_version({}, deployment(1, "v1")), nullptr);
}

TEST(Trigger, NamesRoundTripAndDecidePriorityAndAutomatic) {
  struct Case {
    Trigger trigger;
    const char* name;
    int priority;
    bool automatic;
  };
  const Case cases[] = {
      {Trigger::push, "push", 0, true},          {Trigger::tag, "tag", 0, true},
      {Trigger::dispatch, "dispatch", 0, true},  {Trigger::build, "build", 0, true},
      {Trigger::manual, "manual", 0, false},     {Trigger::promotion, "promotion", 0, true},
      {Trigger::override_, "override", 1, false}, {Trigger::rollback, "rollback", 1, false},
      {Trigger::config_change, "config", 0, true}, {Trigger::release, "release", 0, true},
      {Trigger::schedule, "schedule", 0, true},  {Trigger::registry, "registry", 0, true},
      {Trigger::github_actions, "github_actions", 0, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_string(c.trigger), c.name);
    EXPECT_EQ(parse_trigger(c.name), c.trigger);
    EXPECT_EQ(priority(c.trigger), c.priority) << c.name;
    EXPECT_EQ(is_automatic(c.trigger), c.automatic) << c.name;
  }
  EXPECT_FALSE(parse_trigger("Push"));
  for (auto a : {AuditAction::created, AuditAction::reload_refused, AuditAction::override_})
    EXPECT_EQ(parse_audit_action(to_string(a)), a);
}

TEST(ProtectionAnswer, ApprovedOnTheHandOverRejectedOnAnEndBeforeItNothingAfter) {
  struct Case {
    Trigger trigger;
    State reached;
    bool handed_over;
    std::optional<ProtectionAnswer> want;
  };
  const Case cases[] = {
      {Trigger::github_actions, State::deploying_externally, false, ProtectionAnswer::approved},
      {Trigger::github_actions, State::rejected, false, ProtectionAnswer::rejected},
      {Trigger::github_actions, State::expired, false, ProtectionAnswer::rejected},
      {Trigger::github_actions, State::superseded, false, ProtectionAnswer::rejected},
      {Trigger::github_actions, State::cancelled, false, ProtectionAnswer::rejected},
      {Trigger::github_actions, State::cancelled, true, std::nullopt},  // approved already; GitHub goes on
      {Trigger::github_actions, State::succeeded, true, std::nullopt},
      {Trigger::github_actions, State::failed, true, std::nullopt},
      {Trigger::github_actions, State::pending_approval, false, std::nullopt},
      {Trigger::github_actions, State::queued, false, std::nullopt},
      {Trigger::push, State::rejected, false, std::nullopt},
      {Trigger::push, State::succeeded, true, std::nullopt},
  };
  for (const auto& c : cases)
    EXPECT_EQ(protection_answer(c.trigger, c.reached, c.handed_over), c.want)
        << to_string(c.trigger) << " " << to_string(c.reached) << " " << c.handed_over;
  EXPECT_EQ(to_string(ProtectionAnswer::approved), "approved");
  EXPECT_EQ(to_string(ProtectionAnswer::rejected), "rejected");
}

TEST(RuleWords, EveryStoreSaysWhyInTheSameWords) {
  NewDeployment nd;
  nd.project = "planera";
  nd.environment = "production";
  nd.version = "v1.2.0";
  nd.sha = std::string(40, 'a');
  nd.trigger = Trigger::build;
  const BadVersion mark{"planera", "production", "v1.2.0", "", 0, 7, "broke checkout", "alice"};
  EXPECT_EQ(marked_bad_reason(mark, "production"),
            "version v1.2.0 is marked bad in production (rolled back from deployment 7: broke checkout); deploy it "
            "manually to override");
  const BadVersion unexplained{"planera", "production", "v1.2.0", "", 0, 7, "", "alice"};
  EXPECT_EQ(marked_bad_reason(unexplained, "production"),
            "version v1.2.0 is marked bad in production (rolled back from deployment 7); deploy it manually to override");
  EXPECT_EQ(older_version_reason(nd, "v2.0.0"),
            "version v1.2.0 is older than v2.0.0 in production; automatic triggers never go back to an older version "
            "(deploy it manually to do that)");
  EXPECT_EQ(skipped_details(nd).dump(), R"({"sha":")" + nd.sha + R"(","trigger":"build","version":"v1.2.0"})");
  EXPECT_EQ(superseded_reason(12, "v1.3.0"), "superseded by deployment 12 (v1.3.0)");
}

TEST(RollbackTarget, AConfigRedeployGoesBackToTheNewestSuccessEvenOfItsOwnVersionAndMarksNothingBad) {
  Deployment v1, v2, redeploy;
  v1.id = 1;
  v1.version = "v1";
  v2.id = 2;
  v2.version = "v2";
  redeploy.id = 3;
  redeploy.version = "v2";
  const std::vector<Deployment> succeeded = {v2, v1};  // newest first
  redeploy.trigger = Trigger::push;
  EXPECT_EQ(rollback_target(succeeded, redeploy)->id, 1) << "a new version goes back to the previous one";
  EXPECT_TRUE(marks_bad_on_rollback(redeploy, v1));
  redeploy.trigger = Trigger::config_change;
  EXPECT_EQ(rollback_target(succeeded, redeploy)->id, 2) << "the same version, with what the config replaced put back";
  EXPECT_FALSE(marks_bad_on_rollback(redeploy, v2)) << "the config failed, not the version";
  EXPECT_EQ(rollback_target({redeploy}, redeploy), nullptr);
}
