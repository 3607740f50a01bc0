#include "store/postgres/pg_reads.hpp"

#include <algorithm>

#include "store/postgres/pg_writes.hpp"
#include "store/store_rows.hpp"
#include "store/sql_terms.hpp"

namespace shipgate::orchestration::pg_reads {

using nlohmann::json;
using Params = std::vector<std::optional<std::string>>;

namespace {

// One row of an answer, read the way store_rows.hpp reads a row.
class PgRow {
 public:
  PgRow(const PgRows& rows, int row) : rows_(rows), row_(row) {}
  std::string text(int col) const { return rows_.text(row_, col); }
  std::int64_t int64(int col) const { return rows_.int64(row_, col); }
  bool is_null(int col) const { return rows_.is_null(row_, col); }

 private:
  const PgRows& rows_;
  int row_;
};

std::vector<Deployment> deployments_of(const PgRows& rows) {
  std::vector<Deployment> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(deployment_from_row(PgRow(rows, i)));
  return out;
}

std::optional<Deployment> first_of(const PgRows& rows) {
  if (rows.size() == 0) return std::nullopt;
  return deployment_from_row(PgRow(rows, 0));
}


// The first deployment a query selecting SHIPGATE_DEPLOYMENT_COLUMNS finds, if any.
Read<std::optional<Deployment>> one_deployment(PgConnection& c, const std::string& sql, const Params& p) {
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  co_return first_of(*rows);
}

}  // namespace

Read<std::optional<Deployment>> deployment(PgConnection& c, std::int64_t id, bool with_history) {
  const std::string sql = "SELECT " SHIPGATE_DEPLOYMENT_COLUMNS " FROM deployments WHERE id = $1";
  Params p{text(id)};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  auto d = first_of(*rows);
  if (!d || !with_history) co_return d;
  const std::string history_sql =
      "SELECT at, from_state, to_state, actor, reason FROM history WHERE deployment_id = $1 ORDER BY id";
  auto h = co_await c.query(history_sql, p);
  if (!h) co_return pg_store_error(h.error());
  for (int i = 0; i < h->size(); ++i) {
    HistoryEntry e;
    e.at_ms = h->int64(i, 0);
    if (!h->is_null(i, 1)) e.from = parse_state(h->text(i, 1));
    e.to = parse_state(h->text(i, 2)).value_or(State::failed);
    e.actor = h->text(i, 3);
    e.reason = h->text(i, 4);
    d->history.push_back(std::move(e));
  }
  const std::string approvals_sql = "SELECT reviewer, at, comment FROM approvals WHERE deployment_id = $1 ORDER BY at";
  auto a = co_await c.query(approvals_sql, p);
  if (!a) co_return pg_store_error(a.error());
  for (int i = 0; i < a->size(); ++i) d->approvals.push_back({a->text(i, 0), a->int64(i, 1), a->text(i, 2)});
  co_return d;
}

Read<std::vector<Deployment>> deployments(PgConnection& c, const DeploymentFilter& f) {
  std::string sql = "SELECT " SHIPGATE_DEPLOYMENT_COLUMNS " FROM deployments WHERE true";
  Params p;
  const auto param = [&](std::string value) {
    p.push_back(std::move(value));
    return "$" + std::to_string(p.size());
  };
  if (!f.project.empty()) sql += " AND project = " + param(f.project);
  if (!f.environment.empty()) sql += " AND environment = " + param(f.environment);
  if (f.before_id > 0) sql += " AND id < " + param(text(f.before_id));
  if (!f.states.empty()) {
    sql += " AND state IN (";
    for (std::size_t i = 0; i < f.states.size(); ++i) sql += (i ? ", " : "") + param(std::string(to_string(f.states[i])));
    sql += ")";
  }
  sql += " ORDER BY id DESC LIMIT " + param(text(f.limit));
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  co_return deployments_of(*rows);
}

Read<std::optional<Deployment>> next_to_run(PgConnection& c, const std::string& project, const std::string& environment) {
  static const std::string sql = "SELECT " SHIPGATE_DEPLOYMENT_COLUMNS " FROM deployments WHERE project = $1 AND "
                                 "environment = $2 AND " + runnable_term() + " ORDER BY " + next_to_run_order() + " LIMIT 1";
  const Params p{project, environment};
  co_return co_await one_deployment(c, sql, p);
}

Read<std::vector<std::pair<std::string, std::string>>> lanes_with_work(PgConnection& c) {
  static const std::string sql = "SELECT DISTINCT project, environment FROM deployments WHERE " + runnable_term();
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0), rows->text(i, 1));
  co_return out;
}

