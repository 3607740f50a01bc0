// The reviewer page's server side against the real daemon: the page and its files with their security
// headers and validators, sign-in sessions (cookie flags, the anti-CSRF header, sign-out, a rotated
// token ending its sessions), a deployment's actions for the caller, and the delivery insights.
#include <csignal>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/http.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

Reply with_cookie(std::uint16_t port, const std::string& method, const std::string& target, const std::string& cookie,
                  const std::string& csrf = "", const std::string& body = "") {
  Headers h = {{"Cookie", "theme=dark; shipgate_session=" + cookie}, {"Content-Type", "application/json"}};
  if (!csrf.empty()) h.emplace_back("X-CSRF-Token", csrf);
  return http_request(port, method, target, h, body);
}

std::string cookie_value(const Reply& r) {
  const auto set = r.header("Set-Cookie");
  const auto eq = set.find('='), end = set.find(';');
  return eq == std::string::npos ? "" : set.substr(eq + 1, end - eq - 1);
}

TEST_F(E2E, PageAndAssetsAreServedWithStrictHeadersAndValidators) {
  start();
  auto page = daemon->get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/assets/app.js"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(page.header("Content-Security-Policy").find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "no inline script";
  // The paths notifications link to answer the same page.
  EXPECT_EQ(daemon->get("/deployments/42").body, page.body);
  auto js = daemon->get("/assets/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  const auto etag = js.header("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = http_request(daemon->port(), "GET", "/assets/app.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(daemon->get("/assets/nope.js").status, 404);
  EXPECT_EQ(daemon->get("/assets/index.html").status, 404);
}

TEST_F(E2E, SessionCookieNeedsItsCsrfTokenToChangeAnythingAndEndsWithItsToken) {
  start();
  auto refused = daemon->post("/api/v1/session", {{"Content-Type", "application/json"}}, R"({"token":"wrong-token-123456"})");
  EXPECT_EQ(refused.status, 401);
  EXPECT_TRUE(refused.header("Set-Cookie").empty());
  EXPECT_EQ(daemon->post("/api/v1/session", {{"Content-Type", "application/json"}}, R"({"token":7})").status, 400);

  auto signed_in = daemon->post("/api/v1/session", {{"Content-Type", "application/json"}},
                                json{{"token", kAliceToken}}.dump());
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const auto set = signed_in.header("Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(set.find("Max-Age=43200"), std::string::npos);
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain HTTP here: a Secure cookie would never come back";
  const std::string cookie = cookie_value(signed_in);
  ASSERT_EQ(cookie.size(), 64u);
  const std::string csrf = signed_in.json()["csrf"];
  EXPECT_EQ(signed_in.json()["reviewer"], "alice");
  EXPECT_EQ(signed_in.body.find(cookie), std::string::npos) << "the cookie is never readable by script";

  auto who = with_cookie(daemon->port(), "GET", "/api/v1/session", cookie);
  ASSERT_EQ(who.status, 200);
  EXPECT_EQ(who.json()["csrf"], csrf);
  EXPECT_EQ(with_cookie(daemon->port(), "GET", "/api/v1/projects", cookie).status, 200);

  // A change without the anti-CSRF header is refused before anything is read; with it, it is handled.
  const std::string deploy = json{{"project", "planera"}, {"environment", "staging"}, {"version", "nope"}}.dump();
  auto forged = with_cookie(daemon->port(), "POST", "/api/v1/deployments", cookie, "", deploy);
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(forged.json()["error"], "csrf");
  EXPECT_EQ(with_cookie(daemon->port(), "POST", "/api/v1/deployments", cookie, std::string(64, 'a'), deploy).status, 403);
  auto real = with_cookie(daemon->port(), "POST", "/api/v1/deployments", cookie, csrf, deploy);
  EXPECT_NE(real.status, 403) << real.body;
  EXPECT_EQ(deployment_count(), 0u);

  // A cookie of the wrong shape, or one never issued, is no session.
  EXPECT_EQ(with_cookie(daemon->port(), "GET", "/api/v1/projects", "x;y").status, 401);
  EXPECT_EQ(with_cookie(daemon->port(), "GET", "/api/v1/projects", std::string(64, 'b')).status, 401);

  // Rotating alice's token ends the sessions opened with the old one.
  std::string yaml = e2e_config(dokploy.url());
  const std::string old_token = kAliceToken;
  yaml.replace(yaml.find(old_token), old_token.size(), "alice-rotated-token-98765");
  daemon->rewrite_config(yaml);
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return daemon->get("/api/v1/projects", "alice-rotated-token-98765").status == 200; },
                         std::chrono::seconds(10)));
  auto ended = with_cookie(daemon->port(), "GET", "/api/v1/projects", cookie);
  EXPECT_EQ(ended.status, 401);
  EXPECT_NE(ended.json()["message"].get<std::string>().find("token changed"), std::string::npos);

  // Sign-out removes the session from the store.
  auto fresh = daemon->post("/api/v1/session", {{"Content-Type", "application/json"}},
                            json{{"token", "alice-rotated-token-98765"}}.dump());
  const std::string second = cookie_value(fresh);
  const std::string second_csrf = fresh.json()["csrf"];
  EXPECT_EQ(with_cookie(daemon->port(), "DELETE", "/api/v1/session", second).status, 403) << "sign-out needs the header too";
  auto out = with_cookie(daemon->port(), "DELETE", "/api/v1/session", second, second_csrf);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(with_cookie(daemon->port(), "GET", "/api/v1/session", second).status, 401);
}

