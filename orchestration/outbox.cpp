#include "orchestration/outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

#include <spdlog/spdlog.h>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string short_sha(const Deployment& d) { return d.sha.size() > 7 ? d.sha.substr(0, 7) : d.sha; }

std::string what(const Deployment& d) {
  const std::string sha = short_sha(d);
  return d.version == d.sha || sha.empty() ? d.version.substr(0, 12) : d.version + " (" + sha + ")";
}

// Notification endpoints (a Slack webhook URL is itself a secret) are named by a hash in the store and
// by their origin (url_origin) in the log.
std::string destination_id(const std::string& url) { return sha256_hex(url).substr(0, 16); }

bool permanent(int status) { return status >= 400 && status < 500 && status != 408 && status != 429; }

}  // namespace

std::string_view github_state(std::string_view event) {
  if (event == "queued" || event == "pending_approval") return "queued";
  if (event == "running") return "in_progress";
  if (event == "succeeded") return "success";
  if (event == "failed" || event == "rolled_back") return "failure";
  if (event == "superseded" || event == "cancelled" || event == "rejected" || event == "expired") return "inactive";
  return "";
}

json notification_body(const config::Notifier& notifier, std::string_view event, const Deployment& d,
                       const std::string& link, std::int64_t at_ms) {
  const std::string where = d.project + "/" + d.environment;
  std::string text;
  std::string approve;
  if (event == "pending_approval") {
    approve = "shipgate approve " + std::to_string(d.id);
    text = ":hourglass: " + where + ": " + what(d) + " waits for approval. Approve with `" + approve + "`";
  } else if (event == "succeeded") {
    text = ":white_check_mark: " + where + ": deployed " + what(d);
  } else if (event == "failed") {
    text = ":x: " + where + ": deploying " + what(d) + " failed: " + d.message;
  } else if (event == "rolled_back") {
    text = ":leftwards_arrow_with_hook: " + where + ": " + what(d) + " failed and was rolled back: " + d.message;
  } else if (event == "override") {
    text = ":rotating_light: " + where + ": emergency override by " + d.actor + ", deploying " + what(d);
  } else {
    text = where + ": deployment " + std::to_string(d.id) + " " + std::string(event);
  }
  if (notifier.slack) {
    // Slack incoming webhooks take {"text"} with mrkdwn links as <url|label>.
    return {{"text", text + " (<" + link + "|deployment " + std::to_string(d.id) + ">)"}};
  }
  json body = {{"event", event},
               {"text", text},
               {"link", link},
               {"at", format_rfc3339_ms(at_ms)},
               {"deployment", to_json(d, false)}};
  if (!approve.empty()) body["approve_command"] = approve;
  return body;
}

Outbox::Outbox(asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
               std::shared_ptr<deploy::HttpClient> http, std::shared_ptr<const Clock> clock, Metrics* metrics,
               OutboxOptions options)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      http_(std::move(http)),
      clock_(std::move(clock)),
      metrics_(metrics),
      options_(std::move(options)) {}

void Outbox::start() { asio::co_spawn(strand_, [self = shared_from_this()] { return self->loop(); }, asio::detached); }

