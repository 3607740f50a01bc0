// How a new deployment joins its environment: the one plan every store writes, as a table of cases.
#include <gtest/gtest.h>

#include "domain/ingest_plan.hpp"
#include "tests/unit/domain/deployment_cases.hpp"

using namespace shipgate::orchestration;
using namespace shipgate::orchestration::cases;

namespace {

BadVersion bad(std::string version) {
  return {"app", "production", version, version + "-sha", 0, 7, "automatic rollback: smoke failed", "shipgate"};
}

}  // namespace

TEST(IngestPlan, DecidesSkipReuseOrInsertFromWhatTheEnvironmentHolds) {
  struct Case {
    const char* name;
    NewDeployment incoming;
    EnvironmentView view;
    IngestKind kind;
    std::int64_t reused = 0;
    std::vector<std::int64_t> superseded = {};
    bool override_event = false;
  };
  const Case cases[] = {
      {"an empty environment gets a new deployment", incoming("v1.0.0"), {}, IngestKind::insert},
      {"a version marked bad is skipped when automatic", incoming("v1.0.0", Trigger::build), {{bad("v1.0.0")}, {}, ""},
       IngestKind::skip},
      {"a person may deploy a version marked bad", incoming("v1.0.0", Trigger::manual), {{bad("v1.0.0")}, {}, ""},
       IngestKind::insert},
      {"a mark of another version does not skip", incoming("v1.0.1"), {{bad("v1.0.0")}, {}, ""}, IngestKind::insert},
      {"older than what runs is skipped", incoming("v1.5.0", Trigger::build), {{}, {}, "v1.6.0"}, IngestKind::skip},
      {"a rollback may go back", incoming("v1.5.0", Trigger::rollback), {{}, {}, "v1.6.0"}, IngestKind::insert},
      {"the same version waiting is reused", incoming("v2.0.0"), {{}, {waiting(4, "v2.0.0", State::queued)}, ""},
       IngestKind::reuse, 4},
      {"a newer version supersedes the older waiting one", incoming("v2.1.0"),
       {{}, {waiting(4, "v2.0.0", State::queued), waiting(3, "v1.9.0", State::running)}, ""}, IngestKind::insert, 0, {4}},
      {"an override supersedes nothing and is told to the outbox", incoming("v2.1.0", Trigger::override_),
       {{}, {waiting(4, "v2.0.0", State::queued)}, ""}, IngestKind::insert, 0, {}, true},
  };
  for (const auto& c : cases) {
    const IngestPlan plan = plan_ingest(c.incoming, c.view);
    EXPECT_EQ(plan.kind, c.kind) << c.name;
    if (c.kind == IngestKind::reuse) {
      EXPECT_EQ(plan.existing->id, c.reused) << c.name;
    }
    EXPECT_EQ(ids(plan.superseded), c.superseded) << c.name;
    EXPECT_EQ(plan.override_event, c.override_event) << c.name;
    EXPECT_EQ(plan.skipped.empty(), c.kind != IngestKind::skip) << c.name;
  }
}

TEST(IngestPlan, ASkipIsAuditedWithWhyAndWhatWasAsked) {
  const auto nd = incoming("v1.5.0", Trigger::build);
  const IngestPlan plan = plan_ingest(nd, {{}, {}, "v1.6.0"});
  ASSERT_EQ(plan.kind, IngestKind::skip);
  const AuditEntry entry = plan.skipped_audit(nd, 1234);
  EXPECT_EQ(entry.action, AuditAction::skipped);
  EXPECT_EQ(entry.at_ms, 1234);
  EXPECT_EQ(entry.actor, "octocat");
  EXPECT_EQ(entry.reason, plan.skipped);
  EXPECT_EQ(entry.details.value("newer", ""), "v1.6.0");
  EXPECT_EQ(entry.details.value("version", ""), "v1.5.0");
}

TEST(IngestPlan, OnlyAutomaticTriggersReadMarksAndOnlySemanticVersionsReadTheCurrentOne) {
  EXPECT_TRUE(ingest_reads(incoming("v1.0.0", Trigger::push)).bad_marks);
  EXPECT_TRUE(ingest_reads(incoming("v1.0.0", Trigger::push)).current_version);
  EXPECT_FALSE(ingest_reads(incoming(std::string(40, 'a'), Trigger::push)).current_version);
  EXPECT_FALSE(ingest_reads(incoming("v1.0.0", Trigger::manual)).bad_marks);
  EXPECT_FALSE(ingest_reads(incoming("v1.0.0", Trigger::manual)).current_version);
}

TEST(IngestPlan, ABatchSeesWhatTheWebhooksBeforeItWrote) {
  EnvironmentView view{{}, {waiting(4, "v2.0.0", State::queued)}, ""};
  const auto first = incoming("v2.1.0");
  const IngestPlan plan = plan_ingest(first, view);
  record_in_view(view, first, plan, 9);
  EXPECT_EQ(ids(view.open), std::vector<std::int64_t>{9}) << "the superseded one left, the new one waits";
  const IngestPlan again = plan_ingest(first, view);
  EXPECT_EQ(again.kind, IngestKind::reuse);
  record_in_view(view, bad("v2.2.0"));
  EXPECT_EQ(plan_ingest(incoming("v2.2.0"), view).kind, IngestKind::skip);
}
