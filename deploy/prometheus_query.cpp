#include "deploy/prometheus_query.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>

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
  const auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    s.error = "Prometheus answered HTTP " + std::to_string(status) + " without JSON";
    return s;
  }
  if (doc.value("status", "") != "success") {
    s.error = "Prometheus refused the query: " + doc.value("error", "HTTP " + std::to_string(status));
    return s;
  }
  const auto data = doc.value("data", json::object());
  const auto type = data.value("resultType", "");
  const auto result = data.value("result", json());
  s.answered = true;
  if (type == "scalar") {
    s.value = number(result);
  } else if (type == "vector" && result.is_array()) {
    for (const auto& series : result)
      if (auto v = number(series.value("value", json()))) s.value = s.value ? std::max(*s.value, *v) : *v;
  } else {
    s.answered = false;
    s.error = "the query gives a " + type + ", not an instant vector or a scalar";
  }
  return s;
}

boost::asio::awaitable<PromSample> query_prometheus(HttpClient& http, const config::Analysis& analysis) {
  OutboundRequest req;
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
