// GET /api/v1/audit as a plain function: what a reviewer restricted to some projects sees of the log,
// and cursors that page through it without telling what others did.
#include <gtest/gtest.h>

#include "tests/support/gate.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using nlohmann::json;
using shipgate::testing::Gate;
using shipgate::testing::run_awaitable;

namespace {

const char* kAuditConfig = R"(
github: { secrets: [s] }
reviewers:
  alice: { token: "alice-token-123456", can: [approve] }
  outsider: { token: "outsider-token-123", can: [approve], projects: [other] }
projects:
  planera:
    repository: acme/planera
    environments:
      staging: { targets: [ { type: http, url: "http://127.0.0.1:1/s" } ] }
  other:
    repository: acme/other
    environments:
      staging: { targets: [ { type: http, url: "http://127.0.0.1:1/o" } ] }
)";

constexpr const char* kAlice = "alice-token-123456";
constexpr const char* kOutsider = "outsider-token-123";

}  // namespace

class ApiAudit : public ::testing::Test {
 protected:
  ApiAudit() : gate(kAuditConfig) {
    // Oldest first: a reload (no project), other#1, five of planera, other#2, five of planera, other#3, a reload.
    record("", "reload 1");
    record("other", "other 1");
    for (int i = 0; i < 5; ++i) record("planera", "planera a" + std::to_string(i));
    record("other", "other 2");
    for (int i = 0; i < 5; ++i) record("planera", "planera b" + std::to_string(i));
    record("other", "other 3");
    record("", "reload 2");
  }

  void record(const std::string& project, const std::string& reason) {
    AuditEntry e;
    e.at_ms = epoch_ms(gate.clock->now());
    e.actor = "someone";
    e.action = project.empty() ? AuditAction::reload : AuditAction::cancel;
    e.project = project;
    e.environment = project.empty() ? "" : "staging";
    e.reason = reason;
    ASSERT_TRUE(run_awaitable(gate.store->record_audit(e)));
  }

  json list(const std::string& query, const std::string& token) {
    const auto answer = gate.call("GET", "/api/v1/audit" + query, nullptr, token);
    EXPECT_EQ(answer.status, 200) << answer.body;
    return json::parse(answer.body);
  }

  static std::vector<std::string> reasons(const json& page) {
    std::vector<std::string> out;
    for (const auto& e : page["entries"]) out.push_back(e["reason"]);
    return out;
  }

  Gate gate;
};

TEST_F(ApiAudit, ARestrictedReviewerPagesBackThroughOnlyItsProjects) {
  const auto newest = list("?limit=2", kOutsider);
  EXPECT_EQ(reasons(newest), (std::vector<std::string>{"other 2", "other 3"}));
  ASSERT_TRUE(newest.contains("next_before"));
  EXPECT_EQ(newest["next_before"], newest["entries"][0]["id"]) << "the cursor is an entry the reviewer sees";
  const auto older = list("?limit=2&before=" + newest["next_before"].dump(), kOutsider);
  EXPECT_EQ(reasons(older), (std::vector<std::string>{"other 1"}));
  EXPECT_FALSE(older.contains("next_before")) << "nothing older it may see";
}

TEST_F(ApiAudit, ARestrictedReviewerReadsForwardPastOthersEntries) {
  const auto first = list("?limit=1&after=1", kOutsider);
  EXPECT_EQ(reasons(first), (std::vector<std::string>{"other 1"}));
  const auto next = list("?limit=2&after=" + first["next_after"].dump(), kOutsider);
  EXPECT_EQ(reasons(next), (std::vector<std::string>{"other 2", "other 3"}));
}

TEST_F(ApiAudit, EntriesOfNoProjectAreSeenOnlyByUnrestrictedReviewers) {
  EXPECT_EQ(reasons(list("?limit=1", kAlice)), (std::vector<std::string>{"reload 2"}));
  for (const auto& reason : reasons(list("?limit=100", kOutsider))) EXPECT_EQ(reason.rfind("reload", 0), std::string::npos);
  EXPECT_EQ(reasons(list("?limit=100", kAlice)).size(), 15u);
}

TEST_F(ApiAudit, BadFiltersAreRefusedWithTheReason) {
  EXPECT_EQ(gate.call("GET", "/api/v1/audit?limit=0", nullptr, kAlice).status, 400);
  EXPECT_EQ(gate.call("GET", "/api/v1/audit?since=yesterday", nullptr, kAlice).status, 400);
  const auto unknown = gate.call("GET", "/api/v1/audit?action=launch", nullptr, kAlice);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["message"], "unknown action 'launch'");
  EXPECT_EQ(gate.call("GET", "/api/v1/audit?project=planera", nullptr, kOutsider).status, 404);
  EXPECT_EQ(gate.call("GET", "/api/v1/audit", nullptr, "").status, 401);
}
