// A `before` step that runs a Kubernetes Job to its end (a migration): the deployment's Job is made from
// its template once (found again by name when a resumed deployment asks, never made twice), waited for
// until Complete or Failed within `timeout`, and a failure says why from the failed pod's log. A Job is
// never undone: rollback has nothing to do.
#pragma once
#include "deploy/target.hpp"

namespace shipgate::deploy {

std::unique_ptr<DeployTarget> make_job_target(const config::JobTargetConfig& cfg, std::shared_ptr<http::HttpClient> http);

}  // namespace shipgate::deploy
