#include "deploy/command_target.hpp"

#include "common/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>

namespace shipgate::deploy {

namespace {

namespace asio = boost::asio;

constexpr std::size_t kOutputTail = 4096;
// Every process of a run carries its deployment's marker, so a resumed deployment can find a run that
// outlived a crashed daemon (in /proc) and wait for it before running again.
constexpr const char* kMarkerVariable = "SHIPGATE_MARKER";

// The processes whose environment holds `entry` ("SHIPGATE_MARKER=<marker>").
std::vector<pid_t> processes_with(const std::string& entry) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = dir.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(dir.path() / "environ", std::ios::binary);
    std::string var;
    while (std::getline(in, var, '\0'))
      if (var == entry) {
        out.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
  }
  return out;
}

std::string env_name(std::string component) {
  for (char& c : component) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return "SHIPGATE_IMAGE_" + component;
}

// The last line of the output that has any text, for a one-line message.
std::string last_line(const std::string& out) {
  std::size_t end = out.find_last_not_of(" \r\n\t");
  if (end == std::string::npos) return {};
  std::size_t start = out.rfind('\n', end);
  return out.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

struct Capture {
  Capture(asio::any_io_executor ex, int fd) : pipe(ex, fd) {}
  asio::posix::stream_descriptor pipe;
  std::string output;  // the tail only
  bool truncated = false;  // the start of the output was dropped
  bool eof = false;
};

asio::awaitable<void> read_all(std::shared_ptr<Capture> c) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await c->pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    c->output.append(buf, n);
    if (c->output.size() > 2 * kOutputTail) {
      c->output.erase(0, c->output.size() - kOutputTail);
      c->truncated = true;
    }
  }
  c->eof = true;
}

class CommandTarget final : public DeployTarget {
 public:
  explicit CommandTarget(config::CommandTargetConfig cfg) : cfg_(std::move(cfg)) {}

  std::string describe() const override { return "command " + (cfg_.argv.empty() ? std::string() : cfg_.argv[0]); }

