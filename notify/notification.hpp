// Notification messages (Slack incoming webhooks and JSON webhooks) and how they are sent.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::notify {

// What a notification is about, in the words of the message (no store types).
struct Notice {
  std::string event;  // a deployment state (queued, running, succeeded, ...) or "override"
  std::int64_t deployment = 0;
  std::string project;
  std::string environment;
  std::string version;
  std::string sha;
  std::string actor;
  std::string message;
  std::string link;                  // where a reader finds the deployment
  std::int64_t at_ms = 0;            // when it happened
  nlohmann::json details = nullptr;  // the deployment as the API shows it (JSON format only)
};

// The body sent to one endpoint: Slack's {"text"} with mrkdwn links, or the JSON event.
nlohmann::json notification_body(const config::Notifier& notifier, const Notice& notice);

// Posts a body rendered by notification_body (signed with the endpoint's secret when it has one).
// `delivery` names this delivery for the receiver (X-Shipgate-Delivery; the same on every retry).
boost::asio::awaitable<http::HttpResult> send_notification(http::HttpClient& http, const config::Notifier& notifier,
                                                             std::string body, std::string_view event,
                                                             std::int64_t delivery, std::string_view user_agent);

}  // namespace shipgate::notify
