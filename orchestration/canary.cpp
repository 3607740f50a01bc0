#include "orchestration/canary.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

asio::awaitable<CanaryOutcome> run_canary(deploy::DeployTarget& canary, const deploy::DeployContext& ctx,
                                          const config::Canary& cfg, const std::optional<config::Analysis>& analysis,
                                          http::HttpClient& http, const AnalysisNote& note) {
  CanaryOutcome out;
  out.record = {{"deployment", cfg.deployment}, {"steps", json::array()}};
  {
    std::string line = "canary: rolling " + ctx.version + " out to Deployment " + cfg.deployment;
    co_await note(std::move(line));
  }
  auto rollout = co_await canary.deploy(ctx);
  out.record["details"] = rollout.details;
  // Any patch that went through changed the canary, even if its rollout then failed.
  out.rolled_out = rollout.details.contains("previous_images") && !rollout.details["previous_images"].empty();
  if (!rollout.ok) {
    out.message = "canary " + cfg.deployment + ": " + rollout.message;
    out.record["message"] = out.message;
    out.record["ok"] = false;
    co_return out;
  }
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (std::size_t i = 0; i < cfg.steps.size(); ++i) {
    const auto& step = cfg.steps[i];
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(step.pause).count();
    const std::string name = fmt::format("canary step {}/{} ({}%)", i + 1, cfg.steps.size(), step.weight);
    {
      std::string line = name + ": " + (analysis ? "watching the error ratio" : "pausing") + " for " + std::to_string(seconds) + " s";
      co_await note(std::move(line));
    }
    json entry = {{"weight", step.weight}, {"pause_ms", step.pause.count()}};
    auto routed = co_await canary.set_weight(step.weight);
    entry["traffic"] = {{"ok", routed.ok}, {"message", routed.message}, {"details", routed.details}};
    if (!routed.ok) {
      entry["ok"] = false;
      out.record["steps"].push_back(std::move(entry));
      out.message = name + ": " + routed.message;
      out.record["message"] = out.message;
      out.record["ok"] = false;
      co_return out;
    }
    {
      std::string line = name + ": " + routed.message;
      co_await note(std::move(line));
    }
    if (analysis) {
      // The step's pause is the analysis's `for`; its other settings stay.
      config::Analysis watch = *analysis;
      watch.watch_for = step.pause;
      watch.interval = std::min(watch.interval, step.pause);
      auto judged = co_await watch_error_rate(http, watch, note);
      entry["ok"] = judged.ok;
      entry["analysis"] = {{"ok", judged.ok}, {"message", judged.message}, {"samples", judged.samples}};
      out.record["steps"].push_back(std::move(entry));
      if (!judged.ok) {
        out.message = name + ": " + judged.message;
        out.record["message"] = out.message;
        out.record["ok"] = false;
        co_return out;
      }
    } else {
      pause.expires_after(step.pause);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      entry["ok"] = true;
      out.record["steps"].push_back(std::move(entry));
    }
  }
  // Promoted: the main Deployments take all the traffic again (and roll the version out next).
  auto back = co_await canary.set_weight(0);
  out.record["promotion"] = {{"ok", back.ok}, {"message", back.message}};
  if (!back.ok) {
    out.message = "canary " + cfg.deployment + " passed, but its traffic could not be put back to 0: " + back.message;
    out.record["message"] = out.message;
    out.record["ok"] = false;
    co_return out;
  }
  out.ok = true;
  out.message = fmt::format("canary {} passed {} step(s)", cfg.deployment, cfg.steps.size());
  out.record["message"] = out.message;
  out.record["ok"] = true;
  co_return out;
}

}  // namespace shipgate::orchestration
