// One connection's requests, in order: wait for the next request, read and check its header, admit it
// (connection bounds, body limits, body memory), read its body, have the service answer it, write the
// answer. Any step that cannot go on answers what it can and closes the connection.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "server/request_checks.hpp"
#include "server/server_impl.hpp"
#include "server/streamed.hpp"

namespace shipgate::server {

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

bool closed_by_peer(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset;
}

using Parser = bhttp::request_parser<bhttp::string_body>;

}  // namespace

template <class Stream>
class Server::Impl::Connection {
 public:
  Connection(Impl& impl, std::shared_ptr<Stream> stream, const config::ServerConfig& cfg, int open)
      : impl_(impl), stream_ptr_(std::move(stream)), stream_(*stream_ptr_), tcp_(lowest(stream_)), cfg_(cfg),
        open_(open), client_(client_address(tcp_)) {}

  asio::awaitable<void> run() {
    const int from_client = impl_.per_client.open(client_);
    struct Close {
      ClientConnections& counts;
      const std::string& address;
      ~Close() { counts.close(address); }
    } close_client{impl_.per_client, client_};
    // Past either bound, a connection may still ask for health (probes must see a flooded daemon as
    // alive); anything else is answered 503.
    restricted_ = open_ > cfg_.max_connections || from_client > cfg_.max_connections_per_client;
    if (restricted_ && impl_.metrics)
      impl_.metrics->refused(open_ > cfg_.max_connections ? "connections" : "client_connections");
    {
      std::lock_guard lock(impl_.idle_mutex);
      session_id_ = ++impl_.next_session;
    }
    struct Unregister {
      Impl& impl;
      std::uint64_t id;
      ~Unregister() { impl.set_idle(id, nullptr, false); }
    } unregister{impl_, session_id_};
    header_timeout_ = restricted_ ? std::min(cfg_.header_timeout, kRestrictedHeaderTimeout) : cfg_.header_timeout;
    // One `if` per step, not `while (co_await a() && co_await b())`: GCC 12 evaluates both operands of
    // a while condition's && when both are co_await expressions.
    for (;;) {
      if (!co_await next_request()) break;
      if (!co_await serve_request()) break;
      first_ = false;
    }
    co_await close(stream_);
  }

