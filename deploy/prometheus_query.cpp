#include "deploy/prometheus_query.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>

#include "common/json_read.hpp"
#include "config/template.hpp"

namespace shipgate::deploy {

using nlohmann::json;

namespace {

// A sample value as Prometheus writes it: a string ("0.02", "NaN", "+Inf").
std::optional<double> number(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return std::nullopt;
  const auto& text = pair[1].get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || std::isnan(v)) return std::nullopt;
  return v;
}

}  // namespace

PromSample read_prometheus_answer(int status, const std::string& body) {
  PromSample s;
  const auto doc = json_read::parse(body);
  if (!doc.is_object()) {
    s.error = "Prometheus answered HTTP " + std::to_string(status) + " without JSON";
    return s;
  }
  if (json_read::text(doc, "status") != "success") {
    // Prometheus says why in `error` (a string); a proxy in front of it may put anything there.
    std::string why = json_read::text(doc, "error");
    if (why.empty()) why = "HTTP " + std::to_string(status);
    s.error = "Prometheus refused the query: " + why.substr(0, 300);
    return s;
  }
  const auto& data = json_read::object(doc, "data");
  const auto type = json_read::text(data, "resultType");
  const json* result = json_read::member(data, "result");
  if (type == "scalar" && result) {
    s.answered = true;
    s.value = number(*result);
  } else if (type == "vector" && result && result->is_array()) {
    s.answered = true;
    for (const auto& series : *result)
      if (const json* pair = json_read::member(series, "value"))
        if (auto v = number(*pair)) s.value = s.value ? std::max(*s.value, *v) : *v;
  } else {
    s.error = "the query gives " + (type.empty() ? std::string("no result type") : "a " + type.substr(0, 40)) +
              ", not an instant vector or a scalar";
  }
  return s;
}

boost::asio::awaitable<PromSample> query_prometheus(http::HttpClient& http, const config::Analysis& analysis) {
  http::OutboundRequest req;
  std::string base = analysis.prometheus;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + "/api/v1/query?query=" + config::percent_encode(analysis.query);
  req.timeout = analysis.timeout;
  req.connect_timeout = std::min(analysis.timeout, Millis(5'000));
  req.ca_file = analysis.tls.ca_file;
  req.headers = {{"Accept", "application/json"}};
  req.max_response_body = 1u << 20;
  auto r = co_await http.send(std::move(req));
  if (!r) co_return PromSample{false, std::nullopt, "Prometheus unreachable: " + r.error().message()};
  co_return read_prometheus_answer(r->status, r->body);
}

}  // namespace shipgate::deploy
