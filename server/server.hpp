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

#include "config/config.hpp"
#include "handlers/router.hpp"

namespace shipgate::server {

class Server {
 public:
  Server(boost::asio::io_context& ioc, config::ServerConfig config, const handlers::Router& router,
         const std::atomic<bool>& draining);
  ~Server();

  boost::system::result<void> listen();
  std::uint16_t port() const;
  void start();
  void stop_accepting();
  // Closes idle keep-alive connections and waits (at most `grace`) for in-flight requests.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);
  int open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace shipgate::server
