#include "server/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "common/crypto.hpp"

namespace shipgate::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
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

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& ioc, config::ServerConfig cfg, const handlers::Router& router, const std::atomic<bool>& draining,
       Metrics* metrics)
      : ioc(ioc), cfg(std::move(cfg)), router(router), draining(draining), metrics(metrics), acceptor(ioc),
        id_prefix(random_hex(4)) {}

  asio::io_context& ioc;
  config::ServerConfig cfg;
  const handlers::Router& router;
  const std::atomic<bool>& draining;
  Metrics* metrics;
  tcp::acceptor acceptor;
  std::string id_prefix;
  std::atomic<std::uint64_t> next_request{0};
  std::atomic<int> connections{0};

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

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and similar: pause briefly instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(std::move(socket)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("session ended by exception: {}", ex.what());
        }
      });
    }
  }

  template <class Message>
  asio::awaitable<bool> write(beast::tcp_stream& stream, Message& msg) {
    stream.expires_after(cfg.write_timeout);
    auto [ec, n] = co_await http::async_write(stream, msg, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  // An error answered before the request could be read in full: the connection closes after it.
  asio::awaitable<void> reject(beast::tcp_stream& stream, int status, std::string_view code, std::string_view message,
                               const std::string& rid, const handlers::Router::RouteInfo* route = nullptr,
                               std::string_view event = "") {
    // A pointer, not a defaulted object: GCC 12 mishandles class-type temporaries in co_await expressions.
    static const handlers::Router::RouteInfo unmatched;
    count(route ? *route : unmatched, event, status, false);
    auto r = handlers::error_response(status, code, message);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    auto res = to_wire(r, 11, false, rid);
    const bool written = co_await write(stream, res);
    spdlog::info("[{}] {} {}", rid, status, message);
    if (written) co_await linger(stream);
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

  asio::awaitable<void> session(tcp::socket socket) {
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
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    if (open > cfg.max_connections) {
      const std::string rid = request_id();
      co_await reject(*stream, 503, "overloaded", "too many open connections", rid);
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

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // Wait for the first byte of the next request: the idle timeout applies, and a drain may close us.
      if (buffer.size() == 0) {
        if (draining && !first) break;
        set_idle(session_id, stream, true);
        if (draining && !first) break;  // the drain's sweep may have run just before we registered
        stream->expires_after(first ? cfg.header_timeout : cfg.idle_timeout);
        auto [ec, n] = co_await stream->async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
        set_idle(session_id, stream, false);
        if (ec) break;  // timeout, peer closed, or drain: nothing to answer
        buffer.commit(n);
      }
      const std::string rid = request_id();
      const auto started = std::chrono::steady_clock::now();
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(boost::none);
      stream->expires_after(cfg.header_timeout);
      {
        auto [ec, n] = co_await http::async_read_header(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == beast::error::timeout) {
          spdlog::info("[{}] closed: request header not complete within {} ms", rid, cfg.header_timeout.count());
          break;
        }
        if (ec == http::error::header_limit) {
          co_await reject(*stream, 431, "header_too_large", "request header exceeds 16 KiB", rid);
          break;
        }
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) break;
        if (ec) {
          const std::string why = "malformed HTTP request: " + ec.message();
          co_await reject(*stream, 400, "malformed", why, rid);
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
        co_await reject(*stream, 413, "too_large", why, rid, &route, header["X-GitHub-Event"]);
        break;
      }
      parser.body_limit(limit);
      if (beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, header.version()};
        if (!co_await write(*stream, cont)) break;
      }
      stream->expires_after(cfg.body_timeout);
      {
        auto [ec, n] = co_await http::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == http::error::body_limit) {
          const std::string why = "body exceeds the limit of " + std::to_string(limit) + " bytes";
          co_await reject(*stream, 413, "too_large", why, rid, &route, header["X-GitHub-Event"]);
          break;
        }
        if (ec == beast::error::timeout) {
          // The stream closed the socket when its deadline passed: nothing can be answered.
          spdlog::info("[{}] closed: request body not complete within {} ms", rid, cfg.body_timeout.count());
          break;
        }
        if (ec) {
          if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset)
          {
            const std::string why = "malformed HTTP request body: " + ec.message();
            co_await reject(*stream, 400, "malformed", why, rid);
          }
          break;
        }
      }
      auto msg = parser.release();
      for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      req.body = std::move(msg.body());
      req.request_id = rid;

      handlers::Response res;
      try {
        res = co_await handlers::dispatch(router, req);
      } catch (const std::exception& e) {
        spdlog::error("[{}] handler failed: {}", rid, e.what());
        res = handlers::error_response(500, "internal", "internal error; see the server log for request " + rid);
      }
      count(route, req.header("X-GitHub-Event"), res.status,
            [&] {
              for (const auto& [k, v] : res.headers)
                if (k == "X-Shipgate-Duplicate") return true;
              return false;
            }());
      const bool keep_alive = msg.keep_alive() && !draining;
      auto wire = to_wire(res, msg.version(), keep_alive, rid);
      const bool written = co_await write(*stream, wire);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      spdlog::info("[{}] {} {} {} {:.1f}ms", rid, req.method, req.path, res.status, us.count() / 1000.0);
      if (!written || !keep_alive) break;
      first = false;
    }
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
  }
};

Server::Server(asio::io_context& ioc, config::ServerConfig config, const handlers::Router& router,
               const std::atomic<bool>& draining, Metrics* metrics)
    : impl_(std::make_shared<Impl>(ioc, std::move(config), router, draining, metrics)) {}

Server::~Server() = default;

boost::system::result<void> Server::listen() {
  error_code ec;
  const auto address = asio::ip::make_address(impl_->cfg.host, ec);
  if (ec) return ec;
  const tcp::endpoint ep(address, impl_->cfg.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (ec) return ec;
  a.set_option(asio::socket_base::reuse_address(true), ec);
  a.bind(ep, ec);
  if (ec) return ec;
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  return {};
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), [impl = impl_]() { return impl->accept_loop(); }, asio::detached);
}

void Server::stop_accepting() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ignored;
    impl->acceptor.close(ignored);
  });
  // Sessions check `draining` before waiting for another request; these are already waiting.
  std::lock_guard lock(impl_->idle_mutex);
  for (auto& [id, stream] : impl_->idle) asio::post(stream->get_executor(), [stream] { stream->cancel(); });
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
