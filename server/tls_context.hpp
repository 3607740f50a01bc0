// The server's TLS context: TLS 1.2 and newer, the certificate chain and key, and client certificates
// required when a client CA is configured. Only server.cpp includes this (it brings in Asio's SSL).
#pragma once
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace shipgate::server {

// On failure `why` says which file could not be used and OpenSSL's reason.
boost::system::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const config::ServerTlsConfig& tls,
                                                                                   std::string& why);

}  // namespace shipgate::server
