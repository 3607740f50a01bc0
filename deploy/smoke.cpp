#include "deploy/smoke.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::deploy {

namespace asio = boost::asio;

namespace {

// A check's request with every placeholder filled in; `missing` names one that has no value.
std::optional<http::OutboundRequest> smoke_request(const config::SmokeCheck& check, const config::TemplateVars& vars,
                                                   std::string& missing) {
  // A URL may start with {preview_url} (a blue-green target's address, itself a URL): that part is not
  // escaped, every other value is.
  std::string_view tmpl = check.url, base;
  constexpr std::string_view kPreview = "{preview_url}";
  if (tmpl.starts_with(kPreview)) {
    const auto it = vars.find("preview_url");
    if (it == vars.end()) missing = "preview_url";
    else base = it->second;
    tmpl.remove_prefix(kPreview.size());
  }
  auto url = missing.empty() ? config::expand_template(tmpl, vars, &missing, config::Escape::url_component) : std::nullopt;
  if (url) url->insert(0, base);
  const auto body = check.body.is_null() ? std::optional<nlohmann::json>(nlohmann::json())
                                         : config::expand_json_template(check.body, vars, &missing);
  if (!url || !body) return std::nullopt;
  http::OutboundRequest req;
  for (const auto& [name, tmpl] : check.headers) {
    auto value = config::expand_template(tmpl, vars, &missing);
    if (!value) return std::nullopt;
    req.headers.emplace_back(name, *value);
  }
  if (!body->is_null()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  req.method = check.method;
  req.url = *url;
  req.timeout = check.timeout;
  req.connect_timeout = std::min(check.timeout, Millis(5'000));
  req.ca_file = check.tls.ca_file;
  return req;
}

// One attempt's outcome as a line ("HTTP 200", "HTTP 503, expected 200", a connection error).
std::string judge(const http::HttpResult& res, const config::SmokeCheck& check, const std::string& expected, bool& ok) {
  ok = false;
  if (!res) return res.error().message();
  if (res->status != check.expect)
    return "HTTP " + std::to_string(res->status) + ", expected " + std::to_string(check.expect);
  if (!expected.empty() && res->body.find(expected) == std::string::npos)
    return "HTTP " + std::to_string(res->status) + " without \"" + expected + "\" in the body";
  ok = true;
  return "HTTP " + std::to_string(res->status);
}

}  // namespace

asio::awaitable<TargetOutcome> run_smoke_check(http::HttpClient& http, const config::SmokeCheck& check,
                                               const config::TemplateVars& vars, const AttemptNote& note) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  TargetOutcome out;
  std::string missing;
  const auto expected = config::expand_template(check.body_contains, vars, &missing);
  const auto request = expected ? smoke_request(check, vars, missing) : std::nullopt;
  if (!request) {
    out.message = "smoke check " + check.url + ": no value for {" + missing + "}";
    co_return out;
  }
  out.details = {{"url", check.url}, {"attempts", nlohmann::json::array()}};
  for (int attempt = 1; attempt <= check.attempts; ++attempt) {
    if (attempt > 1) {
      timer.expires_after(check.interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    const auto t0 = std::chrono::steady_clock::now();
    http::OutboundRequest req = *request;
    auto res = co_await http.send(std::move(req));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    bool ok = false;
    const std::string outcome = judge(res, check, *expected, ok);
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
