// Reviewers signed in on the web page. Signing in with a token once gives a session cookie
// (`shipgate_session`: HttpOnly, SameSite=Strict, Secure over HTTPS, expiring after server.session_ttl);
// the store keeps only its SHA-256, so sessions are revocable (sign-out, or rotating the token they were
// opened with) and shared by replicas. A request the cookie authenticates that changes state must also
// carry the session's anti-CSRF token in `X-CSRF-Token`, which a cross-site form cannot send.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "handlers/app.hpp"

namespace shipgate::handlers {

inline constexpr std::string_view kSessionCookie = "shipgate_session";
// Its name over HTTPS (RFC 6265bis's __Host- prefix: Secure, Path=/, this host only).
inline constexpr std::string_view kSecureSessionCookie = "__Host-shipgate_session";

// Every session cookie value in `request` of the right shape, in the order sent (either name).
std::vector<std::string> session_cookies(const Request& request);
// The first of them; empty when there is none.
std::string session_cookie(const Request& request);
// The anti-CSRF token of the session with cookie value `cookie`.
std::string csrf_token(std::string_view cookie);

// The reviewer of the session `request` carries, or null with the answer (401, 403 without the
// anti-CSRF token on a state-changing request, 503) in `error`.
boost::asio::awaitable<const config::Reviewer*> session_reviewer(const App& app, const config::Config& config,
                                                                  const Request& request, Response& error);

}  // namespace shipgate::handlers
