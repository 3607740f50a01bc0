// Outbound HTTP(S) client used by deploy targets, notifications, the CLI and the workers. An interface so tests and retries can wrap it.
// Every call is bounded: connect timeout, total timeout, response size limit. HTTPS always verifies
// the peer certificate and host name.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"

namespace shipgate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct OutboundRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  Millis connect_timeout{5'000};
  Millis timeout{30'000};  // the whole exchange, resolve to last body byte
  std::string ca_file;     // extra trust anchor; system roots otherwise
  std::string ca_pem;      // or a trust anchor in memory (kubeconfig certificate-authority-data)
  std::string client_cert_pem;  // mutual TLS (kubeconfig client-certificate-data)
  std::string client_key_pem;
  std::size_t max_response_body = 8u << 20;
  // A long answer read as it arrives (a Kubernetes watch): when set, each piece of the body is handed
  // here as it is read and the response's `body` stays empty; `max_response_body` then bounds no total,
  // only `timeout` ends the exchange.
  std::function<void(std::string_view)> on_body;
};

struct OutboundResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string header(std::string_view name) const;
};

using HttpResult = boost::system::result<OutboundResponse>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // May be called concurrently from any executor.
  virtual boost::asio::awaitable<HttpResult> send(OutboundRequest request) = 0;
};

// One connection per request (no pooling): deploy traffic is a few calls a minute.
std::shared_ptr<HttpClient> make_beast_http_client();

struct RetryPolicy {
  int attempts = 4;      // total tries
  Millis base{250};      // first backoff ceiling; doubles each try
  Millis max{10'000};    // backoff ceiling
};

// Retries connection errors and 5xx with exponential backoff and full jitter; never 4xx or 3xx.
std::shared_ptr<HttpClient> make_retrying_http_client(std::shared_ptr<HttpClient> inner, RetryPolicy policy);

// Short description of an outcome for messages: "HTTP 503: <body start>" or the error text.
std::string describe_failure(const HttpResult& r);

}  // namespace shipgate::http
