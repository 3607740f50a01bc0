#include "handlers/reviewer_actions.hpp"

#include "domain/gate_policy.hpp"

namespace shipgate::handlers {

using nlohmann::json;
using orchestration::State;

namespace {

json allowed() { return {{"allowed", true}}; }
json refused(std::string why) { return {{"allowed", false}, {"why", std::move(why)}}; }

json lacks(config::Permission p) { return refused("needs the '" + std::string(config::to_string(p)) + "' permission"); }

// "it is running", "it has ended (succeeded)": where the deployment stands, in words.
std::string where(orchestration::State s) {
  const std::string name(orchestration::to_string(s));
  return orchestration::is_final(s) ? "it has ended (" + name + ")" : "it is " + name;
}

}  // namespace

json reviewer_actions(const config::Config& config, const config::Reviewer& reviewer, const orchestration::Deployment& d) {
  json out;
  const bool pending = d.state == State::pending_approval;
  const auto approver = orchestration::check_approver(d, reviewer);
  if (!reviewer.may(config::Permission::approve, d.project)) {
    out["approve"] = out["reject"] = lacks(config::Permission::approve);
  } else if (!pending) {
    out["approve"] = out["reject"] = refused(where(d.state) + ", not waiting for approval");
  } else {
    out["approve"] = approver ? refused(approver->code == "self_approval"
                                            ? "you triggered this version: another reviewer must approve it"
                                            : approver->message)
                              : allowed();
    // Rejecting a version you triggered yourself is allowed.
    out["reject"] = approver && approver->code != "self_approval" ? refused(approver->message) : allowed();
  }
  if (!reviewer.may(config::Permission::deploy, d.project)) out["cancel"] = lacks(config::Permission::deploy);
  else if (d.state != State::queued && d.state != State::pending_approval && d.state != State::deploying_externally)
    out["cancel"] = refused(where(d.state) + ": only a waiting deployment (or one GitHub Actions deploys) can be cancelled");
  else out["cancel"] = allowed();
  out["rollback"] = reviewer.may(config::Permission::rollback, d.project) ? allowed() : lacks(config::Permission::rollback);
  out["deploy"] = reviewer.may(config::Permission::deploy, d.project) ? allowed() : lacks(config::Permission::deploy);
  out["override"] = reviewer.may(config::Permission::override_, d.project) ? allowed() : lacks(config::Permission::override_);
  if (const auto* p = config.project(d.project))
    if (const auto* e = p->environment(d.environment); e && !e->confirm.empty()) out["confirm"] = e->confirm;
  return out;
}

}  // namespace shipgate::handlers
