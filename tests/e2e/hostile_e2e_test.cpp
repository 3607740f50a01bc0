// Hostile clients against the real binary, each bounded in count and time: thousands of connections
// held open, pipelining, header floods, bad chunk sizes, absurd lengths, non-UTF-8 and deeply nested
// JSON, and a great many tiny requests. Throughout, /healthz answers and memory stays under a ceiling.
#include <sys/resource.h>

#include <fstream>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;

namespace {

int open_files_limit() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  // The daemon inherits this: let the test and the daemon hold thousands of sockets each.
  r.rlim_cur = std::min<rlim_t>(r.rlim_max, 65536);
  ::setrlimit(RLIMIT_NOFILE, &r);
  return static_cast<int>(r.rlim_cur);
}

constexpr long kRssCeilingKiB = 256 * 1024;

}  // namespace

class Hostile : public E2E {
 protected:
  long rss() { return rss_kib(daemon->process().pid()); }
};

TEST_F(Hostile, TenThousandHeldConnectionsAreBoundedAndHealthStaysAnswered) {
  const int limit = open_files_limit();
  const int wanted = std::min(10'000, limit / 2 - 100);
  if (wanted <= 2000)
    GTEST_SKIP() << "the open files limit (" << limit << ") is too low to hold thousands of connections; "
                 << "raise it (ulimit -n 65536) to run this test";
  start("  max_connections: 1024\n");
  std::vector<std::unique_ptr<RawConnection>> held;
  held.reserve(wanted);
  int health_answers = 0;
  for (int i = 0; i < wanted; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon->port()));
    if (i % 1000 == 999) {
      // Answered, never a hang, and never refused: health checks pass beyond the connection bounds.
      const auto h = daemon->get("/healthz");
      EXPECT_EQ(h.status, 200);
      health_answers += h.status != 0;
      if (kMeasureMemory) {
        EXPECT_LT(rss(), kRssCeilingKiB);
      }
    }
  }
  EXPECT_EQ(health_answers, wanted / 1000);
  if (kMeasureMemory) {
    EXPECT_LT(rss(), kRssCeilingKiB);
  }
  // Connections that never send a byte are closed at the header timeout (1 s here).
  EXPECT_TRUE(wait_until([&] { return daemon->get("/healthz").status == 200; }, 10s));
  held.clear();
  EXPECT_EQ(daemon->get("/healthz").status, 200);
  EXPECT_TRUE(daemon->process().running());
}

TEST_F(Hostile, PipelinedRequestsAreAnsweredInOrder) {
  start();
  std::string burst;
  for (int i = 0; i < 50; ++i) burst += "GET " + std::string(i % 2 ? "/healthz" : "/readyz") + " HTTP/1.1\r\nHost: x\r\n\r\n";
  burst += "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  RawConnection c(daemon->port());
  ASSERT_TRUE(c.send(burst));
  const auto answer = c.read_all(5s);
  std::size_t pos = 0;
  int answered = 0;
  while ((pos = answer.find("HTTP/1.1 200", pos)) != std::string::npos) ++answered, ++pos;
  EXPECT_EQ(answered, 50);
  EXPECT_NE(answer.find("HTTP/1.1 404"), std::string::npos);
  EXPECT_GT(answer.rfind("HTTP/1.1 404"), answer.rfind("HTTP/1.1 200"));  // in order: the 404 comes last
}

TEST_F(Hostile, HeaderFloodsAreRefusedWith431) {
  start();
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 5000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  RawConnection c(daemon->port());
  c.send(many + "\r\n");
  EXPECT_NE(c.read_all(5s).find("431"), std::string::npos);
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}

TEST_F(Hostile, BadChunkSizesAndAbsurdLengthsAreRefused) {
  start();
  const std::string head = "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  {
    RawConnection c(daemon->port());
    c.send(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    EXPECT_NE(c.read_all(5s).find("400"), std::string::npos);
  }
  {
    RawConnection c(daemon->port());
    c.send(head + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n");
    const auto a = c.read_all(5s);
    EXPECT_TRUE(a.find("400") != std::string::npos || a.find("413") != std::string::npos) << a;
  }
  {
    RawConnection c(daemon->port());
    c.send(head + "Content-Length: 184467440737095516160\r\n\r\n");
    const auto a = c.read_all(5s);
    EXPECT_TRUE(a.find("400") != std::string::npos || a.find("413") != std::string::npos) << a;
  }
  {
    RawConnection c(daemon->port());
    c.send(head + "Content-Length: 5\r\nContent-Length: 7\r\n\r\n{}");
    EXPECT_NE(c.read_all(5s).find("400"), std::string::npos);
  }
  EXPECT_EQ(deployment_count(), 0u);
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}

TEST_F(Hostile, NonUtf8AndDeeplyNestedJsonAre400) {
  start();
  const std::string nested = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string latin1 = "{\"ref\": \"refs/heads/m\xe4in\", \"after\": \"x\"}";
  const std::string object_nest = [] {
    std::string s;
    for (int i = 0; i < 70; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < 70; ++i) s += "}";
    return s;
  }();
  for (const auto& body : {nested, latin1, object_nest}) {
    auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, body), body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 60);
    EXPECT_EQ(r.json().value("error", ""), "malformed");
  }
  Headers auth = {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}};
  const std::string api_nested = std::string(20'000, '[') + std::string(20'000, ']');  // under the API body limit
  EXPECT_EQ(daemon->post("/api/v1/deployments", auth, api_nested).status, 400);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(Hostile, AGreatManyTinyRequestsAreAllAnsweredAndMemoryStaysFlat) {
  start();
  // Warm up, then measure: 20,000 keep-alive requests from 4 clients.
  for (int i = 0; i < 200; ++i) daemon->get("/healthz");
  const long before = rss();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      RawConnection c(daemon->port());
      std::string batch;
      for (int i = 0; i < 100; ++i) batch += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
      for (int round = 0; round < 50; ++round) {
        if (!c.send(batch)) return;
        std::string got;
        int seen = 0;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (seen < 100 && std::chrono::steady_clock::now() < deadline) {
          got += c.read_all(20ms);
          seen = 0;
          for (std::size_t p = 0; (p = got.find("HTTP/1.1 200", p)) != std::string::npos; ++p) ++seen;
        }
        ok += seen;
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 20'000);
  const long after = rss();
  if (kMeasureMemory) {
    EXPECT_LT(after, before + 32 * 1024) << "RSS grew from " << before << " KiB to " << after << " KiB";
  }
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}
