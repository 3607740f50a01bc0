// Live reload: re-reads the config file, validates it fully, and swaps it in atomically. An invalid
// file (or one a hook cannot use, such as an unreadable TLS certificate) is refused and the old config
// keeps serving. Deployments already created keep running with the generation they were created
// under; queued or waiting deployments of environments that are gone are cancelled. Every reload,
// applied or refused, lands in the audit log.
//
// Thread-safety: reload() may be called from any executor; reloads are serialized.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "config/loader.hpp"
#include "config/registry.hpp"
#include "orchestration/config_reader.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// A part of the daemon that applies settings of a new config (log level, TLS certificates, limits).
struct ReloadHook {
  std::string name;
  // Checks the new config and returns what applies it; an error message refuses the whole reload.
  struct Prepared {
    std::function<void()> apply;
    std::string error;
  };
  std::function<Prepared(const config::Config&)> prepare;
};

struct ReloadOutcome {
  bool applied = false;
  bool changed = false;  // the file differs from the config in force
  bool busy = false;     // refused because another reload was running
  std::string from_sha256;
  std::string to_sha256;
  std::vector<std::string> errors;    // why it was refused
  std::vector<std::string> restart;   // settings that differ but only take effect after a restart
  std::vector<std::string> added_projects;
  std::vector<std::string> removed_projects;
  std::vector<std::int64_t> cancelled;  // deployments of environments that are gone
  std::string commit;                   // the platform commit read (config_source), else empty
  std::map<std::string, std::string> project_files;  // with config_source: project -> the file defining it
};

nlohmann::json to_json(const ReloadOutcome& outcome);

class Reloader {
 public:
  Reloader(std::string path, config::EnvLookup env, config::ConfigRegistry& registry, Store& store,
           Metrics* metrics = nullptr);

  void add_hook(ReloadHook hook);
  // Runs after each applied reload, with the config before and after it (config redeploys).
  using AfterApply = std::function<boost::asio::awaitable<void>(config::ConfigPtr before, config::ConfigPtr after,
                                                                ReloadOutcome outcome)>;
  void after_apply(AfterApply f) { after_apply_ = std::move(f); }
  // `actor`: who asked (a reviewer's name, or "SIGHUP"). While another reload runs, the answer is `busy`
  // (audited as refused), unless `wait_if_busy`: then it waits for that one (up to 30 s) and runs after it.
  // With config_source, the platform repository is fetched and read at `commit` (empty: its branch's head).
  boost::asio::awaitable<ReloadOutcome> reload(std::string actor, bool wait_if_busy = false, std::string commit = "");
  // The config at a platform commit, read but not applied (config_source).
  boost::asio::awaitable<ConfigRead> read_at(std::string commit) { return reader_.read(std::move(commit)); }
  // Records in the audit log that the daemon started with the config at platform commit `commit`.
  boost::asio::awaitable<void> audit_start(std::string commit);
  // Fetches the platform repository's branch as a reload would (config_source); its head.
  boost::asio::awaitable<GitAnswer> fetch_platform() { return reader_.fetch_head(); }
  // The config in force (the registry's current generation).
  config::ConfigPtr current() const { return registry_.current(); }

 private:
  // Asks every hook to prepare for `next`; what to apply once all agreed (their refusals go to `outcome`).
  std::vector<std::function<void()>> prepare_hooks(const config::Config& next, ReloadOutcome& outcome);
  // What a reload from `old` to `next` changes: the file, the projects, the settings that need a restart.
  static void describe_change(const config::Config& old, const config::Config& next, ReloadOutcome& outcome);
  boost::asio::awaitable<void> audit(std::string actor, AuditAction action, std::string reason,
                                     const ReloadOutcome& outcome);
  boost::asio::awaitable<void> cancel_removed(const config::Config& next, ReloadOutcome& outcome,
                                              const std::string& actor);

  std::string path_;
  ConfigReader reader_;
  config::ConfigRegistry& registry_;
  Store& store_;
  Metrics* metrics_;
  std::mutex hooks_mutex_;
  std::vector<ReloadHook> hooks_;
  std::atomic<bool> busy_{false};
  AfterApply after_apply_;
};

}  // namespace shipgate::orchestration
