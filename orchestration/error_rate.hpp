// The error-rate analysis of a deployment (config::Analysis): after its targets and smoke checks
// succeed, Prometheus is asked every `interval` for `for`; two samples in a row above `max` fail it.
// An analysis that never got an answer does not pass: it could not tell.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::orchestration {

struct AnalysisOutcome {
  bool ok = false;
  bool answered = false;  // Prometheus answered at least once
  std::string message;  // one line: the worst sample and how many were taken, or why it failed
  nlohmann::json samples = nlohmann::json::array();  // [{value|null, error?}] in order, for the result
};

// Told each sample above max and each unanswered query, as they happen (the deployment's history).
using AnalysisNote = std::function<boost::asio::awaitable<void>(std::string)>;

boost::asio::awaitable<AnalysisOutcome> watch_error_rate(http::HttpClient& http, const config::Analysis& analysis,
                                                         const AnalysisNote& note);

}  // namespace shipgate::orchestration
