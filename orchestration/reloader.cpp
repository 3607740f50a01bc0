#include "orchestration/reloader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "deploy/manifest_set.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Settings the running daemon cannot change in place: they name sockets, threads or the store.
std::vector<std::string> needs_restart(const config::Config& a, const config::Config& b) {
  std::vector<std::string> out;
  if (a.server.listen != b.server.listen) out.push_back("server.listen");
  if (a.server.threads != b.server.threads) out.push_back("server.threads");
  if (a.server.tls.has_value() != b.server.tls.has_value() ||
      (a.server.tls && b.server.tls && a.server.tls->listen != b.server.tls->listen))
    out.push_back("server.tls.listen");
  if (a.server.max_queued_writes != b.server.max_queued_writes) out.push_back("server.max_queued_writes");
  if (a.store.url != b.store.url || a.store.postgres_conninfo != b.store.postgres_conninfo) out.push_back("store");
  return out;
}

std::set<std::string> project_names(const config::Config& c) {
  std::set<std::string> out;
  for (const auto& p : c.projects) out.insert(p.name);
  return out;
}

}  // namespace

json to_json(const ReloadOutcome& o) {
  json j = {{"applied", o.applied}, {"changed", o.changed}, {"from_sha256", o.from_sha256}};
  if (!o.to_sha256.empty()) j["to_sha256"] = o.to_sha256;
  if (!o.errors.empty()) j["errors"] = o.errors;
  if (!o.restart.empty()) j["needs_restart"] = o.restart;
  if (!o.added_projects.empty()) j["added_projects"] = o.added_projects;
  if (!o.removed_projects.empty()) j["removed_projects"] = o.removed_projects;
  if (!o.cancelled.empty()) j["cancelled"] = o.cancelled;
  if (!o.commit.empty()) j["commit"] = o.commit;
  return j;
}

Reloader::Reloader(std::string path, config::EnvLookup env, config::ConfigRegistry& registry, Store& store,
                   Metrics* metrics)
    : path_(path), reader_(std::move(path), std::move(env)), registry_(registry), store_(store), metrics_(metrics) {}

void Reloader::add_hook(ReloadHook hook) {
  std::lock_guard lock(hooks_mutex_);
  hooks_.push_back(std::move(hook));
}

asio::awaitable<ReloadOutcome> Reloader::reload(std::string actor, bool wait_if_busy, std::string commit) {
  ReloadOutcome outcome;
  const auto old = registry_.current();
  outcome.from_sha256 = old->source_sha256;
  asio::steady_timer wait(co_await asio::this_coro::executor);
  for (int tries = 0; wait_if_busy && tries < 600 && busy_.load(); ++tries) {
    wait.expires_after(std::chrono::milliseconds(50));
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (busy_.exchange(true)) {
    outcome.busy = true;
    outcome.errors.push_back("another reload is in progress");
    std::string why = "another reload is in progress";
    co_await audit(actor, AuditAction::reload_refused, std::move(why), outcome);
    co_return outcome;
  }
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy = false; }
  } release{busy_};

  auto read = co_await reader_.read(commit);
  auto& loaded = read.loaded;
  outcome.commit = read.commit;
  outcome.project_files = loaded.project_files;
  if (!read.fetch_error.empty()) spdlog::warn("reload: cannot fetch the platform repository ({}); read the copy here", read.fetch_error);
  if (loaded.config) loaded.errors = deploy::check_manifest_sets(*loaded.config);
  if (loaded.config && loaded.errors.empty())
    if (auto refusal = co_await reader_.rewind_refusal(old->source_commit, read.commit))
      loaded.errors.push_back({"config_source", *refusal});
  for (const auto& e : loaded.errors) outcome.errors.push_back(e.to_string());
  const auto apply = loaded.config ? prepare_hooks(*loaded.config, outcome) : std::vector<std::function<void()>>{};

  if (!outcome.errors.empty()) {
    spdlog::error("reload refused ({} error{}); still serving config {}", outcome.errors.size(),
                  outcome.errors.size() == 1 ? "" : "s", old->source_sha256.substr(0, 12));
    for (const auto& e : outcome.errors) spdlog::error("reload: {}: {}", path_, e);
    if (metrics_) metrics_->config_reload("refused");
    std::string why = std::to_string(outcome.errors.size()) + " error(s) in " + path_ +
                      (outcome.commit.empty() ? "" : " at platform commit " + outcome.commit.substr(0, 12));
    co_await audit(actor, AuditAction::reload_refused, std::move(why), outcome);
    co_return outcome;
  }

  const auto& next = *loaded.config;
  describe_change(*old, next, outcome);

  // Keep generations that unfinished deployments still run under; drop the rest.
  std::set<std::string> keep;
  // The replaced one stays too: a webhook being accepted right now may have been planned with it.
  if (auto in_use = co_await store_.unfinished_config_shas()) keep = std::move(*in_use);
  keep.insert(old->source_sha256);
  registry_.install(loaded.config);
  registry_.retain_only(keep);
  for (auto& f : apply) f();

  co_await cancel_removed(next, outcome, actor);
  if (metrics_) metrics_->config_reload("applied");
  spdlog::info("reload: config {} -> {} ({} project{}{}{})", outcome.from_sha256.substr(0, 12),
               outcome.to_sha256.substr(0, 12), next.projects.size(), next.projects.size() == 1 ? "" : "s",
               outcome.changed ? "" : ", file unchanged", outcome.restart.empty() ? "" : ", some settings need a restart");
  for (const auto& key : outcome.restart) spdlog::warn("reload: {} changed; it takes effect after a restart", key);

  std::string what = outcome.changed ? "config reloaded" : "config reloaded (file unchanged)";
  if (!outcome.commit.empty()) what += " at platform commit " + outcome.commit.substr(0, 12);
  co_await audit(actor, AuditAction::reload, std::move(what), outcome);
  if (after_apply_) {
    auto after = after_apply_(old, loaded.config, outcome);  // named: GCC 12 and temporaries in a co_await
    co_await std::move(after);
  }
  co_return outcome;
}

