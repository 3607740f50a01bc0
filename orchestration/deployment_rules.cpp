#include "orchestration/deployment_rules.hpp"

namespace shipgate::orchestration {

Placement place(const NewDeployment& incoming, const std::vector<Unfinished>& unfinished) {
  Placement out;
  if (priority(incoming.trigger) > 0) return out;
  for (const auto& u : unfinished) {
    if (u.version == incoming.version && u.sha == incoming.sha && u.images == incoming.images) {
      out.existing = u;
      out.superseded.clear();
      return out;
    }
    if (u.state != State::running && priority(u.trigger) == 0) out.superseded.push_back(u);
  }
  return out;
}

bool names_version(const BadVersion& mark, std::string_view version, std::string_view sha) {
  return mark.version == version || (!sha.empty() && mark.sha == sha);
}

bool clears_bad_mark(Trigger trigger, State reached) {
  return reached == State::succeeded && (trigger == Trigger::manual || trigger == Trigger::override_);
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

}  // namespace shipgate::orchestration
