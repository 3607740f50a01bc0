#pragma once
#include "deploy/target.hpp"

namespace shipgate::deploy {

std::unique_ptr<DeployTarget> make_dokploy_target(const config::DokployTargetConfig& cfg,
                                                  std::shared_ptr<http::HttpClient> http);

}  // namespace shipgate::deploy
