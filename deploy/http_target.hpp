#pragma once
#include "deploy/target.hpp"

namespace shipgate::deploy {

std::unique_ptr<DeployTarget> make_http_target(const config::HttpTargetConfig& cfg,
                                               std::shared_ptr<http::HttpClient> http);

}  // namespace shipgate::deploy