 private:
  // Waits for the first byte of the next request: the idle timeout applies, and a drain may close us.
  // False when the connection should close.
  asio::awaitable<bool> next_request() {
    if (buffer_.size() > 0) co_return true;
    if (impl_.draining && !first_) co_return false;
    // The drain cancels idle sessions through their TCP layer, whatever runs on top of it.
    const std::shared_ptr<beast::tcp_stream> cancel_handle(stream_ptr_, &tcp_);
    impl_.set_idle(session_id_, cancel_handle, true);
    if (impl_.draining && !first_) co_return false;  // the drain's sweep may have run just before we registered
    tcp_.expires_after(first_ ? header_timeout_ : cfg_.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), asio::as_tuple(asio::use_awaitable));
    impl_.set_idle(session_id_, nullptr, false);
    if (ec) co_return false;  // timeout, peer closed, or drain: nothing to answer
    buffer_.commit(n);
    co_return true;
  }

  // One request, read, answered and written. False when the connection should close after it.
  asio::awaitable<bool> serve_request() {
    rid_ = impl_.request_id();
    const auto started = std::chrono::steady_clock::now();
    Parser parser;
    if (!co_await read_header(parser)) co_return false;
    http::Request req = to_request(parser.get());
    const bool canonical = is_canonical_path(req.path);
    // Once per request, before the body: its limit, the metrics labels, the limits that apply.
    const auto route = canonical ? impl_.service.classify(req) : http::RouteInfo{};
    BodyShare body_share{impl_.body_memory};
    if (!co_await admit(parser, req, route, body_share)) co_return false;
    if (!co_await read_body(parser, route, body_share)) co_return false;
    auto msg = parser.release();
    req.body = std::move(msg.body());
    req.request_id = rid_;
    http::Response res = co_await answer(req, route, canonical);
    // Over HTTPS, browsers are told to keep to it (a page's cookie never goes out in the clear).
    if (req.over_tls) res.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
    impl_.count(route, res.status, res.outcome);
    if (res.stream) {
      log_with(spdlog::level::info, {.request_id = rid_}, "{} {} {} streaming", req.method, req.path, res.status);
      co_await write_streamed(stream_, res, msg.version(), rid_, cfg_);
      co_return false;
    }
    const bool keep_alive = msg.keep_alive() && !impl_.draining && !restricted_;
    auto wire = to_wire(res, msg.version(), keep_alive, rid_);
    const bool written = co_await write(stream_, wire, cfg_);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    log_with(spdlog::level::info, {.request_id = rid_}, "{} {} {} {:.1f}ms", req.method, req.path, res.status,
             us.count() / 1000.0);
    co_return written && keep_alive;
  }

  // The raw header checked (size, obs-fold), then parsed, then its Transfer-Encoding checked.
  asio::awaitable<bool> read_header(Parser& parser) {
    tcp_.expires_after(header_timeout_);
    const std::size_t header_size = co_await read_raw_header(stream_, buffer_);
    if (header_size == 0) co_return false;
    if (header_size > kHeaderLimit) {
      co_await reject(431, "header_too_large", "request header exceeds 16 KiB");
      co_return false;
    }
    if (has_obs_fold(std::string_view(static_cast<const char*>(buffer_.data().data()), header_size))) {
      co_await reject(400, "malformed", "a header field continues on the next line (obs-fold)");
      co_return false;
    }
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, parser, asio::as_tuple(asio::use_awaitable));
    if (ec == beast::error::timeout) {
      log_with(spdlog::level::info, {.request_id = rid_}, "closed: request header not complete within {} ms",
               header_timeout_.count());
      co_return false;
    }
    if (closed_by_peer(ec)) co_return false;
    if (ec) {
      const std::string why = "malformed HTTP request: " + ec.message();
      co_await reject(400, "malformed", why);
      co_return false;
    }
    if (!transfer_encoding_acceptable(field_values(parser.get(), bhttp::field::transfer_encoding))) {
      co_await reject(400, "malformed", "Transfer-Encoding must be exactly 'chunked' (or absent, with Content-Length)");
      co_return false;
    }
    co_return true;
  }

  http::Request to_request(const bhttp::request_header<>& header) const {
    http::Request req;
    req.over_tls = std::is_same_v<Stream, TlsStream>;
    req.method = std::string(header.method_string());
    const std::string_view target = header.target();
    const auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    for (const auto& f : header) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    return req;
  }

  // Before the body: the connection bounds, the declared length against the route's limit and the body
  // memory, and 100-continue. False when the request was refused (the connection closes).
  asio::awaitable<bool> admit(Parser& parser, const http::Request& req, const http::RouteInfo& route,
                              BodyShare& body_share) {
    if (restricted_ && !(route.probe && req.method == "GET")) {
      // Named first: GCC 12 mishandles class-type temporaries in co_await expressions.
      const std::string why = open_ > cfg_.max_connections ? "too many open connections"
                                                            : "too many open connections from " + client_;
      co_await reject(503, "overloaded", why);
      co_return false;
    }
    limit_ = route.kind == http::RouteKind::webhook ? cfg_.max_body : cfg_.max_api_body;
    const auto declared = parser.content_length();
    if (declared && *declared > limit_) {
      const std::string why = "body of " + std::to_string(*declared) + " bytes exceeds the limit of " +
                              std::to_string(limit_) + " bytes";
      co_await reject(413, "too_large", why, &route);
      co_return false;
    }
    parser.body_limit(limit_);
    if (declared && !body_share.grow_to(*declared)) {
      if (impl_.metrics) impl_.metrics->refused("body_memory");
      co_await reject(503, "overloaded", "too many request bodies in memory; retry shortly", &route);
      co_return false;
    }
    const auto& header = parser.get();
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
      if (!co_await write(stream_, cont, cfg_)) co_return false;
    }
    co_return true;
  }

  // Reads piece by piece: a chunked body takes its share of the body memory as it grows.
  asio::awaitable<bool> read_body(Parser& parser, const http::RouteInfo& route, BodyShare& body_share) {
    tcp_.expires_after(cfg_.body_timeout);
    while (!parser.is_done()) {
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser, asio::as_tuple(asio::use_awaitable));
      if (!ec && body_share.grow_to(parser.get().body().capacity())) continue;
      if (!ec) {
        if (impl_.metrics) impl_.metrics->refused("body_memory");
        co_await reject(503, "overloaded", "too many request bodies in memory; retry shortly", &route);
      } else if (ec == bhttp::error::body_limit) {
        const std::string why = "body exceeds the limit of " + std::to_string(limit_) + " bytes";
        co_await reject(413, "too_large", why, &route);
      } else if (ec == beast::error::timeout) {
        // The stream closed the socket when its deadline passed: nothing can be answered.
        log_with(spdlog::level::info, {.request_id = rid_}, "closed: request body not complete within {} ms",
                 cfg_.body_timeout.count());
      } else if (!closed_by_peer(ec) && ec != ssl::error::stream_truncated) {
        const std::string why = "malformed HTTP request body: " + ec.message();
        co_await reject(400, "malformed", why);
      }
      co_return false;
    }
    co_return true;
  }

  // The service's answer, unless the in-flight bound, the path or the admission refuses first.
  asio::awaitable<http::Response> answer(http::Request& req, const http::RouteInfo& route, bool canonical) {
    http::Response res;
    // Behind a trusted reverse proxy, the limits are per client it names, not per proxy.
    const std::string limited_client =
        config::client_address(client_, req.header("X-Forwarded-For"), cfg_.trusted_proxies);
    // Counts the request while it is handled, not while its answer is written: a client that has
    // its answer must find the slot free for its next request.
    const bool over_bound = ++impl_.inflight > cfg_.max_inflight;
    if (over_bound && !restricted_) {
      // GitHub shows a failed delivery that can be redelivered; clients retry after the hint.
      if (impl_.metrics) impl_.metrics->refused("inflight");
      res = http::error_response(503, "overloaded", "too many requests in progress; retry shortly");
      res.headers.emplace_back("Retry-After", "1");
      res.outcome = "unavailable";
    } else if (!canonical) {
      res = http::error_response(404, "not_found",
                                 "no route for " + req.path + " (paths have no empty, '.' or '..' segments "
                                 "and no trailing '/')");
    } else if (auto refusal = route.limited ? impl_.admission.check(limited_client) : std::nullopt) {
      res = std::move(*refusal);
    } else {
      res = co_await handled(req, route, limited_client);
    }
    --impl_.inflight;
    co_return res;
  }

  asio::awaitable<http::Response> handled(http::Request& req, const http::RouteInfo& route,
                                          const std::string& limited_client) {
    http::Response res;
    try {
      res = co_await impl_.service.handle(req);
    } catch (const std::exception& e) {
      log_with(spdlog::level::err, {.request_id = rid_}, "handler failed: {}", e.what());
      res = http::error_response(500, "internal", "internal error; see the server log for request " + rid_);
    }
    // A wrong token counts against the address: guessing tokens soon meets 429.
    if (res.failed_authentication && route.limited)
      if (auto locked = impl_.admission.failed_authentication(limited_client)) res = std::move(*locked);
    // The store could not take the write (its queue is full, or the disk failed): nothing accepted.
    if (res.outcome == "unavailable" && impl_.metrics) impl_.metrics->refused("store");
    co_return res;
  }

  // An error answered before the request could be read in full: the connection closes after it.
  asio::awaitable<void> reject(int status, std::string_view code, std::string_view message,
                               const http::RouteInfo* route = nullptr) {
    // A pointer, not a defaulted object: GCC 12 mishandles class-type temporaries in co_await expressions.
    static const http::RouteInfo unmatched;
    impl_.count(route ? *route : unmatched, status, own_outcome(status));
    auto r = http::error_response(status, code, message);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    auto res = to_wire(r, 11, false, rid_);
    const bool written = co_await write(stream_, res, cfg_);
    log_with(spdlog::level::info, {.request_id = rid_}, "{} {}", status, message);
    if (written) co_await linger(tcp_);
  }

  Impl& impl_;
  std::shared_ptr<Stream> stream_ptr_;
  Stream& stream_;
  beast::tcp_stream& tcp_;
  const config::ServerConfig& cfg_;
  const int open_;
  const std::string client_;
  bool restricted_ = false;
  bool first_ = true;
  std::uint64_t session_id_ = 0;
  std::chrono::milliseconds header_timeout_{};
  std::size_t limit_ = 0;  // the body limit of the request being read
  std::string rid_;        // the request being served
  beast::flat_buffer buffer_;
};

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<beast::tcp_stream> stream, const config::ServerConfig& cfg,
                                          int open) {
  Connection<beast::tcp_stream> connection(*this, std::move(stream), cfg, open);
  co_await connection.run();
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<TlsStream> stream, const config::ServerConfig& cfg,
                                          int open) {
  Connection<TlsStream> connection(*this, std::move(stream), cfg, open);
  co_await connection.run();
}

}  // namespace shipgate::server
