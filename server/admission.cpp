#include "server/admission.hpp"

namespace shipgate::server {

Admission::Admission(const config::ServerConfig& c, Metrics* metrics)
    : metrics_(metrics),
      api_rate_(c.api_rate, c.api_burst),
      auth_failures_(c.auth_failures_per_minute / 60.0, c.auth_failures_per_minute) {}

void Admission::configure(const config::ServerConfig& c) {
  api_rate_.configure(c.api_rate, c.api_burst);
  auth_failures_.configure(c.auth_failures_per_minute / 60.0, c.auth_failures_per_minute);
}

std::optional<http::Response> Admission::check(const std::string& client) {
  const auto now = RateLimiter::Clock::now();
  if (const int wait = api_rate_.take(client, now)) {
    if (metrics_) metrics_->refused("api_rate");
    auto r = http::error_response(429, "rate_limited", "too many API requests from " + client);
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  return std::nullopt;
}

std::optional<http::Response> Admission::failed_authentication(const std::string& client) {
  const int wait = auth_failures_.take(client, RateLimiter::Clock::now());
  if (!wait) return std::nullopt;
  if (metrics_) metrics_->refused("auth_failures");
  auto r = http::error_response(429, "too_many_failures", "too many failed authentications from " + client + "; try again later");
  r.headers.emplace_back("Retry-After", std::to_string(wait));
  return r;
}

}  // namespace shipgate::server
