// Promotion asks production only for new work, against the real daemon: staging deploying again a
// version production has waiting or already runs asks nobody, a rollback in staging leaves production's
// newer version waiting where it is, and a scheduled redeploy of staging asks nobody either.
#include "tests/e2e/e2e_fixture.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

class Promotion : public E2E {
 protected:
  // The usual config with alice allowed to roll back and `staging_extra` in staging's settings.
  void begin(const std::string& staging_extra = "") {
    const std::string on = "        deploy_on: [push, dispatch, build]\n";
    start_with(replaced(replaced(e2e_config(dokploy.url()), "can: [approve, deploy]", "can: [approve, deploy, rollback]"),
                        on, on + staging_extra));
  }
  Reply api_post(const std::string& path, const json& body) {
    return daemon->post(path, {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}},
                        body.dump());
  }
  std::int64_t created(const Reply& r) {
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0].value("id", std::int64_t{0});
  }
  std::int64_t redeploy_staging(const std::string& sha) {
    return created(api_post("/api/v1/deployments", {{"project", "planera"}, {"environment", "staging"}, {"version", sha}}));
  }
  json production() { return daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"]; }
};

TEST_F(Promotion, OnlyNewWorkReachesProductionNotARedeployOrARollback) {
  begin();
  ASSERT_TRUE(wait_state(created(push("refs/heads/main", kSha)), "succeeded"));
  ASSERT_TRUE(wait_until([&] { return production().size() == 1; }));
  const auto first = production()[0]["id"].get<std::int64_t>();
  // Deployed again in staging while production has it waiting for approval: nobody is asked again.
  ASSERT_TRUE(wait_state(redeploy_staging(kSha), "succeeded"));
  EXPECT_EQ(production().size(), 1u);
  // Production runs it; staging deploys it once more: still nothing new for production.
  ASSERT_EQ(api_post("/api/v1/deployments/" + std::to_string(first) + "/approve", json::object()).status, 200);
  ASSERT_TRUE(wait_state(first, "succeeded"));
  ASSERT_TRUE(wait_state(redeploy_staging(kSha), "succeeded"));
  EXPECT_EQ(production().size(), 1u);
  // A newer version waits for approval; staging going back to the older one leaves it waiting.
  ASSERT_TRUE(wait_state(created(push("refs/heads/main", kSha2)), "succeeded"));
  ASSERT_TRUE(wait_until([&] { return production().size() == 2; }));
  const auto newer = production()[0];
  const auto back = created(api_post("/api/v1/projects/planera/environments/staging/rollback", {{"reason", "500s"}}));
  ASSERT_TRUE(wait_state(back, "succeeded"));
  const auto after = production();
  ASSERT_EQ(after.size(), 2u) << after.dump(2);
  EXPECT_EQ(after[0]["id"], newer["id"]);
  EXPECT_EQ(after[0]["state"], "pending_approval");
}

TEST_F(Promotion, AScheduledRedeployOfStagingAsksProductionNothing) {
  begin("        schedules: [ { cron: \"* * * * *\", action: redeploy } ]\n");
  ASSERT_TRUE(wait_state(created(push("refs/heads/main", kSha)), "succeeded"));
  ASSERT_TRUE(wait_until([&] { return production().size() == 1; }));
  // The schedule fires at the next minute: staging deploys what it runs once more.
  std::int64_t scheduled = 0;
  ASSERT_TRUE(wait_until([&] {
    const auto list = daemon->get("/api/v1/deployments?environment=staging", kAliceToken).json();  // named: no dangling
    for (const auto& d : list["deployments"])
      if (d["trigger"] == "schedule" && d["state"] == "succeeded") scheduled = d["id"].get<std::int64_t>();
    return scheduled != 0;
  }, std::chrono::seconds(130))) << daemon->log();
  EXPECT_EQ(production().size(), 1u) << production().dump(2);
}

}  // namespace
}  // namespace shipgate::testing
