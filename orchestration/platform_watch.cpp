#include "orchestration/platform_watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <sstream>

#include "common/json_read.hpp"
#include "common/supervised.hpp"
#include "config/layered_config.hpp"
#include "domain/gate_policy.hpp"
#include "domain/triggers.hpp"
#include "orchestration/current_versions.hpp"
#include "orchestration/worker_ingest.hpp"
#include "notify/github_deployments.hpp"
#include "orchestration/platform_repo.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

// A commit status says at most 140 characters: how many errors and the first of them.
std::string status_description(const ReloadOutcome& outcome) {
  if (outcome.applied) return "applied";
  std::string text = std::to_string(outcome.errors.size()) + " error" + (outcome.errors.size() == 1 ? "" : "s") +
                     (outcome.errors.empty() ? "" : ": " + outcome.errors.front());
  if (text.size() > 140) text = text.substr(0, 137) + "...";
  return text;
}

}  // namespace

PlatformWatch::PlatformWatch(asio::any_io_executor executor, Reloader& reloader, Store& store,
                             std::shared_ptr<http::HttpClient> http, std::shared_ptr<const Clock> clock, Metrics* metrics)
    : strand_(asio::make_strand(executor)),
      reloader_(reloader),
      store_(store),
      http_(std::move(http)),
      clock_(std::move(clock)),
      metrics_(metrics),
      app_tokens_(std::make_shared<notify::GithubAppTokens>(http_, clock_)) {}

asio::awaitable<void> PlatformWatch::catch_up() {
  const auto now = reloader_.current();
  if (!now->config_source || now->source_commit.empty()) co_return;
  AuditFilter reloads;
  reloads.action = std::string(to_string(AuditAction::reload));
  reloads.limit = 200;
  auto entries = co_await store_.audit(std::move(reloads));
  if (!entries) co_return;
  std::string newest, previous;  // the newest commit recorded, and the newest one that is not this start's
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    const std::string commit = json_read::text(it->details, "commit");
    if (commit.empty()) continue;
    if (newest.empty()) newest = commit;
    if (commit != now->source_commit) {
      previous = commit;
      break;
    }
  }
  if (newest != now->source_commit) co_await reloader_.audit_start(now->source_commit);
  if (previous.empty()) co_return;
  auto before = co_await reloader_.read_at(previous);
  auto after = co_await reloader_.read_at(now->source_commit);
  if (!before.loaded.config) co_return;
  ReloadOutcome outcome;
  outcome.commit = now->source_commit;
  outcome.project_files = std::move(after.loaded.project_files);
  co_await redeploy_changes(before.loaded.config, now, std::move(outcome));
}

void PlatformWatch::start() {
  asio::co_spawn(strand_, catch_up(), [](std::exception_ptr e) {
    if (e) spdlog::error("platform config: catching up at start failed: {}", exception_text(e));
  });
  // Every second: the poll's period comes from the config in force, which a reload may change.
  spawn_ticking(strand_, "platform poll", std::chrono::seconds(1), [self = shared_from_this()] { return self->tick(); },
                metrics_);
}

void PlatformWatch::pushed(std::string commit, std::string actor) {
  asio::co_spawn(strand_, apply(std::move(commit), std::move(actor)), [](std::exception_ptr e) {
    if (e) spdlog::error("platform config: applying a pushed commit failed: {}", exception_text(e));
  });
}

asio::awaitable<void> PlatformWatch::tick() {
  const auto config = reloader_.current();
  if (!config->config_source || clock_->now() < next_poll_) co_return;
  next_poll_ = clock_->now() + config->config_source->poll;
  const auto head = co_await reloader_.fetch_platform();
  if (!head.ok()) {
    spdlog::warn("platform config: cannot fetch {}: {}", config->config_source->branch, head.error);
    co_return;
  }
  if (head.value == config->source_commit) co_return;
  co_await apply(head.value, "poll");
}

asio::awaitable<void> PlatformWatch::apply(std::string commit, std::string actor) {
  if (!is_commit(commit) || tried_.contains(commit) || reloader_.current()->source_commit == commit) co_return;
  tried_.insert(commit);
  spdlog::info("platform config: applying commit {} ({})", commit.substr(0, 12), actor);
  std::string who = actor == "poll" ? "platform poll" : "platform push by " + actor;
  const auto outcome = co_await reloader_.reload(std::move(who), true, commit);
  if (outcome.commit.empty()) {
    tried_.erase(commit);  // the repository could not be read: the next push or poll tries again
    co_return;
  }
  const auto config = reloader_.current();
  co_await report(*config, commit, outcome);
}

asio::awaitable<void> PlatformWatch::redeploy_changes(config::ConfigPtr before, config::ConfigPtr after,
                                                     ReloadOutcome outcome) {
  if (!after->config_source || before->source_commit.empty() || outcome.commit.empty() ||
      before->source_commit == outcome.commit)
    co_return;
  PlatformRepo repo(*after->config_source, after->config_source->cache_dir);
  const auto diff = co_await repo.changed_files(before->source_commit, outcome.commit);
  std::vector<std::string> files;
  std::stringstream lines(diff.value);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) files.push_back(line);
  const auto referenced = referenced_files(*after, after->config_source->path);
  const auto changes = config_changes(config::project_sections(*before), config::project_sections(*after),
                                      outcome.project_files, referenced, files, *after);
  if (changes.empty()) co_return;
  auto lanes = redeploy_lanes(*after, changes);
  const auto current = co_await current_versions(store_, std::move(lanes));
  auto plan = plan_config_redeploys(*after, changes, current, outcome.commit, "platform");
  if (plan.deployments.empty()) co_return;
  adopt_config(*after, plan.deployments, clock_->now());
  std::string key = "config:" + outcome.commit, source = "platform commit " + outcome.commit;
  auto stored = co_await ingest_once(store_, std::move(key), std::move(source), std::move(plan.deployments));
  if (!stored) {
    spdlog::error("platform config: redeploys of {} not stored: {}", outcome.commit.substr(0, 12), stored.error().message());
    co_return;
  }
  for (const auto& d : stored->deployments) {
    if (d.id == 0) continue;
    spdlog::info("platform config: commit {} redeploys {}/{} as deployment {}", outcome.commit.substr(0, 12), d.project,
                 d.environment, d.id);
    if (d.state == State::queued && on_queued_) on_queued_(d.project, d.environment);
  }
}

asio::awaitable<void> PlatformWatch::report(const config::Config& config, const std::string& commit,
                                            const ReloadOutcome& outcome) {
  if (!config.github_app || !config.config_source || config.config_source->repository.empty()) co_return;
  const std::string user_agent = "shipgate/config";
  const auto token = co_await app_tokens_->token_for(*config.github_app, config.config_source->repository, user_agent);
  if (token.token.empty()) {
    spdlog::warn("platform config: no commit status for {}: {}", commit.substr(0, 12), token.error);
    co_return;
  }
  const std::string base = config.server.public_url.empty() ? "http://" + config.server.listen : config.server.public_url;
  const notify::CommitStatus status{config.config_source->repository, commit, outcome.applied ? "success" : "failure",
                                    "shipgate/config", status_description(outcome),
                                    base + "/audit?action=" + (outcome.applied ? "reload" : "reload_refused")};
  const auto sent = co_await notify::report_commit_status(*http_, config.github_app->api_url,
                                                          config.github_app->tls.ca_file, token.token, status, user_agent);
  if (!sent.delivered) spdlog::warn("platform config: commit status for {} not sent: {}", commit.substr(0, 12), sent.error);
}

}  // namespace shipgate::orchestration
