// Smoke checks: HTTP(S) requests that must answer as expected before a deployment counts as succeeded.
// URL, headers, body and body_contains are templates over the deployment's values, so a check can ask
// the new version to prove itself (`body_contains: "{version}"`).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

#include "config/config.hpp"
#include "http/http_client.hpp"
#include "deploy/target.hpp"

namespace shipgate::deploy {

// Called after every attempt with a one-line outcome ("smoke 1/10 https://x/health: HTTP 503").
using AttemptNote = std::function<boost::asio::awaitable<void>(std::string)>;

// Tries `check.attempts` times, `check.interval` apart, each bounded by `check.timeout`; passes on the
// first attempt whose status equals `expect` and whose body contains `body_contains`, with the templates
// expanded from `vars` (URL values percent-encoded).
boost::asio::awaitable<TargetOutcome> run_smoke_check(http::HttpClient& http, const config::SmokeCheck& check,
                                                      const config::TemplateVars& vars, const AttemptNote& note);

}  // namespace shipgate::deploy