std::vector<std::function<void()>> Reloader::prepare_hooks(const config::Config& next, ReloadOutcome& outcome) {
  std::vector<ReloadHook> hooks;
  {
    std::lock_guard lock(hooks_mutex_);
    hooks = hooks_;
  }
  std::vector<std::function<void()>> apply;
  for (const auto& hook : hooks) {
    auto prepared = hook.prepare(next);
    if (!prepared.error.empty()) outcome.errors.push_back(hook.name + ": " + prepared.error);
    else if (prepared.apply) apply.push_back(std::move(prepared.apply));
  }
  return apply;
}

void Reloader::describe_change(const config::Config& old, const config::Config& next, ReloadOutcome& outcome) {
  outcome.applied = true;
  outcome.to_sha256 = next.source_sha256;
  outcome.changed = next.source_sha256 != old.source_sha256;
  outcome.restart = needs_restart(old, next);
  const auto before = project_names(old), after = project_names(next);
  for (const auto& p : after)
    if (!before.contains(p)) outcome.added_projects.push_back(p);
  for (const auto& p : before)
    if (!after.contains(p)) outcome.removed_projects.push_back(p);
}

asio::awaitable<void> Reloader::audit_start(std::string commit) {
  ReloadOutcome outcome;
  outcome.applied = true;
  outcome.from_sha256 = outcome.to_sha256 = registry_.current()->source_sha256;
  outcome.commit = commit;
  std::string why = "config read at start at platform commit " + commit.substr(0, 12);
  co_await audit("shipgate", AuditAction::reload, std::move(why), outcome);
}

asio::awaitable<void> Reloader::audit(std::string actor, AuditAction action, std::string reason,
                                      const ReloadOutcome& outcome) {
  AuditEntry entry;
  entry.actor = std::move(actor);
  entry.action = action;
  entry.reason = std::move(reason);
  entry.details = to_json(outcome);
  co_await store_.record_audit(std::move(entry));
}

asio::awaitable<void> Reloader::cancel_removed(const config::Config& next, ReloadOutcome& outcome,
                                               const std::string& actor) {
  DeploymentFilter filter;
  filter.states = {State::pending_approval, State::queued};
  filter.limit = 100'000;
  auto waiting = co_await store_.deployments(filter);
  if (!waiting) {
    spdlog::error("reload: cannot list waiting deployments: {}", waiting.error().message());
    co_return;
  }
  for (const auto& d : *waiting) {
    const auto* project = next.project(d.project);
    if (project && project->environment(d.environment)) continue;
    std::string why = project ? "environment " + d.environment + " was removed from the config"
                              : "project " + d.project + " was removed from the config";
    TransitionRequest request{d.id, Event::cancel, actor, why};
    auto r = co_await store_.transition(std::move(request));
    if (r && r->applied) {
      outcome.cancelled.push_back(d.id);
      log_with(spdlog::level::info, {.deployment = d.id}, "deployment {}: cancelled: {}", d.id, why);
    }
  }
}

}  // namespace shipgate::orchestration
