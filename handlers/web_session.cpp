// POST/GET/DELETE /api/v1/session: sign in with a token, who is signed in, sign out.
#include "handlers/web_session.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "handlers/api_call.hpp"
#include "handlers/auth.hpp"
#include "handlers/intake.hpp"
#include "handlers/json_body.hpp"

namespace shipgate::handlers {

namespace {

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool changes_state(const Request& request) { return request.method != "GET" && request.method != "HEAD"; }

// Secure when the browser reached shipgate over HTTPS: directly, or through a proxy that terminates TLS
// for the https:// public_url.
// Over HTTPS the cookie is named with the __Host- prefix: the browser then keeps it only when it is
// Secure, for Path=/ and this host alone, so no sibling subdomain can plant or shadow it.
std::string cookie_header(const Request& request, const config::Config& config, const std::string& value,
                          std::int64_t max_age_s) {
  const bool secure = request.over_tls || config.server.public_url.rfind("https://", 0) == 0;
  std::string out(secure ? kSecureSessionCookie : kSessionCookie);
  out.append("=").append(value).append("; Path=/; HttpOnly; SameSite=Strict; Max-Age=");
  out.append(std::to_string(max_age_s));
  if (secure) out.append("; Secure");
  return out;
}

bool json_content(const Request& request) {
  std::string_view type = request.header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "application/json";
}

nlohmann::json reviewer_json(const config::Reviewer& r) {
  nlohmann::json can = nlohmann::json::array();
  for (const auto p : r.can) can.push_back(to_string(p));
  return {{"reviewer", r.name}, {"github", r.github}, {"can", can}, {"projects", r.projects}};
}

boost::asio::awaitable<Response> sign_in(const App& app, Request& req) {
  // Login CSRF: another site's form can post text/plain, never application/json without asking first,
  // and a browser says when a request comes from another site.
  if (!json_content(req)) co_return error_response(415, "unsupported_media_type", "sign in with Content-Type: application/json");
  if (req.header("Sec-Fetch-Site") == "cross-site")
    co_return error_response(403, "cross_site", "signing in from another site is refused");
  Response error;
  auto body = parse_json(req.body, error);
  if (!body) co_return error;
  const auto* token = body->if_contains("token");
  if (!token || !token->is_string() || token->as_string().empty() || token->as_string().size() > 512)
    co_return error_response(400, "invalid", "body must be {\"token\": \"<your reviewer token>\"}");
  const auto config = app.config();
  const auto* reviewer = reviewer_with_token(*config, token->as_string());
  if (!reviewer) {
    auto refused = error_response(401, "unauthorized", "token is not valid");
    refused.failed_authentication = true;  // counts toward the lockout, as a wrong bearer token does
    co_return refused;
  }
  const std::string cookie = random_hex(32);
  const auto now = epoch_ms(app.clock->now());
  const auto ttl = config->server.session_ttl.count();
  orchestration::WebSession session{sha256_hex(cookie), reviewer->name, reviewer->token_sha256, now, now + ttl};
  auto stored = co_await app.store->open_session(session);
  if (!stored) co_return unavailable("could not store the session: " + stored.error().message());
  auto body_json = reviewer_json(*reviewer);
  body_json["csrf"] = csrf_token(cookie);
  body_json["expires_in"] = ttl / 1000;
  auto res = json_response(200, body_json);
  res.headers.emplace_back("Set-Cookie", cookie_header(req, *config, cookie, ttl / 1000));
  res.headers.emplace_back("Cache-Control", "no-store");
  co_return res;
}

boost::asio::awaitable<Response> who(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  auto body = reviewer_json(*call->reviewer);
  if (const auto cookie = session_cookie(req); !cookie.empty()) body["csrf"] = csrf_token(cookie);
  auto res = json_response(200, body);
  res.headers.emplace_back("Cache-Control", "no-store");
  co_return res;
}

boost::asio::awaitable<Response> sign_out(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto cookies = session_cookies(req);
  for (const auto& cookie : cookies) {
    auto closed = co_await app.store->close_session(sha256_hex(cookie));
    if (!closed) co_return unavailable("could not end the session: " + closed.error().message());
  }
  auto res = json_response(200, {{"signed_out", !cookies.empty()}});
  res.headers.emplace_back("Set-Cookie", cookie_header(req, *call->config, "", 0));
  co_return res;
}

}  // namespace

std::vector<std::string> session_cookies(const Request& request) {
  std::vector<std::string> out;
  std::string_view header = request.header("Cookie");
  while (!header.empty() && out.size() < 8) {
    const auto end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = pair.substr(0, eq);
    if (name != kSessionCookie && name != kSecureSessionCookie) continue;
    const auto value = pair.substr(eq + 1);
    if (value.size() == 64 && is_hex(value)) out.emplace_back(value);
  }
  return out;
}

std::string session_cookie(const Request& request) {
  auto all = session_cookies(request);
  return all.empty() ? std::string() : std::move(all.front());
}

std::string csrf_token(std::string_view cookie) { return sha256_hex("csrf:" + std::string(cookie)); }

boost::asio::awaitable<const config::Reviewer*> session_reviewer(const App& app, const config::Config& config,
                                                                  const Request& request, Response& error) {
  auto ended = [&](std::string why) {
    // Not a failed authentication: a page left open past its session's end asks again and again, and a
    // cookie value is 256 random bits, nothing to guess. The lockout is for tokens.
    error = error_response(401, "unauthorized", why);
    error.headers.emplace_back("Set-Cookie", cookie_header(request, config, "", 0));
  };
  // Several cookies of the name (an old one of another path or host beside the current one): the
  // first that names a live session is the caller's.
  std::string cookie;
  orchestration::Result<std::optional<orchestration::WebSession>> found = std::optional<orchestration::WebSession>();
  for (const auto& candidate : session_cookies(request)) {
    found = co_await app.store->find_session(sha256_hex(candidate), epoch_ms(app.clock->now()));
    if (!found) {
      error = store_failure(found.error());
      co_return nullptr;
    }
    cookie = candidate;
    if (*found) break;
  }
  if (!*found) {
    ended("the session ended; sign in again");
    co_return nullptr;
  }
  const config::Reviewer* reviewer = config.reviewer((*found)->reviewer);
  if (!reviewer || !constant_time_equal(reviewer->token_sha256, (*found)->token_sha256)) {
    ended("the session ended: its reviewer or token changed; sign in again");
    co_return nullptr;
  }
  if (changes_state(request) && !constant_time_equal(request.header("X-CSRF-Token"), csrf_token(cookie))) {
    error = error_response(403, "csrf", "a change made with a session cookie needs the session's X-CSRF-Token header");
    co_return nullptr;
  }
  co_return reviewer;
}

void add_session_routes(Router& router, const App& app) {
  router.add("POST", "/api/v1/session", RouteKind::api, [&app](Request& r) { return sign_in(app, r); });
  router.add("GET", "/api/v1/session", RouteKind::api, [&app](Request& r) { return who(app, r); });
  router.add("DELETE", "/api/v1/session", RouteKind::api, [&app](Request& r) { return sign_out(app, r); });
}

}  // namespace shipgate::handlers
