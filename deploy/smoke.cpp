#include "deploy/smoke.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::deploy {

namespace asio = boost::asio;

asio::awaitable<TargetOutcome> run_smoke_check(http::HttpClient& http, const config::SmokeCheck& check,
                                               const config::TemplateVars& vars, const AttemptNote& note) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  TargetOutcome out;
  std::string missing;
  const auto url = config::expand_template(check.url, vars, &missing, config::Escape::url_component);
  const auto expected = config::expand_template(check.body_contains, vars, &missing);
  const auto body = check.body.is_null() ? std::optional<nlohmann::json>(nlohmann::json())
                                         : config::expand_json_template(check.body, vars, &missing);
  http::Headers headers;
  bool headers_expanded = true;
  for (const auto& [name, tmpl] : check.headers) {
    auto value = config::expand_template(tmpl, vars, &missing);
    headers_expanded = headers_expanded && value;
    if (value) headers.emplace_back(name, *value);
  }
  if (!url || !expected || !body || !headers_expanded) {
    out.message = "smoke check " + check.url + ": no value for {" + missing + "}";
    co_return out;
  }
  if (!body->is_null()) headers.emplace_back("Content-Type", "application/json");
  out.details = {{"url", check.url}, {"attempts", nlohmann::json::array()}};
  for (int attempt = 1; attempt <= check.attempts; ++attempt) {
    if (attempt > 1) {
      timer.expires_after(check.interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    http::OutboundRequest req;
    req.method = check.method;
    req.url = *url;
    req.headers = headers;
    if (!body->is_null()) req.body = body->dump();
    req.timeout = check.timeout;
    req.connect_timeout = std::min(check.timeout, Millis(5'000));
    req.ca_file = check.tls.ca_file;
    const auto t0 = std::chrono::steady_clock::now();
    auto res = co_await http.send(std::move(req));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::string outcome;
    bool ok = false;
    if (!res) {
      outcome = res.error().message();
    } else if (res->status != check.expect) {
      outcome = "HTTP " + std::to_string(res->status) + ", expected " + std::to_string(check.expect);
    } else if (!expected->empty() && res->body.find(*expected) == std::string::npos) {
      outcome = "HTTP " + std::to_string(res->status) + " without \"" + *expected + "\" in the body";
    } else {
      ok = true;
      outcome = "HTTP " + std::to_string(res->status);
    }
    out.details["attempts"].push_back({{"attempt", attempt}, {"ok", ok}, {"outcome", outcome}, {"duration_ms", ms}});
    std::string line = "smoke " + std::to_string(attempt) + "/" + std::to_string(check.attempts) + " " + check.url + ": " + outcome;
    if (note) co_await note(line);
    if (ok) {
      out.ok = true;
      out.message = check.url + " answered " + outcome;
      co_return out;
    }
    out.message = "smoke check " + check.url + " failed after " + std::to_string(attempt) + " attempt(s): " + outcome;
  }
  co_return out;
}

}  // namespace shipgate::deploy
