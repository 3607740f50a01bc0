// The wire side of a session, shared by plain and TLS connections: converting answers, bounded writes,
// reading a whole raw header, and closing politely. Beast and Asio: include only from the server's
// own sources.
#pragma once
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/message.hpp"

namespace shipgate::server::wire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using boost::system::error_code;

constexpr std::size_t kHeaderLimit = 16 * 1024;

inline bhttp::response<bhttp::string_body> to_wire(const http::Response& r, unsigned version, bool keep_alive,
                                          const std::string& request_id) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "shipgate");
  res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

inline beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
inline beast::tcp_stream& lowest(TlsStream& s) { return beast::get_lowest_layer(s); }

inline std::string client_address(beast::tcp_stream& s) {
  error_code ec;
  auto ep = s.socket().remote_endpoint(ec);
  return ec ? std::string("unknown") : ep.address().to_string();
}

template <class Stream, class Message>
asio::awaitable<bool> write(Stream& stream, Message& msg, const config::ServerConfig& cfg) {
  lowest(stream).expires_after(cfg.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, msg, asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}


// Closing while the client is still sending (say, the rest of a body we refused) makes the kernel
// reset the connection, and the client may never read our answer. So: stop sending, then read and
// discard for a bounded time and amount before the close.
inline asio::awaitable<void> linger(beast::tcp_stream& stream) {
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

// Reads until the buffer holds a whole request header (its blank line), so the header's raw bytes can be
// checked before Beast parses them. Returns the header's length, 0 when the connection closed or
// timed out, or kHeaderLimit + 1 when the header is too large.
template <class Stream>
asio::awaitable<std::size_t> read_raw_header(Stream& stream, beast::flat_buffer& buffer) {
  for (;;) {
    const std::string_view have(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (const auto end = have.find("\r\n\r\n"); end != std::string_view::npos)
      co_return end + 4 <= kHeaderLimit ? end + 4 : kHeaderLimit + 1;
    if (have.size() > kHeaderLimit) co_return kHeaderLimit + 1;
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return 0;
    buffer.commit(n);
  }
}

// The values of every field named `name`, in order.
template <class Fields>
std::vector<std::string_view> field_values(const Fields& fields, bhttp::field name) {
  std::vector<std::string_view> out;
  for (const auto& f : fields)
    if (f.name() == name) out.push_back(f.value());
  return out;
}

inline error_code open_acceptor(tcp::acceptor& a, const std::string& host, std::uint16_t port) {
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

inline asio::awaitable<void> close(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  co_return;
}

inline asio::awaitable<void> close(TlsStream& stream) {
  // close_notify, briefly: a client that vanished must not hold the session.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
  beast::get_lowest_layer(stream).close();
}

}  // namespace shipgate::server::wire
