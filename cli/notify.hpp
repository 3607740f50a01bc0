// `shipgate notify`: a CI job tells shipgate that a version is built (POST /webhooks/build, signed with
// SHIPGATE_WEBHOOK_SECRET), retrying what a retry can fix, and with --wait follows the deployments that
// started until they end. In GitHub Actions it reads the run's variables: the Idempotency-Key comes from
// GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT (a re-run job's repeated call deploys nothing twice), the SHA
// from GITHUB_SHA, the ref from GITHUB_REF and the actor from GITHUB_ACTOR, each unless given.
#pragma once
#include <string>
#include <vector>

namespace shipgate::cli {

// args[0] is "notify". Exit codes: 0 accepted (with --wait: every deployment it started succeeded),
// 1 refused, unreachable or a deployment that did not succeed, 2 usage.
int run_notify(const std::vector<std::string>& args);

}  // namespace shipgate::cli
