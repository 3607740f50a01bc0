// How a canary's weight reaches traffic on Kubernetes: the backend weights of a Gateway API HTTPRoute
// (a JSON Patch guarded by the route's resourceVersion), or, without a route, the canary Deployment's
// replica count, so that its share of the two Deployments' replicas is the weight.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "config/targets.hpp"
#include "deploy/kube_api.hpp"
#include "deploy/target.hpp"

namespace shipgate::deploy {

// Replicas the canary needs beside `main_replicas` for `percent` of them (rounded, at least 1 above 0;
// at 100 as many as the main Deployment has: replicas alone cannot take all traffic).
int canary_replicas(int main_replicas, int percent);

// The JSON Patch that gives the canary Service `percent` and the main Service the rest in every rule of
// the route that names the canary Service; `error` says why it cannot (no such backendRef). The first
// operation tests the route's resourceVersion, so a route changed in between is not overwritten.
nlohmann::json weight_patch(const nlohmann::json& httproute, const config::CanaryRoute& route, int percent, std::string& error);

boost::asio::awaitable<TargetOutcome> route_weight(KubeApi& api, const config::CanaryRoute& route, int percent);
boost::asio::awaitable<TargetOutcome> scale_for_weight(KubeApi& api, const std::string& canary, const std::string& main, int percent);

}  // namespace shipgate::deploy
