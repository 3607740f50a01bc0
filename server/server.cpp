#include "server/server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "common/crypto.hpp"
#include "common/rate_limiter.hpp"

namespace shipgate::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using boost::system::error_code;

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;

http::response<http::string_body> to_wire(const handlers::Response& r, unsigned version, bool keep_alive,
                                          const std::string& request_id) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "shipgate");
  res.set(http::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string openssl_reason(const error_code& ec) {
  std::string why = ec.message();
  if (const unsigned long e = ::ERR_get_error()) {
    char buf[256];
    ::ERR_error_string_n(e, buf, sizeof buf);
    why += " (" + std::string(buf) + ")";
  }
  return why;
}

// A server context for TLS 1.2 and newer, with the certificate chain and key, and client
// certificates required when a client CA is configured.
boost::system::result<std::shared_ptr<ssl::context>> make_tls_context(const config::ServerTlsConfig& t, std::string& why) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  ::SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  ctx->use_certificate_chain_file(t.cert, ec);
  if (ec) {
    why = "cannot load certificate " + t.cert + ": " + openssl_reason(ec);
    return ec;
  }
  ctx->use_private_key_file(t.key, ssl::context::pem, ec);
  if (ec) {
    why = "cannot load private key " + t.key + ": " + openssl_reason(ec);
    return ec;
  }
  if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    why = "private key " + t.key + " does not match certificate " + t.cert;
    return make_error_code(boost::system::errc::invalid_argument);
  }
  if (!t.client_ca.empty()) {
    ctx->load_verify_file(t.client_ca, ec);
    if (ec) {
      why = "cannot load client CA " + t.client_ca + ": " + openssl_reason(ec);
      return ec;
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(TlsStream& s) { return beast::get_lowest_layer(s); }

std::string client_address(beast::tcp_stream& s) {
  error_code ec;
  auto ep = s.socket().remote_endpoint(ec);
  return ec ? std::string("unknown") : ep.address().to_string();
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& ioc, config::ServerConfig c, const handlers::Router& router, const std::atomic<bool>& draining,
       Metrics* metrics)
      : ioc(ioc), initial(std::move(c)), router(router), draining(draining), metrics(metrics), acceptor(ioc),
        tls_acceptor(ioc), id_prefix(random_hex(4)),
        api_rate(initial.api_rate, initial.api_burst),
        auth_failures(initial.auth_failures_per_minute / 60.0, initial.auth_failures_per_minute) {
    current = std::make_shared<const config::ServerConfig>(initial);
  }

  asio::io_context& ioc;
  const config::ServerConfig initial;  // addresses and threads: fixed until a restart
  const handlers::Router& router;
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
  RateLimiter api_rate;
  RateLimiter auth_failures;

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
  void count(const handlers::Router::RouteInfo& route, std::string_view event, int status, bool duplicate) {
    if (!metrics) return;
    metrics->http_request(route.pattern, status);
    if (route.kind != handlers::RouteKind::webhook) return;
    const char* outcome = status == 202                 ? (duplicate ? "duplicate" : "accepted")
                          : status == 200               ? (duplicate ? "duplicate" : "ignored")
                          : status == 401               ? "bad_signature"
                          : status == 400 || status == 415 ? "malformed"
                          : status == 413               ? "too_large"
                          : status == 503               ? "unavailable"
                                                        : "other";
    metrics->webhook(route.pattern == "/webhooks/build" ? std::string_view("build") : event, outcome);
  }

  void set_idle(std::uint64_t id, const std::shared_ptr<beast::tcp_stream>& stream, bool is_idle) {
    std::lock_guard lock(idle_mutex);
    if (is_idle) idle[id] = stream;
    else idle.erase(id);
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& from, bool use_tls) {
    for (;;) {
      // A session's reads, writes and timer need a strand only when several threads run the io_context.
      const asio::any_io_executor session_ex =
          initial.threads > 1 ? asio::any_io_executor(asio::make_strand(ioc)) : asio::any_io_executor(ioc.get_executor());
      auto [ec, socket] = co_await from.async_accept(session_ex, asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !from.is_open()) co_return;
      if (ec) {
        // Out of descriptors and similar: pause briefly instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
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

  template <class Stream, class Message>
  asio::awaitable<bool> write(Stream& stream, Message& msg, const config::ServerConfig& cfg) {
    lowest(stream).expires_after(cfg.write_timeout);
    auto [ec, n] = co_await http::async_write(stream, msg, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  // An error answered before the request could be read in full: the connection closes after it.
  template <class Stream>
  asio::awaitable<void> reject(Stream& stream, const config::ServerConfig& cfg, int status, std::string_view code,
                               std::string_view message, const std::string& rid,
                               const handlers::Router::RouteInfo* route = nullptr, std::string_view event = "") {
    // A pointer, not a defaulted object: GCC 12 mishandles class-type temporaries in co_await expressions.
    static const handlers::Router::RouteInfo unmatched;
    count(route ? *route : unmatched, event, status, false);
    auto r = handlers::error_response(status, code, message);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    auto res = to_wire(r, 11, false, rid);
    const bool written = co_await write(stream, res, cfg);
    spdlog::info("[{}] {} {}", rid, status, message);
    if (written) co_await linger(lowest(stream));
  }

  // Closing while the client is still sending (say, the rest of a body we refused) makes the kernel
  // reset the connection, and the client may never read our answer. So: stop sending, then read and
  // discard for a bounded time and amount before the close.
  static asio::awaitable<void> linger(beast::tcp_stream& stream) {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16384> discard;
    std::size_t total = 0;
    while (total < (64u << 20)) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(discard), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      total += n;
    }
  }

  asio::awaitable<void> start_session(tcp::socket socket, bool use_tls) {
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
      co_await session(stream, *cfg, open);
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
    co_await session(stream, *cfg, open);
  }

  // Answers before the handler runs when the daemon must protect itself or a client exceeds its
  // rate. Returns the refusal or nothing.
  std::optional<handlers::Response> admission(const std::string& path, const std::string& client) {
    if (path.rfind("/api/", 0) != 0) return std::nullopt;
    const auto now = RateLimiter::Clock::now();
    if (const int wait = auth_failures.wait_needed(client, now)) {
      if (metrics) metrics->refused("auth_failures");
      auto r = handlers::error_response(429, "too_many_failures",
                                        "too many failed authentications from " + client + "; try again later");
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
    if (const int wait = api_rate.take(client, now)) {
      if (metrics) metrics->refused("api_rate");
      auto r = handlers::error_response(429, "rate_limited", "too many API requests from " + client);
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
    return std::nullopt;
  }

  template <class Stream>
  asio::awaitable<void> session(std::shared_ptr<Stream> stream_ptr, const config::ServerConfig& cfg, int open) {
    Stream& stream = *stream_ptr;
    beast::tcp_stream& tcp_layer = lowest(stream);
    const std::string client = client_address(tcp_layer);
    if (open > cfg.max_connections) {
      const std::string rid = request_id();
      if (metrics) metrics->refused("connections");
      co_await reject(stream, cfg, 503, "overloaded", "too many open connections", rid);
      co_return;
    }
    std::uint64_t session_id;
    {
      std::lock_guard lock(idle_mutex);
      session_id = ++next_session;
    }
    struct Unregister {
      Impl& impl;
      std::uint64_t id;
      ~Unregister() { impl.set_idle(id, nullptr, false); }
    } unregister{*this, session_id};
    // The drain cancels idle sessions through their TCP layer, whatever runs on top of it.
    const std::shared_ptr<beast::tcp_stream> cancel_handle(stream_ptr, &tcp_layer);

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // Wait for the first byte of the next request: the idle timeout applies, and a drain may close us.
      if (buffer.size() == 0) {
        if (draining && !first) break;
        set_idle(session_id, cancel_handle, true);
        if (draining && !first) break;  // the drain's sweep may have run just before we registered
        tcp_layer.expires_after(first ? cfg.header_timeout : cfg.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
        set_idle(session_id, nullptr, false);
        if (ec) break;  // timeout, peer closed, or drain: nothing to answer
        buffer.commit(n);
      }
      const std::string rid = request_id();
      const auto started = std::chrono::steady_clock::now();
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(boost::none);
      tcp_layer.expires_after(cfg.header_timeout);
      {
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == beast::error::timeout) {
          spdlog::info("[{}] closed: request header not complete within {} ms", rid, cfg.header_timeout.count());
          break;
        }
        if (ec == http::error::header_limit) {
          co_await reject(stream, cfg, 431, "header_too_large", "request header exceeds 16 KiB", rid);
          break;
        }
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) break;
        if (ec) {
          const std::string why = "malformed HTTP request: " + ec.message();
          co_await reject(stream, cfg, 400, "malformed", why, rid);
          break;
        }
      }
      auto& header = parser.get();
      handlers::Request req;
      req.method = std::string(header.method_string());
      const std::string_view target = header.target();
      const auto q = target.find('?');
      req.path = std::string(target.substr(0, q));
      if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
      const auto route = router.classify(req.path);  // once per request: body limit and metrics label
      const auto kind = route.kind;
      const std::size_t limit = kind == handlers::RouteKind::webhook ? cfg.max_body : cfg.max_api_body;
      if (parser.content_length() && *parser.content_length() > limit) {
        const std::string why = "body of " + std::to_string(*parser.content_length()) +
                                " bytes exceeds the limit of " + std::to_string(limit) + " bytes";
        co_await reject(stream, cfg, 413, "too_large", why, rid, &route, header["X-GitHub-Event"]);
        break;
      }
      parser.body_limit(limit);
      if (beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, header.version()};
        if (!co_await write(stream, cont, cfg)) break;
      }
      tcp_layer.expires_after(cfg.body_timeout);
      {
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == http::error::body_limit) {
          const std::string why = "body exceeds the limit of " + std::to_string(limit) + " bytes";
          co_await reject(stream, cfg, 413, "too_large", why, rid, &route, header["X-GitHub-Event"]);
          break;
        }
        if (ec == beast::error::timeout) {
          // The stream closed the socket when its deadline passed: nothing can be answered.
          spdlog::info("[{}] closed: request body not complete within {} ms", rid, cfg.body_timeout.count());
          break;
        }
        if (ec) {
          if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
              ec != ssl::error::stream_truncated) {
            const std::string why = "malformed HTTP request body: " + ec.message();
            co_await reject(stream, cfg, 400, "malformed", why, rid);
          }
          break;
        }
      }
      auto msg = parser.release();
      for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      req.body = std::move(msg.body());
      req.request_id = rid;

      handlers::Response res;
      // Counts the request while it is handled, not while its answer is written: a client that has
      // its answer must find the slot free for its next request.
      const bool over_bound = ++inflight > cfg.max_inflight;
      if (over_bound) {
        // GitHub shows a failed delivery that can be redelivered; clients retry after the hint.
        if (metrics) metrics->refused("inflight");
        res = handlers::error_response(503, "overloaded", "too many requests in progress; retry shortly");
        res.headers.emplace_back("Retry-After", "1");
      } else if (auto refusal = admission(req.path, client)) {
        res = std::move(*refusal);
      } else {
        try {
          res = co_await handlers::dispatch(router, req);
        } catch (const std::exception& e) {
          spdlog::error("[{}] handler failed: {}", rid, e.what());
          res = handlers::error_response(500, "internal", "internal error; see the server log for request " + rid);
        }
        // A wrong token counts against the address: guessing tokens soon meets 429.
        if (res.status == 401 && req.path.rfind("/api/", 0) == 0)
          auth_failures.take(client, RateLimiter::Clock::now());
        // The store could not take the write (its queue is full, or the disk failed): nothing accepted.
        if (res.status == 503 && metrics && route.kind == handlers::RouteKind::webhook) metrics->refused("store");
      }
      --inflight;
      count(route, req.header("X-GitHub-Event"), res.status,
            [&] {
              for (const auto& [k, v] : res.headers)
                if (k == "X-Shipgate-Duplicate") return true;
              return false;
            }());
      const bool keep_alive = msg.keep_alive() && !draining;
      auto wire = to_wire(res, msg.version(), keep_alive, rid);
      const bool written = co_await write(stream, wire, cfg);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      spdlog::info("[{}] {} {} {} {:.1f}ms", rid, req.method, req.path, res.status, us.count() / 1000.0);
      if (!written || !keep_alive) break;
      first = false;
    }
    co_await close(stream);
  }

  static asio::awaitable<void> close(beast::tcp_stream& stream) {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
    co_return;
  }

  static asio::awaitable<void> close(TlsStream& stream) {
    // close_notify, briefly: a client that vanished must not hold the session.
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    beast::get_lowest_layer(stream).close();
  }
};

Server::Server(asio::io_context& ioc, config::ServerConfig config, const handlers::Router& router,
               const std::atomic<bool>& draining, Metrics* metrics)
    : impl_(std::make_shared<Impl>(ioc, std::move(config), router, draining, metrics)) {}

Server::~Server() = default;

namespace {

error_code open_acceptor(tcp::acceptor& a, const std::string& host, std::uint16_t port) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  const tcp::endpoint ep(address, port);
  a.open(ep.protocol(), ec);
  if (ec) return ec;
  a.set_option(asio::socket_base::reuse_address(true), ec);
  a.bind(ep, ec);
  if (ec) return ec;
  a.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

}  // namespace

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
  impl_->api_rate.configure(config.api_rate, config.api_burst);
  impl_->auth_failures.configure(config.auth_failures_per_minute / 60.0, config.auth_failures_per_minute);
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
