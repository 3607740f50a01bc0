#include "domain/gate_policy.hpp"

#include "common/text.hpp"
#include "domain/triggers.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

void adopt_config(const config::Config& config, std::vector<NewDeployment>& deployments, TimePoint now) {
  for (auto& nd : deployments) {
    nd.config_sha = config.source_sha256;  // it runs with this generation's targets, even after a reload
    const auto* project = config.project(nd.project);
    const auto* env = project ? project->environment(nd.environment) : nullptr;
    if (env && priority(nd.trigger) == 0) apply_approval_policy(nd, *env, now);
  }
}

void apply_approval_policy(NewDeployment& d, const config::Environment& env, TimePoint now) {
  if (!env.approval) {
    d.initial = State::queued;
    return;
  }
  d.initial = State::pending_approval;
  d.policy = {{"required", env.approval->required},
              {"reviewers", env.approval->reviewers},
              {"allow_self_approval", env.approval->allow_self_approval},
              {"expire_after_ms", env.approval->expire_after.count()}};
  d.expires_ms = epoch_ms(now) + env.approval->expire_after.count();
}

int required_approvals(const Deployment& d) { return d.policy.value("required", 1); }

std::optional<Refusal> check_approver(const Deployment& d, const config::Reviewer& reviewer) {
  const auto listed = d.policy.value("reviewers", json::array());
  if (!listed.empty()) {
    bool found = false;
    for (const auto& name : listed) found = found || name == reviewer.name;
    if (!found)
      return Refusal{403, "forbidden",
                     "reviewer " + reviewer.name + " is not among the approvers of " + d.project + "/" + d.environment};
  }
  const bool self = d.actor == reviewer.name || (!reviewer.github.empty() && to_lower(reviewer.github) == to_lower(d.actor));
  if (self && !d.policy.value("allow_self_approval", false))
    return Refusal{403, "self_approval", "reviewer " + reviewer.name + " triggered this version (" + d.actor +
                                             ") and may not approve it; another reviewer must"};
  return std::nullopt;
}

std::vector<std::string> missing_approvers(const Deployment& d) {
  std::vector<std::string> out;
  for (const auto& name : d.policy.value("reviewers", json::array())) {
    bool done = false;
    for (const auto& a : d.approvals) done = done || a.reviewer == name;
    if (!done) out.push_back(name.get<std::string>());
  }
  return out;
}

std::optional<std::string> promotion_skipped(const Deployment& ok, const NewDeployment& candidate,
                                             const PromotionTarget& next) {
  if (ok.trigger == Trigger::rollback) return "a rollback is no new version to promote";
  if (ok.trigger == Trigger::schedule) return "a scheduled redeploy is no new version to promote";
  const auto same = [&](const Deployment& d) { return d.sha == candidate.sha && d.images == candidate.images; };
  if (next.running && same(*next.running))
    return candidate.environment + " already runs it (deployment " + std::to_string(next.running->id) + ")";
  for (const auto& d : next.waiting)
    if (same(d)) return candidate.environment + " already has it " + std::string(to_string(d.state)) + " (deployment " +
                        std::to_string(d.id) + ")";
  return std::nullopt;
}

std::vector<NewDeployment> plan_promotion(const config::Project& project, const Deployment& ok, TimePoint now) {
  std::vector<NewDeployment> out;
  for (const auto& env : project.environments) {
    if (env.promote_from != ok.environment) continue;
    NewDeployment d = same_version_as(ok, ok.project, env.name, Trigger::promotion);
    d.config_commit = ok.config_commit;  // a config redeploy carries its platform commit onward
    d.actor = ok.actor;  // who triggered the version: self-approval is judged against them
    d.reason = "promoted from " + ok.environment + " after deployment " + std::to_string(ok.id) + " succeeded";
    if (env.promote_images == config::Environment::PromoteImages::retag) {
      // The same SHA and version, built for this environment: its own tag template names the images.
      std::string error;
      if (auto own = resolve_images(project, env, ok.version, ok.sha, ok.ref, {}, error)) d.images = std::move(*own);
      else d.reason += "; kept " + ok.environment + "'s images: " + error;
    }
    apply_approval_policy(d, env, now);
    out.push_back(std::move(d));
  }
  return out;
}

ApprovalPlan plan_approval(const CountedApproval& a, std::int64_t now) {
  ApprovalPlan plan;
  if (a.counted)
    plan.audit = AuditEntry{0,         now,         a.reviewer, AuditAction::approve, a.project, a.environment,
                            a.deployment, a.comment, {{"approvals", a.approvals}, {"required", a.required}}};
  if (a.approvals >= a.required)
    plan.queue_reason = "approved by " + std::to_string(a.approvals) + " of " + std::to_string(a.required) +
                        " required reviewers";
  return plan;
}

}  // namespace shipgate::orchestration
