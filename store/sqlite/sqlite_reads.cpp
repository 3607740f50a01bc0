#include "store/sqlite/sqlite_reads.hpp"

#include <algorithm>

#include "store/sqlite/sqlite_rows.hpp"
#include "store/store_rows.hpp"
#include "store/sql_terms.hpp"

namespace shipgate::orchestration {

using nlohmann::json;

namespace {

// The first row of a statement selecting kDeploymentColumns, if any.
Result<std::optional<Deployment>> first_deployment(Statement& st) {
  const int rc = st.step();
  if (rc == SQLITE_DONE) return std::optional<Deployment>();
  if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
  return std::optional<Deployment>(read_deployment(st));
}

}  // namespace

Result<std::vector<BadVersion>> SqliteReads::bad_versions(const std::string& project, const std::string& environment) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(
      "SELECT version, sha, marked_at, deployment_id, reason, actor FROM bad_versions WHERE project = ? AND "
      "environment = ? ORDER BY marked_at DESC");
  st.bind(1, project).bind(2, environment);
  std::vector<BadVersion> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW)
    out.push_back({project, environment, st.text(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5)});
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

// The optional filters of AuditFilter, parameters 4 to 7.
#define AUDIT_MATCHES "(?4 = 0 OR id < ?4) AND (?5 = '' OR project = ?5) AND (?6 = '' OR actor = ?6) AND (?7 = '' OR action = ?7)"

