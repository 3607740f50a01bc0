// Promotion asks production only for new work, against the real daemon: staging deploying again a
// version production has waiting or already runs asks nobody, and a rollback in staging leaves
// production's newer version waiting where it is. (A scheduled redeploy is the third case: its rule is
// the same function, tested with the dispatcher, Dispatcher.OnlyNewWorkIsPromoted...)
#include "tests/e2e/e2e_fixture.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

class Promotion : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    start_with(replaced(e2e_config(dokploy.url()), "can: [approve, deploy]", "can: [approve, deploy, rollback]"));
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

}  // namespace
}  // namespace shipgate::testing
