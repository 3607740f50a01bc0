// Per-client limits on the API, decided before a handler runs: the request rate, and a lockout after
// too many failed authentications. Paths reach it in canonical form (request_checks.hpp), so every
// API request is seen as one.
#pragma once
#include <optional>
#include <string>

#include "common/metrics.hpp"
#include "common/rate_limiter.hpp"
#include "config/config.hpp"
#include "handlers/http_types.hpp"

namespace shipgate::server {

class Admission {
 public:
  // `metrics` may be null.
  Admission(const config::ServerConfig& config, Metrics* metrics);
  // The 429 refusal for `client`, or nothing when the request may run.
  std::optional<handlers::Response> check(const std::string& path, const std::string& client);
  // An API request from `client` was answered 401: it counts toward the lockout.
  void failed_authentication(const std::string& path, const std::string& client);
  void configure(const config::ServerConfig& config);

 private:
  Metrics* metrics_;
  RateLimiter api_rate_;
  RateLimiter auth_failures_;
};

}  // namespace shipgate::server
