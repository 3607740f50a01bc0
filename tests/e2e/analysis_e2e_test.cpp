// Rollback on error rate against a real Prometheus (Debian's package) scraping a tiny exporter whose
// error ratio the test controls: the deploy target makes the new version "bad" by raising it.
#include "tests/e2e/e2e_fixture.hpp"

#include <atomic>
#include <mutex>
#include <optional>

#include "tests/support/prometheus_server.hpp"

using namespace shipgate::testing;

class Analysis : public ::testing::Test {
 protected:
  // The version the target last deployed sets the ratio: the bad one starts failing a while after it
  // was deployed (after its smoke checks would have passed), the way a leak or a full queue shows.
  StandinServer exporter{[this](const RecordedRequest&) {
    std::lock_guard lock(m);
    const bool failing = bad_since && std::chrono::steady_clock::now() - *bad_since > std::chrono::milliseconds(1500);
    return StandinReply{200, std::string("# TYPE app_error_ratio gauge\napp_error_ratio ") + (failing ? "0.5" : "0") + "\n",
                        "text/plain; version=0.0.4"};
  }};
  StandinServer target{[this](const RecordedRequest& r) {
    std::lock_guard lock(m);
    deployed.push_back(r.body);
    if (r.body.find(bad_sha) != std::string::npos) bad_since = std::chrono::steady_clock::now();
    else bad_since.reset();
    return StandinReply{200, "{}"};
  }};
  PrometheusServer prometheus{{exporter.port()}};
  std::optional<std::chrono::steady_clock::time_point> bad_since;
  std::mutex m;
  std::vector<std::string> deployed;
  std::string bad_sha = std::string(40, 'b');
  TempDir dir;
  std::unique_ptr<Daemon> daemon;

  void start() {
    daemon = std::make_unique<Daemon>(dir, R"y(
server: { listen: 127.0.0.1:${PORT}, threads: 2, api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")y" + std::string(kSecret) + R"y("] }
reviewers: { alice: { token: ")y" + kAliceToken + R"y(", can: [approve, deploy] } }
projects:
  svc:
    repository: acme/svc
    components: { web: { image: ghcr.io/acme/web } }
    environments:
      production:
        deploy_on: [push]
        rollback_on_failure: true
        analysis: { prometheus: ")y" + prometheus.url() + R"y(", query: "max(app_error_ratio)", max: 0.01, for: 4s,
                    interval: 500ms }
        targets: [ { type: http, url: ")y" + target.url() + R"y(/deploy", body: { version: "{version}" } } ]
)y");
    ASSERT_TRUE(daemon->start()) << daemon->log();
  }
  std::int64_t push(const std::string& sha) {
    const std::string body = push_payload("acme/svc", "refs/heads/main", sha);
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0]["id"].get<std::int64_t>();
  }
  nlohmann::json deployment(std::int64_t id) { return deployment_of(*daemon, id); }
  std::string settle(std::int64_t id) { return settled_state(*daemon, id); }
};

TEST_F(Analysis, AHealthyVersionSucceedsAfterItsWatchAndOneWhoseErrorRateClimbsIsRolledBack) {
  // Prometheus has scraped the exporter before anything is deployed.
  ASSERT_TRUE(wait_until([&] { return prometheus.query("max(app_error_ratio)") == 0.0; }, std::chrono::seconds(20)))
      << prometheus.log();
  start();
  const std::string good_sha(40, 'a');
  const auto good = push(good_sha);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(settle(good), "succeeded") << deployment(good).dump();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(4)) << "it was watched for `for`";
  const auto healthy = deployment(good)["result"]["analysis"];
  EXPECT_TRUE(healthy.value("ok", false)) << healthy.dump();
  EXPECT_GE(healthy["samples"].size(), 5u);

  const auto bad = push(bad_sha);
  EXPECT_EQ(settle(bad), "rolled_back") << deployment(bad).dump();
  const auto d = deployment(bad);
  EXPECT_NE(d.value("message", "").find("error ratio 0.5 is above 0.01 in two samples in a row"), std::string::npos)
      << d.value("message", "");
  EXPECT_FALSE(d["result"]["analysis"].value("ok", true));
  EXPECT_EQ(d["result"]["analysis"]["samples"][0]["value"], 0.0) << "it started healthy and climbed later";
  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find(R"(shipgate_analysis_total{environment="production",outcome="passed",project="svc"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(shipgate_analysis_total{environment="production",outcome="failed",project="svc"} 1)"),
            std::string::npos);
  std::lock_guard lock(m);
  ASSERT_EQ(deployed.size(), 3u) << "the good version, the bad one, the good one back";
  EXPECT_NE(deployed[1].find(bad_sha), std::string::npos);
  EXPECT_NE(deployed[2].find(good_sha), std::string::npos);
  EXPECT_FALSE(bad_since) << "the good version is back";
}
