#include "server/server.hpp"

#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"

#include "common/crypto.hpp"
#include "server/admission.hpp"
#include "server/limits.hpp"
#include "server/request_checks.hpp"
#include "server/tls_context.hpp"
#include "server/streamed.hpp"
#include "server/wire.hpp"

namespace shipgate::server {

using namespace wire;  // Asio, Beast and the stream types, as the wire helpers name them

namespace {

// A connection beyond the connection bounds may only ask for health; it gets this long to do so.
constexpr std::chrono::milliseconds kRestrictedHeaderTimeout{2'000};

// The outcome label of an answer the server gives itself, before any handler ran.
std::string_view own_outcome(int status) {
  switch (status) {
    case 413: return "too_large";
    case 503: return "unavailable";
    default: return "malformed";
  }
}

}  // namespace

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

  asio::awaitable<void> accept_loop(tcp::acceptor& from, bool use_tls) {
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

  // An error answered before the request could be read in full: the connection closes after it.
  template <class Stream>
  asio::awaitable<void> reject(Stream& stream, const config::ServerConfig& cfg, int status, std::string_view code,
                               std::string_view message, const std::string& rid,
                               const http::RouteInfo* route = nullptr) {
    // A pointer, not a defaulted object: GCC 12 mishandles class-type temporaries in co_await expressions.
    static const http::RouteInfo unmatched;
    count(route ? *route : unmatched, status, own_outcome(status));
    auto r = http::error_response(status, code, message);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    auto res = to_wire(r, 11, false, rid);
    const bool written = co_await write(stream, res, cfg);
    log_with(spdlog::level::info, {.request_id = rid}, "{} {}", status, message);
    if (written) co_await linger(lowest(stream));
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

  template <class Stream>
  asio::awaitable<void> session(std::shared_ptr<Stream> stream_ptr, const config::ServerConfig& cfg, int open) {
    Stream& stream = *stream_ptr;
    beast::tcp_stream& tcp_layer = lowest(stream);
    const std::string client = client_address(tcp_layer);
    const int from_client = per_client.open(client);
    struct Close {
      ClientConnections& counts;
      const std::string& address;
      ~Close() { counts.close(address); }
    } close_client{per_client, client};
    // Past either bound, a connection may still ask for health (probes must see a flooded daemon as
    // alive); anything else is answered 503.
    const bool restricted = open > cfg.max_connections || from_client > cfg.max_connections_per_client;
    if (restricted && metrics) metrics->refused(open > cfg.max_connections ? "connections" : "client_connections");
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
    const auto header_timeout = restricted ? std::min(cfg.header_timeout, kRestrictedHeaderTimeout) : cfg.header_timeout;

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // Wait for the first byte of the next request: the idle timeout applies, and a drain may close us.
      if (buffer.size() == 0) {
        if (draining && !first) break;
        set_idle(session_id, cancel_handle, true);
        if (draining && !first) break;  // the drain's sweep may have run just before we registered
        tcp_layer.expires_after(first ? header_timeout : cfg.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
        set_idle(session_id, nullptr, false);
        if (ec) break;  // timeout, peer closed, or drain: nothing to answer
        buffer.commit(n);
      }
      const std::string rid = request_id();
      const auto started = std::chrono::steady_clock::now();
      tcp_layer.expires_after(header_timeout);
      const std::size_t header_size = co_await read_raw_header(stream, buffer);
      if (header_size == 0) break;
      if (header_size > kHeaderLimit) {
        co_await reject(stream, cfg, 431, "header_too_large", "request header exceeds 16 KiB", rid);
        break;
      }
      if (has_obs_fold(std::string_view(static_cast<const char*>(buffer.data().data()), header_size))) {
        co_await reject(stream, cfg, 400, "malformed", "a header field continues on the next line (obs-fold)", rid);
        break;
      }
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(boost::none);
      {
        auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == beast::error::timeout) {
          log_with(spdlog::level::info, {.request_id = rid}, "closed: request header not complete within {} ms", header_timeout.count());
          break;
        }
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) break;
        if (ec) {
          const std::string why = "malformed HTTP request: " + ec.message();
          co_await reject(stream, cfg, 400, "malformed", why, rid);
          break;
        }
      }
      auto& header = parser.get();
      if (!transfer_encoding_acceptable(field_values(header, bhttp::field::transfer_encoding))) {
        co_await reject(stream, cfg, 400, "malformed",
                        "Transfer-Encoding must be exactly 'chunked' (or absent, with Content-Length)", rid);
        break;
      }
      http::Request req;
      req.over_tls = std::is_same_v<Stream, TlsStream>;
      req.method = std::string(header.method_string());
      const std::string_view target = header.target();
      const auto q = target.find('?');
      req.path = std::string(target.substr(0, q));
      if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
      for (const auto& f : header) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      const bool canonical = is_canonical_path(req.path);
      // Once per request, before the body: its limit, the metrics labels, the limits that apply.
      const auto route = canonical ? service.classify(req) : http::RouteInfo{};
      if (restricted && !(route.probe && req.method == "GET")) {
        // Named first: GCC 12 mishandles class-type temporaries in co_await expressions.
        const std::string why = open > cfg.max_connections ? "too many open connections"
                                                           : "too many open connections from " + client;
        co_await reject(stream, cfg, 503, "overloaded", why, rid);
        break;
      }
      const std::size_t limit = route.kind == http::RouteKind::webhook ? cfg.max_body : cfg.max_api_body;
      if (parser.content_length() && *parser.content_length() > limit) {
        const std::string why = "body of " + std::to_string(*parser.content_length()) +
                                " bytes exceeds the limit of " + std::to_string(limit) + " bytes";
        co_await reject(stream, cfg, 413, "too_large", why, rid, &route);
        break;
      }
      parser.body_limit(limit);
      BodyShare body_share{body_memory};
      if (parser.content_length() && !body_share.grow_to(*parser.content_length())) {
        if (metrics) metrics->refused("body_memory");
        co_await reject(stream, cfg, 503, "overloaded", "too many request bodies in memory; retry shortly", rid, &route);
        break;
      }
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
        if (!co_await write(stream, cont, cfg)) break;
      }
      tcp_layer.expires_after(cfg.body_timeout);
      // Read piece by piece: a chunked body takes its share of the body memory as it grows.
      bool body_read = true;
      while (!parser.is_done()) {
        auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (!ec && body_share.grow_to(parser.get().body().capacity())) continue;
        body_read = false;
        if (!ec) {
          if (metrics) metrics->refused("body_memory");
          co_await reject(stream, cfg, 503, "overloaded", "too many request bodies in memory; retry shortly", rid,
                          &route);
        } else if (ec == bhttp::error::body_limit) {
          const std::string why = "body exceeds the limit of " + std::to_string(limit) + " bytes";
          co_await reject(stream, cfg, 413, "too_large", why, rid, &route);
        } else if (ec == beast::error::timeout) {
          // The stream closed the socket when its deadline passed: nothing can be answered.
          log_with(spdlog::level::info, {.request_id = rid}, "closed: request body not complete within {} ms", cfg.body_timeout.count());
        } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
                   ec != ssl::error::stream_truncated) {
          const std::string why = "malformed HTTP request body: " + ec.message();
          co_await reject(stream, cfg, 400, "malformed", why, rid);
        }
        break;
      }
      if (!body_read) break;
      auto msg = parser.release();
      req.body = std::move(msg.body());
      req.request_id = rid;

