// Schedules on both stores (a real SQLite file and a real PostgreSQL), a manual clock and a real HTTP
// server standing in for the application the smoke checks ask.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>

#include "config/time_zone.hpp"
#include "http/http_client.hpp"
#include "orchestration/schedule_runner.hpp"
#include "tests/support/http.hpp"
#include "tests/support/run.hpp"
#include "tests/support/store_fixture.hpp"
#include "tests/support/test_config.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::run_awaitable;
using shipgate::testing::StandinReply;
using shipgate::testing::StandinServer;
using shipgate::testing::StoreUnderTest;
using shipgate::testing::StoreUnderTestKind;

namespace {

TimePoint at(const std::string& rfc3339) { return TimePoint(Millis(config::parse_rfc3339(rfc3339).value())); }

}  // namespace

class Schedules : public shipgate::testing::StoreFixture {
 protected:
  Schedules() : StoreFixture(at("2026-03-02T08:00:00Z")) {}  // a Monday
  void SetUp() override {
    StoreFixture::SetUp();
    if (store) store->record_events(true);
  }

  // production: a daily verify at 09:00 UTC and a weekly redeploy on Sundays at 03:00 Berlin time.
  config::ConfigPtr config(const std::string& approval = "") {
    return shipgate::testing::load_test_config(
        "github: { secrets: [s] }\n"
        "projects:\n  app:\n    repository: acme/app\n"
        "    components: { web: { image: ghcr.io/acme/web } }\n"
        "    environments:\n      production:\n" + approval +
        "        smoke: [ { url: \"" + app.url() + "/health?v={version}\", attempts: 1, timeout: 2s } ]\n"
        "        schedules:\n"
        "          - { cron: \"0 9 * * *\", action: verify }\n"
        "          - { cron: \"0 3 * * sun\", timezone: Europe/Berlin, action: redeploy }\n"
        "        targets: [ { type: command, argv: [/bin/true] } ]\n");
  }
  std::shared_ptr<ScheduleRunner> runner(config::ConfigPtr cfg) {
    return std::make_shared<ScheduleRunner>(ioc.get_executor(), *store, [cfg] { return cfg; }, clock,
                                            http::make_beast_http_client(), nullptr);
  }
  // A deployment of `version` that reached succeeded (what runs there now).
  std::int64_t deployed(const std::string& version, State final_state = State::succeeded) {
    NewDeployment d;
    d.project = "app";
    d.environment = "production";
    d.version = version;
    d.sha = std::string(40, version.back());
    d.images = {{"web", "ghcr.io/acme/web:" + version}};
    d.trigger = Trigger::manual;
    d.actor = "alice";
    IngestRequest r;
    r.delivery_key = "k-" + version;
    r.deployments = {d};
    const auto id = run_awaitable(store->ingest(std::move(r)))->deployments.at(0).id;
    if (final_state == State::queued) return id;
    EXPECT_TRUE(run_awaitable(store->transition({id, Event::start})));
    EXPECT_TRUE(run_awaitable(store->transition({id, Event::succeed})));
    return id;
  }
  std::vector<ScheduleStatus> statuses(const config::ConfigPtr& cfg) {
    return schedule_statuses(*cfg, *run_awaitable(store->schedule_runs()), clock->now());
  }
  const ScheduleStatus& verify_status(const std::vector<ScheduleStatus>& all) {
    for (const auto& s : all)
      if (s.schedule->action == config::Schedule::Action::verify) return s;
    throw std::runtime_error("no verify schedule");
  }

  std::atomic<int> status{200};
  StandinServer app{[this](const shipgate::testing::RecordedRequest&) { return StandinReply{status.load(), "ok"}; }};
  boost::asio::io_context ioc;
};

INSTANTIATE_TEST_SUITE_P(Stores, Schedules, ::testing::Values(StoreUnderTestKind::sqlite, StoreUnderTestKind::postgresql),
                         [](const auto& info) { return shipgate::testing::store_kind_name(info.param); });