Read<std::vector<OutboxItem>> outbox_due(PgConnection& c, std::int64_t now_ms, int limit) {
  // Due rows, oldest first; a GitHub status waits while an earlier one of its deployment is undone.
  const std::string sql = "SELECT " SHIPGATE_OUTBOX_COLUMNS
                          " WHERE o.done_at IS NULL AND o.next_at <= $1 AND (o.kind != 'github' OR NOT EXISTS ("
                          "SELECT 1 FROM outbox e WHERE e.deployment_id = o.deployment_id AND e.kind = 'github' "
                          "AND e.done_at IS NULL AND e.id < o.id)) ORDER BY o.id LIMIT $2";
  Params p{text(now_ms), text(limit)};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<OutboxItem> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(outbox_item_from_row(PgRow(*rows, i)));
  co_return out;
}

Read<std::set<std::string>> unfinished_config_shas(PgConnection& c) {
  static const std::string sql = "SELECT DISTINCT config_sha FROM deployments WHERE " + unfinished_term();
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::set<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.insert(rows->text(i, 0));
  co_return out;
}

Read<std::optional<Deployment>> find_version(PgConnection& c, const std::string& project, const std::string& version) {
  static const std::string sql = "SELECT " SHIPGATE_DEPLOYMENT_COLUMNS " FROM deployments WHERE project = $1 AND "
                                 "state = 'succeeded' AND " + names_version_term("$2") + " ORDER BY id DESC LIMIT 1";
  const Params p{project, version};
  co_return co_await one_deployment(c, sql, p);
}

Read<std::vector<StateCount>> state_counts(PgConnection& c) {
  static const std::string sql =
      "SELECT project, environment, state, n, 0 FROM final_counts UNION ALL "
      "SELECT project, environment, state, count(*), min(created_at) FROM deployments "
      "WHERE " + unfinished_term() + " GROUP BY project, environment, state";
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<StateCount> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->text(i, 0), rows->text(i, 1), parse_state(rows->text(i, 2)).value_or(State::failed),
                   rows->int64(i, 3), rows->int64(i, 4)});
  co_return out;
}

Read<std::vector<BadVersion>> bad_versions(PgConnection& c, const std::string& project, const std::string& environment) {
  const std::string sql = "SELECT version, sha, marked_at, deployment_id, reason, actor FROM bad_versions "
                          "WHERE project = $1 AND environment = $2 ORDER BY marked_at DESC";
  Params p{project, environment};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<BadVersion> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({project, environment, rows->text(i, 0), rows->text(i, 1), rows->int64(i, 2), rows->int64(i, 3),
                   rows->text(i, 4), rows->text(i, 5)});
  co_return out;
}

Read<std::vector<AuditEntry>> audit(PgConnection& c, const AuditFilter& f) {
  // Without a cursor: the newest `limit` entries; with one: the next `limit` after it. Oldest first.
  const bool cursor = f.since_ms > 0 || f.after_id > 0;
  const std::string columns = "id, at, actor, action, project, environment, deployment_id, reason, details";
  // The optional filters: paging back, project, actor, action.
  const std::string matches = " AND ($4::bigint = 0 OR id < $4) AND ($5 = '' OR project = $5) AND ($6 = '' OR actor = $6) "
                              "AND ($7 = '' OR action = $7)";
  const std::string sql =
      cursor ? "SELECT " + columns + " FROM audit WHERE at >= $1 AND id > $2" + matches + " ORDER BY id ASC LIMIT $3"
             : "SELECT * FROM (SELECT " + columns + " FROM audit WHERE at >= $1 AND id > $2" + matches +
                   " ORDER BY id DESC LIMIT $3) newest ORDER BY id ASC";
  Params p{text(f.since_ms), text(f.after_id), text(f.limit), text(f.before_id), f.project, f.actor, f.action};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<AuditEntry> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(audit_entry_from_row(PgRow(*rows, i)));
  co_return out;
}

Read<void> ping(PgConnection& c) {
  const std::string sql = "SELECT 1";
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  co_return Result<void>();
}

}  // namespace shipgate::orchestration::pg_reads