asio::awaitable<void> Outbox::loop() {
  asio::steady_timer timer(strand_);
  auto next_prune = std::chrono::steady_clock::now();
  while (!stopped_) {
    co_await run_once();
    if (std::chrono::steady_clock::now() >= next_prune) {
      next_prune = std::chrono::steady_clock::now() + options_.prune_every;
      const auto before = epoch_ms(clock_->now()) -
                          std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep_done).count();
      auto pruned = co_await store_.outbox_prune(before);
      if (pruned && *pruned > 0) spdlog::info("outbox: deleted {} finished rows", *pruned);
    }
    timer.expires_after(options_.poll);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> Outbox::run_once() {
  auto due = store_.outbox_due(epoch_ms(clock_->now()), options_.batch);
  if (!due) {
    spdlog::error("outbox: cannot read: {}", due.error().message());
    co_return;
  }
  std::vector<OutboxItem> events;
  for (auto& item : *due) {
    if (in_flight_.contains(item.id)) continue;
    if (item.kind == "event") {
      events.push_back(std::move(item));
      continue;
    }
    if (static_cast<int>(in_flight_.size()) >= options_.max_concurrent) break;
    in_flight_.insert(item.id);
    asio::co_spawn(strand_, deliver(std::move(item)), asio::detached);
  }
  if (!events.empty()) co_await expand(std::move(events));  // their deliveries go out on the next pass
}

std::string Outbox::link(const config::Config& c, std::int64_t deployment) const {
  const std::string base = c.server.public_url.empty() ? "http://" + c.server.listen : c.server.public_url;
  return base + "/api/v1/deployments/" + std::to_string(deployment);
}

asio::awaitable<void> Outbox::expand(std::vector<OutboxItem> events) {
  std::vector<OutboxItem> deliveries;
  std::vector<std::int64_t> ids;
  const auto config = config_();
  for (const auto& event : events) {
    ids.push_back(event.id);
    fan_out(*config, event, deliveries);
  }
  auto r = co_await store_.outbox_expand(std::move(ids), std::move(deliveries));
  if (!r) spdlog::error("outbox: cannot fan out {} event(s): {}", events.size(), r.error().message());
}

void Outbox::fan_out(const config::Config& cfg, const OutboxItem& event, std::vector<OutboxItem>& deliveries) const {
  const auto* config = &cfg;
  auto found = store_.deployment(event.deployment, false);
  if (found && *found) {
    const Deployment& d = **found;
    const auto notify_event = config::parse_notify_event(event.event);
    for (const auto& n : config->notify) {
      if (!notify_event) break;
      if (!n.events.empty() && !n.events.contains(*notify_event)) continue;
      if (!n.projects.empty() && std::find(n.projects.begin(), n.projects.end(), d.project) == n.projects.end()) continue;
      OutboxItem item;
      item.kind = "notify";
      item.destination = destination_id(n.url);
      item.deployment = d.id;
      item.event = event.event;
      item.payload = {{"format", n.slack ? "slack" : "json"},
                      {"body", notification_body(n, event.event, d, link(*config, d.id), event.created_ms)}};
      deliveries.push_back(std::move(item));
    }
    const auto* project = config->project(d.project);
    const auto state = github_state(event.event);
    if (project && project->github_deployments && !state.empty()) {
      const auto* env = project->environment(d.environment);
      std::string description = d.message.empty() ? std::string(event.event) : d.message;
      if (event.event == "pending_approval") description = "waiting for approval";
      if (description.size() > 140) description = description.substr(0, 137) + "...";
      OutboxItem item;
      item.kind = "github";
      item.destination = d.project;
      item.deployment = d.id;
      item.event = event.event;
      item.payload = {{"state", state},
                      {"description", description},
                      {"environment", d.environment},
                      {"ref", d.sha.empty() ? d.ref : d.sha},
                      {"version", d.version},
                      {"production", env && env->approval.has_value()},
                      {"log_url", link(*config, d.id)}};
      deliveries.push_back(std::move(item));
    }
  }
}

std::int64_t Outbox::retry_at(int attempts_so_far) const {
  // Exponential with full jitter between half and all of the step, capped.
  const auto step = std::min<std::int64_t>(options_.max_retry.count(),
                                           options_.first_retry.count() << std::min(attempts_so_far - 1, 20));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto delay = std::uniform_int_distribution<std::int64_t>(step / 2, std::max<std::int64_t>(step / 2, step))(rng);
  return epoch_ms(clock_->now()) + delay;
}

asio::awaitable<void> Outbox::deliver(OutboxItem item) {
  // Plain statements around co_await: GCC 12 mishandles temporaries inside co_await expressions.
  OutboxAttempt attempt;
  if (item.kind == "github") attempt = co_await send_github(item);
  else attempt = co_await send_notification(item);
  if (metrics_) metrics_->outbox_delivery(item.kind, attempt.outcome.empty() ? "retried" : attempt.outcome);
  auto r = co_await store_.outbox_record(attempt);
  if (!r) spdlog::error("outbox: cannot record delivery {}: {}", item.id, r.error().message());
  in_flight_.erase(item.id);
}

asio::awaitable<OutboxAttempt> Outbox::send_notification(const OutboxItem& item) {
  OutboxAttempt a{item.id, item.deployment};
  const auto config = config_();
  const config::Notifier* notifier = nullptr;
  for (const auto& n : config->notify)
    if (destination_id(n.url) == item.destination && (n.slack ? "slack" : "json") == item.payload.value("format", ""))
      notifier = &n;
  if (!notifier) {
    a.outcome = "gave_up";
    a.error = "the notification endpoint is no longer configured";
    spdlog::warn("notification for deployment {} ({}) dropped: {}", item.deployment, item.event, a.error);
    co_return a;
  }
  deploy::OutboundRequest req;
  req.method = "POST";
  req.url = notifier->url;
  req.body = item.payload.value("body", json::object()).dump();
  req.timeout = notifier->timeout;
  req.connect_timeout = std::min(notifier->timeout, deploy::Millis(5'000));
  req.ca_file = notifier->tls.ca_file;
  req.headers = {{"Content-Type", "application/json"},
                 {"User-Agent", "shipgate/" + options_.version},
                 {"X-Shipgate-Event", item.event},
                 {"X-Shipgate-Delivery", std::to_string(item.id)}};
  if (!notifier->secret.empty())
    req.headers.emplace_back("X-Shipgate-Signature-256", "sha256=" + hmac_sha256_hex(notifier->secret, req.body));
  auto result = co_await http_->send(std::move(req));
  const int attempts = item.attempts + 1;
  if (result && result->status >= 200 && result->status < 300) {
    a.outcome = "delivered";
    spdlog::info("notification for deployment {} ({}) delivered to {}", item.deployment, item.event, url_origin(notifier->url));
    co_return a;
  }
  a.error = deploy::describe_failure(result);
  if (attempts >= notifier->max_attempts) {
    a.outcome = "gave_up";
    spdlog::warn("notification for deployment {} ({}) to {}: gave up after {} attempts: {}", item.deployment, item.event,
                 url_origin(notifier->url), attempts, a.error);
  } else {
    a.next_ms = retry_at(attempts);
    spdlog::info("notification for deployment {} ({}) to {}: attempt {} failed ({}); retrying", item.deployment,
                 item.event, url_origin(notifier->url), attempts, a.error);
  }
  co_return a;
}

asio::awaitable<OutboxAttempt> Outbox::send_github(const OutboxItem& item) {
  OutboxAttempt a{item.id, item.deployment};
  const auto config = config_();
  const auto* project = config->project(item.destination);
  if (!project || !project->github_deployments) {
    a.outcome = "gave_up";
    a.error = "GitHub deployments are no longer configured for project " + item.destination;
    co_return a;
  }
  const auto& gh = *project->github_deployments;
  const std::string api = gh.api_url + "/repos/" + project->repository + "/deployments";
  auto request = [&](std::string url, json body) {
    deploy::OutboundRequest req;
    req.method = "POST";
    req.url = std::move(url);
    req.body = body.dump();
    req.timeout = std::chrono::seconds(15);
    req.ca_file = gh.tls.ca_file;
    req.headers = {{"Authorization", "Bearer " + gh.token},
                   {"Accept", "application/vnd.github+json"},
                   {"X-GitHub-Api-Version", "2022-11-28"},
                   {"Content-Type", "application/json"},
                   {"User-Agent", "shipgate/" + options_.version}};
    return req;
  };
  const auto& p = item.payload;
  const int attempts = item.attempts + 1;
  auto fail = [&](const deploy::HttpResult& r, const char* step) {
    a.error = std::string(step) + ": " + deploy::describe_failure(r);
    if ((r && permanent(r->status)) || attempts >= options_.github_max_attempts) {
      a.outcome = "gave_up";
      spdlog::warn("GitHub status for deployment {} ({}): gave up after {} attempt{}: {}", item.deployment, item.event,
                   attempts, attempts == 1 ? "" : "s", a.error);
    } else {
      a.next_ms = retry_at(attempts);
    }
  };

  std::int64_t github_id = item.github_id;
  if (github_id == 0) {
    // required_contexts: [] so GitHub does not hold the record back on commit statuses; shipgate has
    // already decided, this only reports.
    json body = {{"ref", p.value("ref", "")},
                 {"environment", p.value("environment", "")},
                 {"description", "shipgate deployment " + std::to_string(item.deployment) + ": " + p.value("version", "")},
                 {"auto_merge", false},
                 {"required_contexts", json::array()},
                 {"payload", {{"shipgate_deployment", item.deployment}, {"version", p.value("version", "")}}},
                 {"production_environment", p.value("production", false)},
                 {"transient_environment", false}};
    auto create_request = request(api, std::move(body));
    auto created = co_await http_->send(std::move(create_request));
    if (!created || created->status != 201) {
      fail(created, "creating the GitHub deployment");
      co_return a;
    }
    auto j = json::parse(created->body, nullptr, false);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer()) {
      a.error = "GitHub answered 201 without a deployment id";
      a.next_ms = retry_at(attempts);
      co_return a;
    }
    github_id = j["id"].get<std::int64_t>();
    a.github_id = github_id;  // kept even if the status below fails: the next attempt reuses it
  }
  json status = {{"state", p.value("state", "")},
                 {"description", p.value("description", "")},
                 {"environment", p.value("environment", "")},
                 {"log_url", p.value("log_url", "")},
                 {"auto_inactive", true}};
  auto status_request = request(api + "/" + std::to_string(github_id) + "/statuses", std::move(status));
  auto posted = co_await http_->send(std::move(status_request));
  if (!posted || posted->status != 201) {
    fail(posted, "posting the GitHub deployment status");
    co_return a;
  }
  a.outcome = "delivered";
  co_return a;
}

}  // namespace shipgate::orchestration
