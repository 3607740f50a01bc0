// Drift states on the PostgreSQL store: one row per environment, written with its audit entry and
// notification event in one statement.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration::pg_drift {

boost::asio::awaitable<Result<std::vector<DriftState>>> states(PgConnection& c);
// `record_events`: whether a notification becomes an outbox event (the store's switch).
boost::asio::awaitable<Result<void>> record(PgConnection& c, const DriftRecord& record, bool record_events);

}  // namespace shipgate::orchestration::pg_drift
