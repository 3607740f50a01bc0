// What an event stream may cost and for how long it speaks for its caller, against the real daemon:
// streams catching up over a long audit log of entries they may not see leave health checks and
// webhooks unhurried; a stream too far behind is told to read the API again; a stream ends when the
// session or token it was opened with no longer holds.
#include <sqlite3.h>

#include <csignal>

#include <algorithm>
#include <memory>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/http.hpp"
#include "tests/support/sse_stream.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

class EventLimits : public E2E {
 protected:
  // `rows` audit entries of project planera, written straight into the stopped daemon's store.
  void fill_audit(int rows) {
    ASSERT_EQ(daemon->terminate(), 0) << daemon->log();
    sqlite3* db = nullptr;
    const std::unique_ptr<sqlite3, int (*)(sqlite3*)> owned(
        sqlite3_open(dir.file("shipgate.db").c_str(), &db) == SQLITE_OK ? db : (sqlite3_close(db), nullptr), sqlite3_close);
    ASSERT_NE(owned, nullptr);
    sqlite3_busy_timeout(db, 10'000);
    ASSERT_EQ(sqlite3_exec(db,
                           ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(rows) +
                            ") INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
                            "SELECT 1700000000000 + i, 'octocat', 'approve', 'planera', 'production', NULL, 'filler', '{}' FROM n")
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    ASSERT_TRUE(daemon->start()) << daemon->log();
  }
  std::int64_t head() {
    const auto newest = daemon->get("/api/v1/audit?limit=1", kAliceToken).json();
    return newest["entries"].empty() ? 0 : newest["entries"][0]["id"].get<std::int64_t>();
  }
  std::string sign_in() {
    auto r = daemon->post("/api/v1/session", {{"Content-Type", "application/json"}}, json{{"token", kAliceToken}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const auto set = r.header("Set-Cookie");
    return set.substr(set.find('=') + 1, 64);
  }
};

TEST_F(EventLimits, StreamsCatchingUpOverALongLogLeaveHealthAndWebhooksUnhurried) {
  start();
  fill_audit(100'000);
  const auto newest = head();
  ASSERT_GE(newest, 100'000);
  // 50 streams of a reviewer who may see none of it, each 9,000 entries behind (inside the bound).
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 50; ++i)
    streams.push_back(std::make_unique<EventStream>(daemon->port(), "Authorization: Bearer " + std::string(kViewerToken) + "\r\n",
                                                    std::to_string(newest - 9'000), "", "127.0.0." + std::to_string(2 + i % 8)));
  for (const auto& s : streams) ASSERT_NE(s->raw().find("200 OK"), std::string::npos) << s->raw();
  std::vector<double> health_ms;
  for (int i = 0; i < 100; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(daemon->get("/healthz").status, 200);
    health_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(health_ms.begin(), health_ms.end());
  EXPECT_LT(health_ms[98], 50.0) << "p99 of /healthz while 50 streams catch up";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(push("refs/heads/main", kSha).status, 202);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << "a signed push answered in time";
}

TEST_F(EventLimits, AStreamTooFarBehindIsToldToReadTheApiAndGoesOnLive) {
  start();
  fill_audit(20'000);
  EventStream behind(daemon->port(), kAliceToken, "1");
  const auto reset = behind.until([](const Event& e) { return e.name == "reset"; }, std::chrono::seconds(5));
  ASSERT_FALSE(reset.empty()) << behind.raw().substr(0, 500);
  EXPECT_EQ(reset.back().name, "reset");
  EXPECT_EQ(reset.back().data.value("error", ""), "too_far_behind");
  EXPECT_EQ(reset.size(), 1u) << "nothing of the old entries is sent";
  const auto id = push("refs/heads/main", kSha).json()["deployments"][0]["id"].get<std::int64_t>();
  const auto live = behind.until([&](const Event& e) { return e.name == "created" && e.data.value("deployment", 0) == id; });
  EXPECT_EQ(live.back().data.value("deployment", 0), id) << behind.raw().substr(0, 500);
  // A stream of a deployment that does not exist has nothing to wait for.
  EXPECT_EQ(daemon->get("/api/v1/events?deployment=999999", kAliceToken).status, 404);
}

TEST_F(EventLimits, AStreamEndsWhenItsSessionEndsOrItsTokenIsRotated) {
  start();
  const auto cookie = sign_in();
  EventStream page(daemon->port(), "Cookie: shipgate_session=" + cookie + "\r\n", "", "", "");
  EventStream script(daemon->port(), kAliceToken);
  ASSERT_NE(page.raw().find("200 OK"), std::string::npos) << page.raw();
  // Signing out elsewhere (the session's own anti-CSRF token, read with the cookie).
  const auto who = http_request(daemon->port(), "GET", "/api/v1/session", {{"Cookie", "shipgate_session=" + cookie}}, "");
  ASSERT_EQ(who.status, 200) << who.body;
  const auto out = http_request(daemon->port(), "DELETE", "/api/v1/session",
                                {{"Cookie", "shipgate_session=" + cookie}, {"X-CSRF-Token", who.json().value("csrf", "")}}, "");
  ASSERT_EQ(out.status, 200) << out.body;
  const auto ended = page.until([](const Event& e) { return e.name == "ended"; }, std::chrono::seconds(10));
  ASSERT_FALSE(ended.empty());
  EXPECT_EQ(ended.back().name, "ended") << page.raw();
  EXPECT_TRUE(page.closed_within(std::chrono::seconds(2)));

  // A reload that gives alice another token ends the stream opened with the old one.
  daemon->rewrite_config(replaced(e2e_config(dokploy.url()), kAliceToken, "alice-token-rotated-0123456789"));
  daemon->process().signal(SIGHUP);
  const auto rotated = script.until([](const Event& e) { return e.name == "ended"; }, std::chrono::seconds(10));
  ASSERT_FALSE(rotated.empty());
  EXPECT_EQ(rotated.back().name, "ended") << script.raw();
}

}  // namespace
}  // namespace shipgate::testing
