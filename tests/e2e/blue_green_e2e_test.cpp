// Blue-green through the real binary and the Kubernetes stand-in: the idle colour gets the version and
// is checked through the preview Service, the live Service switches in one patch, a failed check after
// the switch switches back at once, and the old colour is scaled down after keep_old.
#include <atomic>

#include "tests/e2e/kube_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {
constexpr const char* kLiveService = "/api/v1/namespaces/shop/services/api";
constexpr const char* kPreviewService = "/api/v1/namespaces/shop/services/api-preview";
}  // namespace

class BlueGreen : public KubeE2E {
 protected:
  void SetUp() override {
    KubeE2E::SetUp();
    kube->add_deployment("shop", "api-blue", {{"api", "ghcr.io/acme/api:v0"}}, 3);
    kube->add_deployment("shop", "api-green", {{"api", "ghcr.io/acme/api:v0"}}, 0);
    for (const auto* path : {kLiveService, kPreviewService}) {
      const std::string name = std::string(path).substr(std::string(path).rfind('/') + 1);
      kube->apply_as("platform", path, {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", name}, {"namespace", "shop"}}},
                                        {"spec", {{"selector", {{"app", "api"}, {"color", "blue"}}}, {"ports", {{{"port", 80}}}}}}});
    }
    start_with(daemon_head("deploy") + R"(projects:
  shop:
    repository: acme/shop
    components: { api: { image: ghcr.io/acme/api } }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        targets:
          - type: kubernetes
            namespace: shop
            kubeconfig: )" + dir.file("kubeconfig") + R"(
            deployments: { api: api }
            strategy: blue_green
            blue_green: { preview_url: ")" + preview.url() + R"(", keep_old: 1s }
            rollout_timeout: 20s
            poll_interval: 10ms
        smoke:
          - { url: "{preview_url}/health", body_contains: "{version}" }
          - { url: ")" + live.url() + R"(/health" }
        rollback_on_failure: true
)");
  }
  std::int64_t push_sha(const std::string& sha) { return KubeE2E::push_sha("acme/shop", sha); }
  std::string colour_of(const char* service) { return kube->stored(service)["spec"]["selector"].value("color", ""); }
  int replicas_of(const std::string& deployment) { return kube->object("shop", deployment)["spec"].value("replicas", -1); }
  std::vector<std::string> history(std::int64_t id) {
    std::vector<std::string> out;
    const auto d = deployment(id);
    for (const auto& h : d["history"]) out.push_back(h.value("reason", ""));
    return out;
  }
  bool has_line(std::int64_t id, const std::string& line) {
    for (const auto& h : history(id))
      if (h.find(line) != std::string::npos) return true;
    return false;
  }

  // The preview answers with the version the new colour runs; the live check answers as the test says.
  StandinServer preview{[this](const RecordedRequest&) {
    const std::string image = kube->image("shop", "api-" + colour_of(kPreviewService), "api");
    return preview_healthy ? StandinReply{200, R"({"version":")" + version_of(image) + "\"}"} : StandinReply{503, "{}"};
  }};
  StandinServer live{[this](const RecordedRequest&) { return live_healthy ? StandinReply{200, "{}"} : StandinReply{500, "{}"}; }};
  std::atomic<bool> preview_healthy{true}, live_healthy{true};
  std::string version_of(const std::string& image) {
    const auto tag = image.substr(image.rfind(':') + 1);
    for (const auto* sha : {kSha, kSha2})
      if (std::string(sha).substr(0, 7) == tag) return sha;
    return tag;
  }
};

