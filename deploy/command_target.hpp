#pragma once
#include "deploy/target.hpp"

namespace shipgate::deploy {

// Runs a program (docker compose, ssh, a script) with the deployment's fields in its environment:
// SHIPGATE_PROJECT, SHIPGATE_ENVIRONMENT, SHIPGATE_VERSION, SHIPGATE_SHA, SHIPGATE_REF,
// SHIPGATE_DEPLOYMENT_ID, SHIPGATE_IMAGE_<COMPONENT>. Exit 0 is success. No shell unless argv names one.
std::unique_ptr<DeployTarget> make_command_target(const config::CommandTargetConfig& cfg);

}  // namespace shipgate::deploy
