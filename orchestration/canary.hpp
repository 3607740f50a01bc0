// A canary release (config::Canary): the new version rolls out to the canary Deployment, then each step
// gives it the step's weight of traffic (DeployTarget::set_weight) and is waited out while the analysis
// judges it; a canary that passed gets weight 0 back (promotion). The caller rolls the main Deployments
// out only when this passes, and puts the canary's weight back to 0 and rolls it back (with the details
// recorded here) when it does not.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "deploy/target.hpp"
#include "orchestration/error_rate.hpp"

namespace shipgate::orchestration {

struct CanaryOutcome {
  bool ok = false;
  bool rolled_out = false;  // the canary Deployment was changed (so a failure has something to undo)
  std::string message;      // one line: which step failed and why, or what passed
  // {deployment, ok, message, details (the target's, with what to restore), steps: [{weight, ok, analysis}]}
  nlohmann::json record = nlohmann::json::object();
};

boost::asio::awaitable<CanaryOutcome> run_canary(deploy::DeployTarget& canary, const deploy::DeployContext& ctx,
                                                 const config::Canary& cfg, const std::optional<config::Analysis>& analysis,
                                                 http::HttpClient& http, const AnalysisNote& note);

}  // namespace shipgate::orchestration
