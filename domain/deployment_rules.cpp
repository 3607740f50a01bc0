#include "domain/deployment_rules.hpp"

#include "domain/semver.hpp"

namespace shipgate::orchestration {

std::string marked_bad_reason(const BadVersion& mark, std::string_view environment) {
  return "version " + mark.version + " is marked bad in " + std::string(environment) + " (rolled back from deployment " +
         std::to_string(mark.deployment) + (mark.reason.empty() ? "" : ": " + mark.reason) +
         "); deploy it manually to override";
}

std::string older_version_reason(const NewDeployment& incoming, std::string_view newer) {
  return "version " + incoming.version + " is older than " + std::string(newer) + " in " + incoming.environment +
         "; automatic triggers never go back to an older version (deploy it manually to do that)";
}

nlohmann::json skipped_details(const NewDeployment& incoming) {
  return {{"version", incoming.version}, {"sha", incoming.sha}, {"trigger", to_string(incoming.trigger)}};
}

std::string superseded_reason(std::int64_t by, std::string_view version) {
  return "superseded by deployment " + std::to_string(by) + " (" + std::string(version) + ")";
}

std::optional<std::string> newer_version_in_place(const NewDeployment& incoming, const std::vector<Unfinished>& unfinished,
                                                  std::string_view running) {
  if (!is_automatic(incoming.trigger)) return std::nullopt;
  const auto mine = parse_semver(incoming.version);
  if (!mine) return std::nullopt;
  std::optional<std::string> newest;
  std::optional<SemVer> newest_v;
  auto consider = [&](std::string_view version) {
    const auto v = parse_semver(version);
    if (v && compare(*v, *mine) > 0 && (!newest_v || compare(*v, *newest_v) > 0)) {
      newest = std::string(version);
      newest_v = v;
    }
  };
  consider(running);
  for (const auto& u : unfinished) consider(u.version);
  return newest;
}

const Deployment* newer_queued_work(const Deployment& waiting, const std::vector<Deployment>& queued) {
  const Deployment* found = nullptr;
  for (const auto& q : queued)
    if (q.id > waiting.id && priority(q.trigger) >= priority(waiting.trigger) && (!found || q.id > found->id))
      found = &q;
  return found;
}

Placement place(const NewDeployment& incoming, const std::vector<Unfinished>& unfinished) {
  Placement out;
  if (priority(incoming.trigger) > 0) return out;
  // Each GitHub Actions job waits for its own answer: it never stands in for another deployment, nor
  // another for it, and it ends only by its answer.
  if (incoming.trigger == Trigger::github_actions) return out;
  for (const auto& u : unfinished) {
    if (u.trigger == Trigger::github_actions) continue;
    if (u.version == incoming.version && u.sha == incoming.sha && u.images == incoming.images) {
      out.existing = u;
      out.superseded.clear();
      return out;
    }
    if (u.state != State::running && priority(u.trigger) == 0) out.superseded.push_back(u);
  }
  return out;
}

std::string_view to_string(ProtectionAnswer a) { return a == ProtectionAnswer::approved ? "approved" : "rejected"; }

std::optional<ProtectionAnswer> protection_answer(Trigger trigger, State reached, bool handed_over) {
  if (trigger != Trigger::github_actions) return std::nullopt;
  if (reached == State::deploying_externally) return ProtectionAnswer::approved;
  if (is_final(reached) && !handed_over) return ProtectionAnswer::rejected;
  return std::nullopt;
}

bool names_version(const BadVersion& mark, std::string_view version, std::string_view sha) {
  return mark.version == version || (!sha.empty() && mark.sha == sha);
}

bool clears_bad_mark(Trigger trigger, State reached) {
  return reached == State::succeeded && (trigger == Trigger::manual || trigger == Trigger::override_);
}

std::string_view counted_final_state(Trigger trigger, State reached) {
  if (trigger == Trigger::rollback && reached == State::succeeded) return to_string(State::rolled_back);
  return to_string(reached);
}

TransitionRecord transition_record(std::int64_t id, const std::string& project, const std::string& environment,
                                   std::optional<State> from, State to, const std::string& actor,
                                   const std::string& reason, std::int64_t at, Trigger trigger) {
  nlohmann::json details = {{"to", to_string(to)}};
  if (from) details["from"] = to_string(*from);
  TransitionRecord out{{0, at, actor, audit_action(from, to), project, environment, id, reason, std::move(details)},
                       std::nullopt, !from || *from != to, to == State::queued};
  if (is_final(to)) out.final_count = counted_final_state(trigger, to);
  return out;
}

AuditAction audit_action(std::optional<State> from, State to) {
  if (!from) return AuditAction::created;
  if (to == State::rejected) return AuditAction::reject;
  if (to == State::cancelled) return AuditAction::cancel;
  return AuditAction::transition;
}

const Deployment* previous_version(const std::vector<Deployment>& succeeded, const Deployment& current) {
  for (const auto& d : succeeded)
    if (d.id != current.id && (d.version != current.version || d.images != current.images)) return &d;
  return nullptr;
}

const Deployment* rollback_target(const std::vector<Deployment>& succeeded, const Deployment& failed) {
  if (failed.trigger != Trigger::config_change) return previous_version(succeeded, failed);
  for (const auto& d : succeeded)
    if (d.id != failed.id) return &d;
  return nullptr;
}

bool marks_bad_on_rollback(const Deployment& failed, const Deployment& target) {
  return failed.version != target.version || failed.images != target.images;
}

}  // namespace shipgate::orchestration
