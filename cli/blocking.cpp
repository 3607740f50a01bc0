#include "cli/blocking.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

namespace shipgate::cli {

http::HttpResult send_and_wait(http::HttpClient& client, http::OutboundRequest req) {
  boost::asio::io_context ioc;
  std::optional<http::HttpResult> result;
  boost::asio::co_spawn(ioc, client.send(std::move(req)), [&](std::exception_ptr, http::HttpResult r) { result = std::move(r); });
  ioc.run();
  if (!result) return boost::system::error_code(boost::asio::error::operation_aborted);
  return std::move(*result);
}

}  // namespace shipgate::cli
