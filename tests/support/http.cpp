#include "tests/support/http.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace shipgate::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
std::string find_header(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}
// Writes one request and reads its answer on an open stream (plain or TLS), with async operations
// driven by run(): synchronous calls ignore tcp_stream timeouts. Returns the error of the first step
// that failed and which step it was.
template <class Stream>
boost::system::error_code exchange(asio::io_context& ioc, Stream& stream, std::uint16_t port, const std::string& method,
                                   const std::string& target, const Headers& headers, const std::string& body,
                                   Reply& reply, const char*& step) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  req.keep_alive(false);
  boost::system::error_code ec;
  step = "write";
  http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
  ioc.run();
  ioc.restart();
  if (ec) return ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  step = "read";
  http::async_read(stream, buffer, parser, [&](boost::system::error_code e, std::size_t) { ec = e; });
  ioc.run();
  ioc.restart();
  if (ec) return ec;
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  for (const auto& f : res) reply.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  reply.body = res.body();
  return {};
}

}  // namespace

std::string Reply::header(const std::string& name) const { return find_header(headers, name); }
std::string RecordedRequest::header(const std::string& name) const { return find_header(headers, name); }

std::string query_value(const std::string& query, const std::string& name) {
  std::size_t at = 0;
  while (at <= query.size()) {
    const auto end = std::min(query.find('&', at), query.size());
    const std::string_view pair(query.data() + at, end - at);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    at = end + 1;
  }
  return {};
}

Reply http_request(std::uint16_t port, const std::string& method, const std::string& target, const Headers& headers,
                   const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  Reply reply;
  boost::system::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    reply.error = "connect: " + ec.message();
    return reply;
  }
  const char* step = "";
  if (auto failed = exchange(ioc, stream, port, method, target, headers, body, reply, step))
    reply.error = std::string(step) + ": " + failed.message();
  return reply;
}

TlsReply https_request(std::uint16_t port, const TlsClientOptions& tls, const std::string& method,
                       const std::string& target, const Headers& headers, const std::string& body) {
  namespace ssl = asio::ssl;
  TlsReply reply;
  ssl::context ctx(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx.load_verify_file(tls.ca_file, ec);
  if (!tls.cert_file.empty()) {
    ctx.use_certificate_chain_file(tls.cert_file, ec);
    ctx.use_private_key_file(tls.key_file, ssl::context::pem, ec);
  }
  if (tls.max_tls12) ::SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  asio::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(std::chrono::seconds(30));
  tcp_layer.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    reply.tls_error = "connect: " + ec.message();
    return reply;
  }
  stream.async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) { ec = e; });
  ioc.run();
  ioc.restart();
  if (ec) {
    reply.tls_error = ec.message();
    return reply;
  }
  reply.protocol = ::SSL_get_version(stream.native_handle());
  // With TLS 1.3 a refused client certificate shows up at the read, after the handshake.
  const char* step = "";
  if (auto e = exchange(ioc, stream, port, method, target, headers, body, reply, step))
    reply.tls_error = std::string(step) + ": " + e.message();
  return reply;
}

RawConnection::RawConnection(std::uint16_t port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!source.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  if (fd_ < 0) return false;
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

std::string RawConnection::read_all(std::chrono::milliseconds timeout) { return read_until("", timeout); }

std::string RawConnection::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0 && (needle.empty() || out.find(needle) == std::string::npos)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return true;
}

struct StandinServer::Impl : std::enable_shared_from_this<StandinServer::Impl> {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::ssl::context> tls;
  Handler handler;
  mutable std::mutex mutex;
  std::vector<RecordedRequest> log;
  std::vector<std::thread> threads;

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      RecordedRequest r{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
      for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      {
        std::lock_guard lock(mutex);
        log.push_back(r);
      }
      StandinReply out = handler(r);
      if (out.stream) {
        if (!co_await stream_reply(stream, out, req.version())) co_return;
        continue;
      }
      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      if (!out.body.empty()) res.set(http::field::content_type, out.content_type);
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = out.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !req.keep_alive()) co_return;
    }
  }

  // Writes a chunked answer piece by piece as `out.stream` gives it; whether the connection is still good.
  template <class Stream>
  asio::awaitable<bool> stream_reply(Stream& stream, StandinReply& out, unsigned version) {
    http::response<http::empty_body> res{static_cast<http::status>(out.status), version};
    res.set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res.set(k, v);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    auto [hec, hn] = co_await http::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return false;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    std::optional<std::string> next = out.body;
    while (next) {
      if (!next->empty()) {
        auto [wec, wn] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(*next)), asio::as_tuple(asio::use_awaitable));
        if (wec) co_return false;
      } else {
        pause.expires_after(std::chrono::milliseconds(5));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      next = out.stream();
    }
    auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(), asio::as_tuple(asio::use_awaitable));
    co_return !lec;
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (tls) {
      beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      co_await serve(stream);
    } else {
      co_await serve(socket);
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }
};

StandinServer::StandinServer(Handler handler, std::uint16_t port, std::string cert_file, std::string key_file)
    : impl_(std::make_shared<Impl>()) {
  impl_->handler = std::move(handler);
  if (!cert_file.empty()) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(cert_file);
    impl_->tls->use_private_key_file(key_file, asio::ssl::context::pem);
  }
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  for (int i = 0; i < 2; ++i) impl_->threads.emplace_back([impl = impl_] { impl->ioc.run(); });
}

StandinServer::~StandinServer() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

std::uint16_t StandinServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string StandinServer::url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::vector<RecordedRequest> StandinServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::size_t StandinServer::count(const std::string& method, const std::string& prefix) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->log)
    if (r.method == method && r.target.rfind(prefix, 0) == 0) ++n;
  return n;
}

}  // namespace shipgate::testing
