#include "handlers/auth.hpp"

#include "common/crypto.hpp"

namespace shipgate::handlers {

const config::Reviewer* reviewer_with_token(const config::Config& config, std::string_view token) {
  const std::string presented = sha256_hex(token);
  const config::Reviewer* found = nullptr;
  for (const auto& r : config.reviewers)  // every one compared: the time says nothing about which matched
    if (constant_time_equal(presented, r.token_sha256) && !found) found = &r;
  return found;
}

const config::Reviewer* authenticate(const config::Config& config, const Request& request, Response& error) {
  const std::string_view header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) {
    error = error_response(401, "unauthorized", "missing Authorization: Bearer <token>");
    error.failed_authentication = true;
    error.headers.emplace_back("WWW-Authenticate", "Bearer");
    return nullptr;
  }
  const config::Reviewer* found = reviewer_with_token(config, header.substr(kBearer.size()));
  if (!found) {
    error = error_response(401, "unauthorized", "token is not valid");
    error.failed_authentication = true;
    error.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return found;
}

}  // namespace shipgate::handlers
