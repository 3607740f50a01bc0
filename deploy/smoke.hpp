// Smoke checks: HTTP(S) GETs that must answer as expected before a deployment counts as succeeded.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

#include "config/config.hpp"
#include "deploy/http_client.hpp"
#include "deploy/target.hpp"

namespace shipgate::deploy {

// Called after every attempt with a one-line outcome ("smoke 1/10 https://x/health: HTTP 503").
using AttemptNote = std::function<boost::asio::awaitable<void>(std::string)>;

// Tries `check.attempts` times, `check.interval` apart, each bounded by `check.timeout`; passes on the
// first attempt whose status equals `expect` and whose body contains `body_contains`.
boost::asio::awaitable<TargetOutcome> run_smoke_check(HttpClient& http, const config::SmokeCheck& check,
                                                      const AttemptNote& note);

}  // namespace shipgate::deploy
