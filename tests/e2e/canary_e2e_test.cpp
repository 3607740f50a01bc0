// Canary releases on Kubernetes against the Kubernetes stand-in and a real Prometheus (Debian's package)
// scraping an exporter whose error counter follows the image the canary Deployment runs.
#include <atomic>

#include "tests/e2e/kube_fixture.hpp"
#include "tests/support/prometheus_server.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

const std::string kGoodSha(40, 'a');
const std::string kBadSha(40, 'b');
// The share of requests that failed over the last few seconds (scrapes are a second apart).
const std::string kRatio = "sum(rate(app_errors_total[3s])) / sum(rate(app_requests_total[3s]))";
const std::string kRoutePath = "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/api";

}  // namespace

class Canary : public KubeE2E {
 protected:
  void SetUp() override {
    KubeE2E::SetUp();
    kube->add_deployment("shop", "api", {{"api", "ghcr.io/acme/api:v0"}}, 4);
    kube->add_deployment("shop", "api-canary", {{"api", "ghcr.io/acme/api:v0"}}, 1);
    // Prometheus has scraped the exporter before anything is deployed.
    ASSERT_TRUE(wait_until([&] { return prometheus.query(kRatio) == 0.0; }, std::chrono::seconds(20)))
        << prometheus.log();
    if (routed()) {
      // The route sends all traffic to the main Service; the canary's backendRef is there with weight 0.
      kube->apply_as("gateway-admin", kRoutePath, json::parse(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
        "metadata":{"name":"api","namespace":"shop"},"spec":{"parentRefs":[{"name":"public"}],"rules":[
          {"matches":[{"path":{"type":"PathPrefix","value":"/"}}],
           "backendRefs":[{"name":"api","port":80,"weight":100},{"name":"api-canary","port":80,"weight":0}]}]}})"));
    }
    start_with(daemon_head("deploy") + R"y(projects:
  shop:
    repository: acme/shop
    components: { api: { image: ghcr.io/acme/api } }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        rollback_on_failure: true
        targets:
          - { type: kubernetes, namespace: shop, kubeconfig: ")y" + dir.file("kubeconfig") + R"y(",
              deployments: { api: api }, rollout_timeout: 20s, poll_interval: 10ms }
        canary:
          deployment: api-canary
          steps: [ { weight: 20, pause: 3s }, { weight: 50, pause: 1s } ]
          analysis: { prometheus: ")y" + prometheus.url() + R"y(", query: ")y" + kRatio + R"y(", max: 0.01, interval: 250ms }
)y" + (routed() ? "          traffic: { httproute: api }\n" : ""));
  }
  // Whether the canary's weight goes through an HTTPRoute (CanaryRouted) or replica counts.
  virtual bool routed() const { return false; }
  // The weights each JSON Patch of the route set, as "canary/main".
  std::vector<std::string> route_weights() {
    std::vector<std::string> out;
    for (const auto& r : kube->requests()) {
      if (r.method != "PATCH" || r.target != kRoutePath) continue;
      const auto ops = json::parse(r.body);
      out.push_back(ops[2]["value"].dump() + "/" + ops[1]["value"].dump());
    }
    return out;
  }
  std::int64_t push_sha(const std::string& sha) { return KubeE2E::push_sha("acme/shop", sha); }
  std::string settle(std::int64_t id) {
    std::string state;
    wait_until([&] {
      state = deployment(id).value("state", "");
      return state != "queued" && state != "running";
    }, std::chrono::seconds(40));
    return state;
  }
  // PATCHes of one Deployment, in the order the API server saw them, as the images they set ("replicas N"
  // for a scaling).
  std::vector<std::string> patches_of(const std::string& name) {
    std::vector<std::string> out;
    for (const auto& r : kube->requests()) {
      if (r.method != "PATCH" || r.target != "/apis/apps/v1/namespaces/shop/deployments/" + name) continue;
      const auto body = json::parse(r.body);
      if (body["spec"].contains("template")) out.push_back(body["spec"]["template"]["spec"]["containers"][0]["image"]);
      else out.push_back("replicas " + body["spec"]["replicas"].dump());
    }
    return out;
  }
  std::size_t first_patch_index(const std::string& name) {
    const auto requests = kube->requests();
    for (std::size_t i = 0; i < requests.size(); ++i)
      if (requests[i].method == "PATCH" && requests[i].target.ends_with("/deployments/" + name)) return i;
    return requests.size();
  }

  // The application's request and error counters, moved on at each scrape: half of the requests fail
  // while the canary runs the bad version.
  StandinServer exporter{[this](const RecordedRequest&) {
    const bool bad = kube && kube->image("shop", "api-canary", "api").ends_with(kBadSha.substr(0, 7));
    const long requests = requests_total += 100, errors = errors_total += bad ? 50 : 0;
    return StandinReply{200, "# TYPE app_requests_total counter\napp_requests_total " + std::to_string(requests) +
                                 "\n# TYPE app_errors_total counter\napp_errors_total " + std::to_string(errors) + "\n",
                        "text/plain; version=0.0.4"};
  }};
  std::atomic<long> requests_total{0}, errors_total{0};
  PrometheusServer prometheus{{exporter.port()}};
};

