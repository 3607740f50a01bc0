#include "deploy/command_target.hpp"

#include "common/child_process.hpp"
#include "common/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>

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
    const std::string program = argv[0];
    ChildRun run{std::move(argv), environment(ctx), cfg_.workdir, cfg_.timeout, 2 * kOutputTail};
    const ChildExit exit = co_await run_child(std::move(run));
    if (exit.spawn_error != 0)
      co_return TargetOutcome{false, "cannot start " + program + ": " + std::strerror(exit.spawn_error)};
    co_return outcome(program, exit, output_tail(exit), exit.duration_ms);
  }

 private:
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

  // The output scrubbed, then cut to its tail. Secrets are replaced before the tail is cut, and a cut
  // tail starts at its first whole line, so no part of a secret is kept.
  std::string output_tail(const ChildExit& exit) const {
    std::string output = scrub(exit.output);
    if (output.size() > kOutputTail || exit.truncated) {
      if (output.size() > kOutputTail) output.erase(0, output.size() - kOutputTail);
      const auto newline = output.find('\n');
      output.erase(0, newline == std::string::npos ? output.size() : newline + 1);
    }
    return output;
  }

  TargetOutcome outcome(const std::string& program, const ChildExit& exit, const std::string& output, long long ms) const {
    TargetOutcome out;
    out.details = {{"output_tail", output}, {"duration_ms", ms}};
    if (exit.timed_out) {
      out.message = program + " timed out after " + std::to_string(cfg_.timeout.count() / 1000.0).substr(0, 5) +
                    " s; its process group was killed";
      out.details["timed_out"] = true;
      return out;
    }
    const int code = exit.exit_code();
    out.details["exit_code"] = code;
    out.ok = code == 0;
    const std::string tail = last_line(output);
    out.message = out.ok ? program + " exited 0"
                         : program + " exited with " + std::to_string(code) + (tail.empty() ? "" : ": " + tail);
    return out;
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
