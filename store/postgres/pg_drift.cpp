#include "store/postgres/pg_drift.hpp"

#include "config/notify_event.hpp"

#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration::pg_drift {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;
using nlohmann::json;

asio::awaitable<Result<std::vector<DriftState>>> states(PgConnection& c) {
  const std::string sql = "SELECT project, environment, differences, since_at, checked_at, deployment_id, heals, heal_limited "
                          "FROM drift ORDER BY project, environment";
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<DriftState> out;
  for (int i = 0; i < rows->size(); ++i) {
    DriftState d{rows->text(i, 0), rows->text(i, 1), json::parse(rows->text(i, 2), nullptr, false), rows->int64(i, 3),
                 rows->int64(i, 4), rows->int64(i, 5)};
    if (!d.differences.is_array()) d.differences = json::array();
    const auto heals = json::parse(rows->text(i, 6), nullptr, false);
    if (heals.is_array())
      for (const auto& h : heals)
        if (h.is_number_integer()) d.heals_ms.push_back(h.get<std::int64_t>());
    d.heal_limited = rows->text(i, 7) == "t";
    out.push_back(std::move(d));
  }
  co_return out;
}

asio::awaitable<Result<void>> record(PgConnection& c, const DriftRecord& record, bool record_events) {
  const auto& d = record.state;
  const bool notify = record_events && !record.notify.empty() && d.deployment > 0;
  const AuditEntry audit = record.audit.value_or(AuditEntry{});
  static const std::string sql =
      "WITH s AS (INSERT INTO drift (project, environment, differences, since_at, checked_at, deployment_id, heals, heal_limited) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project, environment) DO UPDATE SET "
      "differences = excluded.differences, since_at = excluded.since_at, checked_at = excluded.checked_at, "
      "deployment_id = excluded.deployment_id, heals = excluded.heals, heal_limited = excluded.heal_limited), "
      "o AS (INSERT INTO outbox (kind, deployment_id, event, payload, next_at, created_at) "
      "SELECT 'event', $6, '" + std::string(config::to_string(config::NotifyEvent::drift)) + "', $9, $5, $5 WHERE $10::boolean) "
      "INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "SELECT $5, $11, $12, $1, $2, $13, $14, $15 WHERE $16::boolean";
  Params p{d.project, d.environment, d.differences.dump(), std::to_string(d.since_ms), std::to_string(d.checked_ms),
           std::to_string(d.deployment), json(d.heals_ms).dump(), d.heal_limited ? "true" : "false",
           json{{"message", record.notify}}.dump(), notify ? "true" : "false", audit.actor,
           std::string(to_string(audit.action)),
           audit.deployment > 0 ? std::optional<std::string>(std::to_string(audit.deployment)) : std::nullopt,
           audit.reason, audit.details.dump(), record.audit ? "true" : "false"};
  auto r = co_await c.query(sql, p);
  if (!r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

}  // namespace shipgate::orchestration::pg_drift