  // A deployment that was running when the daemon died: its command may still be running (it was in a
  // process group of its own). Wait for that run to end (at most the target's timeout, then kill it),
  // so two runs of one deployment never overlap, then run again.
  asio::awaitable<TargetOutcome> resume(const DeployContext& ctx) override {
    const std::string entry = std::string(kMarkerVariable) + "=" + ctx.marker;
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex);
    const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
    bool waited = false;
    for (auto left = processes_with(entry); !left.empty(); left = processes_with(entry)) {
      if (!waited) log_with(spdlog::level::info, {.deployment = ctx.deployment_id}, "deployment {}: waiting for the run left by the last stop ({} process(es))", ctx.deployment_id, left.size());
      waited = true;
      if (std::chrono::steady_clock::now() >= deadline)
        for (pid_t p : left) ::kill(p, SIGKILL);
      timer.expires_after(std::chrono::milliseconds(100));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return co_await deploy(ctx);
  }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    std::vector<std::string> argv;
    for (const auto& a : cfg_.argv) {
      std::string missing;
      auto v = config::expand_template(a, ctx.vars, &missing);
      if (!v) co_return TargetOutcome{false, "template placeholder {" + missing + "} has no value"};
      argv.push_back(std::move(*v));
    }
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) co_return TargetOutcome{false, "cannot create a pipe for the command"};
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = -1;
    const int spawn_error = spawn(argv, environment(ctx), out_pipe[1], pid);
    ::close(out_pipe[1]);
    if (spawn_error != 0) {
      ::close(out_pipe[0]);
      co_return TargetOutcome{false, "cannot start " + argv[0] + ": " + std::strerror(spawn_error)};
    }
    auto ex = co_await asio::this_coro::executor;
    // A reader drains the pipe while the exit is polled for: a program may exit while a child of it
    // still holds the pipe open, and output must never block the program.
    auto capture = std::make_shared<Capture>(ex, out_pipe[0]);
    asio::co_spawn(ex, read_all(capture), asio::detached);
    const auto deadline = t0 + cfg_.timeout;  // named: GCC 12 and temporaries in a co_await expression
    const Exit exit = co_await wait_for_exit(pid, deadline);
    ::kill(-pid, SIGKILL);  // anything still left in its group
    const std::string output = co_await output_tail(*capture);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    co_return outcome(argv[0], exit, output, ms);
  }

 private:
  struct Exit {
    int status = 0;
    bool timed_out = false;
  };

  // A clean environment: the daemon's own (its secrets among it) never reaches a project's command.
  std::map<std::string, std::string> environment(const DeployContext& ctx) const {
    std::map<std::string, std::string> env;
    for (const char* name : {"PATH", "HOME", "LANG"})
      if (const char* v = std::getenv(name)) env[name] = v;
    if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& [k, v] : cfg_.env) env[k] = v;
    env[kMarkerVariable] = ctx.marker;
    env["SHIPGATE_PROJECT"] = ctx.project;
    env["SHIPGATE_ENVIRONMENT"] = ctx.environment;
    env["SHIPGATE_VERSION"] = ctx.version;
    env["SHIPGATE_SHA"] = ctx.sha;
    env["SHIPGATE_REF"] = ctx.ref;
    env["SHIPGATE_DEPLOYMENT_ID"] = std::to_string(ctx.deployment_id);
    env["SHIPGATE_CONFIG_COMMIT"] = ctx.config_commit;
    for (const auto& [component, image] : ctx.images) env[env_name(component)] = image;
    return env;
  }

  // Polls for the exit; past the deadline the whole process group gets SIGTERM, then SIGKILL after 2 s
  // (a shell's children die with it).
  static asio::awaitable<Exit> wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    Exit exit;
    int st = 0;
    for (;;) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (::waitpid(pid, &st, WNOHANG) == pid) break;
      if (std::chrono::steady_clock::now() < deadline) continue;
      exit.timed_out = true;
      ::kill(-pid, SIGTERM);
      bool ended = false;
      for (int i = 0; i < 100 && !ended; ++i) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        ended = ::waitpid(pid, &st, WNOHANG) == pid;
      }
      if (!ended) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &st, 0);
      }
      break;
    }
    exit.status = st;
    co_return exit;
  }

  // The rest of the output (waited for briefly), scrubbed, then cut to its tail. Secrets are replaced
  // before the tail is cut, and a cut tail starts at its first whole line, so no part of a secret is kept.
  asio::awaitable<std::string> output_tail(Capture& capture) const {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < 50 && !capture.eof; ++i) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    boost::system::error_code ignored;
    capture.pipe.close(ignored);
    std::string output = scrub(capture.output);
    if (output.size() > kOutputTail || capture.truncated) {
      if (output.size() > kOutputTail) output.erase(0, output.size() - kOutputTail);
      const auto newline = output.find('\n');
      output.erase(0, newline == std::string::npos ? output.size() : newline + 1);
    }
    co_return output;
  }

  TargetOutcome outcome(const std::string& program, const Exit& exit, const std::string& output, long long ms) const {
    TargetOutcome out;
    out.details = {{"output_tail", output}, {"duration_ms", ms}};
    if (exit.timed_out) {
      out.message = program + " timed out after " + std::to_string(cfg_.timeout.count() / 1000.0).substr(0, 5) +
                    " s; its process group was killed";
      out.details["timed_out"] = true;
      return out;
    }
    const int code = WIFEXITED(exit.status) ? WEXITSTATUS(exit.status) : 128 + WTERMSIG(exit.status);
    out.details["exit_code"] = code;
    out.ok = code == 0;
    const std::string tail = last_line(output);
    out.message = out.ok ? program + " exited 0"
                         : program + " exited with " + std::to_string(code) + (tail.empty() ? "" : ": " + tail);
    return out;
  }

  int spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, int out_fd, pid_t& pid) {
    std::vector<std::string> args = argv, envs;
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> c_argv, c_env;
    for (auto& a : args) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    for (auto& e : envs) c_env.push_back(e.data());
    c_env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the daemon's sockets stay with the daemon
    if (!cfg_.workdir.empty()) posix_spawn_file_actions_addchdir_np(&actions, cfg_.workdir.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so a timeout can kill all of it
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const bool path_search = argv[0].find('/') == std::string::npos;
    const int rc = path_search ? posix_spawnp(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data())
                               : posix_spawn(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
  }

  std::string scrub(std::string text) const {
    for (const auto& secret : cfg_.scrub)
      for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10))
        text.replace(at, secret.size(), "[redacted]");
    return text;
  }

  config::CommandTargetConfig cfg_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_command_target(const config::CommandTargetConfig& cfg) {
  return std::make_unique<CommandTarget>(cfg);
}

}  // namespace shipgate::deploy
