#include "deploy/smoke.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::deploy {

namespace asio = boost::asio;

asio::awaitable<TargetOutcome> run_smoke_check(HttpClient& http, const config::SmokeCheck& check, const AttemptNote& note) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  TargetOutcome out;
  out.details = {{"url", check.url}, {"attempts", nlohmann::json::array()}};
  for (int attempt = 1; attempt <= check.attempts; ++attempt) {
    if (attempt > 1) {
      timer.expires_after(check.interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    OutboundRequest req;
    req.url = check.url;
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
    } else if (!check.body_contains.empty() && res->body.find(check.body_contains) == std::string::npos) {
      outcome = "HTTP " + std::to_string(res->status) + " without \"" + check.body_contains + "\" in the body";
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
