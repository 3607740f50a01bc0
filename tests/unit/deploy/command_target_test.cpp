#include <gtest/gtest.h>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "deploy/command_target.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/run.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/wait.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using shipgate::testing::run_awaitable;

namespace {
DeployContext command_context() {
  DeployContext c;
  c.deployment_id = 9;
  c.project = "planera";
  c.environment = "staging";
  c.version = "v1.6.1";
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.images = {{"backend", "ghcr.io/acme/backend:v1.6.1"}, {"web-ui", "ghcr.io/acme/web:v1.6.1"}};
  c.config_commit = "fedcba9876543210fedcba9876543210fedcba98";
  c.vars = template_vars(c);
  return c;
}
TargetOutcome run(config::CommandTargetConfig cfg) { return run_awaitable(make_command_target(cfg)->deploy(command_context())); }
}  // namespace

TEST(CommandTarget, SucceedsOnExit0WithTheDeploymentInItsEnvironment) {
  shipgate::testing::TempDir dir;
  config::CommandTargetConfig cfg;
  cfg.argv = {"/bin/sh", "-c", "echo $SHIPGATE_PROJECT $SHIPGATE_VERSION $SHIPGATE_SHA $SHIPGATE_DEPLOYMENT_ID "
                               "$SHIPGATE_IMAGE_BACKEND $SHIPGATE_IMAGE_WEB_UI $EXTRA $SHIPGATE_CONFIG_COMMIT {config_commit}; pwd", "{version}"};
  cfg.workdir = dir.path();
  cfg.env = {{"EXTRA", "from-config"}};
  auto out = run(cfg);
  ASSERT_TRUE(out.ok) << out.message;
  const std::string tail = out.details["output_tail"];
  EXPECT_NE(tail.find("planera v1.6.1 0123456789abcdef0123456789abcdef01234567 9 ghcr.io/acme/backend:v1.6.1 "
                      "ghcr.io/acme/web:v1.6.1 from-config fedcba9876543210fedcba9876543210fedcba98 "
                      "fedcba9876543210fedcba9876543210fedcba98"), std::string::npos) << tail;
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

TEST(CommandTarget, RunsWithACleanEnvironmentAndScrubsSecretsFromItsOutput) {
  ::setenv("SHIPGATE_TEST_DAEMON_SECRET", "daemon-only-value", 1);
  config::CommandTargetConfig cfg;
  cfg.argv = {"/bin/sh", "-c", "env; echo token=hunter2-long-secret; echo partial hunter2-long"};
  cfg.env = {{"FROM_TARGET", "listed"}};
  cfg.scrub = {"hunter2-long-secret"};
  auto out = run(cfg);
  ::unsetenv("SHIPGATE_TEST_DAEMON_SECRET");
  ASSERT_TRUE(out.ok) << out.message;
  const std::string tail = out.details["output_tail"];
  EXPECT_EQ(tail.find("daemon-only-value"), std::string::npos) << tail;
  EXPECT_EQ(tail.find("SHIPGATE_TEST_DAEMON_SECRET"), std::string::npos) << tail;
  EXPECT_NE(tail.find("PATH="), std::string::npos);
  EXPECT_NE(tail.find("FROM_TARGET=listed"), std::string::npos);
  EXPECT_NE(tail.find("SHIPGATE_PROJECT=planera"), std::string::npos);
  EXPECT_EQ(tail.find("hunter2-long-secret"), std::string::npos) << tail;
  EXPECT_NE(tail.find("token=[redacted]"), std::string::npos) << tail;
  // Only what the daemon's environment may pass: PATH, HOME, LANG and the deployment's own variables.
  std::istringstream lines(tail);
  for (std::string line; std::getline(lines, line);) {
    if (line.find('=') == std::string::npos || line.rfind("token=", 0) == 0) continue;
    const std::string name = line.substr(0, line.find('='));
    const bool allowed = name == "PATH" || name == "HOME" || name == "LANG" || name == "FROM_TARGET" || name == "PWD" ||
                         name == "SHLVL" || name == "_" || name.rfind("SHIPGATE_", 0) == 0;
    EXPECT_TRUE(allowed) << line;
  }
}

TEST(CommandTarget, ALongOutputKeepsNoPartOfASecretAtTheCut) {
  config::CommandTargetConfig cfg;
  // 4103 bytes of output: a 4096-byte tail cut from the raw output would start inside the secret
  // ("secret-value..."); it is replaced before any cut, so no piece of it is kept.
  cfg.argv = {"/bin/sh", "-c", "printf 'abcdef-secret-value\\n'; head -c 4078 /dev/zero | tr '\\0' x; echo; echo end"};
  cfg.scrub = {"abcdef-secret-value"};
  auto out = run(cfg);
  const std::string tail = out.details["output_tail"];
  EXPECT_EQ(tail.find("secret-value"), std::string::npos);
  EXPECT_EQ(tail.back(), '\n');
  EXPECT_NE(tail.find("end"), std::string::npos);
}

TEST(CommandTarget, AResumedRunWaitsForTheRunLeftByACrash) {
  shipgate::testing::TempDir dir;
  const std::string log = dir.file("log");
  auto ctx = command_context();
  ctx.marker = "shipgate-test-" + std::to_string(::getpid()) + "-resume";
  // What a crashed daemon leaves behind: a run of this deployment, still going, carrying its marker.
  const std::string orphan = "SHIPGATE_MARKER=" + ctx.marker + " /bin/sh -c 'touch " + dir.file("started") +
                             "; sleep 1; echo orphan-end >> " + log + "' &";
  ASSERT_EQ(std::system(orphan.c_str()), 0);
  // Running with its marker (the shell has started), as a run left by a crash would be.
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return std::filesystem::exists(dir.file("started")); },
                                            std::chrono::seconds(5)));
  config::CommandTargetConfig cfg;
  cfg.argv = {"/bin/sh", "-c", "echo resumed-run >> " + log};
  auto out = run_awaitable(make_command_target(cfg)->resume(ctx));
  ASSERT_TRUE(out.ok) << out.message;
  EXPECT_EQ(shipgate::testing::read_text_file(log), "orphan-end\nresumed-run\n");
}
