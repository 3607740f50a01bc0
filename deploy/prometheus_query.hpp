// One instant query against Prometheus's HTTP API (GET /api/v1/query), as the error-rate analysis asks
// it: the highest value among the series the query returns.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::deploy {

struct PromSample {
  bool answered = false;        // Prometheus answered the query (an error answer is not one)
  std::optional<double> value;  // the highest value; none when the query returned no series (or NaN)
  std::string error;            // why not answered: unreachable, HTTP status, Prometheus's own error
};

boost::asio::awaitable<PromSample> query_prometheus(http::HttpClient& http, const config::Analysis& analysis);

// The answer's body -> the sample (a vector's or a scalar's value); split out for table tests.
PromSample read_prometheus_answer(int status, const std::string& body);

}  // namespace shipgate::deploy
