// The answer to a Slack button click that people see: a message sent to the click's response_url after
// Slack has had its quick empty answer (which must come within 3 seconds). Slack gives response_url,
// the handler checks it is under slack.response_url_prefix before calling this.
#pragma once
#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "http/http_client.hpp"

namespace shipgate::notify {

// Sends `message` to `response_url` in the background (10 s at most); a failure is logged, never thrown.
void send_slack_reply(const boost::asio::any_io_executor& executor, std::shared_ptr<http::HttpClient> http,
                      std::string response_url, const nlohmann::json& message);

}  // namespace shipgate::notify