Result<std::vector<AuditEntry>> SqliteReads::audit(const AuditFilter& f) {
  std::lock_guard lock(mutex_);
  // Without a cursor: the newest `limit` entries; with one: the next `limit` after it. Oldest first.
  const bool cursor = f.since_ms > 0 || f.after_id > 0;
  auto st = db_.prepare(
      cursor ? "SELECT id, at, actor, action, project, environment, deployment_id, reason, details FROM audit "
               "WHERE at >= ?1 AND id > ?2 AND " AUDIT_MATCHES " ORDER BY id ASC LIMIT ?3"
             : "SELECT * FROM (SELECT id, at, actor, action, project, environment, deployment_id, reason, details "
               "FROM audit WHERE at >= ?1 AND id > ?2 AND " AUDIT_MATCHES " ORDER BY id DESC LIMIT ?3) ORDER BY id ASC");
  st.bind(1, f.since_ms).bind(2, f.after_id).bind(3, std::int64_t{f.limit}).bind(4, f.before_id);
  st.bind(5, f.project).bind(6, f.actor).bind(7, f.action);
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(audit_entry_from_row(st));
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::optional<Deployment>> SqliteReads::deployment(std::int64_t id, bool with_history) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(std::string("SELECT ") + kDeploymentColumns + " FROM deployments WHERE id = ?");
  st.bind(1, id);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return std::optional<Deployment>();
  if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
  Deployment d = read_deployment(st);
  if (with_history) {
    auto h = db_.prepare(
        "SELECT at, from_state, to_state, actor, reason FROM history WHERE deployment_id = ? ORDER BY id");
    h.bind(1, id);
    const int history_rc = h.each_row([&d](Statement& row) {
      HistoryEntry e;
      e.at_ms = row.int64(0);
      if (!row.is_null(1)) e.from = parse_state(row.text(1));
      e.to = parse_state(row.text(2)).value_or(State::failed);
      e.actor = row.text(3);
      e.reason = row.text(4);
      d.history.push_back(std::move(e));
    });
    if (history_rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    auto a = db_.prepare("SELECT reviewer, at, comment FROM approvals WHERE deployment_id = ? ORDER BY at");
    a.bind(1, id);
    const int approvals_rc =
        a.each_row([&d](Statement& row) { d.approvals.push_back({row.text(0), row.int64(1), row.text(2)}); });
    if (approvals_rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  }
  return std::optional<Deployment>(std::move(d));
}

Result<std::vector<Deployment>> SqliteReads::deployments(const DeploymentFilter& f) {
  std::string sql = std::string("SELECT ") + kDeploymentColumns + " FROM deployments";
  // Waiting and running deployments are a handful among a million finished ones: look them up by
  // state instead of letting SQLite walk the environment's whole history for the ORDER BY.
  if (!f.project.empty() && !f.environment.empty() && !f.states.empty()) sql += " INDEXED BY deployments_by_env_state";
  sql += " WHERE 1=1";
  if (!f.project.empty()) sql += " AND project = ?1";
  if (!f.environment.empty()) sql += " AND environment = ?2";
  if (f.before_id > 0) sql += " AND id < ?3";
  if (!f.states.empty()) {
    const bool unfinished_only = std::all_of(f.states.begin(), f.states.end(), [](State st) { return !is_final(st); });
    if (unfinished_only) sql += " AND " + unfinished_term();
    sql += " AND state IN (";
    for (std::size_t i = 0; i < f.states.size(); ++i)
      sql += (i ? ", '" : "'") + std::string(to_string(f.states[i])) + "'";
    sql += ")";
  }
  sql += " ORDER BY id DESC LIMIT ?4";
  std::lock_guard lock(mutex_);
  auto st = db_.prepare(sql);
  if (!f.project.empty()) st.bind(1, f.project);
  if (!f.environment.empty()) st.bind(2, f.environment);
  if (f.before_id > 0) st.bind(3, f.before_id);
  st.bind(4, std::int64_t{f.limit});
  std::vector<Deployment> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(read_deployment(st));
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::optional<Deployment>> SqliteReads::next_to_run(const std::string& project, const std::string& environment) {
  std::lock_guard lock(mutex_);
  static const std::string sql = std::string("SELECT ") + kDeploymentColumns + " FROM deployments WHERE project = ? "
                                 "AND environment = ? AND " + runnable_term() + " ORDER BY " + next_to_run_order() + " LIMIT 1";
  auto st = db_.prepare(sql);
  st.bind(1, project).bind(2, environment);
  return first_deployment(st);
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteReads::lanes_with_work() {
  std::lock_guard lock(mutex_);
  static const std::string sql =
      "SELECT DISTINCT project, environment FROM deployments WHERE " + unfinished_term() + " AND " + runnable_term();
  auto st = db_.prepare(sql);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.emplace_back(st.text(0), st.text(1));
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::vector<OutboxItem>> SqliteReads::outbox_due(std::int64_t now_ms, int limit) {
  std::lock_guard lock(mutex_);
  // Due rows, oldest first; a GitHub status waits while an earlier one of its deployment is undone,
  // so GitHub sees them in order (and the deployment exists before its first status).
  auto st = db_.prepare(std::string("SELECT ") + kOutboxColumns +
                               " WHERE o.done_at IS NULL AND o.next_at <= ?1 AND (o.kind != 'github' OR NOT EXISTS ("
                               "SELECT 1 FROM outbox e WHERE e.deployment_id = o.deployment_id AND e.kind = 'github' "
                               "AND e.done_at IS NULL AND e.id < o.id)) ORDER BY o.id LIMIT ?2");
  st.bind(1, now_ms).bind(2, std::int64_t{limit});
  return read_outbox(st);
}

Result<std::set<std::string>> SqliteReads::unfinished_config_shas() {
  std::lock_guard lock(mutex_);
  static const std::string sql = "SELECT DISTINCT config_sha FROM deployments WHERE " + unfinished_term();
  auto st = db_.prepare(sql);
  std::set<std::string> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.insert(st.text(0));
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::optional<Deployment>> SqliteReads::find_version(const std::string& project, const std::string& version) {
  std::lock_guard lock(mutex_);
  static const std::string sql = std::string("SELECT ") + kDeploymentColumns + " FROM deployments WHERE project = ?1 "
                                 "AND state = 'succeeded' AND " + names_version_term("?2") + " ORDER BY id DESC LIMIT 1";
  auto st = db_.prepare(sql);
  st.bind(1, project).bind(2, version);
  return first_deployment(st);
}

Result<std::vector<StateCount>> SqliteReads::state_counts() {
  std::lock_guard lock(mutex_);
  std::vector<StateCount> out;
  auto finals = db_.prepare("SELECT project, environment, state, n FROM final_counts");
  int rc;
  while ((rc = finals.step()) == SQLITE_ROW)
    out.push_back({finals.text(0), finals.text(1), parse_state(finals.text(2)).value_or(State::failed), finals.int64(3), 0});
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  static const std::string open_sql = "SELECT project, environment, state, count(*), min(created_at) FROM deployments "
                                      "WHERE " + unfinished_term() + " GROUP BY project, environment, state";
  auto open = db_.prepare(open_sql);
  while ((rc = open.step()) == SQLITE_ROW)
    out.push_back({open.text(0), open.text(1), parse_state(open.text(2)).value_or(State::queued), open.int64(3),
                   open.int64(4)});
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<bool> SqliteReads::outbox_prunable(std::int64_t before_ms) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare("SELECT 1 FROM outbox WHERE done_at IS NOT NULL AND done_at < ? LIMIT 1");
  st.bind(1, before_ms);
  const int rc = st.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Result<bool>(boost::system::in_place_error, make_error_code(StoreErrc::io_error));
  return rc == SQLITE_ROW;
}

Result<void> SqliteReads::ping() {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare("SELECT 1");
  if (st.step() != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
  return {};
}

Result<std::vector<ScheduleRun>> SqliteReads::schedule_runs() {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare("SELECT project, environment, schedule, due_at, outcome, message, finished_at, deployment_id "
                        "FROM schedule_runs "
                        "ORDER BY project, environment, schedule");
  std::vector<ScheduleRun> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW)
    out.push_back({st.text(0), st.text(1), st.text(2), st.int64(3),
                   parse_schedule_outcome(st.text(4)).value_or(ScheduleOutcome::pending), st.text(5), st.int64(6),
                   st.int64(7)});
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}
Result<std::vector<DriftState>> SqliteReads::drift_states() {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare("SELECT project, environment, differences, since_at, checked_at, deployment_id, heals, heal_limited "
                        "FROM drift ORDER BY project, environment");
  std::vector<DriftState> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    DriftState d{st.text(0), st.text(1), nlohmann::json::parse(st.text(2), nullptr, false), st.int64(3), st.int64(4), st.int64(5)};
    if (!d.differences.is_array()) d.differences = nlohmann::json::array();
    const auto heals = nlohmann::json::parse(st.text(6), nullptr, false);
    if (heals.is_array())
      for (const auto& h : heals)
        if (h.is_number_integer()) d.heals_ms.push_back(h.get<std::int64_t>());
    d.heal_limited = st.int64(7) != 0;
    out.push_back(std::move(d));
  }
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

Result<std::optional<WebSession>> SqliteReads::find_session(const std::string& id_sha256, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto st = db_.prepare("SELECT id_sha256, reviewer, token_sha256, created_at, expires_at FROM web_sessions "
                        "WHERE id_sha256 = ? AND expires_at > ?");
  st.bind(1, id_sha256).bind(2, now_ms);
  const int rc = st.step();
  if (rc == SQLITE_DONE) return std::optional<WebSession>();
  if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
  return std::optional<WebSession>(WebSession{st.text(0), st.text(1), st.text(2), st.int64(3), st.int64(4)});
}

}  // namespace shipgate::orchestration
