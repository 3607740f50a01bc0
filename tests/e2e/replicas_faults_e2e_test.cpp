// Replicas through the faults of a real deployment: PostgreSQL restarting under a stream of webhooks,
// and a rolling restart of every replica behind a real nginx.
#include <regex>
#include <thread>

#include "tests/e2e/replicas_fixture.hpp"
#include "tests/support/nginx.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

// Signed pushes, one after the other, until told to stop; what each got back.
struct Stream {
  struct Sent {
    int status = 0;
    std::string retry_after;
    std::vector<std::int64_t> created;
  };
  std::mutex mutex;
  std::vector<Sent> sent;
  std::atomic<bool> stop{false};

  void run(const std::function<Reply(const std::string& project, const std::string& sha)>& push, int projects) {
    std::mt19937_64 rng(42);
    for (int i = 0; !stop; ++i) {
      auto r = push(project_name(i % projects), random_sha(rng));
      Sent s{r.status, r.header("Retry-After"), {}};
      const auto body = r.json();  // named: a range-for over a temporary's member would dangle
      if (r.status >= 200 && r.status < 300)
        for (const auto& d : body["deployments"]) s.created.push_back(d["id"].get<std::int64_t>());
      {
        std::lock_guard lock(mutex);
        sent.push_back(std::move(s));
      }
      // A steady stream, not a flood: a 503 comes back at once, and thousands of connections a second
      // would measure the test machine's ephemeral ports instead.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return sent.size();
  }
  int last_status() {
    std::lock_guard lock(mutex);
    return sent.empty() ? 0 : sent.back().status;
  }
};

// Webhooks this run of a replica answered 202 (its own /metrics).
int accepted_webhooks(Daemon& replica) {
  static const std::regex line(R"re(shipgate_http_requests_total\{[^}]*route="/webhooks/github"[^}]*status="202"[^}]*\} ([0-9.e+]+))re");
  const auto text = replica.get("/metrics").body;
  std::smatch m;
  return std::regex_search(text, m, line) ? static_cast<int>(std::stod(m[1])) : 0;
}

}  // namespace

TEST_F(Replicas, ADatabaseRestartGetsOnly503sWhileItIsDownAndTheReplicasRecoverByThemselves) {
  constexpr int kProjects = 5;
  start_replicas(2, kProjects);
  Stream stream;
  std::atomic<int> turn{0};
  std::thread client([&] {
    stream.run([&](const std::string& project, const std::string& sha) {
      return push_to(*replicas[turn++ % 2], project, sha, new_delivery_id());
    }, kProjects);
  });
  ASSERT_TRUE(wait_until([&] { return stream.count() >= 50; }, std::chrono::seconds(30)));
  pg.stop();
  const auto down_from = stream.count();
  // While it is down: 503 with Retry-After, and neither replica is ready.
  ASSERT_TRUE(wait_until([&] { return stream.last_status() == 503; }, std::chrono::seconds(20)));
  for (auto& r : replicas) EXPECT_EQ(r->get("/readyz").status, 503) << r->log();
  const auto first_503 = stream.count();
  ASSERT_TRUE(wait_until([&] { return stream.count() >= first_503 + 100; }, std::chrono::seconds(30)));
  const auto down_until = stream.count();
  pg.start();
  // Back without restarting a replica: 2xx again, and ready.
  ASSERT_TRUE(wait_until([&] { return stream.last_status() == 202; }, std::chrono::seconds(30)));
  ASSERT_TRUE(wait_until([&] { return stream.count() >= down_until + 50; }, std::chrono::seconds(30)));
  stream.stop = true;
  client.join();
  for (auto& r : replicas) EXPECT_TRUE(wait_until([&] { return r->get("/readyz").status == 200; })) << r->log();

  std::vector<std::int64_t> created;
  int unavailable = 0;
  for (std::size_t i = 0; i < stream.sent.size(); ++i) {
    const auto& s = stream.sent[i];
    if (s.status == 503) {
      ++unavailable;
      EXPECT_FALSE(s.retry_after.empty());
    } else {
      EXPECT_EQ(s.status, 202) << "answer " << i << " (the database was down for answers " << down_from << " to "
                               << down_until << ")\n" << replicas[0]->log() << "\n" << replicas[1]->log();
    }
    created.insert(created.end(), s.created.begin(), s.created.end());
  }
  EXPECT_GT(unavailable, 0);
  // Everything answered 2xx is stored; nothing else is.
  ASSERT_TRUE(settled(std::chrono::seconds(60)));
  const auto all = all_deployments();
  std::set<std::int64_t> stored;
  for (const auto& d : all) stored.insert(d["id"].get<std::int64_t>());
  for (const auto id : created) EXPECT_TRUE(stored.contains(id)) << "deployment " << id << " was answered 2xx but is gone";
}