TEST_F(Canary, AHealthyCanaryIsPromotedAndOneWhoseErrorRatioRisesIsRolledBackBeforeTheMainDeploymentChanges) {
  const std::string good = "ghcr.io/acme/api:" + kGoodSha.substr(0, 7);
  const auto first = push_sha(kGoodSha);
  ASSERT_EQ(settle(first), "succeeded") << deployment(first).dump(2);
  EXPECT_EQ(kube->image("shop", "api-canary", "api"), good);
  EXPECT_EQ(kube->image("shop", "api", "api"), good);
  EXPECT_LT(first_patch_index("api-canary"), first_patch_index("api")) << "the canary goes first";
  const auto promoted = deployment(first)["result"]["canary"];
  EXPECT_TRUE(promoted.value("ok", false)) << promoted.dump(2);
  ASSERT_EQ(promoted["steps"].size(), 2u);
  EXPECT_EQ(promoted["steps"][0]["weight"], 20);
  EXPECT_TRUE(promoted["steps"][1]["analysis"].value("ok", false));

  const auto second = push_sha(kBadSha);
  ASSERT_EQ(settle(second), "rolled_back") << deployment(second).dump(2);
  const auto d = deployment(second);
  const std::string message = d.value("message", "");
  EXPECT_NE(message.find("canary rolled back after: canary step"), std::string::npos) << message;
  EXPECT_NE(message.find("is above 0.01 in two samples in a row"), std::string::npos) << message;
  EXPECT_EQ(kube->image("shop", "api-canary", "api"), good) << "the canary runs the good version again";
  EXPECT_EQ(kube->image("shop", "api", "api"), good);
  EXPECT_EQ(patches_of("api"), std::vector<std::string>{good}) << "the main Deployment never saw the bad version";
  // Without an HTTPRoute the weight is given by replicas beside the main Deployment's 4: 1 for 20 %, 4 for
  // 50 %, 0 once promoted or rolled back.
  EXPECT_EQ(patches_of("api-canary"),
            (std::vector<std::string>{good, "replicas 1", "replicas 4", "replicas 0", "ghcr.io/acme/api:" + kBadSha.substr(0, 7),
                                      "replicas 1", "replicas 0", good}));
  auto env = daemon->get("/api/v1/projects/shop/environments/production", kAliceToken).json();
  EXPECT_EQ(env["bad_versions"][0]["version"], kBadSha) << env.dump(2);

  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find(R"(shipgate_canary_total{environment="production",outcome="promoted",project="shop"} 1)"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(shipgate_canary_total{environment="production",outcome="rolled_back",project="shop"} 1)"),
            std::string::npos);
}

TEST_F(Canary, APassedCanaryGoesBackWithTheMainDeploymentWhenTheMainRolloutFails) {
  const std::string good = "ghcr.io/acme/api:" + kGoodSha.substr(0, 7);
  const auto first = push_sha(kGoodSha);
  ASSERT_EQ(settle(first), "succeeded") << deployment(first).dump(2);
  kube->hang_next_rollout("shop", "api");
  const std::string third(40, 'c');
  const auto second = push_sha(third);
  ASSERT_EQ(settle(second), "rolled_back") << deployment(second).dump(2);
  const auto d = deployment(second);
  EXPECT_TRUE(d["result"]["canary"].value("ok", false)) << "the canary itself passed";
  EXPECT_NE(d.value("message", "").find("progress deadline exceeded"), std::string::npos) << d.value("message", "");
  EXPECT_EQ(kube->image("shop", "api", "api"), good);
  EXPECT_EQ(kube->image("shop", "api-canary", "api"), good) << "the canary does not keep the failed version";
}

class CanaryRouted : public Canary {
 protected:
  bool routed() const override { return true; }
};

TEST_F(CanaryRouted, EachStepSetsTheHTTPRoutesBackendWeightsAndPromotionOrRollbackPutsThemBack) {
  const auto first = push_sha(kGoodSha);
  ASSERT_EQ(settle(first), "succeeded") << deployment(first).dump(2);
  EXPECT_EQ(route_weights(), (std::vector<std::string>{"20/80", "50/50", "0/100"}));
  const auto steps = deployment(first)["result"]["canary"]["steps"];
  EXPECT_EQ(steps[0]["traffic"]["message"], "HTTPRoute api: api-canary 20%, api 80%") << steps.dump(2);
  EXPECT_EQ(patches_of("api-canary"), std::vector<std::string>{"ghcr.io/acme/api:" + kGoodSha.substr(0, 7)}) << "no scaling";

  const auto second = push_sha(kBadSha);
  ASSERT_EQ(settle(second), "rolled_back") << deployment(second).dump(2);
  EXPECT_EQ(route_weights(), (std::vector<std::string>{"20/80", "50/50", "0/100", "20/80", "0/100"}));
  const auto route = kube->stored(kRoutePath);
  EXPECT_EQ(route["spec"]["rules"][0]["backendRefs"][0]["weight"], 100);
  EXPECT_EQ(route["spec"]["rules"][0]["backendRefs"][1]["weight"], 0);
  EXPECT_EQ(route["spec"]["parentRefs"][0]["name"], "public") << "the rest of the route is kept";
}