      http::Response res;
      // Behind a trusted reverse proxy, the limits are per client it names, not per proxy.
      const std::string limited_client = config::client_address(client, req.header("X-Forwarded-For"), cfg.trusted_proxies);
      // Counts the request while it is handled, not while its answer is written: a client that has
      // its answer must find the slot free for its next request.
      const bool over_bound = ++inflight > cfg.max_inflight;
      if (over_bound && !restricted) {
        // GitHub shows a failed delivery that can be redelivered; clients retry after the hint.
        if (metrics) metrics->refused("inflight");
        res = http::error_response(503, "overloaded", "too many requests in progress; retry shortly");
        res.headers.emplace_back("Retry-After", "1");
        res.outcome = "unavailable";
      } else if (!canonical) {
        res = http::error_response(404, "not_found",
                                   "no route for " + req.path + " (paths have no empty, '.' or '..' segments "
                                   "and no trailing '/')");
      } else if (auto refusal = route.limited ? admission.check(limited_client) : std::nullopt) {
        res = std::move(*refusal);
      } else {
        try {
          res = co_await service.handle(req);
        } catch (const std::exception& e) {
          log_with(spdlog::level::err, {.request_id = rid}, "handler failed: {}", e.what());
          res = http::error_response(500, "internal", "internal error; see the server log for request " + rid);
        }
        // A wrong token counts against the address: guessing tokens soon meets 429.
        if (res.failed_authentication && route.limited)
          if (auto locked = admission.failed_authentication(limited_client)) res = std::move(*locked);
        // The store could not take the write (its queue is full, or the disk failed): nothing accepted.
        if (res.outcome == "unavailable" && metrics) metrics->refused("store");
      }
      --inflight;
      // Over HTTPS, browsers are told to keep to it (a page's cookie never goes out in the clear).
      if (req.over_tls) res.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
      count(route, res.status, res.outcome);
      if (res.stream) {
        log_with(spdlog::level::info, {.request_id = rid}, "{} {} {} streaming", req.method, req.path, res.status);
        co_await write_streamed(stream, res, msg.version(), rid, cfg);
        break;
      }
      const bool keep_alive = msg.keep_alive() && !draining && !restricted;
      auto wire = to_wire(res, msg.version(), keep_alive, rid);
      const bool written = co_await write(stream, wire, cfg);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      log_with(spdlog::level::info, {.request_id = rid}, "{} {} {} {:.1f}ms", req.method, req.path, res.status, us.count() / 1000.0);
      if (!written || !keep_alive) break;
      first = false;
    }
    co_await close(stream);
  }

};

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