TEST_F(BlueGreen, TheNewColourIsCheckedThroughThePreviewThenTheServiceSwitchesAndTheOldIsScaledDown) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2) << daemon->log();
  EXPECT_EQ(kube->image("shop", "api-green", "api"), "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
  EXPECT_EQ(kube->image("shop", "api-blue", "api"), "ghcr.io/acme/api:v0");
  EXPECT_EQ(colour_of(kLiveService), "green");
  EXPECT_EQ(colour_of(kPreviewService), "green");
  EXPECT_EQ(kube->stored(kLiveService)["spec"]["selector"]["app"], "api") << "the selector's other labels are kept";
  const auto d = deployment(v1);
  EXPECT_EQ(d["result"]["preview_smoke"][0]["ok"], true) << d.dump(2);
  EXPECT_EQ(d["result"]["switch"]["0"]["message"], "Service api switched from blue to green");
  EXPECT_TRUE(has_line(v1, "Service api switched from blue to green"));
  std::size_t live_patches = 0;
  for (const auto& r : kube->requests()) live_patches += r.method == "PATCH" && r.target == kLiveService;
  EXPECT_EQ(live_patches, 1u) << "the switch is one patch";
  EXPECT_EQ(replicas_of("api-green"), 3) << "the new colour runs as many replicas as the live one did";
  EXPECT_TRUE(wait_until([&] { return replicas_of("api-blue") == 0; }, std::chrono::seconds(10))) << "keep_old passed";
}

TEST_F(BlueGreen, ACheckThatFailsAfterTheSwitchSwitchesBackAtOnce) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  ASSERT_TRUE(wait_until([&] { return replicas_of("api-blue") == 0; }, std::chrono::seconds(10)));
  live_healthy = false;
  const auto v2 = push_sha(kSha2);
  ASSERT_TRUE(wait_state(v2, "rolled_back")) << deployment(v2).dump(2);
  EXPECT_EQ(colour_of(kLiveService), "green") << "back on the colour that ran before";
  EXPECT_EQ(kube->image("shop", "api-green", "api"), "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
  EXPECT_TRUE(has_line(v2, "Service api switched from green to blue"));
  EXPECT_TRUE(has_line(v2, "Service api switched back from blue to green"));
  const auto d = deployment(v2);
  EXPECT_EQ(d["result"]["rollback"][0]["message"], "Service api switched back from blue to green") << d.dump(2);
  // v2's switch had marked green for scaling down after keep_old; once that timer has run, green serves
  // again with its replicas.
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("api-green serves again: left as it is") != std::string::npos; },
                         std::chrono::seconds(10)))
      << daemon->log();
  EXPECT_EQ(replicas_of("api-green"), 3);
  EXPECT_EQ(colour_of(kLiveService), "green");
}

TEST_F(BlueGreen, AFailingPreviewCheckNeverSwitches) {
  preview_healthy = false;
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_until([&] {
    const auto state = deployment(v1).value("state", "");
    return state == "failed" || state == "rolled_back";
  })) << deployment(v1).dump(2);
  EXPECT_EQ(colour_of(kLiveService), "blue");
  for (const auto& r : kube->requests()) EXPECT_FALSE(r.method == "PATCH" && r.target == kLiveService) << "the live Service was touched";
  EXPECT_NE(deployment(v1)["message"].get<std::string>().find("preview: "), std::string::npos) << deployment(v1)["message"];
}

TEST_F(BlueGreen, AnIdleColourWithoutTheContainerChangesNothing) {
  kube->apply_as("someone", "/apis/apps/v1/namespaces/shop/deployments/api-green",
                 json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api-green","namespace":"shop"},
                     "spec":{"template":{"spec":{"containers":[{"name":"web","image":"ghcr.io/acme/web:v0"}]}}}})"));
  const auto patches_before = kube->patches();
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "failed")) << deployment(v1).dump(2);
  EXPECT_NE(deployment(v1)["message"].get<std::string>().find("Deployment api-green has no container 'api' (containers: web); nothing was changed"),
            std::string::npos)
      << deployment(v1)["message"];
  EXPECT_EQ(kube->patches(), patches_before);
  EXPECT_EQ(colour_of(kLiveService), "blue");
}
