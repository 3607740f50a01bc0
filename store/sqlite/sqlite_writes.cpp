#include "store/sqlite/sqlite_writes.hpp"

#include "config/notify_event.hpp"
#include "domain/deployment_rules.hpp"
#include "domain/gate_policy.hpp"
#include "store/sqlite/sqlite_rows.hpp"
#include "store/sql_terms.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

SqliteWrites::SqliteWrites(std::shared_ptr<const Clock> clock, const std::atomic<bool>& record_events)
    : clock_(std::move(clock)), record_events_(record_events) {}

std::int64_t SqliteWrites::now_ms() const { return epoch_ms(clock_->now()); }

// Side writes (audit, history, outbox events) fail their whole write when they fail: the caller
// returns the error, and the write's savepoint is rolled back with everything it did.
Result<void> SqliteWrites::add_audit(Db& db, const AuditEntry& e) {
  auto st = db.prepare(
      "INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, e.at_ms ? e.at_ms : now_ms()).bind(2, e.actor).bind(3, to_string(e.action)).bind(4, e.project);
  st.bind(5, e.environment);
  if (e.deployment > 0) st.bind(6, e.deployment);
  else st.bind_null(6);
  st.bind(7, e.reason).bind(8, e.details.dump());
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return {};
}

// A history row and what goes beside it (transition_record).
Result<void> SqliteWrites::add_history(Db& db, std::int64_t id, const std::string& project, const std::string& environment,
                 std::optional<State> from, State to, const std::string& actor, const std::string& reason,
                 std::int64_t at, Trigger trigger) {
  auto st = db.prepare(
      "INSERT INTO history (deployment_id, at, from_state, to_state, actor, reason) VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, id).bind(2, at);
  if (from) st.bind(3, to_string(*from));
  else st.bind_null(3);
  st.bind(4, to_string(to)).bind(5, actor).bind(6, reason);
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  const TransitionRecord record = transition_record(id, project, environment, from, to, actor, reason, at, trigger);
  if (record.final_count) {
    auto c = db.prepare(
        "INSERT INTO final_counts (project, environment, state, n) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (project, environment, state) DO UPDATE SET n = n + 1");
    c.bind(1, project).bind(2, environment).bind(3, *record.final_count);
    if (c.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  }
  if (auto r = add_audit(db, record.audit); !r) return r;
  if (record.event) return add_event(db, id, to_string(to), at);
  return {};
}

// A state change for the outbox, in the transaction that made it: the outbox worker turns it into
// notifications and GitHub statuses, so none is lost to a crash and none is sent for a change
// that did not commit.
Result<void> SqliteWrites::add_event(Db& db, std::int64_t deployment, std::string_view event, std::int64_t at,
                                     const nlohmann::json& payload) {
  if (!record_events_) return {};
  auto st = db.prepare(
      "INSERT INTO outbox (kind, deployment_id, event, payload, next_at, created_at) VALUES ('event', ?, ?, ?, ?, ?)");
  st.bind(1, deployment).bind(2, std::string(event)).bind(3, payload.dump()).bind(4, at).bind(5, at);
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return {};
}

Result<std::vector<BadVersion>> SqliteWrites::bad_marks(Db& db, const std::string& project,
                                                        const std::string& environment, const std::string& version,
                                                        const std::string& sha) {
  auto st = db.prepare(
      "SELECT version, sha, deployment_id, reason FROM bad_versions WHERE project = ? AND environment = ?");
  st.bind(1, project).bind(2, environment);
  std::vector<BadVersion> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    BadVersion b{project, environment, st.text(0), st.text(1), 0, st.int64(2), st.text(3), {}};
    if (names_version(b, version, sha)) out.push_back(std::move(b));
  }
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::string> SqliteWrites::running_version(Db& db, const std::string& project, const std::string& environment) {
  static const std::string sql =
      "SELECT version FROM deployments WHERE project = ? AND environment = ? AND " + current_version_term() + " LIMIT 1";
  auto st = db.prepare(sql);
  st.bind(1, project).bind(2, environment);
  const int rc = st.step();
  if (rc == SQLITE_ROW) return st.text(0);
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return std::string();
}

Result<std::vector<Unfinished>> SqliteWrites::unfinished(Db& db, const std::string& project,
                                                         const std::string& environment) {
  static const std::string sql = "SELECT id, state, version, sha, images, trigger FROM deployments "
                                 "WHERE project = ? AND environment = ? AND " + unfinished_term();
  auto st = db.prepare(sql);
  st.bind(1, project).bind(2, environment);
  std::vector<Unfinished> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    Unfinished u;
    u.id = st.int64(0);
    u.state = parse_state(st.text(1)).value_or(State::queued);
    u.version = st.text(2);
    u.sha = st.text(3);
    u.images = parse_images(st.text(4));
    u.trigger = parse_trigger(st.text(5)).value_or(Trigger::push);
    out.push_back(std::move(u));
  }
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<EnvironmentView> SqliteWrites::environment_view(Db& db, const NewDeployment& nd) {
  const IngestReads reads = ingest_reads(nd);
  EnvironmentView view;
  if (reads.bad_marks) {
    auto bad = bad_marks(db, nd.project, nd.environment, nd.version, nd.sha);
    if (!bad) return bad.error();
    view.bad = std::move(*bad);
  }
  auto open = unfinished(db, nd.project, nd.environment);
  if (!open) return open.error();
  view.open = std::move(*open);
  if (reads.current_version) {
    auto current = running_version(db, nd.project, nd.environment);
    if (!current) return current.error();
    view.current = std::move(*current);
  }
  return view;
}

// Writes one new deployment as plan_ingest says: a skip (with its audit entry), the unfinished one of
// the same version, or a new row that supersedes the older waiting ones.
Result<IngestedDeployment> SqliteWrites::insert_deployment(Db& db, const NewDeployment& nd, const std::string& delivery,
                                             std::int64_t now) {
  auto view = environment_view(db, nd);
  if (!view) return view.error();
  const IngestPlan plan = plan_ingest(nd, *view);
  IngestedDeployment created = ingested(nd, plan);
  if (plan.kind == IngestKind::skip)
    if (auto r = add_audit(db, plan.skipped_audit(nd, now)); !r) return r.error();
  if (plan.kind != IngestKind::insert) return created;
  auto ins = db.prepare(
      "INSERT INTO deployments (project, environment, state, version, sha, ref, images, trigger, actor, "
      "delivery, created_at, updated_at, priority, policy, expires_at, config_sha, config_commit, committed_at, result) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.bind(1, nd.project).bind(2, nd.environment).bind(3, to_string(nd.initial)).bind(4, nd.version);
  ins.bind(5, nd.sha).bind(6, nd.ref).bind(7, json(nd.images).dump()).bind(8, to_string(nd.trigger)).bind(9, nd.actor);
  ins.bind(10, delivery).bind(11, now).bind(12, now).bind(13, priority(nd.trigger)).bind(14, nd.policy.dump());
  if (nd.expires_ms > 0) ins.bind(15, nd.expires_ms);
  else ins.bind_null(15);
  ins.bind(16, nd.config_sha).bind(17, nd.config_commit).bind(18, nd.committed_ms).bind(19, nd.result.dump());
  if (ins.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  created.id = sqlite3_last_insert_rowid(db.handle());
  if (auto r = add_history(db, created.id, nd.project, nd.environment, std::nullopt, nd.initial, nd.actor, nd.reason, now);
      !r)
    return r.error();
  if (plan.override_event)
    if (auto r = add_event(db, created.id, config::to_string(config::NotifyEvent::override_), now); !r) return r.error();
  for (const auto& old : plan.superseded) {
    const std::string why = superseded_reason(created.id, nd.version);
    auto up = db.prepare(
        "UPDATE deployments SET state = 'superseded', updated_at = ?, finished_at = ?, message = ? WHERE id = ?");
    up.bind(1, now).bind(2, now).bind(3, why).bind(4, old.id);
    if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    if (auto r = add_history(db, old.id, nd.project, nd.environment, old.state, State::superseded, "shipgate", why, now);
        !r)
      return r.error();
    created.superseded.push_back(old.id);
  }
  return created;
}

Result<void> SqliteWrites::mark_bad(Db& db, const BadVersion& b, std::int64_t now) {
  auto st = db.prepare(
      "INSERT OR REPLACE INTO bad_versions (project, environment, version, sha, marked_at, deployment_id, reason, "
      "actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, b.project).bind(2, b.environment).bind(3, b.version).bind(4, b.sha).bind(5, now);
  st.bind(6, b.deployment).bind(7, b.reason).bind(8, b.actor);
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return {};
}

Result<IngestResult> SqliteWrites::do_ingest(Db& db, const IngestRequest& req) {
  const std::int64_t now = now_ms();
  IngestResult out;
  {
    auto st = db.prepare("SELECT status, body FROM deliveries WHERE key = ?");
    st.bind(1, req.delivery_key);
    const int rc = st.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);  // never "new"
    if (rc == SQLITE_ROW) {
      out.duplicate = true;
      out.response = {static_cast<int>(st.int64(0)), st.text(1)};
      return out;
    }
  }
  for (const auto& b : req.mark_bad)
    if (auto r = mark_bad(db, b, now); !r) return r.error();
  for (const auto& nd : req.deployments) {
    auto created = insert_deployment(db, nd, req.delivery_key, now);
    if (!created) return created.error();
    out.deployments.push_back(std::move(*created));
  }
  for (auto e : req.audit) {
    if (e.deployment == 0 && !out.deployments.empty()) e.deployment = out.deployments.front().id;
    if (auto r = add_audit(db, e); !r) return r.error();
  }
  out.response = req.respond ? req.respond(out.deployments) : StoredResponse{202, "{}"};
  auto st = db.prepare("INSERT INTO deliveries (key, received_at, source, status, body) VALUES (?, ?, ?, ?, ?)");
  st.bind(1, req.delivery_key).bind(2, now).bind(3, req.source).bind(4, out.response.status).bind(5, out.response.body);
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<TransitionOutcome> SqliteWrites::do_transition(Db& db, const TransitionRequest& req) {
  const std::int64_t now = now_ms();
  State current;
  Trigger trigger;
  std::string version, sha, project, environment;
  {
    auto st = db.prepare("SELECT state, trigger, version, sha, project, environment FROM deployments WHERE id = ?");
    st.bind(1, req.id);
    if (auto found = found_row(st); !found) return found.error();
    current = parse_state(st.text(0)).value_or(State::failed);
    trigger = parse_trigger(st.text(1)).value_or(Trigger::push);
    version = st.text(2);
    sha = st.text(3);
    project = st.text(4);
    environment = st.text(5);
  }
  const auto plan = plan_transition(current, trigger, req.event);
  if (!plan) return TransitionOutcome{false, current, {}};
  const auto next = &plan->to;
  auto up = db.prepare(
      "UPDATE deployments SET state = ?1, updated_at = ?2, "
      "started_at = CASE WHEN ?7 AND started_at IS NULL THEN ?2 ELSE started_at END, "
      "finished_at = CASE WHEN ?3 THEN ?2 ELSE finished_at END, "
      "message = CASE WHEN ?3 THEN ?4 ELSE message END, "
      "waiting_reason = CASE WHEN ?8 THEN waiting_reason ELSE '' END, "
      "result = COALESCE(?5, result) WHERE id = ?6");
  up.bind(1, to_string(*next)).bind(2, now).bind(3, plan->finishes ? 1 : 0).bind(4, req.reason);
  if (req.result) up.bind(5, req.result->dump());
  else up.bind_null(5);
  up.bind(6, req.id).bind(7, plan->starts ? 1 : 0).bind(8, plan->keeps_waiting_reason ? 1 : 0);
  if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  if (auto r = add_history(db, req.id, project, environment, current, *next, req.actor, req.reason, now, trigger); !r)
    return r.error();
  TransitionOutcome out{true, *next, {}};
  // A version someone chose to deploy by hand, and that then succeeded, is no longer bad there.
  if (plan->clears_bad_marks) {
    auto bad = bad_marks(db, project, environment, version, sha);  // the version and its SHA may have several
    if (!bad) return bad.error();
    for (const auto& b : *bad) {
      auto del = db.prepare("DELETE FROM bad_versions WHERE project = ? AND environment = ? AND version = ?");
      del.bind(1, project).bind(2, environment).bind(3, b.version);
      if (del.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    }
  }
  for (const auto& b : req.mark_bad)
    if (auto r = mark_bad(db, b, now); !r) return r.error();
  for (const auto& nd : req.then_create) {
    auto created = insert_deployment(db, nd, "", now);
    if (!created) return created.error();
    out.created.push_back(std::move(*created));
  }
  return out;
}

Result<ApprovalOutcome> SqliteWrites::do_approve(Db& db, const ApprovalRequest& req) {
  const std::int64_t now = now_ms();
  State current;
  std::string project, environment;
  {
    auto st = db.prepare("SELECT state, project, environment FROM deployments WHERE id = ?");
    st.bind(1, req.id);
    if (auto found = found_row(st); !found) return found.error();
    current = parse_state(st.text(0)).value_or(State::failed);
    project = st.text(1);
    environment = st.text(2);
  }
  ApprovalOutcome out;
  out.state = current;
  if (current != State::pending_approval) {
    out.kind = ApprovalOutcome::Kind::not_pending;
    return out;
  }
  auto ins = db.prepare("INSERT OR IGNORE INTO approvals (deployment_id, reviewer, at, comment) VALUES (?, ?, ?, ?)");
  ins.bind(1, req.id).bind(2, req.reviewer).bind(3, now).bind(4, req.comment);
  if (ins.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  out.kind = sqlite3_changes(db.handle()) == 1 ? ApprovalOutcome::Kind::counted : ApprovalOutcome::Kind::repeated;
  {
    auto st = db.prepare("SELECT count(*) FROM approvals WHERE deployment_id = ?");
    st.bind(1, req.id);
    if (st.step() != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
    out.approvals = static_cast<int>(st.int64(0));
  }
  const ApprovalPlan plan = plan_approval({req.id, project, environment, req.reviewer, req.comment,
                                           out.kind == ApprovalOutcome::Kind::counted, out.approvals, req.required},
                                          now);
  if (plan.audit)
    if (auto r = add_audit(db, *plan.audit); !r) return r.error();
  if (plan.queue_reason) {
    auto t = do_transition(db, {req.id, Event::approved, req.reviewer, *plan.queue_reason, std::nullopt, {}});
    if (!t) return t.error();
    out.state = t->state;
  }
  return out;
}

Result<std::vector<std::int64_t>> SqliteWrites::do_expire(Db& db, std::int64_t now) {
  std::vector<std::int64_t> due;
  {
    auto st = db.prepare(
        "SELECT id FROM deployments WHERE state = 'pending_approval' AND expires_at IS NOT NULL AND expires_at <= ?");
    st.bind(1, now);
    if (st.each_row([&due](Statement& row) { due.push_back(row.int64(0)); }) != SQLITE_DONE)
      return make_error_code(StoreErrc::io_error);
  }
  std::vector<std::int64_t> expired;
  for (auto id : due) {
    auto t = do_transition(db, {id, Event::expire, "shipgate", "not approved in time", std::nullopt, {}});
    if (!t) return t.error();
    if (t->applied) expired.push_back(id);
  }
  return expired;
}

Result<bool> SqliteWrites::claim_schedule_run(Db& db, const ScheduleRun& run, std::optional<std::int64_t> seen_due_ms) {
  // Compare-and-set on the last due time: the first run of a schedule inserts its row, a later one
  // replaces the run it saw; either way one caller per due time changes a row.
  auto st = seen_due_ms
                ? db.prepare("UPDATE schedule_runs SET due_at = ?, outcome = ?, message = '', finished_at = 0, deployment_id = 0 "
                             "WHERE project = ? AND environment = ? AND schedule = ? AND due_at = ?")
                : db.prepare("INSERT INTO schedule_runs (due_at, outcome, project, environment, schedule) "
                             "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  st.bind(1, run.due_ms).bind(2, to_string(run.outcome)).bind(3, run.project).bind(4, run.environment).bind(5, run.schedule);
  if (seen_due_ms) st.bind(6, *seen_due_ms);
  if (st.step() != SQLITE_DONE) return Result<bool>(boost::system::in_place_error, StoreErrc::io_error);
  return sqlite3_changes(db.handle()) == 1;
}

Result<void> SqliteWrites::finish_schedule_run(Db& db, const ScheduleRun& run, const AuditEntry& audit) {
  auto st = db.prepare("UPDATE schedule_runs SET outcome = ?, message = ?, finished_at = ?, deployment_id = ? "
                       "WHERE project = ? AND environment = ? AND schedule = ? AND due_at = ?");
  st.bind(1, to_string(run.outcome)).bind(2, run.message).bind(3, run.finished_ms).bind(4, run.deployment);
  st.bind(5, run.project).bind(6, run.environment).bind(7, run.schedule).bind(8, run.due_ms);
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  // A failed verify is told to the notification endpoints, about the deployment it checked.
  if (run.outcome == ScheduleOutcome::failed && run.deployment > 0)
    if (auto r = add_event(db, run.deployment, config::to_string(config::NotifyEvent::verify_failed), run.finished_ms, {{"message", run.message}}); !r) return r;
  return add_audit(db, audit);
}

Result<void> SqliteWrites::record_drift(Db& db, const DriftRecord& record) {
  const auto& d = record.state;
  auto st = db.prepare("INSERT INTO drift (project, environment, differences, since_at, checked_at, deployment_id, heals, heal_limited) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, environment) DO UPDATE SET "
                       "differences = excluded.differences, since_at = excluded.since_at, checked_at = excluded.checked_at, "
                       "deployment_id = excluded.deployment_id, heals = excluded.heals, heal_limited = excluded.heal_limited");
  st.bind(1, d.project).bind(2, d.environment).bind(3, d.differences.dump()).bind(4, d.since_ms).bind(5, d.checked_ms);
  st.bind(6, d.deployment).bind(7, nlohmann::json(d.heals_ms).dump()).bind(8, std::int64_t{d.heal_limited ? 1 : 0});
  if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  if (!record.notify.empty() && d.deployment > 0)
    if (auto r = add_event(db, d.deployment, config::to_string(config::NotifyEvent::drift), d.checked_ms, {{"message", record.notify}}); !r) return r;
  if (record.audit) return add_audit(db, *record.audit);
  return {};
}

}  // namespace shipgate::orchestration
