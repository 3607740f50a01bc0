// Notifications and GitHub deployment statuses against the real binary: a receiver that is slow,
// then down, then up gets the notification after it recovers, signed, while the deployment itself
// never waited; give-ups are logged and counted; GitHub (a stand-in of its REST API) sees a
// deployment per shipgate deployment with its statuses in order.
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/crypto.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/github_standin.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

constexpr const char* kNotifySecret = "notify-signing-secret";
constexpr const char* kGithubToken = "ghp_standintoken0123456789";

// A notification receiver whose behaviour the test switches: slow (answers after the daemon's
// timeout), down (503) or up (200).
class Receiver {
 public:
  enum Mode { slow, down, up };
  std::atomic<Mode> mode{up};
  StandinServer server{[this](const RecordedRequest&) -> StandinReply {
    switch (mode.load()) {
      case slow: std::this_thread::sleep_for(std::chrono::milliseconds(1500)); return {200, "{}"};
      case down: return {503, R"({"error":"down"})"};
      case up: return {200, "ok", "text/plain"};
    }
    return {500, ""};
  }};
};

std::string notify_block(const std::string& url, const std::string& extra) {
  return "notify:\n  - { url: \"" + url + "\", format: json, secret: \"" + kNotifySecret + "\", timeout: 1s" + extra + " }\n";
}

}  // namespace

class Notify : public E2E {
 protected:
  std::string config_with(const std::string& top) {
    // notify sits at the top level, before projects.
    std::string c = e2e_config(dokploy.url());
    c.insert(c.find("\nprojects:") + 1, top);
    return c;
  }
  std::string metrics() { return daemon->get("/metrics").body; }
};

TEST_F(Notify, ASlowThenDownReceiverGetsTheSignedNotificationAfterItRecoversAndNoDeploymentWaits) {
  Receiver receiver;
  receiver.mode = Receiver::slow;  // answers after the daemon's 1 s timeout: every attempt fails
  start_with(config_with(notify_block(receiver.server.url(), ", events: [succeeded]")));
  auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t first = r.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(first, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return receiver.server.requests().size() >= 1; }));
  // With the first notification stuck, the next deployment runs and finishes all the same.
  auto r2 = push("refs/heads/main", kSha2);
  const std::int64_t second = r2.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(second, "succeeded"));
  EXPECT_EQ(metrics().find("outcome=\"delivered\""), std::string::npos) << "nothing could have been delivered yet";

  receiver.mode = Receiver::down;
  const auto seen = receiver.server.requests().size();
  ASSERT_TRUE(wait_until([&] { return receiver.server.requests().size() > seen + 1; }, std::chrono::seconds(15)));
  receiver.mode = Receiver::up;
  ASSERT_TRUE(wait_until([&] { return metrics().find("shipgate_outbox_deliveries_total{kind=\"notify\",outcome=\"delivered\"} 2") != std::string::npos; },
                         std::chrono::seconds(30)))
      << metrics();
  EXPECT_NE(metrics().find("shipgate_outbox_deliveries_total{kind=\"notify\",outcome=\"retried\"}"), std::string::npos);

  const auto requests = receiver.server.requests();
  std::map<std::string, std::vector<RecordedRequest>> by_delivery;  // every attempt of one carries its id
  for (const auto& req : requests) by_delivery[req.header("X-Shipgate-Delivery")].push_back(req);
  ASSERT_EQ(by_delivery.size(), 2u);
  std::set<std::int64_t> notified;
  for (const auto& [delivery, attempts] : by_delivery) {
    EXPECT_GE(attempts.size(), 2u);
    const auto& last = attempts.back();
    EXPECT_EQ(last.header("X-Shipgate-Signature-256"), "sha256=" + shipgate::hmac_sha256_hex(kNotifySecret, last.body));
    EXPECT_EQ(last.header("X-Shipgate-Event"), "succeeded");
    const auto body = json::parse(last.body);
    EXPECT_EQ(body["event"], "succeeded");
    EXPECT_NE(body["text"].get<std::string>().find("planera/staging"), std::string::npos);
    notified.insert(body["deployment"]["id"].get<std::int64_t>());
  }
  EXPECT_EQ(notified, (std::set<std::int64_t>{first, second}));
  // Delivered means done: both rows are finished in the store, so the worker never picks them again,
  // and no attempt arrived after the last one each delivery recorded.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir.file("shipgate.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  auto unfinished = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE kind = 'notify' AND (done_at IS NULL OR outcome != 'delivered')",
                       -1, &st, nullptr);
    const int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  };
  EXPECT_TRUE(wait_until([&] { return unfinished() == 0; }));
  sqlite3_close(db);
  EXPECT_EQ(receiver.server.requests().size(), requests.size());
}

