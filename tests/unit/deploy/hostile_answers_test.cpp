// Every outbound client against a table of hostile answers made from a valid one (tests/support/
// hostile_json.hpp): whatever the shape, the client returns an outcome with a message and never throws.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "deploy/dokploy_target.hpp"
#include "deploy/image_reference.hpp"
#include "deploy/kube_watch.hpp"
#include "deploy/kubernetes_target.hpp"
#include "deploy/prometheus_query.hpp"
#include "deploy/registry_client.hpp"
#include "notify/github_deployments.hpp"
#include "tests/support/hostile_json.hpp"
#include "tests/support/run.hpp"
#include "tests/support/scripted_http.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::hostile_answers;
using shipgate::testing::run_awaitable;
using shipgate::testing::ScriptedHttp;

namespace {

bool has(const OutboundRequest& r, std::string_view part) { return r.url.find(part) != std::string::npos; }

DeployContext hostile_context() {
  DeployContext c;
  c.deployment_id = 7;
  c.marker = "7-1700000000000";
  c.project = "planera";
  c.environment = "staging";
  c.repository = "acme/planera";
  c.version = "1.2.3";
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.images = {{"backend", "ghcr.io/acme/backend:1.2.3"}};
  c.vars = template_vars(c);
  return c;
}

// A kubeconfig for a server the scripted client answers for (nothing connects).
class Kubeconfig {
 public:
  Kubeconfig() : path_("/tmp/shipgate-hostile-kubeconfig-" + std::to_string(::getpid()) + ".yaml") {
    std::ofstream(path_) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                            "clusters: [{name: k, cluster: {server: 'https://kube.test'}}]\n"
                            "users: [{name: u, user: {token: t}}]\n"
                            "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
  }
  ~Kubeconfig() { std::remove(path_.c_str()); }
  config::KubernetesTargetConfig target() const {
    config::KubernetesTargetConfig k;
    k.namespace_ = "web";
    k.kubeconfig = path_;
    k.workloads = {{"backend", "api", "api", std::nullopt}};
    k.rollout_timeout = std::chrono::milliseconds(5);
    k.poll_interval = std::chrono::milliseconds(1);
    return k;
  }

 private:
  std::string path_;
};

// A Deployment as the API server gives it, rolled out with image `image`.
std::string deployment_json(const std::string& image) {
  return R"({"kind":"Deployment","metadata":{"name":"api","generation":2,"resourceVersion":"41"},
    "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"api","image":")" + image + R"("}]}}},
    "status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"availableReplicas":1,
      "conditions":[{"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable","message":"ok"}]}})";
}

void expect_outcome(const TargetOutcome& out, const std::string& what) {
  EXPECT_TRUE(out.ok || !out.message.empty()) << what;
}

}  // namespace

TEST(HostileAnswers, PrometheusAnswersOfAnyShapeAreNoUsableAnswerWithAMessage) {
  const auto valid = R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"pod":"a"},"value":[1700000000.1,"0.002"]}]}})";
  config::Analysis analysis;
  analysis.prometheus = "http://prometheus.test";
  analysis.query = "up";
  for (const int status : {200, 401, 503})
    for (const auto& hostile : hostile_answers(valid)) {
      ScriptedHttp http([&](const OutboundRequest&) { return ScriptedHttp::reply(status, hostile.body); });
      PromSample s;
      ASSERT_NO_THROW(s = run_awaitable(query_prometheus(http, analysis))) << hostile.what;
      EXPECT_TRUE(s.answered || !s.error.empty()) << hostile.what;
    }
  // What an auth proxy in front of Prometheus answers.
  const auto proxy = read_prometheus_answer(401, R"({"status":"error","error":{"code":401}})");
  EXPECT_FALSE(proxy.answered);
  EXPECT_EQ(proxy.error, "Prometheus refused the query: HTTP 401");
}

TEST(HostileAnswers, DokployApplicationAndJobListsOfAnyShapeEndTheTargetWithAMessage) {
  const std::string app = R"({"applicationId":"app_1","sourceType":"docker","dockerImage":"ghcr.io/acme/backend:1.2.2",
      "env":"A=1\nVERSION=1.2.2","username":null,"password":null,"registryUrl":"","buildArgs":null,
      "buildSecrets":null,"createEnvFile":true})";
  const std::string jobs = R"([{"deploymentId":"d1","title":"shipgate #7","status":"done","errorMessage":null,
      "description":"shipgate-deployment=7-1700000000000; version=1.2.3"}])";
  config::DokployTargetConfig cfg;
  cfg.url = "http://dokploy.test";
  cfg.api_key = "k";
  cfg.application_id = "app_1";
  cfg.component = "backend";
  cfg.env = {{"VERSION", "{version}"}};
  cfg.poll_interval = std::chrono::milliseconds(1);
  cfg.timeout = std::chrono::milliseconds(5);
  const auto ctx = hostile_context();
  for (const bool hostile_app : {true, false})
    for (const auto& hostile : hostile_answers(hostile_app ? app : jobs)) {
      auto http = std::make_shared<ScriptedHttp>([&](const OutboundRequest& r) {
        if (has(r, "application.one")) return ScriptedHttp::reply(200, hostile_app ? hostile.body : app);
        if (has(r, "deployment.all")) return ScriptedHttp::reply(200, hostile_app ? jobs : hostile.body);
        return ScriptedHttp::reply(200, hostile.body);  // the saves and the deploy call too
      });
      auto target = make_dokploy_target(cfg, http);
      TargetOutcome out;
      ASSERT_NO_THROW(out = run_awaitable(target->deploy(ctx))) << hostile.what;
      expect_outcome(out, hostile.what);
      ASSERT_NO_THROW(out = run_awaitable(target->rollback(ctx, nlohmann::json::parse(hostile_app ? app : jobs, nullptr, false))))
          << hostile.what;
      expect_outcome(out, hostile.what);
    }
}

