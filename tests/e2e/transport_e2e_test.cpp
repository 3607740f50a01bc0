// The transport's promises with real sockets: JSON errors for every status, body limits, timeouts
// for slow clients, keep-alive, the connection bound.
#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;

TEST_F(E2E, UnknownRouteAndWrongMethodAnswerJson) {
  start();
  auto r = daemon->get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json()["error"], "not_found");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_FALSE(r.header("X-Request-Id").empty());
  auto m = daemon->get("/webhooks/github");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.json()["error"], "method_not_allowed");
  EXPECT_EQ(m.header("Allow"), "POST");
  EXPECT_EQ(daemon->get("/healthz").status, 200);
  EXPECT_EQ(daemon->get("/readyz").json()["status"], "ready");
}

TEST_F(E2E, OversizedBodiesAre413) {
  start();
  const std::string big(1024 * 1024 + 1, 'x');  // webhook limit is 1 MiB in this config
  auto r = daemon->post("/webhooks/github", github_headers("push", new_delivery_id(), kSecret, big), big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"], "too_large");
  // API routes have their own, smaller limit (64 KiB here).
  const std::string medium(100 * 1024, 'x');
  EXPECT_EQ(daemon->post("/api/v1/deployments", {{"Content-Type", "application/json"}}, medium).status, 413);
  // A chunked body has no Content-Length: the limit applies while reading.
  RawConnection c(daemon->port());
  std::string chunked = "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) chunked += "10000\r\n" + std::string(0x10000, 'y') + "\r\n";
  c.send(chunked);
  const auto answer = c.read_all(5s);
  EXPECT_NE(answer.find("413"), std::string::npos) << answer.substr(0, 200);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(E2E, SlowHeaderClientIsCutOff) {
  start();
  RawConnection c(daemon->port());
  const std::string request = "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 100 ms: the 1 s header timeout must close the connection long before we finish.
  for (char ch : request) {
    if (!c.send(std::string(1, ch))) {
      closed = true;
      break;
    }
    if (c.closed_within(100ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_EQ(daemon->get("/healthz").status, 200);  // still serving others
}

// A body that stops halfway: the connection is closed once the body timeout (2 s here) passes.
TEST_F(E2E, StalledBodyIsCutOffAtTheBodyTimeout) {
  start();
  RawConnection c(daemon->port());
  const auto t0 = std::chrono::steady_clock::now();
  c.send("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":");
  EXPECT_TRUE(c.closed_within(6s));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 1500ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(deployment_count(), 0u);
}

TEST_F(E2E, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  RawConnection c(daemon->port());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto answer = c.read_all(5s);
  EXPECT_NE(answer.find("\"ok\""), std::string::npos);
  EXPECT_NE(answer.find("\"ready\""), std::string::npos);
}

TEST_F(E2E, GarbageAndHugeHeadersAreRefusedCleanly) {
  start();
  {
    RawConnection c(daemon->port());
    c.send("this is not http\r\n\r\n");
    EXPECT_NE(c.read_all(5s).find("400"), std::string::npos);
  }
  {
    RawConnection c(daemon->port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_NE(c.read_all(5s).find("431"), std::string::npos);
  }
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}

TEST_F(E2E, ConnectionsBeyondTheBoundGet503) {
  start("  max_connections: 3\n");
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon->port()));
    held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");  // keep-alive: stays open
    held.back()->read_all(200ms);
  }
  RawConnection extra(daemon->port());
  extra.send("GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto answer = extra.read_all(3s);
  EXPECT_NE(answer.find("503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After"), std::string::npos);
  // Health checks are still answered beyond the bound: a probe must not see a busy daemon as dead.
  RawConnection probe(daemon->port());
  probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(probe.read_all(3s).find("HTTP/1.1 200"), std::string::npos);
  held.clear();
  EXPECT_TRUE(wait_until([&] { return daemon->get("/healthz").status == 200; }, 5s));
}
