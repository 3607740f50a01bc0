#include "store/postgres/pg_schedules.hpp"

#include "config/notify_event.hpp"

#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration::pg_schedules {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;

asio::awaitable<Result<std::vector<ScheduleRun>>> runs(PgConnection& c) {
  const std::string sql = "SELECT project, environment, schedule, due_at, outcome, message, finished_at, deployment_id "
                          "FROM schedule_runs "
                          "ORDER BY project, environment, schedule";
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<ScheduleRun> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->text(i, 0), rows->text(i, 1), rows->text(i, 2), rows->int64(i, 3),
                   parse_schedule_outcome(rows->text(i, 4)).value_or(ScheduleOutcome::pending), rows->text(i, 5),
                   rows->int64(i, 6), rows->int64(i, 7)});
  co_return out;
}

asio::awaitable<Result<bool>> claim(PgConnection& c, const ScheduleRun& run, std::optional<std::int64_t> seen_due_ms) {
  const std::string first = "INSERT INTO schedule_runs (due_at, outcome, project, environment, schedule) "
                            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
  const std::string next = "UPDATE schedule_runs SET due_at = $1, outcome = $2, message = '', finished_at = 0, deployment_id = 0 "
                           "WHERE project = $3 AND environment = $4 AND schedule = $5 AND due_at = $6";
  Params p{std::to_string(run.due_ms), std::string(to_string(run.outcome)), run.project, run.environment, run.schedule};
  if (seen_due_ms) p.push_back(std::to_string(*seen_due_ms));
  auto r = co_await c.query(seen_due_ms ? next : first, p);
  if (!r) co_return Result<bool>(boost::system::in_place_error, pg_store_error(r.error()));
  co_return r->affected() == 1;
}

asio::awaitable<Result<void>> finish(PgConnection& c, const ScheduleRun& run, const AuditEntry& audit, bool record_events) {
  // A failed verify is told to the notification endpoints, about the deployment it checked.
  const bool notify = record_events && run.outcome == ScheduleOutcome::failed && run.deployment > 0;
  static const std::string sql =
      "WITH r AS (UPDATE schedule_runs SET outcome = $1, message = $2, finished_at = $3, deployment_id = $13 "
      "WHERE project = $4 AND environment = $5 AND schedule = $6 AND due_at = $7), "
      "o AS (INSERT INTO outbox (kind, deployment_id, event, payload, next_at, created_at) "
      "SELECT 'event', $13, '" + std::string(config::to_string(config::NotifyEvent::verify_failed)) + "', $14, $3, $3 WHERE $15::boolean) "
      "INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "VALUES ($3, $8, $9, $4, $5, $10, $11, $12)";
  Params p{std::string(to_string(run.outcome)), run.message, std::to_string(run.finished_ms), run.project,
           run.environment, run.schedule, std::to_string(run.due_ms), audit.actor, std::string(to_string(audit.action)),
           audit.deployment > 0 ? std::optional<std::string>(std::to_string(audit.deployment)) : std::nullopt,
           audit.reason, audit.details.dump(), std::to_string(run.deployment),
           nlohmann::json{{"message", run.message}}.dump(), notify ? "true" : "false"};
  auto r = co_await c.query(sql, p);
  if (!r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

}  // namespace shipgate::orchestration::pg_schedules
