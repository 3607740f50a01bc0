#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url.hpp>

#include <openssl/x509.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>

#include "common/crypto.hpp"
#include "http/http_client.hpp"

namespace shipgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

std::string OutboundResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

std::string describe_failure(const HttpResult& r) {
  if (!r) {
    // Beast's own wording ("The socket was closed due to a timeout") hides the cause an operator needs.
    if (r.error() == beast::error::timeout) return "timed out: no complete answer within the timeout";
    if (r.error() == boost::system::errc::illegal_byte_sequence)
      return "not sent: a header name is not a token, or a header value contains CR, LF or NUL";
    return r.error().message();
  }
  std::string body = r->body.substr(0, 300);
  for (char& c : body)
    if (c == '\n' || c == '\r') c = ' ';
  return "HTTP " + std::to_string(r->status) + (body.empty() ? "" : ": " + body);
}

namespace {

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // origin-form, with query
};

boost::system::result<Target> parse_target(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return u.error();
  Target t;
  if (u->scheme() == "https") t.tls = true;
  else if (u->scheme() != "http") return make_error_code(boost::system::errc::protocol_not_supported);
  t.host = u->host_address();
  if (t.host.empty()) return make_error_code(boost::system::errc::invalid_argument);
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.path = std::string(u->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
  return t;
}

// A header a request may carry: a token for a name (RFC 9110 5.6.2) and no CR, LF or NUL (nor other
// control characters but tab) in the value, so no value can end the header or start another.
bool header_safe(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

class BeastHttpClient final : public HttpClient {
 public:
  asio::awaitable<HttpResult> send(OutboundRequest req) override {
    for (const auto& [name, value] : req.headers)
      if (!header_safe(name, value)) co_return make_error_code(boost::system::errc::illegal_byte_sequence);
    auto target = parse_target(req.url);
    if (!target) co_return target.error();
    const auto deadline = std::chrono::steady_clock::now() + req.timeout;
    auto ex = co_await asio::this_coro::executor;

    // Name resolution has no timeout of its own: a timer cancels it.
    asio::ip::tcp::resolver resolver(ex);
    asio::steady_timer resolve_timer(ex);
    resolve_timer.expires_at(deadline);
    resolve_timer.async_wait([&resolver](error_code ec) {
      if (!ec) resolver.cancel();
    });
    auto [rec, endpoints] = co_await resolver.async_resolve(
        target->host, target->port, asio::as_tuple(asio::use_awaitable));
    resolve_timer.cancel();
    if (rec) co_return rec == asio::error::operation_aborted ? error_code(asio::error::timed_out) : rec;

    beast::tcp_stream tcp(ex);
    tcp.expires_at(std::min(deadline, std::chrono::steady_clock::now() + req.connect_timeout));
    auto [cec, ep] = co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) co_return cec;

    if (!target->tls) {
      tcp.expires_at(deadline);
      auto r = co_await exchange(tcp, req, *target);
      error_code ignored;
      tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      co_return r;
    }

    auto ctx = context_for(req);
    if (!ctx) co_return ctx.error();
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), **ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), target->host.c_str()))
      co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(target->host));
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return hec;
    auto r = co_await exchange(stream, req, *target);
    // Best effort close_notify, bounded by a short timeout; the answer is already in hand.
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(500));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    co_return r;
  }

 private:
  template <class Stream>
  static asio::awaitable<HttpResult> exchange(Stream& stream, const OutboundRequest& req, const Target& t) {
    bhttp::request<bhttp::string_body> msg;
    msg.method_string(req.method);
    msg.target(t.path);
    msg.version(11);
    const bool default_port = t.port == (t.tls ? "443" : "80");
    msg.set(bhttp::field::host, default_port ? t.host : t.host + ":" + t.port);
    msg.set(bhttp::field::user_agent, "shipgate");
    msg.set(bhttp::field::connection, "close");
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    msg.body() = req.body;
    msg.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, msg, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return wec;

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(req.max_response_body);
    parser.skip(req.method == "HEAD");  // a HEAD answer announces a length but sends no body
    if (req.on_body) {
      parser.body_limit(boost::none);
      auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (hec) co_return hec;
      while (!parser.is_done()) {
        auto [rec, rn] = co_await bhttp::async_read_some(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (!parser.get().body().empty()) {
          req.on_body(parser.get().body());
          parser.get().body().clear();
        }
        if (rec) co_return rec;
      }
    } else {
      auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (rec) co_return rec;
    }
    OutboundResponse out;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    co_return out;
  }

  // TLS contexts are cached: loading the system trust store costs milliseconds.
  boost::system::result<std::shared_ptr<ssl::context>> context_for(const OutboundRequest& req) {
    const std::string key = req.ca_file + '\0' + sha256_hex(req.ca_pem + '\0' + req.client_cert_pem + '\0' + req.client_key_pem);
    std::lock_guard lock(mutex_);
    auto& slot = contexts_[key];
    if (slot) return slot;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    // The system roots, looked up by subject hash in the certificate directory when a chain needs one,
    // rather than the whole bundle parsed into memory up front (~140 certificates, 1 MiB and more that
    // stay resident for the daemon's life). SSL_CERT_FILE or SSL_CERT_DIR, when set, are honoured as usual.
    if (std::getenv("SSL_CERT_FILE") || std::getenv("SSL_CERT_DIR"))
      ctx->set_default_verify_paths(ec);
    else
      ctx->add_verify_path(X509_get_default_cert_dir(), ec);
    if (!req.ca_file.empty()) {
      ctx->load_verify_file(req.ca_file, ec);
      if (ec) return ec;
    }
    if (!req.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(req.ca_pem), ec);
      if (ec) return ec;
    }
    if (!req.client_cert_pem.empty()) {
      ctx->use_certificate_chain(asio::buffer(req.client_cert_pem), ec);
      if (!ec) ctx->use_private_key(asio::buffer(req.client_key_pem), ssl::context::pem, ec);
      if (ec) return ec;
    }
    slot = ctx;
    return slot;
  }

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ssl::context>> contexts_;
};

class RetryingHttpClient final : public HttpClient {
 public:
  RetryingHttpClient(std::shared_ptr<HttpClient> inner, RetryPolicy policy)
      : inner_(std::move(inner)), policy_(policy) {}

  asio::awaitable<HttpResult> send(OutboundRequest req) override {
    HttpResult last = make_error_code(boost::system::errc::operation_canceled);
    for (int attempt = 0; attempt < policy_.attempts; ++attempt) {
      if (attempt > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(backoff(attempt));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      last = co_await inner_->send(req);
      if (last && last->status < 500) co_return last;
    }
    co_return last;
  }

 private:
  Millis backoff(int attempt) {
    const auto ceiling = std::min<long long>(policy_.max.count(), policy_.base.count() << std::min(attempt - 1, 20));
    std::lock_guard lock(mutex_);
    std::uniform_int_distribution<long long> dist(ceiling / 2, std::max<long long>(ceiling, 1));
    return Millis(dist(rng_));
  }

  std::shared_ptr<HttpClient> inner_;
  RetryPolicy policy_;
  std::mutex mutex_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

std::shared_ptr<HttpClient> make_beast_http_client() { return std::make_shared<BeastHttpClient>(); }

std::shared_ptr<HttpClient> make_retrying_http_client(std::shared_ptr<HttpClient> inner, RetryPolicy policy) {
  return std::make_shared<RetryingHttpClient>(std::move(inner), policy);
}

}  // namespace shipgate::http
