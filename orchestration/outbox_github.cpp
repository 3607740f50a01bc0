// The outbox's GitHub deliveries: for each event of a project that mirrors its deployments, a GitHub
// deployment status (with the environment's URL and the deployment's page); with report.commit_status,
// a commit status shipgate/<environment> on the deployed commit. Both are `github` rows, which the store
// hands out in order per deployment, so GitHub sees pending before success.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_read.hpp"
#include "domain/deployment_rules.hpp"
#include "notify/github_deployments.hpp"
#include "notify/github_pull_comment.hpp"
#include "orchestration/outbox.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kCommitStatus = "commit_status";
constexpr const char* kPullComment = "pull_comment";
constexpr const char* kProtection = "protection_review";

// Whether the project still reports `what` (a delivery made before a reload may outlive its setting).
bool reports(const config::Config& config, const config::Project& project, const std::string& what) {
  if (what == kProtection) return config.github_app.has_value();
  if (what == kCommitStatus) return project.report_commit_status;
  if (what == kPullComment) return project.report_pull_request;
  return project.github_deployments.has_value();
}

// The pull request comment tells of versions from a merged commit, at the ends that matter to its author.
bool comments_on(const Deployment& d, std::string_view event) {
  const bool from_commit = d.trigger == config::Trigger::push || d.trigger == config::Trigger::promotion ||
                           d.trigger == config::Trigger::build;
  return from_commit && (event == "succeeded" || event == "failed" || event == "rolled_back" || event == "pending_approval");
}

std::string short_description(std::string text) {
  if (text.size() > 140) {
    text.resize(137);
    text += "...";
  }
  return text;
}

bool full_sha(const std::string& sha) {
  return sha.size() == 40 && sha.find_first_not_of("0123456789abcdef") == std::string::npos;
}

notify::GithubStatus deployment_status(const config::Project& project, const OutboxItem& item) {
  const auto& p = item.payload;
  notify::GithubStatus status;
  status.repository = project.repository;
  status.environment = p.value("environment", "");
  status.ref = p.value("ref", "");
  status.version = p.value("version", "");
  status.production = p.value("production", false);
  status.state = p.value("state", "");
  status.description = p.value("description", "");
  status.log_url = p.value("log_url", "");
  const auto* env = project.environment(status.environment);
  status.environment_url = env ? env->url : "";
  status.deployment = item.deployment;
  return status;
}

// The answer a GitHub Actions job waits for, when `event` gives one (domain's protection_answer).
std::optional<json> protection_review(const Deployment& d, const OutboxItem& event, const std::string& link) {
  const auto reached = parse_state(event.event);
  if (!reached) return std::nullopt;
  // A deployment that started was handed over: what ends it later is GitHub's own report.
  const auto answer = protection_answer(d.trigger, *reached, d.started_ms > 0);
  const json& g = json_read::object(d.result, "github");
  if (!answer || g.empty()) return std::nullopt;
  std::string comment = *answer == ProtectionAnswer::approved
                            ? "Approved in shipgate (deployment " + std::to_string(d.id) + "): " + link
                            : "Not approved in shipgate: " + std::string(to_string(*reached)) +
                                  (d.message.empty() ? "" : " (" + d.message + ")") + ". " + link;
  if (comment.size() > 1024) comment.resize(1024);
  return json{{"what", kProtection},
              {"state", to_string(*answer)},
              {"comment", comment},
              {"environment_name", json_read::text(g, "environment")},
              {"run_id", json_read::integer(g, "run_id")}};
}

}  // namespace

void Outbox::fan_out_github(const config::Config& config, const OutboxItem& event, const Deployment& d,
                            std::vector<OutboxItem>& deliveries) const {
  const auto* project = config.project(d.project);
  if (!project) return;
  std::string description = d.message.empty() ? std::string(event.event) : d.message;
  if (event.event == to_string(State::pending_approval)) description = "waiting for approval";
  OutboxItem item;
  item.kind = OutboxKind::github;
  item.destination = d.project;
  item.deployment = d.id;
  item.event = event.event;
  if (auto review = protection_review(d, event, link(config, d.id))) {
    item.payload = std::move(*review);
    deliveries.push_back(item);
  }
  // GitHub made the deployment of an Actions job itself (and reports its statuses).
  const auto state = notify::github_state(event.event);
  const bool own_deployment = d.trigger != config::Trigger::github_actions;
  if (project->github_deployments && own_deployment && !state.empty()) {
    const auto* env = project->environment(d.environment);
    item.payload = {{"state", state},
                    {"description", short_description(description)},
                    {"environment", d.environment},
                    {"ref", d.sha.empty() ? d.ref : d.sha},
                    {"version", d.version},
                    {"production", env && env->approval.has_value()},
                    {"log_url", link(config, d.id)}};
    deliveries.push_back(item);
  }
  const auto commit = notify::commit_state(event.event);
  if (project->report_commit_status && !commit.empty() && full_sha(d.sha)) {
    item.payload = {{"what", kCommitStatus},
                    {"state", commit},
                    {"sha", d.sha},
                    {"context", "shipgate/" + d.environment},
                    {"description", short_description(d.version + ": " + description)},
                    {"target_url", link(config, d.id)}};
    deliveries.push_back(item);
  }
  if (project->report_pull_request && comments_on(d, event.event) && full_sha(d.sha)) {
    item.payload = {{"what", kPullComment}, {"sha", d.sha},         {"environment", d.environment},
                    {"state", event.event},  {"version", d.version}, {"link", link(config, d.id)}};
    deliveries.push_back(std::move(item));
  }
}

