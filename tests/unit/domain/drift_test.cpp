// Drift: the comparison of live Deployments with what was applied, the heal window, and drift states
// on both stores.
#include <gtest/gtest.h>

#include "domain/drift.hpp"
#include "tests/support/run.hpp"
#include "tests/support/store_fixture.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using nlohmann::json;
using shipgate::testing::run_awaitable;
using shipgate::testing::StoreUnderTest;
using shipgate::testing::StoreUnderTestKind;

namespace {

json deployment(const std::string& name, int replicas, const std::string& container, const std::string& image) {
  return {{"metadata", {{"name", name}}},
          {"spec", {{"replicas", replicas}, {"template", {{"spec", {{"containers", {{{"name", container}, {"image", image}}}}}}}}}}};
}

}  // namespace

TEST(FindDrift, ComparesImagesAndDeclaredReplicasOnly) {
  config::KubernetesTargetConfig target;
  target.workloads = {{"api", "api", "server", 2}, {"web", "web", "web", std::nullopt}};
  const std::map<std::string, std::string> applied = {{"api", "ghcr.io/acme/api:v2"}, {"web", "ghcr.io/acme/web:v2"}};
  const struct {
    const char* name;
    std::map<std::string, json> live;
    std::vector<std::string> want;  // deployment/field/live
  } cases[] = {
      {"in sync", {{"api", deployment("api", 2, "server", "ghcr.io/acme/api:v2")}, {"web", deployment("web", 9, "web", "ghcr.io/acme/web:v2")}}, {}},
      {"scaled by hand", {{"api", deployment("api", 5, "server", "ghcr.io/acme/api:v2")}, {"web", deployment("web", 1, "web", "ghcr.io/acme/web:v2")}},
       {"api/replicas/5"}},
      {"image set by hand", {{"api", deployment("api", 2, "server", "ghcr.io/acme/api:v2")}, {"web", deployment("web", 1, "web", "ghcr.io/acme/web:hotfix")}},
       {"web/image/ghcr.io/acme/web:hotfix"}},
      {"container renamed", {{"api", deployment("api", 2, "app", "ghcr.io/acme/api:v2")}, {"web", deployment("web", 1, "web", "ghcr.io/acme/web:v2")}},
       {"api/image/"}},
      {"deleted", {{"web", deployment("web", 1, "web", "ghcr.io/acme/web:v2")}}, {"api/missing/"}},
  };
  for (const auto& c : cases) {
    std::vector<std::string> got;
    for (const auto& d : find_drift(target, applied, c.live)) got.push_back(d.deployment + "/" + d.field + "/" + d.live);
    EXPECT_EQ(got, c.want) << c.name;
  }
  EXPECT_EQ(describe_drift(to_json(find_drift(target, applied, cases[1].live))), "Deployment api: replicas 5, applied 2");
  EXPECT_EQ(describe_drift(to_json(find_drift(target, applied, cases[4].live))), "Deployment api is gone");
}

TEST(FindDrift, HealsCountOnlyInsideTheWindow) {
  config::DriftConfig drift;
  drift.heal_window = std::chrono::minutes(10);
  const std::int64_t now = 100'000'000;
  EXPECT_EQ(heals_in_window({now - 11 * 60'000, now - 9 * 60'000, now - 1}, now, drift),
            (std::vector<std::int64_t>{now - 9 * 60'000, now - 1}));
}

class DriftStore : public shipgate::testing::StoreFixture {
 protected:
  DriftStore() : StoreFixture(TimePoint(Millis(1'700'000'000'000))) {}
  void SetUp() override {
    StoreFixture::SetUp();
    if (store) store->record_events(true);
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, DriftStore, ::testing::Values(StoreUnderTestKind::sqlite, StoreUnderTestKind::postgresql),
                         [](const auto& info) { return shipgate::testing::store_kind_name(info.param); });

TEST_P(DriftStore, AStateIsKeptPerEnvironmentWithItsAuditEntryAndNotification) {
  NewDeployment d;
  d.project = "app";
  d.environment = "production";
  d.version = "v1";
  d.sha = std::string(40, 'a');
  d.trigger = Trigger::manual;
  d.actor = "alice";
  IngestRequest r;
  r.delivery_key = "k";
  r.deployments = {d};
  const auto id = run_awaitable(store->ingest(std::move(r)))->deployments.at(0).id;

  DriftState s{"app", "production", json::array({{{"deployment", "api"}, {"field", "replicas"}, {"live", "5"}, {"applied", "2"}}}),
               1000, 1000, id, {900}, false};
  AuditEntry audit{0, 1000, "shipgate", AuditAction::drift, "app", "production", id, "what runs differs from v1"};
  ASSERT_TRUE(run_awaitable(store->record_drift({s, audit, "Deployment api: replicas 5, applied 2"})));
  s.heals_ms.push_back(1100);
  s.checked_ms = 1100;
  s.heal_limited = true;
  ASSERT_TRUE(run_awaitable(store->record_drift({s, std::nullopt, ""})));  // replaces; no audit, no notification

  const auto states = run_awaitable(store->drift_states());
  ASSERT_TRUE(states);
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0].differences, s.differences);
  EXPECT_EQ((*states)[0].since_ms, 1000);
  EXPECT_EQ((*states)[0].checked_ms, 1100);
  EXPECT_EQ((*states)[0].heals_ms, (std::vector<std::int64_t>{900, 1100}));
  EXPECT_TRUE((*states)[0].heal_limited);
  EXPECT_EQ((*states)[0].deployment, id);

  int drift_audits = 0;
  for (const auto& e : *run_awaitable(store->audit({})))
    if (e.action == AuditAction::drift) ++drift_audits;
  EXPECT_EQ(drift_audits, 1);
  int notices = 0;
  for (const auto& item : *run_awaitable(store->outbox_due(INT64_MAX, 100)))
    if (item.event == "drift") {
      ++notices;
      EXPECT_EQ(item.deployment, id);
      EXPECT_EQ(item.payload.value("message", ""), "Deployment api: replicas 5, applied 2");
    }
  EXPECT_EQ(notices, 1);
}