TEST_F(Replicas, ARollingRestartBehindNginxLosesNoDelivery) {
  constexpr int kProjects = 5;
  start_replicas(3, kProjects, 3, true);
  std::vector<std::uint16_t> ports;
  for (auto& r : replicas) ports.push_back(r->port());
  Nginx nginx(ports);
  Stream stream;
  std::thread client([&] {
    stream.run([&](const std::string& project, const std::string& sha) {
      const std::string body = push_payload("acme/" + project, "refs/heads/main", sha);
      return http_request(nginx.port(), "POST", "/webhooks/github",
                          github_headers("push", new_delivery_id(), kReplicaSecret, body), body);
    }, kProjects);
  });
  ASSERT_TRUE(wait_until([&] { return stream.count() >= 30; }, std::chrono::seconds(30))) << nginx.log();
  // One replica at a time: SIGTERM (it drains and exits), start it again, wait until it is ready.
  for (auto& r : replicas) {
    EXPECT_EQ(r->terminate(), 0) << r->log();
    const auto before = stream.count();
    ASSERT_TRUE(wait_until([&] { return stream.count() >= before + 20; }, std::chrono::seconds(30)));
    ASSERT_TRUE(r->start()) << r->log();
    ASSERT_TRUE(wait_until([&] { return r->get("/readyz").status == 200; })) << r->log();
    // nginx tries a replica it saw refuse again only after fail_timeout (1s): the next one goes once
    // this one serves webhooks through nginx again (Kubernetes: minReadySeconds covers that time).
    ASSERT_TRUE(wait_until([&] { return accepted_webhooks(*r) >= 5; }, std::chrono::seconds(30))) << nginx.log();
  }
  stream.stop = true;
  client.join();

  std::vector<std::int64_t> created;
  for (std::size_t i = 0; i < stream.sent.size(); ++i) {
    EXPECT_EQ(stream.sent[i].status, 202) << "answer " << i << " of " << stream.sent.size() << "\n" << nginx.log();
    created.insert(created.end(), stream.sent[i].created.begin(), stream.sent[i].created.end());
  }
  EXPECT_EQ(created.size(), stream.sent.size());
  ASSERT_TRUE(settled(std::chrono::seconds(60)));
  const auto all = all_deployments();
  EXPECT_EQ(all.size(), created.size());  // every delivery stored once, none lost
  std::set<std::int64_t> stored;
  for (const auto& d : all) stored.insert(d["id"].get<std::int64_t>());
  for (const auto id : created) EXPECT_TRUE(stored.contains(id)) << id;
}

// A database that hangs with its connections open (every process stopped, nothing reset) costs a
// webhook and a read a few seconds before their 503, not the minute a query could wait; and once it
// goes on, so does the replica.
TEST_F(Replicas, AHungDatabaseGets503sWithinSecondsAndTheReplicaGoesOnAfterIt) {
  start_replicas(1, 1);
  std::mt19937_64 rng(7);
  ASSERT_EQ(push_to(*replicas[0], project_name(0), random_sha(rng), new_delivery_id()).status, 202);
  pg.freeze();
  auto timed = [](const std::function<Reply()>& call) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call();
    return std::make_pair(r.status, std::chrono::steady_clock::now() - t0);
  };
  const auto [push_status, push_took] = timed([&] { return push_to(*replicas[0], project_name(0), random_sha(rng), new_delivery_id()); });
  const auto [read_status, read_took] = timed([&] { return replicas[0]->get("/api/v1/deployments", kReplicaToken); });
  pg.thaw();
  EXPECT_EQ(push_status, 503);
  EXPECT_LT(push_took, std::chrono::seconds(15)) << "the statement bound is 5 s (and 3 s to connect)";
  EXPECT_EQ(read_status, 503);
  EXPECT_LT(read_took, std::chrono::seconds(15));
  EXPECT_TRUE(wait_until([&] {
    return push_to(*replicas[0], project_name(0), random_sha(rng), new_delivery_id()).status == 202;
  }, std::chrono::seconds(30))) << replicas[0]->log();
}
