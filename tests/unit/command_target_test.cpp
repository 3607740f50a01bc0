#include <gtest/gtest.h>

#include <signal.h>

#include "deploy/command_target.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/run.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/wait.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using shipgate::testing::run_awaitable;

namespace {
DeployContext context() {
  DeployContext c;
  c.deployment_id = 9;
  c.project = "planera";
  c.environment = "staging";
  c.version = "v1.6.1";
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.images = {{"backend", "ghcr.io/acme/backend:v1.6.1"}, {"web-ui", "ghcr.io/acme/web:v1.6.1"}};
  c.vars = template_vars(c);
  return c;
}
TargetOutcome run(config::CommandTargetConfig cfg) { return run_awaitable(make_command_target(cfg)->deploy(context())); }
}  // namespace

TEST(CommandTarget, SucceedsOnExit0WithTheDeploymentInItsEnvironment) {
  shipgate::testing::TempDir dir;
  config::CommandTargetConfig cfg;
  cfg.argv = {"/bin/sh", "-c", "echo $SHIPGATE_PROJECT $SHIPGATE_VERSION $SHIPGATE_SHA $SHIPGATE_DEPLOYMENT_ID "
                               "$SHIPGATE_IMAGE_BACKEND $SHIPGATE_IMAGE_WEB_UI $EXTRA; pwd", "{version}"};
  cfg.workdir = dir.path();
  cfg.env = {{"EXTRA", "from-config"}};
  auto out = run(cfg);
  ASSERT_TRUE(out.ok) << out.message;
  const std::string tail = out.details["output_tail"];
  EXPECT_NE(tail.find("planera v1.6.1 0123456789abcdef0123456789abcdef01234567 9 ghcr.io/acme/backend:v1.6.1 "
                      "ghcr.io/acme/web:v1.6.1 from-config"), std::string::npos) << tail;
  EXPECT_NE(tail.find(dir.path()), std::string::npos);
  EXPECT_EQ(out.details["exit_code"], 0);
}

TEST(CommandTarget, NoShellUnlessAsked) {
  config::CommandTargetConfig cfg;
  cfg.argv = {"echo", "$HOME", "{sha}"};  // found on PATH; "$HOME" stays literal
  auto out = run(cfg);
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.details["output_tail"], "$HOME 0123456789abcdef0123456789abcdef01234567\n");
}

TEST(CommandTarget, FailureKeepsTheOutputTail) {
  config::CommandTargetConfig cfg;
  cfg.argv = {"/bin/sh", "-c", "echo pulling; echo 'error: manifest unknown' >&2; exit 3"};
  auto out = run(cfg);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.details["exit_code"], 3);
  EXPECT_NE(out.message.find("exited with 3: error: manifest unknown"), std::string::npos) << out.message;
  EXPECT_NE(out.details["output_tail"].get<std::string>().find("pulling"), std::string::npos);
  cfg.argv = {"/nonexistent/deploy.sh"};
  EXPECT_NE(run(cfg).message.find("cannot start /nonexistent/deploy.sh"), std::string::npos);
}

TEST(CommandTarget, TimeoutKillsTheWholeProcessGroup) {
  shipgate::testing::TempDir dir;
  config::CommandTargetConfig cfg;
  // The shell starts a grandchild that would outlive it, and records its pid.
  cfg.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > " + dir.file("child.pid") + "; wait"};
  cfg.timeout = std::chrono::milliseconds(300);
  const auto t0 = std::chrono::steady_clock::now();
  auto out = run(cfg);
  EXPECT_FALSE(out.ok);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(out.message.find("timed out"), std::string::npos) << out.message;
  const int child = std::stoi(shipgate::testing::read_text_file(dir.file("child.pid")));
  EXPECT_TRUE(shipgate::testing::wait_until([&] { return ::kill(child, 0) != 0; }, std::chrono::seconds(3)))
      << "grandchild " << child << " survived";
}
