#include "notify/slack_reply.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

#include "common/supervised.hpp"

namespace shipgate::notify {

void send_slack_reply(const boost::asio::any_io_executor& executor, std::shared_ptr<http::HttpClient> http,
                      std::string response_url, const nlohmann::json& message) {
  if (!http) return;
  http::OutboundRequest req;
  req.method = "POST";
  req.url = std::move(response_url);
  req.body = message.dump();
  req.timeout = std::chrono::seconds(10);
  req.connect_timeout = std::chrono::seconds(5);
  req.headers = {{"Content-Type", "application/json"}};
  boost::asio::co_spawn(
      executor,
      [http = std::move(http), req = std::move(req)]() mutable -> boost::asio::awaitable<void> {
        auto r = co_await http->send(std::move(req));
        if (!r || r->status >= 300) spdlog::warn("slack: updating the message failed: {}", http::describe_failure(r));
      },
      [](std::exception_ptr e) {
        if (e) spdlog::error("slack: updating the message stopped by an unexpected error: {}", exception_text(e));
      });
}

}  // namespace shipgate::notify
