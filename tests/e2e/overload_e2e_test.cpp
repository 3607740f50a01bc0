// Overload and limits against the real binary: bounded loops on loopback push past the bound on
// requests in progress, on queued store writes, on the API rate and on failed authentications.
// Every refusal is a 503 or 429 with Retry-After, nothing answered 202 is lost, nothing crashes.
#include <memory>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <sqlite3.h>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/http.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

struct Flood {
  std::set<std::int64_t> accepted_ids;
  int accepted = 0, refused = 0, other = 0;
  bool refusals_have_retry_after = true;
  std::string unexpected;  // the first answer that was neither 202 nor 503

  void record(const Reply& r) {
    if (r.status == 202) {
      ++accepted;
      const auto created = r.json()["deployments"];  // a copy: r.json() is a temporary
      for (const auto& dep : created) accepted_ids.insert(dep["id"].get<std::int64_t>());
    } else if (r.status == 503) {
      ++refused;
      refusals_have_retry_after = refusals_have_retry_after && !r.header("Retry-After").empty() &&
                                  r.json().value("error", "") == "overloaded";
    } else if (other++ == 0) {
      unexpected = std::to_string(r.status) + " " + r.body;
    }
  }
};

// `threads` clients each send up to `per_thread` signed pushes (distinct SHAs, so every 202 creates a
// deployment), stopping early once both answers were seen (20 refusals and an acceptance).
Flood flood(Daemon& d, const std::string& repo, const std::string& secret, int threads, int per_thread) {
  Flood f;
  std::mutex m;
  std::atomic<int> refused{0}, accepted{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread && (refused < 20 || accepted == 0); ++i) {
        char sha[41];
        std::snprintf(sha, sizeof sha, "%08x%032x", t + 1, i + 1);
        const std::string body = push_payload(repo, "refs/heads/main", sha);
        auto r = d.post("/webhooks/github", github_headers("push", new_delivery_id(), secret, body), body);
        std::lock_guard lock(m);
        f.record(r);
        accepted += r.status == 202;
        refused += r.status == 503;
      }
    });
  for (auto& t : pool) t.join();
  return f;
}

// Without targets that finish instantly the flood would mostly supersede; a target that never answers
// keeps every accepted deployment visible as queued, running or superseded.
std::string flood_config(const std::string& dokploy, const std::string& server_extra) {
  return e2e_config(dokploy, server_extra);
}

}  // namespace

class Overload : public E2E {
 protected:
  void expect_all_stored(const Flood& f) {
    for (auto id : f.accepted_ids) {
      auto r = daemon->get("/api/v1/deployments/" + std::to_string(id), kAliceToken);
      EXPECT_EQ(r.status, 200) << "accepted deployment " << id << " is not stored";
    }
  }
};

TEST_F(Overload, BeyondTheInFlightBoundWebhooksGet503WithRetryAfterAndEvery202IsStored) {
  start_with(flood_config(dokploy.url(), "  max_inflight: 1\n"));
  auto f = flood(*daemon, "acme/planera", kSecret, 12, 60);
  EXPECT_GT(f.refused, 0) << "no refusal after " << f.accepted << " accepted";
  EXPECT_GT(f.accepted, 0);
  EXPECT_EQ(f.other, 0) << f.unexpected;
  EXPECT_TRUE(f.refusals_have_retry_after);
  expect_all_stored(f);
  EXPECT_EQ(daemon->get("/healthz").status, 200);
  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find("shipgate_requests_refused_total{reason=\"inflight\"}"), std::string::npos);
}

