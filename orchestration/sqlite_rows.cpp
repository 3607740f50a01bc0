#include "orchestration/sqlite_rows.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

const char* const kDeploymentColumns =
    "id, project, environment, state, version, sha, ref, images, trigger, actor, delivery, created_at, "
    "updated_at, started_at, finished_at, message, result, priority, policy, expires_at, waiting_reason, config_sha, config_commit";

const char* const kOutboxColumns =
    "o.id, o.kind, o.destination, o.deployment_id, o.event, o.payload, o.attempts, o.created_at, d.github_id, "
    "o.outcome, o.last_error, o.done_at FROM outbox o LEFT JOIN deployments d ON d.id = o.deployment_id";

Deployment read_deployment(const Statement& s) {
  Deployment d;
  d.id = s.int64(0);
  d.project = s.text(1);
  d.environment = s.text(2);
  d.state = parse_state(s.text(3)).value_or(State::failed);
  d.version = s.text(4);
  d.sha = s.text(5);
  d.ref = s.text(6);
  d.images = parse_images(s.text(7));
  d.trigger = parse_trigger(s.text(8)).value_or(Trigger::push);
  d.actor = s.text(9);
  d.delivery = s.text(10);
  d.created_ms = s.int64(11);
  d.updated_ms = s.int64(12);
  d.started_ms = s.is_null(13) ? 0 : s.int64(13);
  d.finished_ms = s.is_null(14) ? 0 : s.int64(14);
  d.message = s.text(15);
  d.result = json::parse(s.text(16), nullptr, false);
  if (d.result.is_discarded()) d.result = json::object();
  d.policy = json::parse(s.text(18), nullptr, false);
  if (!d.policy.is_object()) d.policy = json::object();
  d.expires_ms = s.is_null(19) ? 0 : s.int64(19);
  d.waiting_reason = s.text(20);
  d.config_sha = s.text(21);
  d.config_commit = s.text(22);
  return d;
}

Result<std::vector<OutboxItem>> read_outbox(Statement& st) {
  std::vector<OutboxItem> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    OutboxItem item;
    item.id = st.int64(0);
    item.kind = parse_outbox_kind(st.text(1)).value_or(OutboxKind::event);
    item.destination = st.text(2);
    item.deployment = st.int64(3);
    item.event = st.text(4);
    item.payload = json::parse(st.text(5), nullptr, false);
    if (!item.payload.is_object()) item.payload = json::object();
    item.attempts = static_cast<int>(st.int64(6));
    item.created_ms = st.int64(7);
    item.github_id = st.is_null(8) ? 0 : st.int64(8);
    item.outcome = parse_outbox_outcome(st.text(9)).value_or(OutboxOutcome::pending);
    item.last_error = st.text(10);
    item.done_ms = st.is_null(11) ? 0 : st.int64(11);
    out.push_back(std::move(item));
  }
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

}  // namespace shipgate::orchestration
