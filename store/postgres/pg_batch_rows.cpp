#include "store/postgres/pg_batch_rows.hpp"

#include "config/notify_event.hpp"
#include "domain/deployment_rules.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

void RowWriter::history(std::int64_t id, const Lane& lane, std::optional<State> from, State to, const std::string& actor,
                        const std::string& reason, Trigger trigger) {
  rows.history.push_back({{"d", id}, {"f", from ? json(to_string(*from)) : json()}, {"t", to_string(to)}, {"a", actor}, {"r", reason}});
  const TransitionRecord record = transition_record(id, lane.first, lane.second, from, to, actor, reason, now_, trigger);
  audit(record.audit);
  if (record.final_count) ++rows.finals[{lane.first, lane.second, std::string(*record.final_count)}];
  if (record_events_ && record.event) rows.events.push_back({{"d", id}, {"v", to_string(to)}});
  if (record.wakes) rows.wake.insert(lane.first + "\n" + lane.second);
}

void RowWriter::audit(const AuditEntry& e) {
  rows.audit.push_back({{"a", e.actor}, {"x", to_string(e.action)}, {"p", e.project}, {"e", e.environment},
                        {"d", e.deployment > 0 ? json(e.deployment) : json()}, {"r", e.reason}, {"j", e.details.dump()},
                        {"at", e.at_ms ? e.at_ms : now_}});
}

void RowWriter::mark(const BadVersion& mark) {
  rows.marks.push_back({{"p", mark.project}, {"e", mark.environment}, {"v", mark.version}, {"s", mark.sha},
                        {"d", mark.deployment}, {"r", mark.reason}, {"a", mark.actor}});
}

void RowWriter::insert(std::int64_t id, const NewDeployment& nd, const IngestPlan& plan, const std::string& delivery_key) {
  const Lane lane{nd.project, nd.environment};
  rows.deployments.push_back(
      {{"id", id}, {"p", nd.project}, {"e", nd.environment}, {"st", to_string(nd.initial)}, {"v", nd.version},
       {"s", nd.sha}, {"rf", nd.ref}, {"im", json(nd.images).dump()}, {"t", to_string(nd.trigger)}, {"a", nd.actor},
       {"dl", delivery_key}, {"pr", priority(nd.trigger)}, {"po", nd.policy.dump()},
       {"x", nd.expires_ms > 0 ? json(nd.expires_ms) : json()}, {"cs", nd.config_sha}, {"cc", nd.config_commit},
       {"ca", nd.committed_ms}, {"rs", nd.result.dump()}});
  history(id, lane, std::nullopt, nd.initial, nd.actor, nd.reason, nd.trigger);
  if (plan.override_event && record_events_)
    rows.events.push_back({{"d", id}, {"v", config::to_string(config::NotifyEvent::override_)}});
  for (const auto& old : plan.superseded) {
    const std::string why = superseded_reason(id, nd.version);
    rows.supersede.push_back({{"id", old.id}, {"st", to_string(old.state)}, {"m", why}});
    ++rows.superseding;
    history(old.id, lane, old.state, State::superseded, "shipgate", why, old.trigger);
  }
}

void RowWriter::answer(const std::string& key, const StoredResponse& response) {
  rows.answers.push_back({{"k", key}, {"s", response.status}, {"b", response.body}});
}

}  // namespace shipgate::orchestration
