// The server's shared state, seen by the listener (server.cpp) and by each connection (session.cpp).
// Beast and Asio: include only from the server's own sources.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/crypto.hpp"
#include "server/admission.hpp"
#include "server/limits.hpp"
#include "server/server.hpp"
#include "server/wire.hpp"

namespace shipgate::server {

using namespace wire;  // Asio, Beast and the stream types, as the wire helpers name them

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& ioc, config::ServerConfig c, const http::Service& service, const std::atomic<bool>& draining,
       Metrics* metrics)
      : ioc(ioc), initial(std::move(c)), service(service), draining(draining), metrics(metrics), acceptor(ioc),
        tls_acceptor(ioc), id_prefix(random_hex(4)),
        admission(initial, metrics),
        body_memory(initial.max_body_memory) {
    current = std::make_shared<const config::ServerConfig>(initial);
  }

  asio::io_context& ioc;
  const config::ServerConfig initial;  // addresses and threads: fixed until a restart
  const http::Service& service;
  const std::atomic<bool>& draining;
  Metrics* metrics;
  tcp::acceptor acceptor;       // server.listen: HTTP, or HTTPS when server.tls has no listen of its own
  tcp::acceptor tls_acceptor;   // server.tls.listen, when set
  bool main_is_tls = false;
  std::string tls_failure;
  std::string id_prefix;
  std::atomic<std::uint64_t> next_request{0};
  std::atomic<int> connections{0};
  std::atomic<int> inflight{0};
  Admission admission;
  BodyMemory body_memory;
  ClientConnections per_client;

  // Settings that a reload may change, and the TLS context for new connections.
  mutable std::mutex settings_mutex;
  std::shared_ptr<const config::ServerConfig> current;
  std::shared_ptr<ssl::context> tls;

  std::shared_ptr<const config::ServerConfig> settings() const {
    std::lock_guard lock(settings_mutex);
    return current;
  }
  std::shared_ptr<ssl::context> tls_context() const {
    std::lock_guard lock(settings_mutex);
    return tls;
  }

  // Sessions waiting for their next request, so a drain can close them at once.
  std::mutex idle_mutex;
  std::uint64_t next_session = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<beast::tcp_stream>> idle;

  std::string request_id() { return id_prefix + "-" + std::to_string(++next_request); }

  // Counts an answered request by route and status, and webhooks by event and outcome.
  void count(const http::RouteInfo& route, int status, std::string_view outcome) {
    if (!metrics) return;
    metrics->http_request(route.label, status);
    if (route.kind == http::RouteKind::webhook && !outcome.empty()) metrics->webhook(route.webhook_event, outcome);
  }

  void set_idle(std::uint64_t id, const std::shared_ptr<beast::tcp_stream>& stream, bool is_idle) {
    std::lock_guard lock(idle_mutex);
    if (is_idle) idle[id] = stream;
    else idle.erase(id);
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& from, bool use_tls);
  asio::awaitable<void> start_session(tcp::socket socket, bool use_tls);
  // Serves one connection's requests until it closes (session.cpp). `open` counts it among the open ones.
  asio::awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream, const config::ServerConfig& cfg, int open);
  asio::awaitable<void> serve(std::shared_ptr<TlsStream> stream, const config::ServerConfig& cfg, int open);

  template <class Stream>
  class Connection;
};

}  // namespace shipgate::server
