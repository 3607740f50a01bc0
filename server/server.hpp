// HTTP/1.1 listener and sessions. Converts between the wire and handlers::Request/Response, and
// enforces the transport limits: header/body/idle/write timeouts, body limits per route kind,
// a bound on open connections. Beast stays inside server.cpp.
//
// Thread-safety: start() once; stop_accepting() and drain() from any executor.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <chrono>
#include <memory>

#include "common/metrics.hpp"
#include "config/config.hpp"
#include "handlers/router.hpp"

namespace shipgate::server {

class Server {
 public:
  // `metrics` may be null.
  Server(boost::asio::io_context& ioc, config::ServerConfig config, const handlers::Router& router,
         const std::atomic<bool>& draining, Metrics* metrics = nullptr);
  ~Server();

  boost::system::result<void> listen();
  std::uint16_t port() const;
  void start();
  // Closes the listener and every idle keep-alive connection; busy ones close after their request.
  void stop_accepting();
  // Waits (at most `grace`) until in-flight requests are answered and their connections closed.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);
  int open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace shipgate::server