TEST_F(Overload, BeyondTheStoreQueueBoundWebhooksGet503AndNothingIsClaimed) {
  start_with(flood_config(dokploy.url(), "  max_queued_writes: 1\n"));
  // Another connection holds the database's write lock, so the store's writer waits on its first batch:
  // one write is being committed, one waits in the queue, and every further webhook finds the queue full.
  // The daemon may be writing at that moment (its start-up's own rows): the lock is waited for, never
  // raced, and the handle is closed whatever the test's outcome.
  sqlite3* db = nullptr;
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> owned(
      sqlite3_open(dir.file("shipgate.db").c_str(), &db) == SQLITE_OK ? db : (sqlite3_close(db), nullptr), sqlite3_close);
  ASSERT_NE(owned, nullptr);
  sqlite3_busy_timeout(db, 10'000);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::atomic<int> refused{0};
  std::mutex m;
  Flood f;
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t)
    senders.emplace_back([&, t] {
      char sha[41];
      std::snprintf(sha, sizeof sha, "%08x%032x", 99, t + 1);
      const std::string body = push_payload("acme/planera", "refs/heads/main", sha);
      auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
      std::lock_guard lock(m);
      f.record(r);
      refused += r.status == 503;
    });
  // At most two of the six can be taken while the lock is held.
  EXPECT_TRUE(wait_until([&] { return refused.load() >= 4; }, std::chrono::seconds(4)));
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  for (auto& s : senders) s.join();
  EXPECT_GE(f.refused, 4);
  // At most the write being committed and the one queued were taken. Under load the daemon's own
  // writes (a readiness probe's row, a finished outbox entry) may hold both places, so none of the six
  // need be: what was taken commits once the lock is released, and a sender retrying as told is taken.
  EXPECT_LE(f.accepted, 2);
  EXPECT_EQ(f.accepted + f.refused, 6);
  const std::string body = push_payload("acme/planera", "refs/heads/main", std::string(40, 'e'));
  Reply retried;
  EXPECT_TRUE(wait_until([&] {
    retried = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    return retried.status != 503;
  }, std::chrono::seconds(10)));
  EXPECT_EQ(retried.status, 202) << retried.body;
  f.record(retried);
  EXPECT_EQ(f.other, 0) << f.unexpected;
  EXPECT_TRUE(f.refusals_have_retry_after);
  expect_all_stored(f);
  EXPECT_EQ(deployment_count("staging") + deployment_count("production"), f.accepted_ids.size());
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}

TEST_F(Overload, TheApiRateIsLimitedPerClientWith429AndRetryAfter) {
  start("  api_rate: 1\n  api_burst: 5\n");
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    auto r = daemon->get("/api/v1/projects", kAliceToken);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      retry_after = r.header("Retry-After");
      EXPECT_EQ(r.json().value("error", ""), "rate_limited");
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 7);  // the burst, plus what refilled while the loop ran
  EXPECT_GE(limited, 5);
  EXPECT_FALSE(retry_after.empty());
  // Health checks and webhooks are not API calls.
  EXPECT_EQ(daemon->get("/healthz").status, 200);
  EXPECT_EQ(push("refs/heads/main", kSha).status, 202);
}

TEST_F(Overload, GuessingTokensMeets429) {
  start("  auth_failures_per_minute: 3\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(daemon->get("/api/v1/projects", "guess-" + std::to_string(i)).status, 401);
  auto r = daemon->get("/api/v1/projects", "guess-4");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.json().value("error", ""), "too_many_failures");
  EXPECT_GE(std::stoi(r.header("Retry-After")), 1);
  // Failures stay refused for a while; a valid token never is (a reviewer behind the same address, or
  // CI, keeps working while someone guesses).
  EXPECT_EQ(daemon->get("/api/v1/projects", "guess-5").status, 429);
  EXPECT_EQ(daemon->get("/api/v1/projects", kAliceToken).status, 200);
  const auto metrics = daemon->get("/metrics").body;
  EXPECT_NE(metrics.find("shipgate_requests_refused_total{reason=\"auth_failures\"}"), std::string::npos);
}

TEST_F(Overload, BehindATrustedProxyTheLockoutIsPerForwardedClient) {
  start("  auth_failures_per_minute: 3\n  trusted_proxies: [127.0.0.0/8]\n");
  const auto get = [&](const std::string& token, const std::string& forwarded) {
    return http_request(daemon->port(), "GET", "/api/v1/projects",
                        {{"Authorization", "Bearer " + token}, {"X-Forwarded-For", forwarded}}, "");
  };
  for (int i = 0; i < 4; ++i) get("guess-" + std::to_string(i), "198.51.100.1, 203.0.113.7");
  EXPECT_EQ(get("guess-9", "203.0.113.7").status, 429) << "the guesser, by the address the proxy names";
  EXPECT_EQ(get("another-wrong-token", "203.0.113.8").status, 401) << "another client behind the same proxy";
  EXPECT_EQ(get(kAliceToken, "203.0.113.7").status, 200);
}

TEST_F(Overload, WithoutTrustedProxiesForwardedForIsNotBelieved) {
  start("  auth_failures_per_minute: 3\n");
  for (int i = 0; i < 4; ++i)
    http_request(daemon->port(), "GET", "/api/v1/projects",
                 {{"Authorization", "Bearer guess"}, {"X-Forwarded-For", "203.0.113." + std::to_string(i)}}, "");
  EXPECT_EQ(daemon->get("/api/v1/projects", "guess-again").status, 429) << "one peer, whatever it claims";
}
