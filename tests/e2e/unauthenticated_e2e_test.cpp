// What an unauthenticated client can make the daemon do, against the real binary: floods of large
// badly signed bodies, non-canonical paths, held connections from one or many addresses, running out
// of descriptors, made-up event names, and request framing a proxy could read another way.
#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;

namespace {

int count_lines_with(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

class Unauthenticated : public E2E {};

TEST_F(Unauthenticated, AFloodOfLargeBadlySignedBodiesStaysWithinTheBodyMemory) {
  std::string yaml = e2e_config(dokploy.url(), "  max_body_memory: 64MiB\n");
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"max_body: 1MiB", "max_body: 25MiB"},
                                 {"body: 2s", "body: 20s"}})
    yaml.replace(yaml.find(from), from.size(), to);
  start_with(yaml);
  const pid_t pid = daemon->process().pid();
  const long before = rss_kib(pid);
  // A body that names a project with its own secret, so the daemon has to find that project too.
  const std::string body = R"({"repository":{"full_name":"acme/other"},"pad":")" + std::string(20'000'000, 'x') + "\"}";
  std::atomic<long> peak{0};
  std::atomic<bool> done{false};
  std::atomic<int> accepted{0}, refused{0}, health_failures{0}, health_answers{0};
  std::thread watcher([&] {
    while (!done) {
      peak = std::max(peak.load(), rss_kib(pid));
      const auto h = daemon->get("/healthz");
      (h.status == 200 ? health_answers : health_failures)++;
      std::this_thread::sleep_for(5ms);
    }
  });
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t)
    senders.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        const auto r = daemon->post("/webhooks/github", github_headers("issues", new_delivery_id(), "wrong", body), body);
        (r.status >= 200 && r.status < 300 ? accepted : refused)++;
      }
    });
  for (auto& s : senders) s.join();
  done = true;
  watcher.join();
  EXPECT_EQ(accepted.load(), 0);
  EXPECT_EQ(refused.load(), 32);
  EXPECT_EQ(health_failures.load(), 0);
  EXPECT_GT(health_answers.load(), 0);
  if (kMeasureMemory) {
    EXPECT_LT(peak.load(), 150 * 1024) << "RSS rose from " << before << " KiB to a peak of " << peak << " KiB";
    // What the flood took is given back: a quiet daemon is small again.
    EXPECT_TRUE(wait_until([&] { return rss_kib(pid) < before + 32 * 1024; }, 5s)) << rss_kib(pid) << " KiB";
  }
  const auto m = parse_exposition(daemon->get("/metrics").body);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="other",outcome="bad_signature"})").value_or(0) +
                m.get(R"(shipgate_webhook_requests_total{event="other",outcome="unavailable"})").value_or(0),
            32);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(Unauthenticated, NonCanonicalPathsAre404BeforeAnyLimitOrRoute) {
  start("  api_rate: 1\n  api_burst: 2\n  auth_failures_per_minute: 3\n");
  for (const char* path : {"//api/v1/info", "/api//v1/info", "/api/v1/info/", "/api/./v1/info", "/api/v1/x/../info"}) {
    const auto r = daemon->get(path, "wrong-token");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.json().value("error", ""), "not_found") << path;
  }
  // The same requests in canonical form meet the lockout: three failures, then 429, whatever the spelling.
  int statuses_429 = 0;
  for (int i = 0; i < 6; ++i) statuses_429 += daemon->get("/api/v1/info", "wrong-token").status == 429;
  EXPECT_GE(statuses_429, 3);
  EXPECT_EQ(daemon->get("//api/v1/info", kAliceToken).status, 404);
  // A valid token is never locked out (here the request rate, 1 a second, may still say wait).
  const auto valid = daemon->get("/api/v1/info", kAliceToken);
  EXPECT_NE(valid.json().value("error", ""), "too_many_failures") << valid.body;
}

