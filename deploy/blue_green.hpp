// Blue-green on Kubernetes (config::BlueGreenConfig): the new version rolls out to the idle colour of
// each Deployment at the live colour's replica count, the preview Service (with preview_url) is pointed
// at it, and later the live Service's selector is switched to it in one patch; switching back is the
// same patch with the old colour. The old colour is scaled to 0 afterwards, unless a newer deploy has
// changed it since (a JSON Patch that tests its image first).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/targets.hpp"
#include "deploy/kube_api.hpp"
#include "deploy/target.hpp"

namespace shipgate::deploy {

// "green" for "blue" and the other way round; "" for anything else.
std::string other_colour(std::string_view colour);

// component -> image to set. Details: {"blue_green": {component: {deployment, service, live, new, replicas, image}}}.
boost::asio::awaitable<TargetOutcome> deploy_idle_colour(KubeApi& api, const std::map<std::string, std::string>& images);
// `deployed`: deploy_idle_colour's details; with `back` the live colours recorded there are restored.
// Details: {"switched": {component: {service, from, to, old_deployment}}, "keep_old_ms"}.
boost::asio::awaitable<TargetOutcome> switch_colours(KubeApi& api, const nlohmann::json& deployed, bool back);
boost::asio::awaitable<TargetOutcome> retire_old_colours(KubeApi& api, const nlohmann::json& switched);

}  // namespace shipgate::deploy
