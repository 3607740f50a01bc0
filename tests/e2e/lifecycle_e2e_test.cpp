// Crash safety and shutdown: kill -9 and SIGTERM at chosen points of a deployment's life.
#include <signal.h>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;

// Killed right after the 202: the deployment is stored, runs after the restart, exactly once.
TEST_F(E2E, KillNineRightAfterAcceptRunsTheDeploymentExactlyOnce) {
  dokploy.add_app("app_staging", {"done", "", 25});
  start();
  auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202);
  daemon->kill9();
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  EXPECT_EQ(dokploy.jobs("app_staging").size(), 1u);
}

// Killed while Dokploy is already deploying: after the restart shipgate finds its job by the marker
// and watches it, instead of deploying a second time.
TEST_F(E2E, KillNineWhileRunningResumesWithoutDeployingTwice) {
  dokploy.add_app("app_staging", {"done", "", 40});
  start();
  auto r = push("refs/heads/main", kSha);
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return dokploy.deploy_calls() == 1; }));
  daemon->kill9();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
  bool resumed = false;
  const auto d = deployment(id);
  for (const auto& h : d["history"])
    resumed = resumed || h["reason"].get<std::string>().find("resumed after restart") != std::string::npos;
  EXPECT_TRUE(resumed) << d.dump(2);
}

// Every accepted webhook of a burst survives a kill -9 in the middle of it.
TEST_F(E2E, EveryAcceptedWebhookSurvivesKillNine) {
  start();
  std::vector<std::int64_t> accepted;
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (int i = 0; i < 400 && !stop; ++i) {
      auto r = push("refs/heads/main", std::string(kSha).substr(0, 32) + std::to_string(10000000 + i));
      if (r.status == 202) accepted.push_back(r.json()["deployments"][0]["id"].get<std::int64_t>());
    }
  });
  ASSERT_TRUE(wait_until([&] { return accepted.size() >= 20; }));
  daemon->kill9();
  stop = true;
  sender.join();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  for (auto id : accepted) EXPECT_EQ(daemon->get("/api/v1/deployments/" + std::to_string(id), kAliceToken).status, 200) << id;
}

TEST_F(E2E, SigtermLetsTheRunningDeploymentFinishAndExitsZero) {
  dokploy.add_app("app_staging", {"done", "", 60});  // about 1.2 s of polling
  start();
  RawConnection idle(daemon->port());
  idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(idle.read_all(300ms).find("200 OK"), std::string::npos);
  auto r = push("refs/heads/main", kSha);
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return dokploy.deploy_calls() == 1; }));
  daemon->process().signal(SIGTERM);
  // Idle keep-alive connections close at once; the deployment is still finishing.
  EXPECT_TRUE(idle.closed_within(1s));
  EXPECT_TRUE(daemon->process().running());
  EXPECT_EQ(daemon->process().wait(15s), 0) << daemon->log();
  ASSERT_TRUE(daemon->start());
  EXPECT_EQ(deployment(id)["state"], "succeeded");  // finished during the drain, not after restart
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}

TEST_F(E2E, SigtermAfterGraceLeavesTheDeploymentResumable) {
  dokploy.add_app("app_staging", {"never", "", 0});
  start("  shutdown_grace: 500ms\n");
  auto r = push("refs/heads/main", kSha);
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return dokploy.deploy_calls() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon->terminate(10s), 0) << daemon->log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  dokploy.add_app("app_staging", {"done", "", 0});  // the job finishes while shipgate is down
  ASSERT_TRUE(daemon->start());
  ASSERT_TRUE(wait_state(id, "succeeded")) << deployment(id).dump(2);
  EXPECT_EQ(dokploy.deploy_calls(), 1u);
}

TEST_F(E2E, NewerPushSupersedesQueuedOnes) {
  dokploy.add_app("app_staging", {"done", "", 15});
  start();
  auto a = push("refs/heads/main", kSha).json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return dokploy.deploy_calls() == 1; }));
  auto b = push("refs/heads/main", kSha2).json()["deployments"][0]["id"].get<std::int64_t>();
  auto c = push("refs/heads/main", "8334940a49ca04e9d3c399eaf25a1b08a2cfc468").json()["deployments"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(deployment(b)["state"], "superseded");
  ASSERT_TRUE(wait_state(c, "succeeded"));
  EXPECT_EQ(deployment(a)["state"], "succeeded");
  EXPECT_EQ(dokploy.deploy_calls(), 2u);  // a and c; b never ran
}