TEST_F(Unauthenticated, HealthIsAnsweredWhileConnectionsAreExhausted) {
  start("  max_connections: 40\n  max_connections_per_client: 10\n");
  // One address holds more than its share: its extra connections may only ask for health.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon->port(), "127.0.0.2"));
    held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(held.back()->read_until("\"ok\"}", 3s).find("HTTP/1.1 200"), std::string::npos);
  }
  {
    RawConnection extra(daemon->port(), "127.0.0.2");
    extra.send("GET /api/v1/info HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto a = extra.read_all(3s);
    EXPECT_NE(a.find("HTTP/1.1 503"), std::string::npos) << a;
    EXPECT_NE(a.find("from 127.0.0.2"), std::string::npos) << a;
  }
  {
    RawConnection probe(daemon->port(), "127.0.0.2");
    probe.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(probe.read_all(3s).find("HTTP/1.1 200"), std::string::npos);
  }
  // Another address is not affected by the first one's share.
  EXPECT_EQ(daemon->get("/api/v1/info", kAliceToken).status, 200);
  // Many addresses fill the whole bound: requests get 503, health checks still 200.
  for (int a = 3; a < 10; ++a)
    for (int i = 0; i < 6; ++i) {
      held.push_back(std::make_unique<RawConnection>(daemon->port(), "127.0.0." + std::to_string(a)));
      held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      held.back()->read_until("\"ok\"}", 3s);  // answered (200), or refused and closed (503): now open
    }
  EXPECT_EQ(daemon->get("/api/v1/info", kAliceToken).status, 503);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(daemon->get("/healthz").status, 200);
  held.clear();
  EXPECT_TRUE(wait_until([&] { return daemon->get("/api/v1/info", kAliceToken).status == 200; }, 5s));
  EXPECT_TRUE(daemon->process().running()) << daemon->log();
}

TEST_F(Unauthenticated, RunningOutOfDescriptorsBacksOffAndRecovers) {
  // The sanitizers' runtime checks memory through a pipe of its own: with no descriptor left it reports
  // every object as invalid and aborts, so this test means something only in the regular build.
  if (kSanitized) GTEST_SKIP() << "needs descriptors the sanitizer runtime would also run out of";
  start();
  rlimit low{64, 64};
  ASSERT_EQ(::prlimit(daemon->process().pid(), RLIMIT_NOFILE, &low, nullptr), 0);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 120; ++i) held.push_back(std::make_unique<RawConnection>(daemon->port()));
  std::this_thread::sleep_for(3s);
  // Paused and reported, not a log line every 50 ms.
  const int reports = count_lines_with(daemon->log(), "accept failed");
  EXPECT_GE(reports, 1);
  EXPECT_LE(reports, 2);
  held.clear();
  EXPECT_TRUE(wait_until([&] { return daemon->get("/healthz").status == 200; }, 10s));
  EXPECT_TRUE(daemon->process().running());
}

TEST_F(Unauthenticated, MadeUpEventNamesShareOneMetricsLabel) {
  start();
  for (int i = 0; i < 50; ++i) {
    const std::string body = "{}";
    daemon->post("/webhooks/github", github_headers("made-up-" + std::to_string(i), new_delivery_id(), "wrong", body), body);
  }
  const auto text = daemon->get("/metrics").body;
  EXPECT_EQ(text.find("made-up-"), std::string::npos);
  const auto m = parse_exposition(text);
  EXPECT_EQ(m.get(R"(shipgate_webhook_requests_total{event="other",outcome="bad_signature"})"), 50);
}

TEST_F(Unauthenticated, TransferCodingsOtherThanChunkedAndFoldedHeadersAre400AndClose) {
  start();
  const std::string head = "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  // What follows each header would be a second request if the body were read as empty.
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const char* coding : {"Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, identity\r\n",
                             "Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"}) {
    RawConnection c(daemon->port());
    c.send(head + coding + "\r\n" + smuggled);
    const auto a = c.read_all(3s);
    EXPECT_EQ(a.rfind("HTTP/1.1 400", 0), 0u) << coding << a;
    EXPECT_EQ(count_lines_with(a, "HTTP/1.1 "), 1) << coding << a;  // one answer, then the close
  }
  RawConnection folded(daemon->port());
  folded.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
  const auto a = folded.read_all(3s);
  EXPECT_EQ(a.rfind("HTTP/1.1 400", 0), 0u) << a;
  EXPECT_NE(a.find("obs-fold"), std::string::npos);
  // Exactly "chunked" (any case) still works.
  RawConnection chunked(daemon->port());
  chunked.send("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.read_all(3s).rfind("HTTP/1.1 200", 0), 0u);
}