// Where the project's GitHub API is: its deployments' settings, else the app's.
Outbox::GithubApi Outbox::github_api(const config::Config& config, const config::Project& project) {
  if (project.github_deployments) return {project.github_deployments->api_url, project.github_deployments->tls};
  return {config.github_app->api_url, config.github_app->tls};
}

// One comment per pull request: deliveries for the same commit wait for each other (they run on the
// outbox's strand), so two environments ending together edit one comment instead of making two.
asio::awaitable<notify::GithubReport> Outbox::send_pull_comment(const GithubApi& api, const config::Project& project,
                                                                const std::string& token, const OutboxItem& item,
                                                                const std::string& user_agent) {
  const auto& p = item.payload;
  const notify::PullComment comment{project.repository, project.name, p.value("sha", ""), p.value("environment", ""),
                                    p.value("state", ""), p.value("version", ""), item.deployment, p.value("link", "")};
  const std::string key = project.name + "@" + comment.sha;
  while (!commenting_.insert(key).second) {
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await pause.async_wait(asio::use_awaitable);
  }
  auto report = co_await notify::report_pull_comment(*http_, api.api_url, api.tls.ca_file, token, comment, user_agent);
  commenting_.erase(key);
  co_return report;
}

// The project's own token, else one the GitHub App is given for the repository.
asio::awaitable<notify::AppToken> Outbox::github_token(const config::Config& config, const config::Project& project,
                                                       const std::string& user_agent) {
  if (project.github_deployments && !project.github_deployments->token.empty())
    co_return notify::AppToken{project.github_deployments->token};
  if (!config.github_app) co_return notify::AppToken{"", "no GitHub token is configured", true};
  co_return co_await app_tokens_->token_for(*config.github_app, project.repository, user_agent);
}

asio::awaitable<OutboxAttempt> Outbox::send_github(const OutboxItem& item) {
  const auto config = config_();
  const auto* project = config->project(item.destination);
  const std::string what = item.payload.value("what", "deployment_status");
  if (!project || !reports(*config, *project, what)) {
    OutboxAttempt a{item.id, item.deployment};
    a.outcome = OutboxOutcome::gave_up;
    a.error = what + " is no longer configured for project " + item.destination;
    co_return a;
  }
  const std::string user_agent = "shipgate/" + options_.version;
  // Only the app may answer a protection rule; other calls take the project's own token first.
  notify::AppToken token;
  if (what == kProtection) token = co_await app_tokens_->token_for(*config->github_app, project->repository, user_agent);
  else token = co_await github_token(*config, *project, user_agent);
  notify::GithubReport report;
  report.github_id = item.github_id;
  if (token.token.empty()) {
    report.error = token.error;
    report.permanent = token.permanent;
  } else if (what == kCommitStatus) {
    const auto& p = item.payload;
    const notify::CommitStatus status{project->repository, p.value("sha", ""), p.value("state", ""),
                                      p.value("context", ""), p.value("description", ""), p.value("target_url", "")};
    const auto& api = github_api(*config, *project);
    report = co_await notify::report_commit_status(*http_, api.api_url, api.tls.ca_file, token.token, status, user_agent);
  } else if (what == kProtection) {
    const auto& p = item.payload;
    const notify::ProtectionReview review{project->repository, p.value("run_id", std::int64_t{0}),
                                          p.value("environment_name", ""), p.value("state", ""), p.value("comment", "")};
    report = co_await notify::answer_protection_rule(*http_, config->github_app->api_url, config->github_app->tls.ca_file,
                                                     token.token, review, user_agent);
  } else if (what == kPullComment) {
    report = co_await send_pull_comment(github_api(*config, *project), *project, token.token, item, user_agent);
  } else {
    report = co_await notify::report_github_status(*http_, *project->github_deployments, token.token,
                                                   deployment_status(*project, item), item.github_id, user_agent);
  }
  co_return github_outcome(item, report);
}

OutboxAttempt Outbox::github_outcome(const OutboxItem& item, const notify::GithubReport& report) const {
  OutboxAttempt a{item.id, item.deployment};
  if (report.github_id != item.github_id) a.github_id = report.github_id;  // a retry reuses it
  if (report.delivered) {
    a.outcome = OutboxOutcome::delivered;
    return a;
  }
  a.error = report.error;
  const int attempts = item.attempts + 1;
  if (report.permanent || attempts >= options_.github_max_attempts) {
    a.outcome = OutboxOutcome::gave_up;
    log_with(spdlog::level::warn, {.deployment = item.deployment}, "GitHub status for deployment {} ({}): gave up after {} attempt{}: {}",
             item.deployment, item.event, attempts, attempts == 1 ? "" : "s", a.error);
  } else {
    a.next_ms = retry_at(attempts);
  }
  return a;
}

}  // namespace shipgate::orchestration
