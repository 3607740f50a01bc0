// `before` steps through the real binary and the Kubernetes stand-in: a migration Job that succeeds
// before the rollout, one that fails with its pod's log and changes nothing, a crash while the Job runs
// (it is found again, not made twice), and a rollback that runs no migration.
#include <filesystem>

#include "tests/e2e/kube_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {
constexpr const char* kJobSha3 = "8334940a49ca04e9d3c399eaf25a1b08a2cfc468";
}  // namespace

class KubeJobs : public KubeE2E {
 protected:
  void SetUp() override {
    KubeE2E::SetUp();
    kube->add_deployment("web", "api", {{"api", "ghcr.io/acme/api:v0"}});
    std::filesystem::create_directories(dir.file("jobs"));
    dir.write("jobs/migrate.yaml", R"(apiVersion: batch/v1
kind: Job
metadata: { name: migrate }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {image.api}
          args: [migrate, up]
)");
    start_with(daemon_head("deploy, rollback") + R"(projects:
  web:
    repository: acme/web
    components: { api: { image: ghcr.io/acme/api } }
    environments:
      production:
        deploy_on: [push]
        tag: "{short_sha}"
        before:
          - { type: job, file: )" + dir.file("jobs/migrate.yaml") + R"(, timeout: 20s }
          - { type: command, argv: ["/bin/sh", "-c", "echo checking $SHIPGATE_VERSION; test ! -e )" + dir.file("locked") + R"( || { echo 'schema lock held by another migration' >&2; exit 2; }"], timeout: 10s }
        targets:
          - type: kubernetes
            namespace: web
            kubeconfig: )" + dir.file("kubeconfig") + R"(
            deployments: { api: api }
            rollout_timeout: 20s
            poll_interval: 10ms
)");
  }
  std::int64_t push_sha(const std::string& sha) { return KubeE2E::push_sha("acme/web", sha); }
  // The API paths of the stand-in's PATCH requests, in order, without their queries.
  std::vector<std::string> patched() {
    std::vector<std::string> out;
    for (const auto& r : kube->requests())
      if (r.method == "PATCH") out.push_back(r.target.substr(0, r.target.find('?')));
    return out;
  }
};

TEST_F(KubeJobs, TheMigrationJobSucceedsBeforeAnyTargetChanges) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2) << daemon->log();
  const std::string job = "migrate-" + std::to_string(v1);
  EXPECT_EQ(patched(), (std::vector<std::string>{"/apis/batch/v1/namespaces/web/jobs/" + job,
                                                 "/apis/apps/v1/namespaces/web/deployments/api"}));
  const json made = kube->stored("/apis/batch/v1/namespaces/web/jobs/" + job);
  EXPECT_EQ(made["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
  EXPECT_EQ(made["metadata"]["labels"]["shipgate.dev/deployment"], std::to_string(v1));
  const json step = deployment(v1)["result"]["before"][0];
  EXPECT_EQ(step["ok"], true);
  EXPECT_EQ(step["step"], "job migrate.yaml");
  EXPECT_EQ(step["message"].get<std::string>().rfind("Job " + job + " completed in ", 0), 0u) << step;
  EXPECT_TRUE(step["duration_ms"].is_number_integer());
}

TEST_F(KubeJobs, AFailingMigrationEndsTheDeploymentWithItsLogAndNothingRollsOut) {
  kube->script_jobs("migrate", {.succeed = false, .log = "applying 0042_add_orders\nERROR: relation \"orders\" already exists", .exit_code = 3});
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "failed")) << deployment(v1).dump(2);
  const auto d = deployment(v1);
  EXPECT_NE(d["message"].get<std::string>().find("before step 1 (job migrate.yaml): Job migrate-" + std::to_string(v1) +
                                                 " failed (BackoffLimitExceeded: Job has reached the specified backoff limit): "
                                                 "migrate: Error, exit 3: ERROR: relation \"orders\" already exists; no target was changed"),
            std::string::npos)
      << d["message"];
  EXPECT_EQ(d["result"]["before"][0]["details"]["diagnosis"]["log"],
            json::parse(R"(["applying 0042_add_orders", "ERROR: relation \"orders\" already exists"])"));
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:v0");
  EXPECT_EQ(patched().size(), 1u);  // the Job only
  EXPECT_FALSE(d["result"].contains("targets"));
}

TEST_F(KubeJobs, AFailingCommandStepEndsTheDeploymentWithItsLastLineAfterTheJob) {
  dir.write("locked", "");
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "failed")) << deployment(v1).dump(2);
  const auto d = deployment(v1);
  EXPECT_NE(d["message"].get<std::string>().find("before step 2 (command /bin/sh): /bin/sh exited with 2: schema lock held by another "
                                                 "migration; no target was changed"),
            std::string::npos)
      << d["message"];
  EXPECT_EQ(d["result"]["before"][0]["ok"], true);
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:v0");
}

TEST_F(KubeJobs, ACrashWhileTheJobRunsFindsItAgainInsteadOfMakingASecond) {
  kube->script_jobs("migrate", {.reads = 1000000});
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_until([&] { return kube->jobs_created() == 1; })) << daemon->log();
  daemon->kill9();
  kube->script_jobs("migrate", {.reads = 1});
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2) << daemon->log();
  EXPECT_EQ(kube->jobs_created(), 1u);
  EXPECT_EQ(deployment(v1)["result"]["before"][0]["details"]["found"], true);
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
}

TEST_F(KubeJobs, ARollbackRunsNoMigration) {
  const auto v1 = push_sha(kSha);
  ASSERT_TRUE(wait_state(v1, "succeeded")) << deployment(v1).dump(2);
  const auto v2 = push_sha(kJobSha3);
  ASSERT_TRUE(wait_state(v2, "succeeded")) << deployment(v2).dump(2);
  ASSERT_EQ(kube->jobs_created(), 2u);
  auto rb = daemon->post("/api/v1/projects/web/environments/production/rollback",
                         {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}},
                         json{{"reason", "500s after deploy"}}.dump());
  ASSERT_EQ(rb.status, 202) << rb.body;
  const auto back = rb.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(back, "succeeded")) << deployment(back).dump(2);
  EXPECT_EQ(kube->jobs_created(), 2u);
  EXPECT_EQ(kube->image("web", "api", "api"), "ghcr.io/acme/api:" + std::string(kSha).substr(0, 7));
  EXPECT_FALSE(deployment(back)["result"].contains("before"));
}
