// Per-client limits on the API, decided before a handler runs: the request rate, and a lockout after
// too many failed authentications. The service says which routes are limited; paths reach it only in
// canonical form (request_checks.hpp), so no spelling of a limited route escapes it.
#pragma once
#include <optional>
#include <string>

#include "common/metrics.hpp"
#include "common/rate_limiter.hpp"
#include "config/config.hpp"
#include "http/message.hpp"

namespace shipgate::server {

class Admission {
 public:
  // `metrics` may be null.
  Admission(const config::ServerConfig& config, Metrics* metrics);
  // The 429 refusal for a rate-limited route's request from `client`, or nothing when it may run.
  std::optional<http::Response> check(const std::string& client);
  // A request from `client` to a rate-limited route failed authentication: it counts toward the lockout,
  // and past the limit its answer is this 429 instead. A valid credential is never refused by it: only
  // failures count, and only failures are answered so.
  std::optional<http::Response> failed_authentication(const std::string& client);
  void configure(const config::ServerConfig& config);

 private:
  Metrics* metrics_;
  RateLimiter api_rate_;
  RateLimiter auth_failures_;
};

}  // namespace shipgate::server