TEST_P(Schedules, ARunIsClaimedOncePerDueTime) {
  ScheduleRun first{"app", "production", "0 9 * * * UTC verify", 1000, ScheduleOutcome::pending, {}, 0, 0};
  EXPECT_TRUE(*run_awaitable(store->claim_schedule_run(first, std::nullopt)));
  EXPECT_FALSE(*run_awaitable(store->claim_schedule_run(first, std::nullopt))) << "the first run exists already";
  auto second = first;
  second.due_ms = 2000;
  EXPECT_TRUE(*run_awaitable(store->claim_schedule_run(second, 1000)));
  EXPECT_FALSE(*run_awaitable(store->claim_schedule_run(second, 1000))) << "another replica took it";
  second.outcome = ScheduleOutcome::passed;
  second.message = "fine";
  second.finished_ms = 2500;
  AuditEntry audit{0, 2500, "shipgate", AuditAction::scheduled, "app", "production", 0, "verify passed", {}};
  ASSERT_TRUE(run_awaitable(store->finish_schedule_run(second, audit)));
  first.outcome = ScheduleOutcome::failed;  // a run a later one replaced: left as it is
  ASSERT_TRUE(run_awaitable(store->finish_schedule_run(first, audit)));
  const auto runs = *run_awaitable(store->schedule_runs());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].due_ms, 2000);
  EXPECT_EQ(runs[0].outcome, ScheduleOutcome::passed);
  EXPECT_EQ(runs[0].message, "fine");
}

TEST_P(Schedules, ADailyVerifyRunsOncePerDayAndOnceAfterDowntime) {
  const auto cfg = config();
  auto r = runner(cfg);
  const auto current = deployed("v1.0.0");
  const auto health_calls = [&] { return app.count("GET", "/health?v=v1.0.0"); };

  run_awaitable(r->tick());  // 08:00: first seen; yesterday's 09:00 passed before it existed
  EXPECT_EQ(health_calls(), 0u);
  EXPECT_EQ(verify_status(statuses(cfg)).last->outcome, ScheduleOutcome::skipped);
  EXPECT_EQ(epoch_ms(*verify_status(statuses(cfg)).next), epoch_ms(at("2026-03-02T09:00:00Z")));

  clock->set(at("2026-03-02T09:00:20Z"));
  run_awaitable(r->tick());
  run_awaitable(r->tick());  // the same due time again: nothing more
  EXPECT_EQ(health_calls(), 1u);
  auto s = verify_status(statuses(cfg));
  ASSERT_TRUE(s.last);
  EXPECT_EQ(s.last->outcome, ScheduleOutcome::passed) << s.last->message;
  EXPECT_EQ(s.last->deployment, current);
  EXPECT_EQ(s.last->due_ms, epoch_ms(at("2026-03-02T09:00:00Z")));

  clock->set(at("2026-03-03T09:00:05Z"));
  run_awaitable(r->tick());
  EXPECT_EQ(health_calls(), 2u);

  // Down for three days: the missed times run once, for the latest of them.
  clock->set(at("2026-03-06T11:30:00Z"));
  auto restarted = runner(cfg);
  run_awaitable(restarted->tick());
  run_awaitable(restarted->tick());
  EXPECT_EQ(health_calls(), 3u);
  EXPECT_EQ(verify_status(statuses(cfg)).last->due_ms, epoch_ms(at("2026-03-06T09:00:00Z")));

  // A failing check is recorded, audited about the deployment it checked, and notified.
  status = 503;
  clock->set(at("2026-03-07T09:01:00Z"));
  run_awaitable(restarted->tick());
  s = verify_status(statuses(cfg));
  EXPECT_EQ(s.last->outcome, ScheduleOutcome::failed);
  EXPECT_NE(s.last->message.find("HTTP 503"), std::string::npos) << s.last->message;
  const auto audit = *run_awaitable(store->audit({0, 0, 100}));
  int scheduled = 0;
  for (const auto& e : audit)
    if (e.action == AuditAction::scheduled) {
      ++scheduled;
      EXPECT_EQ(e.deployment, current);
    }
  EXPECT_EQ(scheduled, 4) << "one entry per run; the first sighting is no run";
  const auto due = *run_awaitable(store->outbox_due(epoch_ms(clock->now()) + 1, 100));
  int verify_failed = 0;
  for (const auto& item : due) verify_failed += item.event == "verify_failed" && item.deployment == current;
  EXPECT_EQ(verify_failed, 1);
}

