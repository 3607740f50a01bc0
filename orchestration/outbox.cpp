#include "orchestration/outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "common/supervised.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Notification endpoints (a Slack webhook URL is itself a secret) are named by a hash in the store and
// by their origin (url_origin) in the log.
std::string destination_id(const std::string& url) { return sha256_hex(url).substr(0, 16); }

const char* format_of(const config::Notifier& n) { return n.slack ? "slack" : "json"; }

}  // namespace

notify::Notice notice_of(const OutboxItem& event, const Deployment& d, std::string link) {
  notify::Notice n;
  n.event = event.event;
  n.deployment = d.id;
  n.project = d.project;
  n.environment = d.environment;
  n.version = d.version;
  n.sha = d.sha;
  n.actor = d.actor;
  n.message = event.payload.is_object() ? event.payload.value("message", d.message) : d.message;
  n.link = std::move(link);
  n.at_ms = event.created_ms;
  n.details = to_json(d, false);
  return n;
}

Outbox::Outbox(asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
               std::shared_ptr<http::HttpClient> http, std::shared_ptr<const Clock> clock, Metrics* metrics,
               OutboxOptions options)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      http_(std::move(http)),
      clock_(std::move(clock)),
      metrics_(metrics),
      options_(std::move(options)),
      app_tokens_(std::make_shared<notify::GithubAppTokens>(http_, clock_)) {}

void Outbox::start() {
  spawn_supervised(strand_, "outbox", [self = shared_from_this()] { return self->loop(); }, metrics_);
}

