#include "server/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace shipgate::server {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

std::string openssl_reason(const error_code& ec) {
  std::string why = ec.message();
  if (const unsigned long e = ::ERR_get_error()) {
    char buf[256];
    ::ERR_error_string_n(e, buf, sizeof buf);
    why += " (" + std::string(buf) + ")";
  }
  return why;
}

}  // namespace

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

}  // namespace shipgate::server