TEST_P(Schedules, AWeeklyRedeployQueuesTheRunningVersionThroughTheGate) {
  const auto cfg = config("        approval: { required: 1 }\n");
  auto r = runner(cfg);
  std::vector<std::pair<std::string, std::string>> woken;
  r->on_queued([&](const std::string& p, const std::string& e) { woken.emplace_back(p, e); });
  const auto current = deployed("v2.0.0");
  run_awaitable(r->tick());  // Monday 08:00: first seen
  clock->set(at("2026-03-08T02:00:30Z"));  // Sunday 03:00 in Berlin (UTC+1)
  run_awaitable(r->tick());
  const auto all = *run_awaitable(store->deployments({"app", "production", {}, 10, 0}));
  ASSERT_EQ(all.size(), 2u);
  const auto& redeploy = all.front();
  EXPECT_NE(redeploy.id, current);
  EXPECT_EQ(redeploy.trigger, Trigger::schedule);
  EXPECT_EQ(redeploy.version, "v2.0.0");
  EXPECT_EQ(redeploy.images.at("web"), "ghcr.io/acme/web:v2.0.0") << "the same images";
  EXPECT_EQ(redeploy.state, State::pending_approval) << "through the gate like any deployment";
  EXPECT_EQ(woken.size(), 1u);

  // The next Sunday, a newer version is on its way: nothing is queued behind it.
  deployed("v2.1.0", State::queued);
  clock->set(at("2026-03-15T02:00:30Z"));
  run_awaitable(r->tick());
  EXPECT_EQ(run_awaitable(store->deployments({"app", "production", {}, 10, 0}))->size(), 3u);
  bool skipped = false;
  for (const auto& s : statuses(cfg))
    if (s.schedule->action == config::Schedule::Action::redeploy)
      skipped = s.last && s.last->outcome == ScheduleOutcome::skipped &&
                s.last->message.find("is on its way") != std::string::npos;
  EXPECT_TRUE(skipped);
}

TEST_P(Schedules, AVerifyFailsWhileWhatRunsDriftedFromTheVersion) {
  const auto cfg = shipgate::testing::load_test_config(
      "github: { secrets: [s] }\n"
      "projects:\n  app:\n    repository: acme/app\n"
      "    components: { web: { image: ghcr.io/acme/web } }\n"
      "    environments:\n      production:\n"
      "        schedules: [ { cron: \"0 9 * * *\", action: verify } ]\n"
      "        targets: [ { type: kubernetes, namespace: shop, deployments: { web: web }, drift: {} } ]\n");
  auto r = runner(cfg);
  const auto current = deployed("v1.0.0");
  run_awaitable(r->tick());  // first seen
  DriftState drifted{"app", "production",
                     nlohmann::json::array({{{"deployment", "web"}, {"field", "image"}, {"live", "ghcr.io/acme/web:hotfix"},
                                             {"applied", "ghcr.io/acme/web:v1.0.0"}}}),
                     1, 1, current};
  ASSERT_TRUE(run_awaitable(store->record_drift({drifted})));
  clock->set(at("2026-03-02T09:00:20Z"));
  run_awaitable(r->tick());
  auto s = verify_status(statuses(cfg));
  ASSERT_TRUE(s.last);
  EXPECT_EQ(s.last->outcome, ScheduleOutcome::failed);
  EXPECT_EQ(s.last->message, "v1.0.0: what runs differs from it: Deployment web: image ghcr.io/acme/web:hotfix, applied ghcr.io/acme/web:v1.0.0");

  drifted.differences = nlohmann::json::array();  // back in sync
  ASSERT_TRUE(run_awaitable(store->record_drift({drifted})));
  clock->set(at("2026-03-03T09:00:20Z"));
  run_awaitable(r->tick());
  s = verify_status(statuses(cfg));
  EXPECT_EQ(s.last->outcome, ScheduleOutcome::passed) << s.last->message;
  EXPECT_EQ(s.last->message, "v1.0.0: no drift");
}
