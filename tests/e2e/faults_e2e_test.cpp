// Fault injection against the real binary. kill -9 at exact points of a deployment's life (the
// stand-in Dokploy kills the daemon while answering a chosen request, so the schedule is
// deterministic), a store that cannot write (a file size limit set on the running daemon), and
// deploy targets that hang, reset the connection or answer garbage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

bool is_final(const std::string& s) {
  return s != "queued" && s != "running" && s != "pending_approval";
}

}  // namespace

// Where the daemon dies: Dokploy took the deploy (shipgate has not heard), the first status read,
// Dokploy reported done (shipgate has not recorded it), the production release hook took the call.
class CrashPoint : public E2E, public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashPoint, KillNineThenRestartFinishesEveryDeploymentOnceWithoutLosingAnything) {
  const std::string point = GetParam();
  dokploy.add_app("app_staging", {"done", "", 3});
  std::atomic<bool> killed{false};
  dokploy.observe([&](const RecordedRequest& r, const StandinReply& reply) {
    bool now = false;
    if (point == "deploy_taken") now = r.target == "/api/application.deploy";
    if (point == "first_poll") now = r.target.rfind("/api/deployment.all", 0) == 0;
    if (point == "done_reported") now = r.target.rfind("/api/deployment.all", 0) == 0 && reply.body.find("\"done\"") != std::string::npos;
    if (point == "release_taken") now = r.target == "/release";
    if (now && !killed.exchange(true)) daemon->process().signal(SIGKILL);
  });
  start();
  auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t staging = r.json()["deployments"][0]["id"];
  std::int64_t production = 0;
  if (point == "release_taken") {
    ASSERT_TRUE(wait_state(staging, "succeeded"));
    const json all = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"];
    ASSERT_EQ(all.size(), 1u);
    production = all[0]["id"];
    auto approved = http_request(daemon->port(), "POST", "/api/v1/deployments/" + std::to_string(production) + "/approve",
                                 {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}}, "{}");
    ASSERT_EQ(approved.status, 200) << approved.body;
  }
  ASSERT_TRUE(wait_until([&] { return killed.load(); }, 20s)) << daemon->log();
  ASSERT_TRUE(daemon->process().wait(10s).has_value());
  dokploy.observe(nullptr);
  ASSERT_TRUE(daemon->start()) << daemon->log();

  ASSERT_TRUE(wait_state(staging, "succeeded")) << deployment(staging).dump(2);
  EXPECT_EQ(dokploy.deploy_calls(), 1u) << "Dokploy was asked to deploy twice";
  EXPECT_EQ(dokploy.jobs("app_staging").size(), 1u);
  if (production) {
    ASSERT_TRUE(wait_state(production, "succeeded")) << deployment(production).dump(2);
    // The release hook may hear the call again after the restart, always with the same idempotency key.
    std::set<std::string> keys;
    for (const auto& req : dokploy.requests())
      if (req.target == "/release") keys.insert(req.header("Idempotency-Key"));
    EXPECT_EQ(keys.size(), 1u);
  }
  // Nothing lost, nothing left hanging: exactly one deployment per environment, all final.
  const json all = daemon->get("/api/v1/deployments?limit=500", kAliceToken).json()["deployments"];
  std::map<std::string, int> per_environment;
  for (const auto& d : all) {
    ++per_environment[d["environment"].get<std::string>()];
    if (d["environment"] == "staging" || production) {
      EXPECT_TRUE(is_final(d["state"])) << d.dump();
    }
  }
  EXPECT_EQ(per_environment["staging"], 1);
  EXPECT_EQ(per_environment["production"], 1);
}

INSTANTIATE_TEST_SUITE_P(Points, CrashPoint,
                         ::testing::Values("deploy_taken", "first_poll", "done_reported", "release_taken"));