TEST_F(Notify, PendingApprovalCarriesTheApproveCommandAndSlackFormatIsText) {
  Receiver receiver;
  start_with(config_with("notify:\n  - { url: \"" + receiver.server.url() +
                         "/slack\", format: slack, events: [pending_approval] }\n"));
  const std::string body = R"({"action":"deploy","client_payload":{"version":"v1.2.3","sha":")" + std::string(kSha) +
                           R"(","environment":"production"},"repository":{"full_name":"acme/planera"}})";
  auto r = daemon->post("/webhooks/github", github_headers("repository_dispatch", new_delivery_id(), kSecret, body), body);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t id = r.json()["deployments"][0]["id"];
  ASSERT_EQ(deployment(id)["state"], "pending_approval");
  ASSERT_TRUE(wait_until([&] { return receiver.server.requests().size() == 1; }));
  const auto j = json::parse(receiver.server.requests()[0].body);
  ASSERT_TRUE(j.contains("text")) << j.dump();
  const std::string text = j["text"];
  EXPECT_NE(text.find("shipgate approve " + std::to_string(id)), std::string::npos) << text;
  EXPECT_NE(text.find("/deployments/" + std::to_string(id) + "|"), std::string::npos) << text;
  EXPECT_EQ(receiver.server.requests()[0].header("X-Shipgate-Signature-256"), "");  // no secret configured
}

TEST_F(Notify, ADeadEndpointIsGivenUpOnLoggedAndCounted) {
  Receiver receiver;
  receiver.mode = Receiver::down;
  start_with(config_with(notify_block(receiver.server.url(), ", max_attempts: 2, events: [succeeded]")));
  auto r = push("refs/heads/main", kSha);
  const std::int64_t id = r.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return metrics().find("outcome=\"gave_up\"} 1") != std::string::npos; },
                         std::chrono::seconds(15)));
  EXPECT_NE(daemon->log().find("gave up after 2 attempts"), std::string::npos);
  EXPECT_EQ(daemon->log().find(kNotifySecret), std::string::npos);
  EXPECT_EQ(receiver.server.requests().size(), 2u);
}

TEST_F(Notify, NotificationsSurviveARestart) {
  Receiver receiver;
  receiver.mode = Receiver::down;
  start_with(config_with(notify_block(receiver.server.url(), ", events: [succeeded]")));
  auto r = push("refs/heads/main", kSha);
  const std::int64_t id = r.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  ASSERT_TRUE(wait_until([&] { return receiver.server.requests().size() >= 1; }));
  daemon->kill9();
  receiver.mode = Receiver::up;
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_until([&] { return metrics().find("outcome=\"delivered\"} 1") != std::string::npos; },
                         std::chrono::seconds(15)));
  EXPECT_EQ(json::parse(receiver.server.requests().back().body)["deployment"]["id"], id);
}

TEST_F(Notify, GithubSeesADeploymentPerEnvironmentWithStatusesInOrder) {
  GithubStandin github(kGithubToken);
  std::string config = e2e_config(dokploy.url());
  config.insert(config.find("    components: { backend"),
                "    github_deployments: { token: \"" + std::string(kGithubToken) + "\", api_url: \"" + github.url() + "\" }\n");
  github.fail_next(2, 502);  // GitHub hiccups at first: statuses still arrive, in order
  start_with(config);
  auto r = push("refs/heads/main", kSha);
  const std::int64_t id = r.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(id, "succeeded"));
  // GitHub records are independent per deployment: the promoted production one may be created first.
  auto staging = [&] {
    for (const auto& g : github.deployments())
      if (g.environment == "staging") return g;
    return GithubStandin::Deployment{};
  };
  ASSERT_TRUE(wait_until([&] { return staging().states.size() == 3; }, std::chrono::seconds(20))) << daemon->log();
  const auto d = staging();
  EXPECT_EQ(d.repository, "acme/planera");
  EXPECT_EQ(d.ref, kSha);
  EXPECT_EQ(d.environment, "staging");
  EXPECT_FALSE(d.production);
  EXPECT_EQ(d.payload["shipgate_deployment"], id);
  EXPECT_EQ(d.states, (std::vector<std::string>{"queued", "in_progress", "success"}));
  EXPECT_EQ(daemon->log().find(kGithubToken), std::string::npos);
  // The promoted production deployment waits for approval: queued on GitHub, marked as production.
  ASSERT_TRUE(wait_until([&] {
    for (const auto& g : github.deployments())
      if (g.environment == "production") return g.production && g.states == std::vector<std::string>{"queued"};
    return false;
  }, std::chrono::seconds(20)));

  // A newer version supersedes a queued one: GitHub marks that one inactive.
  dokploy.add_app("app_staging", {"done", "", 30});
  auto a = push("refs/heads/main", kSha2);
  const std::int64_t running = a.json()["deployments"][0]["id"];
  ASSERT_TRUE(wait_state(running, "running"));
  auto b = push("refs/heads/main", "9445051b5adb15f0e4d400fb2c6c2c19b3d0f579");
  auto c = push("refs/heads/main", "a556162c6bec26f1e5d511fc3d1e3d2a4c1e0e8a");
  const std::int64_t superseded = b.json()["deployments"][0]["id"];
  EXPECT_EQ(deployment(superseded)["state"], "superseded");
  ASSERT_TRUE(wait_until([&] {
    for (const auto& g : github.deployments())
      if (g.payload["shipgate_deployment"] == superseded) return g.states == std::vector<std::string>{"queued", "inactive"};
    return false;
  }, std::chrono::seconds(20)));
  (void)c;
}