TEST(HostileAnswers, KubernetesDeploymentsAndStatusesOfAnyShapeEndTheTargetWithAMessage) {
  Kubeconfig kubeconfig;
  const auto cfg = kubeconfig.target();
  const auto ctx = hostile_context();
  for (const bool first_read : {true, false})
    for (const auto& hostile : hostile_answers(deployment_json("ghcr.io/acme/backend:1.2.2"))) {
      int gets = 0;
      auto http = std::make_shared<ScriptedHttp>([&](const OutboundRequest& r) {
        if (r.method == "PATCH") return ScriptedHttp::reply(200, hostile.body);
        const bool hostile_now = first_read == (gets++ == 0);
        return ScriptedHttp::reply(200, hostile_now ? hostile.body : deployment_json("ghcr.io/acme/backend:1.2.3"));
      });
      auto target = make_kubernetes_target(cfg, http);
      TargetOutcome out;
      ASSERT_NO_THROW(out = run_awaitable(target->deploy(ctx))) << hostile.what;
      expect_outcome(out, hostile.what);
    }
}

TEST(HostileAnswers, KubernetesListsAndWatchEventsOfAnyShapeAreSkippedOrRefusedWithAMessage) {
  Kubeconfig kubeconfig;
  const auto cfg = kubeconfig.target();
  const std::string list = R"({"kind":"DeploymentList","metadata":{"resourceVersion":"41"},"items":[)" +
                           deployment_json("a:1") + "]}";
  const std::string event = R"({"type":"MODIFIED","object":)" + deployment_json("a:2") + "}";
  for (const bool hostile_list : {true, false})
    for (const auto& hostile : hostile_answers(hostile_list ? list : event)) {
      std::size_t answered = 0;
      auto http = std::make_shared<ScriptedHttp>([&](const OutboundRequest& r) {
        ++answered;
        if (has(r, "watch=1")) return ScriptedHttp::reply(200, (hostile_list ? event : hostile.body) + "\n");
        return ScriptedHttp::reply(200, hostile_list ? hostile.body : list);
      });
      DeploymentList listed;
      ASSERT_NO_THROW(listed = run_awaitable(list_deployments(*http, cfg))) << hostile.what;
      EXPECT_TRUE(!listed.version.empty() || !listed.error.empty()) << hostile.what;
      std::vector<std::string> names;
      WatchHandlers h;
      h.listed = [&](const std::vector<nlohmann::json>& items) {
        for (const auto& d : items) names.push_back(object_name(d));
      };
      h.event = [&](std::string_view, const nlohmann::json& d) { names.push_back(object_name(d)); };
      h.stopped = [&] { return answered >= (hostile_list ? 1u : 2u); };
      ASSERT_NO_THROW(run_awaitable(watch_deployments(*http, cfg, std::chrono::seconds(60), h))) << hostile.what;
    }
}

TEST(HostileAnswers, RegistryTokenAnswersOfAnyShapeRefuseTheLookupWithAMessage) {
  const auto image = parse_image_reference("registry.test/acme/backend:1.2.3");
  ASSERT_TRUE(image);
  config::RegistryConfig access;
  access.host = "registry.test";
  access.username = "u";
  access.password = "p";
  for (const auto& hostile : hostile_answers(R"({"token":"abc","access_token":"abc","expires_in":300})")) {
    ScriptedHttp http([&](const OutboundRequest& r) {
      if (has(r, "/token")) return ScriptedHttp::reply(200, hostile.body);
      for (const auto& [name, value] : r.headers)
        if (name == "Authorization")
          return ScriptedHttp::reply(200, "", {{"Docker-Content-Digest", "sha256:" + std::string(64, 'a')}});
      return ScriptedHttp::reply(401, "", {{"WWW-Authenticate", R"(Bearer realm="https://registry.test/token",service="r")"}});
    });
    ImageLookup found;
    ASSERT_NO_THROW(found = run_awaitable(look_up_image(http, *image, &access))) << hostile.what;
    EXPECT_TRUE(found.state == ImageState::found || !found.message.empty()) << hostile.what;
  }
}

TEST(HostileAnswers, GithubDeploymentAnswersOfAnyShapeAreAReportedFailure) {
  config::GithubDeploymentsConfig github;
  github.token = "t";
  github.api_url = "https://github.test";
  notify::GithubStatus status{"acme/planera", "staging", "0123456789abcdef0123456789abcdef01234567", "1.2.3",
                              false, "success", "deployed", "", "", 7};
  for (const auto& hostile : hostile_answers(R"({"id":42,"url":"https://github.test/d/42","environment":"staging"})")) {
    ScriptedHttp http([&](const OutboundRequest&) { return ScriptedHttp::reply(201, hostile.body); });
    notify::GithubReport report;
    ASSERT_NO_THROW(report = run_awaitable(notify::report_github_status(http, github, "t", status, 0, "shipgate-test")))
        << hostile.what;
    EXPECT_TRUE(report.delivered || !report.error.empty()) << hostile.what;
  }
}
