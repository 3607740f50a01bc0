// /metrics after a scripted sequence: exact counter values, parsed strictly.
#include "tests/e2e/e2e_fixture.hpp"
#include "common/crypto.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/prometheus_text.hpp"

using namespace shipgate::testing;

TEST_F(E2E, MetricsCountAScriptedSequenceExactly) {
  dokploy.add_app("app_other", {"error", "boom", 0});
  start();
  const std::string delivery = new_delivery_id();
  const auto a = push("refs/heads/main", kSha, delivery).json()["deployments"][0]["id"].get<std::int64_t>();
  push("refs/heads/main", kSha, delivery);                  // duplicate
  push("refs/heads/feature", kSha);                         // ignored
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha2);
  daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), "wrong", body), body);  // bad signature
  daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, "{x"), "{x");   // malformed
  const auto b = push("refs/heads/main", kSha2, new_delivery_id(), "acme/other", kOtherSecret).json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(a, "succeeded"));
  ASSERT_TRUE(wait_state(b, "failed"));
  ASSERT_TRUE(wait_until([&] { return deployment_count("production") == 1; }));  // promoted, pending approval

  auto r = daemon->get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").find("text/plain; version=0.0.4"), std::string::npos);
  const auto m = parse_exposition(r.body);
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.types.at("shipgate_webhook_requests_total"), "counter");
  EXPECT_EQ(m.types.at("shipgate_deployment_duration_seconds"), "histogram");
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="push",outcome="accepted"})"), 2);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="push",outcome="duplicate"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="push",outcome="ignored"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="push",outcome="bad_signature"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="push",outcome="malformed"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_http_requests_total{route="/webhooks/github",status="202"})"), 3);  // 2 accepted + the duplicate
  EXPECT_EQ(m.get(R"(shipgate_deployments_total{environment="staging",project="planera",state="succeeded"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_deployments_total{environment="staging",project="other",state="failed"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_queue_depth{environment="production",project="planera",state="pending_approval"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_queue_depth{environment="staging",project="planera",state="queued"})"), 0);
  EXPECT_GT(*m.get(R"(shipgate_oldest_pending_approval_seconds{environment="production",project="planera"})"), 0);
  EXPECT_EQ(m.get(R"(shipgate_oldest_pending_approval_seconds{environment="staging",project="planera"})"), 0);
  EXPECT_EQ(m.get(R"(shipgate_deployment_duration_seconds_count{environment="staging",project="planera"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_dispatch_latency_seconds_count)"), 2);
  EXPECT_EQ(m.get(R"(shipgate_target_calls_total{outcome="ok",type="dokploy"})"), 1);
  EXPECT_EQ(m.get(R"(shipgate_target_calls_total{outcome="failed",type="dokploy"})"), 1);
  EXPECT_GE(*m.get(R"(shipgate_store_commit_seconds_count)"), 4);
  EXPECT_GE(*m.get(R"(shipgate_open_connections)"), 1);
  EXPECT_TRUE(m.get(R"(shipgate_build_info{git_sha=")" + std::string(SHIPGATE_GIT_SHA_FOR_TEST) + R"(",version="0.1.0"})"));

  // Deployment counts come from the store: they survive a restart.
  daemon->kill9();
  ASSERT_TRUE(daemon->start());
  const auto after = parse_exposition(daemon->get("/metrics").body);
  EXPECT_EQ(after.get(R"(shipgate_deployments_total{environment="staging",project="planera",state="succeeded"})"), 1);
}

TEST_F(E2E, InfoAndHealthcheck) {
  start();
  EXPECT_EQ(daemon->get("/api/v1/info").status, 401);
  const auto info = daemon->get("/api/v1/info", kAliceToken).json();
  EXPECT_EQ(info["version"], "0.1.0");
  EXPECT_EQ(info["store"], "sqlite");
  EXPECT_EQ(info["config_sha256"], shipgate::sha256_hex(read_text_file(dir.file("shipgate.yaml"))));
  EXPECT_GE(info["uptime_seconds"].get<int>(), 0);
  EXPECT_FALSE(info["replica"].get<std::string>().empty());  // the host name unless SHIPGATE_REPLICA_ID is set
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon->port());
  EXPECT_EQ(run_command({shipgate_binary(), "healthcheck", url}).status, 0);
  EXPECT_EQ(run_command({shipgate_binary(), "healthcheck", "http://127.0.0.1:1"}).status, 1);
}

TEST_F(E2E, TheReplicaIdComesFromTheEnvironmentAndShowsInInfoAndMetrics) {
  daemon = std::make_unique<Daemon>(dir, e2e_config(dokploy.url()), std::map<std::string, std::string>{{"SHIPGATE_REPLICA_ID", "shipgate-7d9f-x2"}});
  ASSERT_TRUE(daemon->start()) << daemon->log();
  EXPECT_EQ(daemon->get("/api/v1/info", kAliceToken).json()["replica"], "shipgate-7d9f-x2");
  const auto metrics = parse_exposition(daemon->get("/metrics").body);
  EXPECT_EQ(metrics.get(R"(shipgate_replica_info{replica="shipgate-7d9f-x2"})"), 1);
  daemon->terminate();
  // A value that could not be a label or a plain log word: refused at start, with the reason.
  TempDir other;  // its own log: the first daemon's "listening" line must not count
  Daemon bad(other, e2e_config(dokploy.url()), {{"SHIPGATE_REPLICA_ID", "pod a\"}"}});
  EXPECT_FALSE(bad.start());
  EXPECT_NE(bad.log().find("SHIPGATE_REPLICA_ID must be"), std::string::npos) << bad.log();
}