TEST_F(E2E, DeploymentSaysWhatTheCallerMayDoAndInsightsCountTheDelivery) {
  start();
  auto pushed = push("refs/heads/main", kSha);
  ASSERT_EQ(pushed.status, 202);
  const auto staging = pushed.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(staging, "succeeded"));
  const auto production = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"][0];
  ASSERT_EQ(production["state"], "pending_approval");
  const auto view = deployment(production["id"].get<std::int64_t>());
  EXPECT_EQ(view["actions"]["approve"]["allowed"], true);
  EXPECT_EQ(view["actions"]["cancel"]["allowed"], true);
  EXPECT_EQ(view["actions"]["rollback"]["allowed"], false);
  EXPECT_EQ(view["actions"]["rollback"]["why"], "needs the 'rollback' permission");
  EXPECT_EQ(view["approvals_required"], 1);
  // The staging deployment has ended: nothing to approve or cancel, and the page says why.
  const auto done = deployment(staging);
  EXPECT_EQ(done["actions"]["approve"]["why"], "it has ended (succeeded), not waiting for approval");
  EXPECT_EQ(done["actions"]["cancel"]["why"], "it has ended (succeeded): only a waiting deployment (or one GitHub Actions deploys) can be cancelled");

  // The board says why production waits.
  const auto board = daemon->get("/api/v1/projects", kAliceToken).json();
  const auto& prod_env = board["projects"][0]["environments"][1];
  EXPECT_EQ(prod_env["name"], "production");
  EXPECT_EQ(prod_env["waiting"][0]["reason"], "needs 1 more approval(s) from alice");
  EXPECT_TRUE(prod_env["last_failure"].is_null());

  auto insights = daemon->get("/api/v1/insights?project=planera&environment=staging&days=7", kAliceToken);
  ASSERT_EQ(insights.status, 200) << insights.body;
  const auto figures = insights.json()["environments"];
  ASSERT_EQ(figures.size(), 1u);
  EXPECT_EQ(figures[0]["deployment_frequency"]["deployments"], 1);
  EXPECT_EQ(figures[0]["lead_time"]["samples"], 1) << "the push's head_commit.timestamp starts the lead time";
  EXPECT_GT(figures[0]["lead_time"]["median_s"].get<double>(), 0);
  EXPECT_EQ(figures[0]["change_failure_rate"]["rate"], 0.0);
  EXPECT_EQ(figures[0]["daily"].size(), 7u);
  EXPECT_EQ(daemon->get("/api/v1/insights", kAliceToken).json()["environments"].size(), 3u);
  EXPECT_EQ(daemon->get("/api/v1/insights?days=0", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/insights?environment=staging", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/insights?project=planera", kViewerToken).status, 404);
  EXPECT_EQ(daemon->get("/api/v1/insights", kViewerToken).json()["environments"].size(), 1u);
}

TEST_F(E2E, AuditFiltersByProjectActorAndActionAndPagesBack) {
  start();
  ASSERT_EQ(push("refs/heads/main", kSha).status, 202);
  ASSERT_TRUE(wait_until([&] { return deployment_count("production") == 1; }, std::chrono::seconds(20)));
  auto created = daemon->get("/api/v1/audit?action=created&project=planera", kAliceToken).json()["entries"];
  ASSERT_EQ(created.size(), 2u) << created.dump();
  for (const auto& e : created) EXPECT_EQ(e["action"], "created");
  EXPECT_EQ(daemon->get("/api/v1/audit?actor=nobody", kAliceToken).json()["entries"].size(), 0u);
  auto page = daemon->get("/api/v1/audit?limit=2", kAliceToken).json();
  ASSERT_EQ(page["entries"].size(), 2u);
  const auto before = page["next_before"].get<std::int64_t>();
  auto older = daemon->get("/api/v1/audit?limit=2&before=" + std::to_string(before), kAliceToken).json()["entries"];
  ASSERT_FALSE(older.empty());
  EXPECT_LT(older.back()["id"].get<std::int64_t>(), before);
  EXPECT_EQ(daemon->get("/api/v1/audit?action=dance", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/audit?project=planera", kViewerToken).status, 404);
}

}  // namespace
}  // namespace shipgate::testing

