// How a row of either store becomes a Deployment or an outbox item. Both stores select the same
// columns in the same order (the two macros below); a row is anything with text(i),
// int64(i) and is_null(i): an SQLite statement, or a row of a PostgreSQL answer.
#pragma once
#include <nlohmann/json.hpp>

#include "store/images_column.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// The deployment columns both stores select, in the order deployment_from_row reads them.
#define SHIPGATE_DEPLOYMENT_COLUMNS                                                                         \
  "id, project, environment, state, version, sha, ref, images, trigger, actor, delivery, created_at, "     \
  "updated_at, started_at, finished_at, message, result, priority, policy, expires_at, waiting_reason, " \
  "config_sha, config_commit, committed_at"
// Outbox rows with the GitHub deployment id remembered on their deployment (FROM included).
#define SHIPGATE_OUTBOX_COLUMNS                                                                                     \
  "o.id, o.kind, o.destination, o.deployment_id, o.event, o.payload, o.attempts, o.created_at, d.github_id, "      \
  "o.outcome, o.last_error, o.done_at FROM outbox o LEFT JOIN deployments d ON d.id = o.deployment_id"

inline nlohmann::json json_object_column(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

template <class Row>
Deployment deployment_from_row(const Row& s) {
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
  d.result = nlohmann::json::parse(s.text(16), nullptr, false);
  if (d.result.is_discarded()) d.result = nlohmann::json::object();
  d.policy = json_object_column(s.text(18));
  d.expires_ms = s.is_null(19) ? 0 : s.int64(19);
  d.waiting_reason = s.text(20);
  d.config_sha = s.text(21);
  d.config_commit = s.text(22);
  d.committed_ms = s.int64(23);
  return d;
}

template <class Row>
OutboxItem outbox_item_from_row(const Row& s) {
  OutboxItem item;
  item.id = s.int64(0);
  item.kind = parse_outbox_kind(s.text(1)).value_or(OutboxKind::event);
  item.destination = s.text(2);
  item.deployment = s.int64(3);
  item.event = s.text(4);
  item.payload = json_object_column(s.text(5));
  item.attempts = static_cast<int>(s.int64(6));
  item.created_ms = s.int64(7);
  item.github_id = s.is_null(8) ? 0 : s.int64(8);
  item.outcome = parse_outbox_outcome(s.text(9)).value_or(OutboxOutcome::pending);
  item.last_error = s.text(10);
  item.done_ms = s.is_null(11) ? 0 : s.int64(11);
  return item;
}

// A row of `id, at, actor, action, project, environment, deployment_id, reason, details` from audit.
template <class Row>
AuditEntry audit_entry_from_row(const Row& s) {
  AuditEntry e;
  e.id = s.int64(0);
  e.at_ms = s.int64(1);
  e.actor = s.text(2);
  e.action = parse_audit_action(s.text(3)).value_or(AuditAction::transition);
  e.project = s.text(4);
  e.environment = s.text(5);
  e.deployment = s.is_null(6) ? 0 : s.int64(6);
  e.reason = s.text(7);
  e.details = json_object_column(s.text(8));
  return e;
}

}  // namespace shipgate::orchestration
