// The rules of the production gate as pure functions: which approvals a deployment needs, who may give
// them, and what a success promotes. No I/O, no clock of their own: callers pass `now`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "domain/deployment.hpp"

namespace shipgate::orchestration {

// Starts a new deployment in pending_approval with the environment's rules frozen into it (so a later
// config change does not move the goalposts), or queued when the environment needs no approval.
void apply_approval_policy(NewDeployment& d, const config::Environment& env, TimePoint now);

// What every new deployment of a plan takes from the config it is accepted under: that generation's
// targets (config_sha) and, unless it jumps the gate (override, rollback), its environment's approvals.
void adopt_config(const config::Config& config, std::vector<NewDeployment>& deployments, TimePoint now);

struct Refusal {
  int status = 403;
  std::string code;
  std::string message;
};

// Whether `reviewer` may approve or reject `d` (the permission itself is checked by the caller).
std::optional<Refusal> check_approver(const Deployment& d, const config::Reviewer& reviewer);

int required_approvals(const Deployment& d);

// Listed reviewers who have not approved yet (empty list: anyone with the approve permission).
std::vector<std::string> missing_approvers(const Deployment& d);

// The same version (SHA, tag, image references: exactly what was tested, pinned by digest where the
// caller knows them) for every environment promoted from the one that just succeeded. An environment
// with `promote: {images: retag}` resolves its own tag template for that SHA and version instead.
std::vector<NewDeployment> plan_promotion(const config::Project& project, const Deployment& succeeded, TimePoint now);

// What the environment a promotion goes to has of the version: the deployment it runs (its newest
// succeeded one) and those waiting there (queued, pending approval, running).
struct PromotionTarget {
  std::optional<Deployment> running;
  std::vector<Deployment> waiting;
};

// Why a success does not promote `candidate` (one of plan_promotion's), or none when it does: only new
// work goes on. Not after a rollback or a scheduled redeploy (nothing new was tested), and not when the
// next environment already runs, or has waiting, the same SHA and images.
std::optional<std::string> promotion_skipped(const Deployment& succeeded, const NewDeployment& candidate,
                                             const PromotionTarget& next);

// What one reviewer's approval writes, for both stores: the `approve` audit entry when the approval was
// new (`counted`, not a repeat), and, once `approvals` of `required` reviewers have approved, the reason
// the deployment leaves pending_approval for the queue.
struct ApprovalPlan {
  std::optional<AuditEntry> audit;
  std::optional<std::string> queue_reason;
};
struct CountedApproval {
  std::int64_t deployment = 0;
  std::string project;
  std::string environment;
  std::string reviewer;
  std::string comment;
  bool counted = false;  // a new approval (a repeat by the same reviewer counts once)
  int approvals = 0;     // approvals recorded, this one included
  int required = 1;
};
ApprovalPlan plan_approval(const CountedApproval& approval, std::int64_t now);

}  // namespace shipgate::orchestration
