// Schedule runs on the PostgreSQL store: one row per environment's schedule, claimed by
// compare-and-set on its last due time, so replicas ticking at once start one run per due time.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <vector>

#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration::pg_schedules {

boost::asio::awaitable<Result<std::vector<ScheduleRun>>> runs(PgConnection& c);
boost::asio::awaitable<Result<bool>> claim(PgConnection& c, const ScheduleRun& run, std::optional<std::int64_t> seen_due_ms);
// The outcome, its audit entry and (a failed verify, with `record_events`) its outbox event, in one
// statement: all or nothing.
boost::asio::awaitable<Result<void>> finish(PgConnection& c, const ScheduleRun& run, const AuditEntry& audit,
                                            bool record_events);

}  // namespace shipgate::orchestration::pg_schedules