asio::awaitable<void> Outbox::loop() {
  asio::steady_timer timer(strand_);
  auto next_prune = std::chrono::steady_clock::now();
  while (!stopped_) {
    // Replicas sharing a store all run this loop; the one holding the outbox's lane delivers.
    if (co_await leading()) co_await run_once();
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

asio::awaitable<bool> Outbox::leading() {
  if (hold_) {
    LaneHold held = *hold_;
    auto renewed = co_await store_.renew_lane(std::move(held));
    if (renewed && !*renewed) {
      spdlog::info("outbox: another replica delivers from now on");
      hold_.reset();
    }
    if (hold_) co_return true;
  }
  const std::string project = "*", lane = "outbox";  // "*" is no project's name
  auto claimed = co_await store_.claim_lane(project, lane);
  if (claimed && *claimed) hold_ = std::move(**claimed);
  co_return hold_.has_value();
}

asio::awaitable<void> Outbox::run_once() {
  const auto now = epoch_ms(clock_->now());
  auto due = co_await store_.outbox_due(now, options_.batch);
  if (!due) {
    spdlog::error("outbox: cannot read: {}", due.error().message());
    co_return;
  }
  std::vector<OutboxItem> events;
  for (auto& item : *due) {
    if (in_flight_.contains(item.id)) continue;
    if (item.kind == OutboxKind::event) {
      events.push_back(std::move(item));
      continue;
    }
    if (static_cast<int>(in_flight_.size()) >= options_.max_concurrent) break;
    in_flight_.insert(item.id);
    const auto id = item.id;
    asio::co_spawn(strand_, deliver(std::move(item)), [self = shared_from_this(), id](std::exception_ptr e) {
      if (!e) return;
      // The row stays due: the next pass tries it again.
      self->in_flight_.erase(id);
      spdlog::error("outbox: delivery {} stopped by an unexpected error: {}", id, exception_text(e));
      if (self->metrics_) self->metrics_->task_failure("outbox");
    });
  }
  if (!events.empty()) co_await expand(std::move(events));  // their deliveries go out on the next pass
}

std::string Outbox::link(const config::Config& c, std::int64_t deployment) const {
  const std::string base = c.server.public_url.empty() ? "http://" + c.server.listen : c.server.public_url;
  return base + "/deployments/" + std::to_string(deployment);  // the reviewer page of the deployment
}

asio::awaitable<void> Outbox::expand(std::vector<OutboxItem> events) {
  std::vector<OutboxItem> deliveries;
  std::vector<std::int64_t> ids;
  const auto config = config_();
  for (const auto& event : events) {
    ids.push_back(event.id);
    auto found = co_await store_.deployment(event.deployment, false);
    if (found && *found) fan_out(*config, event, **found, deliveries);
  }
  auto r = co_await store_.outbox_expand(std::move(ids), std::move(deliveries));
  if (!r) spdlog::error("outbox: cannot fan out {} event(s): {}", events.size(), r.error().message());
}

void Outbox::fan_out(const config::Config& cfg, const OutboxItem& event, const Deployment& d,
                     std::vector<OutboxItem>& deliveries) const {
  const auto* config = &cfg;
  const auto notify_event = config::parse_notify_event(event.event);
  for (const auto& n : config->notify) {
    if (!notify_event) break;
    if (!n.events.empty() && !n.events.contains(*notify_event)) continue;
    if (!n.projects.empty() && std::find(n.projects.begin(), n.projects.end(), d.project) == n.projects.end()) continue;
    OutboxItem item;
    item.kind = OutboxKind::notify;
    item.destination = destination_id(n.url);
    item.deployment = d.id;
    item.event = event.event;
    item.payload = {{"format", format_of(n)},
                    {"body", notify::notification_body(n, notice_of(event, d, link(*config, d.id)))}};
    deliveries.push_back(std::move(item));
  }
  fan_out_github(*config, event, d, deliveries);
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
  if (item.kind == OutboxKind::github) attempt = co_await send_github(item);
  else attempt = co_await send_notification(item);
  if (metrics_) {
    const bool retried = attempt.outcome == OutboxOutcome::pending;
    metrics_->outbox_delivery(to_string(item.kind), retried ? "retried" : to_string(attempt.outcome));
  }
  auto r = co_await store_.outbox_record(attempt);
  if (!r) spdlog::error("outbox: cannot record delivery {}: {}", item.id, r.error().message());
  in_flight_.erase(item.id);
}

asio::awaitable<OutboxAttempt> Outbox::send_notification(const OutboxItem& item) {
  OutboxAttempt a{item.id, item.deployment};
  const auto config = config_();
  const config::Notifier* notifier = nullptr;
  for (const auto& n : config->notify)
    if (destination_id(n.url) == item.destination && format_of(n) == item.payload.value("format", "")) notifier = &n;
  if (!notifier) {
    a.outcome = OutboxOutcome::gave_up;
    a.error = "the notification endpoint is no longer configured";
    log_with(spdlog::level::warn, {.deployment = item.deployment}, "notification for deployment {} ({}) dropped: {}", item.deployment, item.event, a.error);
    co_return a;
  }
  std::string body = item.payload.value("body", json::object()).dump();
  const std::string user_agent = "shipgate/" + options_.version;
  auto result = co_await notify::send_notification(*http_, *notifier, std::move(body), item.event, item.id, user_agent);
  const int attempts = item.attempts + 1;
  if (result && result->status >= 200 && result->status < 300) {
    a.outcome = OutboxOutcome::delivered;
    log_with(spdlog::level::info, {.deployment = item.deployment}, "notification for deployment {} ({}) delivered to {}", item.deployment, item.event, url_origin(notifier->url));
    co_return a;
  }
  a.error = http::describe_failure(result);
  if (attempts >= notifier->max_attempts) {
    a.outcome = OutboxOutcome::gave_up;
    log_with(spdlog::level::warn, {.deployment = item.deployment}, "notification for deployment {} ({}) to {}: gave up after {} attempts: {}", item.deployment, item.event, url_origin(notifier->url), attempts, a.error);
  } else {
    a.next_ms = retry_at(attempts);
    log_with(spdlog::level::info, {.deployment = item.deployment}, "notification for deployment {} ({}) to {}: attempt {} failed ({}); retrying", item.deployment, item.event, url_origin(notifier->url), attempts, a.error);
  }
  co_return a;
}

}  // namespace shipgate::orchestration