namespace shipgate::testing {
namespace {

// Behind a proxy that ends TLS, the daemon sees plain HTTP; an https:// public_url says the browser
// used HTTPS, so the cookie is still Secure.
TEST_F(E2E, SessionCookieIsSecureBehindATlsProxy) {
  start("  public_url: https://shipgate.example\n");
  auto signed_in = daemon->post("/api/v1/session", {{"Content-Type", "application/json"}},
                                json{{"token", kAliceToken}}.dump());
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  EXPECT_NE(signed_in.header("Set-Cookie").find("; Secure"), std::string::npos) << signed_in.header("Set-Cookie");
  // The __Host- name: the browser keeps it only Secure, for this host and Path=/.
  EXPECT_EQ(signed_in.header("Set-Cookie").rfind("__Host-shipgate_session=", 0), 0u) << signed_in.header("Set-Cookie");
  const auto cookie = cookie_value(signed_in);
  EXPECT_EQ(http_request(daemon->port(), "GET", "/api/v1/session", {{"Cookie", "__Host-shipgate_session=" + cookie}}, "").status,
            200);
}

// Login CSRF: another site's form posts text/plain, and the browser says it comes from another site.
TEST_F(E2E, SignInNeedsJsonFromThisSiteAndEveryCookieOfTheNameIsTried) {
  start();
  const auto body = json{{"token", kAliceToken}}.dump();
  EXPECT_EQ(daemon->post("/api/v1/session", {{"Content-Type", "text/plain"}}, body).status, 415);
  EXPECT_EQ(daemon->post("/api/v1/session", {}, body).status, 415);
  EXPECT_EQ(daemon->post("/api/v1/session", {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "cross-site"}}, body).status,
            403);
  auto signed_in = daemon->post("/api/v1/session",
                                {{"Content-Type", "application/json; charset=utf-8"}, {"Sec-Fetch-Site", "same-origin"}}, body);
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  EXPECT_EQ(signed_in.header("Set-Cookie").rfind("shipgate_session=", 0), 0u) << "plain HTTP: no __Host- prefix";
  const auto cookie = cookie_value(signed_in);
  // An old cookie of the same name sent first (another path set it) does not hide the live one.
  const std::string stale(64, 'a');
  auto who = http_request(daemon->port(), "GET", "/api/v1/session",
                          {{"Cookie", "shipgate_session=" + stale + "; shipgate_session=" + cookie}}, "");
  EXPECT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(http_request(daemon->port(), "GET", "/api/v1/session", {{"Cookie", "shipgate_session=" + stale}}, "").status, 401);
  // Text with a NUL character would be cut where it is stored: refused.
  EXPECT_EQ(daemon->get("/api/v1/audit?actor=a%00b", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/audit?since=2026-11-26T12:00:00%2B99:99", kAliceToken).status, 400);
}

}  // namespace
}  // namespace shipgate::testing

namespace shipgate::testing {
namespace {

// A reviewer restricted to some projects pages through the audit log: the page holds the entries it may
// see, and both cursors come from them, so they tell nothing of when others acted.
TEST_F(E2E, AuditCursorsOfARestrictedReviewerComeFromWhatItMaySee) {
  start();
  auto other = push("refs/heads/main", kSha, new_delivery_id(), "acme/other", kOtherSecret);
  ASSERT_EQ(other.status, 202) << other.body;
  ASSERT_TRUE(wait_state(other.json()["deployments"][0]["id"].get<std::int64_t>(), "succeeded"));
  // Then others act in planera, which the viewer may not see: the newest entries of the log are theirs.
  const auto planera = push("refs/heads/main", kSha2).json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(planera, "succeeded"));
  const auto all = daemon->get("/api/v1/audit?limit=1000", kAliceToken).json()["entries"];
  std::int64_t newest_other = 0;
  for (const auto& e : all)
    if (e["project"] == "other") newest_other = std::max(newest_other, e["id"].get<std::int64_t>());
  ASSERT_GT(all.back()["id"].get<std::int64_t>(), newest_other) << "planera acted last";

  const auto page = daemon->get("/api/v1/audit?limit=2", kViewerToken).json();
  ASSERT_EQ(page["entries"].size(), 2u) << page.dump();
  for (const auto& e : page["entries"]) EXPECT_EQ(e["project"], "other");
  EXPECT_EQ(page["next_after"], newest_other) << "not the newest entry of the whole log";
  EXPECT_EQ(page["next_before"], page["entries"][0]["id"]);
  // Paging back from there reaches the viewer's oldest entries, and ends with no cursor to go further.
  auto back = daemon->get("/api/v1/audit?limit=1000&before=" + std::to_string(page["next_before"].get<std::int64_t>()),
                          kViewerToken).json();
  for (const auto& e : back["entries"]) EXPECT_EQ(e["project"], "other");
  EXPECT_FALSE(back.contains("next_before")) << back.dump();
}

}  // namespace
}  // namespace shipgate::testing
