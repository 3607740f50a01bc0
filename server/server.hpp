// HTTP/1.1 listener and sessions. Converts between the wire and http::Request/Response, serves an
// http::Service (it knows no endpoint: the service classifies each request and answers it), and
// enforces the transport limits: header/body/idle/write timeouts, body limits per route kind, bounds
// on open connections and on requests in progress (503 + Retry-After), a per-address API rate and a
// per-address limit on failed authentications (429). Serves HTTP, HTTPS (TLS 1.2+, optional client
// certificates), or both on two addresses. Beast and OpenSSL stay inside the server's own sources
// (server.cpp: the listeners; session.cpp: one connection's requests).
//
// Thread-safety: start() once; stop_accepting() and drain() from any executor.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <memory>

#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/service.hpp"

namespace shipgate::server {

class Server {
 public:
  // `metrics` may be null.
  Server(boost::asio::io_context& ioc, config::ServerConfig config, const http::Service& service,
         const std::atomic<bool>& draining, Metrics* metrics = nullptr);
  ~Server();

  // Opens server.listen (and server.tls.listen). With server.tls, loads the certificate first.
  boost::system::result<void> listen();
  std::uint16_t port() const;      // server.listen's port
  std::uint16_t tls_port() const;  // the HTTPS port (server.listen's when it speaks HTTPS), 0 without TLS
  // What listen() opened, for the start-up line: "http://127.0.0.1:8080 and https://127.0.0.1:8443".
  std::string addresses() const;
  // Why listen() failed when the certificate could not be loaded.
  const std::string& tls_error() const;
  void start();
  // Closes the listener and every idle keep-alive connection; busy ones close after their request.
  void stop_accepting();
  // Waits (at most `grace`) until in-flight requests are answered and their connections closed.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);
  int open_connections() const;

  // Reload support. prepare_tls() loads the certificate, key and client CA named in `config.tls` and
  // returns what installs them for new connections (open ones keep theirs), or why it cannot.
  struct TlsPrepared {
    std::function<void()> install;
    std::string error;
  };
  TlsPrepared prepare_tls(const config::ServerConfig& config);
  // Limits, timeouts and rates of a reloaded config, for new connections and requests.
  void apply(const config::ServerConfig& config);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace shipgate::server