// The store cannot write (a file size limit on the running daemon stands in for a full disk):
// webhooks are answered 503 with Retry-After and nothing is claimed; when space returns, they are
// accepted again, and the daemon never stopped.
TEST_F(E2E, AStoreThatCannotWriteAnswers503AndRecovers) {
  start();
  ASSERT_EQ(push("refs/heads/main", kSha).status, 202);
  const pid_t pid = daemon->process().pid();
  rlimit small{4096, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &small, nullptr), 0);
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = push("refs/heads/main", "9445051b5adb15f0e4d400fb2c6c2c19b3d0f57" + std::to_string(i));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_FALSE(r.header("Retry-After").empty());
    refused += r.status == 503;
  }
  EXPECT_EQ(refused, 5);
  EXPECT_TRUE(daemon->process().running());
  EXPECT_EQ(daemon->get("/healthz").status, 200);
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &unlimited, nullptr), 0);
  auto again = push("refs/heads/main", kSha2);
  ASSERT_EQ(again.status, 202) << again.body;
  ASSERT_TRUE(wait_state(again.json()["deployments"][0]["id"], "succeeded"));
  // Only what was answered 202 exists.
  EXPECT_EQ(deployment_count("staging"), 2u);
}

namespace {

// A deploy target that misbehaves at the TCP level: accepts, reads the request, then hangs, resets
// the connection, or answers bytes that are not HTTP.
class BadServer {
 public:
  enum Mode { hang, reset, garbage };
  explicit BadServer(Mode mode) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~BadServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : clients_) ::close(c);
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      char buf[8192];
      (void)::recv(c, buf, sizeof buf, 0);
      if (mode_ == reset) {
        linger l{1, 0};  // close with RST
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(c);
      } else if (mode_ == garbage) {
        const char junk[] = "\x16\x03\x01garbage that is not HTTP\r\n\r\n";
        (void)::send(c, junk, sizeof junk - 1, MSG_NOSIGNAL);
        ::close(c);
      } else {
        clients_.push_back(c);  // never answered
      }
    }
  }
  Mode mode_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> clients_;
};

}  // namespace

TEST_F(E2E, TargetsThatHangResetOrAnswerGarbageFailClearlyAndInTime) {
  BadServer hang(BadServer::hang), reset(BadServer::reset), garbage(BadServer::garbage);
  auto target = [](std::uint16_t port) {
    return "        targets: [ { type: http, url: \"http://127.0.0.1:" + std::to_string(port) + "/deploy\", timeout: 1s } ]\n";
  };
  std::string config = R"(
server: { listen: "127.0.0.1:${PORT}", api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${STORE}
github: { secrets: [")" + std::string(kSecret) + R"("] }
reviewers: { alice: { token: ")" + kAliceToken + R"(", can: [deploy] } }
projects:
  hang:
    repository: acme/hang
    environments:
      staging:
        deploy_on: [push]
)" + target(hang.port()) + R"(
  reset:
    repository: acme/reset
    environments:
      staging:
        deploy_on: [push]
)" + target(reset.port()) + R"(
  garbage:
    repository: acme/garbage
    environments:
      staging:
        deploy_on: [push]
)" + target(garbage.port());
  start_with(config);
  std::map<std::string, std::int64_t> ids;
  for (const char* p : {"hang", "reset", "garbage"}) {
    auto r = push("refs/heads/main", kSha, new_delivery_id(), std::string("acme/") + p);
    ASSERT_EQ(r.status, 202) << r.body;
    ids[p] = r.json()["deployments"][0]["id"];
  }
  for (const auto& [name, id] : ids) {
    // The client retries connection errors and 5xx with backoff: four tries of at most 1 s each.
    ASSERT_TRUE(wait_state(id, "failed", 30s)) << name << ": " << deployment(id).dump(2);
    const std::string message = deployment(id)["message"];
    EXPECT_NE(message.find("target 1 (http"), std::string::npos) << message;
    if (name == "hang") {
      EXPECT_NE(message.find("timed out"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(daemon->get("/healthz").status, 200);
}
