#include "server/server.hpp"

#include <spdlog/spdlog.h>

#include "server/server_impl.hpp"
#include "server/tls_context.hpp"

namespace shipgate::server {

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& from, bool use_tls) {
  // Out of descriptors (EMFILE) and similar: the pending connection stays in the backlog, so accepting
  // again at once would fail again. Pause, doubling up to a second, and report once per 10 s.
  std::chrono::milliseconds pause{10};
  std::chrono::steady_clock::time_point reported{};
  int unreported = 0;
  for (;;) {
    // A session's reads, writes and timer need a strand only when several threads run the io_context.
    const asio::any_io_executor session_ex =
        initial.threads > 1 ? asio::any_io_executor(asio::make_strand(ioc)) : asio::any_io_executor(ioc.get_executor());
    auto [ec, socket] = co_await from.async_accept(session_ex, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !from.is_open()) co_return;
    if (ec) {
      if (metrics) metrics->refused("accept_failed");
      ++unreported;
      const auto now = std::chrono::steady_clock::now();
      if (now - reported >= std::chrono::seconds(10)) {
        spdlog::warn("accept failed: {} ({} time(s) since the last report); pausing accepts for up to 1 s "
                     "(raise the open files limit, or lower server.max_connections)",
                     ec.message(), unreported);
        reported = now;
        unreported = 0;
      }
      asio::steady_timer t(ioc, pause);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(1));
      continue;
    }
    pause = std::chrono::milliseconds(10);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, start_session(std::move(socket), use_tls), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("session ended by exception: {}", ex.what());
      }
    });
  }
}

asio::awaitable<void> Server::Impl::start_session(tcp::socket socket, bool use_tls) {
  const int open = ++connections;
  if (metrics) metrics->connection_opened();
  struct Count {
    std::atomic<int>& n;
    Metrics* metrics;
    ~Count() {
      --n;
      if (metrics) metrics->connection_closed();
    }
  } open_count{connections, metrics};
  const auto cfg = settings();  // one connection keeps the settings it started with
  if (!use_tls) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    co_await serve(stream, *cfg, open);
    co_return;
  }
  auto ctx = tls_context();
  auto stream = std::make_shared<TlsStream>(beast::tcp_stream(std::move(socket)), *ctx);
  lowest(*stream).expires_after(cfg->header_timeout);
  auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    // Plain HTTP to the TLS port, no client certificate, an old protocol, or a timeout.
    spdlog::info("TLS handshake with {} failed: {}", client_address(lowest(*stream)), ec.message());
    lowest(*stream).close();
    co_return;
  }
  co_await serve(stream, *cfg, open);
}

Server::Server(asio::io_context& ioc, config::ServerConfig config, const http::Service& service,
               const std::atomic<bool>& draining, Metrics* metrics)
    : impl_(std::make_shared<Impl>(ioc, std::move(config), service, draining, metrics)) {}

Server::~Server() = default;

boost::system::result<void> Server::listen() {
  auto& impl = *impl_;
  const auto& cfg = impl.initial;
  if (cfg.tls) {
    auto prepared = prepare_tls(cfg);
    if (!prepared.error.empty()) {
      impl.tls_failure = prepared.error;
      return make_error_code(boost::system::errc::invalid_argument);
    }
    prepared.install();
    impl.main_is_tls = cfg.tls->listen.empty();
  }
  if (auto ec = open_acceptor(impl.acceptor, cfg.host, cfg.port)) return ec;
  if (cfg.tls && !cfg.tls->listen.empty())
    if (auto ec = open_acceptor(impl.tls_acceptor, cfg.tls->host, cfg.tls->port)) return ec;
  return {};
}

const std::string& Server::tls_error() const { return impl_->tls_failure; }

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::uint16_t Server::tls_port() const {
  if (impl_->main_is_tls) return port();
  return impl_->tls_acceptor.is_open() ? impl_->tls_acceptor.local_endpoint().port() : 0;
}

std::string Server::addresses() const {
  const auto& cfg = impl_->initial;
  std::string out = std::string(impl_->main_is_tls ? "https://" : "http://") + cfg.host + ":" + std::to_string(port());
  if (impl_->tls_acceptor.is_open()) out += " and https://" + cfg.tls->host + ":" + std::to_string(tls_port());
  return out;
}

void Server::start() {
  const bool main_tls = impl_->main_is_tls;
  asio::co_spawn(impl_->acceptor.get_executor(),
                 [impl = impl_, main_tls]() { return impl->accept_loop(impl->acceptor, main_tls); }, asio::detached);
  if (impl_->tls_acceptor.is_open())
    asio::co_spawn(impl_->tls_acceptor.get_executor(),
                   [impl = impl_]() { return impl->accept_loop(impl->tls_acceptor, true); }, asio::detached);
}

void Server::stop_accepting() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ignored;
    impl->acceptor.close(ignored);
    impl->tls_acceptor.close(ignored);
  });
  // Sessions check `draining` before waiting for another request; these are already waiting.
  std::lock_guard lock(impl_->idle_mutex);
  for (auto& entry : impl_->idle) {
    auto stream = entry.second;  // named: clang 14 cannot capture a structured binding
    asio::post(stream->get_executor(), [stream] { stream->cancel(); });
  }
}

Server::TlsPrepared Server::prepare_tls(const config::ServerConfig& config) {
  TlsPrepared out;
  if (!config.tls) {
    out.install = [] {};
    return out;
  }
  std::string why;
  auto ctx = make_tls_context(*config.tls, why);
  if (!ctx) {
    out.error = why;
    return out;
  }
  out.install = [impl = impl_, ctx = *ctx] {
    std::lock_guard lock(impl->settings_mutex);
    impl->tls = ctx;
  };
  return out;
}

void Server::apply(const config::ServerConfig& config) {
  auto next = std::make_shared<config::ServerConfig>(config);
  // Addresses and threads cannot change without a restart: keep what is running.
  next->listen = impl_->initial.listen;
  next->host = impl_->initial.host;
  next->port = impl_->initial.port;
  next->threads = impl_->initial.threads;
  impl_->admission.configure(config);
  impl_->body_memory.set_limit(config.max_body_memory);
  std::lock_guard lock(impl_->settings_mutex);
  impl_->current = std::move(next);
}

asio::awaitable<void> Server::drain(std::chrono::milliseconds grace) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->connections > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

int Server::open_connections() const { return impl_->connections; }

}  // namespace shipgate::server
