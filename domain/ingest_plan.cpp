#include "domain/ingest_plan.hpp"

#include <algorithm>

#include "domain/semver.hpp"

namespace shipgate::orchestration {

IngestReads ingest_reads(const NewDeployment& incoming) {
  const bool automatic = is_automatic(incoming.trigger);
  // Only semantic versions have an order; a SHA does not (and costs no read).
  return {automatic, automatic && parse_semver(incoming.version).has_value()};
}

AuditEntry IngestPlan::skipped_audit(const NewDeployment& incoming, std::int64_t now) const {
  return {0, now, incoming.actor, AuditAction::skipped, incoming.project, incoming.environment, 0, skipped, skip_details};
}

IngestPlan plan_ingest(const NewDeployment& incoming, const EnvironmentView& view) {
  const IngestReads reads = ingest_reads(incoming);
  IngestPlan plan;
  if (reads.bad_marks) {
    const auto marked = std::find_if(view.bad.begin(), view.bad.end(), [&](const BadVersion& mark) {
      return names_version(mark, incoming.version, incoming.sha);
    });
    if (marked != view.bad.end()) {
      plan.kind = IngestKind::skip;
      plan.skipped = marked_bad_reason(*marked, incoming.environment);
      plan.skip_details = skipped_details(incoming);
      return plan;
    }
  }
  if (reads.current_version) {
    if (auto newer = newer_version_in_place(incoming, view.open, view.current)) {
      plan.kind = IngestKind::skip;
      plan.skipped = older_version_reason(incoming, *newer);
      plan.skip_details = skipped_details(incoming);
      plan.skip_details["newer"] = *newer;
      return plan;
    }
  }
  Placement placement = place(incoming, view.open);
  if (placement.existing) {
    plan.kind = IngestKind::reuse;
    plan.existing = std::move(placement.existing);
    return plan;
  }
  plan.superseded = std::move(placement.superseded);
  plan.override_event = incoming.trigger == Trigger::override_;
  return plan;
}

void record_in_view(EnvironmentView& view, const NewDeployment& incoming, const IngestPlan& plan, std::int64_t id) {
  if (plan.kind != IngestKind::insert) return;
  for (const auto& old : plan.superseded)
    std::erase_if(view.open, [&](const Unfinished& u) { return u.id == old.id; });
  view.open.push_back({id, incoming.initial, incoming.version, incoming.sha, incoming.images, incoming.trigger});
}

void record_in_view(EnvironmentView& view, const BadVersion& mark) {
  std::erase_if(view.bad, [&](const BadVersion& old) { return old.version == mark.version; });
  view.bad.push_back(mark);
}

}  // namespace shipgate::orchestration
