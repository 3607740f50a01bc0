#include "notify/github_app.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include "common/json_read.hpp"
#include "common/text.hpp"
#include "config/time_zone.hpp"

namespace shipgate::notify {

using nlohmann::json;

namespace {

constexpr std::int64_t kRenewBeforeMs = 5 * 60 * 1000;

bool permanent(int status) { return status >= 400 && status < 500 && status != 408 && status != 429; }

AppToken failure(const http::HttpResult& r, const std::string& step) {
  return {"", step + ": " + http::describe_failure(r), r && permanent(r->status)};
}

}  // namespace

std::optional<std::string> github_app_jwt(const config::GithubAppConfig& app, std::int64_t now_s) {
  if (!app.key) return std::nullopt;
  // GitHub allows at most 10 minutes; the issue time is set back for a clock that runs behind GitHub's.
  const json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  const json claims = {{"iat", now_s - 60}, {"exp", now_s + 540}, {"iss", app.app_id}};
  const std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  const auto signature = app.key->sign_sha256(signing_input);
  if (!signature) return std::nullopt;
  return signing_input + "." + base64url_encode(*signature);
}

std::optional<IssuedToken> read_installation_token(std::string_view body) {
  const auto doc = json_read::parse(body);
  IssuedToken t;
  t.token = json_read::text(doc, "token");
  const auto expires = config::parse_rfc3339(json_read::text(doc, "expires_at"));
  // A token goes into an Authorization header: visible ASCII only, and not absurdly long.
  if (!is_token(t.token, 1000) || !expires) return std::nullopt;
  t.expires_ms = *expires;
  return t;
}

std::optional<GithubAppTokens::Cached> GithubAppTokens::cached(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

boost::asio::awaitable<http::HttpResult> GithubAppTokens::call(const config::GithubAppConfig& app, std::string method,
                                                               std::string url, std::string jwt, std::string user_agent) {
  http::OutboundRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.timeout = std::chrono::seconds(15);
  req.ca_file = app.tls.ca_file;
  req.headers = {{"Authorization", "Bearer " + jwt},
                 {"Accept", "application/vnd.github+json"},
                 {"X-GitHub-Api-Version", "2022-11-28"},
                 {"User-Agent", std::move(user_agent)}};
  co_return co_await http_->send(std::move(req));
}

std::optional<std::string> GithubAppTokens::usable(const std::string& key) {
  const auto entry = cached(key);
  if (!entry || entry->issued.token.empty()) return std::nullopt;
  if (epoch_ms(clock_->now()) >= entry->issued.expires_ms - kRenewBeforeMs) return std::nullopt;
  return entry->issued.token;
}

boost::asio::awaitable<AppToken> GithubAppTokens::token_for(const config::GithubAppConfig& app, std::string repository,
                                                            std::string user_agent) {
  const std::string key = app.app_id + "|" + to_lower(repository);
  // One purchase at a time per repository: a second caller waits for the first one's token.
  for (;;) {
    if (auto token = usable(key)) co_return AppToken{*token};
    {
      std::lock_guard lock(mutex_);
      if (buying_.insert(key).second) break;
    }
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  auto bought = co_await buy(app, repository, key, user_agent);
  std::lock_guard lock(mutex_);
  buying_.erase(key);
  co_return bought;
}

boost::asio::awaitable<AppToken> GithubAppTokens::buy(const config::GithubAppConfig& app, const std::string& repository,
                                                      const std::string& key, const std::string& user_agent) {
  auto entry = cached(key).value_or(Cached{});
  const auto jwt = github_app_jwt(app, epoch_ms(clock_->now()) / 1000);
  if (!jwt) co_return AppToken{"", "the GitHub App's private key could not sign its JWT", true};
  if (entry.installation == 0) {
    auto found = co_await call(app, "GET", app.api_url + "/repos/" + repository + "/installation", *jwt, user_agent);
    if (!found || found->status != 200) co_return failure(found, "finding the GitHub App's installation on " + repository);
    entry.installation = json_read::integer(json_read::parse(found->body), "id", 0);
    if (entry.installation <= 0) co_return AppToken{"", "GitHub named no installation id for " + repository, false};
  }
  const std::string url = app.api_url + "/app/installations/" + std::to_string(entry.installation) + "/access_tokens";
  auto issued = co_await call(app, "POST", url, *jwt, user_agent);
  if (!issued || issued->status != 201) co_return failure(issued, "getting an installation token");
  const auto token = read_installation_token(issued->body);
  if (!token) co_return AppToken{"", "GitHub's installation token answer has no usable token and expires_at", false};
  entry.issued = *token;
  {
    std::lock_guard lock(mutex_);
    cache_[key] = entry;
  }
  co_return AppToken{token->token};
}

}  // namespace shipgate::notify
