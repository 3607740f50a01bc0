// shipgate as a GitHub App: it signs a JWT with the app's private key (RS256, issued 60 s in the past,
// expiring 9 minutes later, issuer the app id) and trades it for an installation token of the
// repository it reports to (GET /repos/{owner}/{repo}/installation, then POST
// /app/installations/{id}/access_tokens). Tokens are kept until 5 minutes before GitHub says they
// expire. Neither the key nor a token is ever logged.
//
// Thread-safety: token_for may be called from any thread; the cache is locked only between awaits.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::notify {

// The app's JWT at `now_s` (seconds since the epoch); nothing when the key cannot sign.
std::optional<std::string> github_app_jwt(const config::GithubAppConfig& app, std::int64_t now_s);

struct AppToken {
  std::string token;      // empty when it could not be had
  std::string error;      // why not
  bool permanent = false;  // a 4xx other than 408/429: a retry cannot fix it
};

// What the access_tokens answer says: the token and when it expires (ms since the epoch).
struct IssuedToken {
  std::string token;
  std::int64_t expires_ms = 0;
};
std::optional<IssuedToken> read_installation_token(std::string_view body);

class GithubAppTokens {
 public:
  GithubAppTokens(std::shared_ptr<http::HttpClient> http, std::shared_ptr<const Clock> clock)
      : http_(std::move(http)), clock_(std::move(clock)) {}

  // An installation token for `repository` ("owner/name").
  boost::asio::awaitable<AppToken> token_for(const config::GithubAppConfig& app, std::string repository,
                                             std::string user_agent);

 private:
  struct Cached {
    std::int64_t installation = 0;
    IssuedToken issued;
  };
  std::optional<Cached> cached(const std::string& key);
  std::optional<std::string> usable(const std::string& key);  // a cached token not within 5 minutes of expiring
  boost::asio::awaitable<AppToken> buy(const config::GithubAppConfig& app, const std::string& repository,
                                       const std::string& key, const std::string& user_agent);
  boost::asio::awaitable<http::HttpResult> call(const config::GithubAppConfig& app, std::string method, std::string url,
                                                std::string jwt, std::string user_agent);

  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<const Clock> clock_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by app id and repository
  std::set<std::string> buying_;         // keys whose token is being bought now
};

}  // namespace shipgate::notify
