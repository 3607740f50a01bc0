#include "notify/notification.hpp"

#include "common/crypto.hpp"
#include "common/time_format.hpp"

namespace shipgate::notify {

namespace {

std::string what(const Notice& n) {
  const std::string sha = n.sha.size() > 7 ? n.sha.substr(0, 7) : n.sha;
  return n.version == n.sha || sha.empty() ? n.version.substr(0, 12) : n.version + " (" + sha + ")";
}

// The line a notification says, by its event; an event no notifier subscribes to (a state the outbox
// reports to GitHub only) is said plainly.
std::string headline(const Notice& n, const std::string& approve) {
  const std::string where = n.project + "/" + n.environment;
  const auto event = config::parse_notify_event(n.event);
  if (!event) return where + ": deployment " + std::to_string(n.deployment) + " " + n.event;
  switch (*event) {
    case config::NotifyEvent::pending_approval:
      return ":hourglass: " + where + ": " + what(n) + " waits for approval. Approve with `" + approve + "`";
    case config::NotifyEvent::succeeded: return ":white_check_mark: " + where + ": deployed " + what(n);
    case config::NotifyEvent::failed: return ":x: " + where + ": deploying " + what(n) + " failed: " + n.message;
    case config::NotifyEvent::rolled_back:
      return ":leftwards_arrow_with_hook: " + where + ": " + what(n) + " failed and was rolled back: " + n.message;
    case config::NotifyEvent::override_:
      return ":rotating_light: " + where + ": emergency override by " + n.actor + ", deploying " + what(n);
    case config::NotifyEvent::verify_failed:
      return ":warning: " + where + ": " + what(n) + " failed its scheduled check: " + n.message;
    case config::NotifyEvent::drift:
      return ":mag: " + where + ": what runs differs from " + what(n) + " as deployed: " + n.message;
  }
  return where + ": deployment " + std::to_string(n.deployment) + " " + n.event;
}

}  // namespace

nlohmann::json notification_body(const config::Notifier& notifier, const Notice& n) {
  const bool waits = config::parse_notify_event(n.event) == config::NotifyEvent::pending_approval;
  const std::string approve = waits ? "shipgate approve " + std::to_string(n.deployment) : std::string();
  const std::string text = headline(n, approve);
  if (notifier.slack) {
    // Slack incoming webhooks take {"text"} with mrkdwn links as <url|label>.
    const std::string line = text + " (<" + n.link + "|deployment " + std::to_string(n.deployment) + ">)";
    if (!notifier.buttons || !waits) return {{"text", line}};
    // Block Kit: the same line, then Approve and Reject; Slack posts a click to /webhooks/slack.
    auto button = [&](const char* action, const char* label, const char* style) {
      return nlohmann::json{{"type", "button"}, {"action_id", action}, {"style", style},
                            {"text", {{"type", "plain_text"}, {"text", label}}}, {"value", std::to_string(n.deployment)}};
    };
    return {{"text", line},
            {"blocks", {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", line}}}},
                        {{"type", "actions"}, {"block_id", "shipgate_review"},
                         {"elements", {button("approve", "Approve", "primary"), button("reject", "Reject", "danger")}}}}}};
  }
  nlohmann::json body = {{"event", n.event},
                         {"text", text},
                         {"link", n.link},
                         {"at", format_rfc3339_ms(n.at_ms)},
                         {"deployment", n.details}};
  if (!approve.empty()) body["approve_command"] = approve;
  return body;
}

boost::asio::awaitable<http::HttpResult> send_notification(http::HttpClient& http, const config::Notifier& notifier,
                                                             std::string body, std::string_view event,
                                                             std::int64_t delivery, std::string_view user_agent) {
  http::OutboundRequest req;
  req.method = "POST";
  req.url = notifier.url;
  req.body = std::move(body);
  req.timeout = notifier.timeout;
  req.connect_timeout = std::min(notifier.timeout, Millis(5'000));
  req.ca_file = notifier.tls.ca_file;
  req.headers = {{"Content-Type", "application/json"},
                 {"User-Agent", std::string(user_agent)},
                 {"X-Shipgate-Event", std::string(event)},
                 {"X-Shipgate-Delivery", std::to_string(delivery)}};
  if (!notifier.secret.empty())
    req.headers.emplace_back("X-Shipgate-Signature-256", "sha256=" + hmac_sha256_hex(notifier.secret, req.body));
  auto result = co_await http.send(std::move(req));
  co_return result;
}

}  // namespace shipgate::notify
