// What replicas sharing a PostgreSQL store tell each other: which config and version each runs
// (a heartbeat row per replica), and the text of every config generation one of them loaded.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration::pg_replicas {

boost::asio::awaitable<Result<void>> record_replica(PgConnection& c, const ReplicaSeen& self);
boost::asio::awaitable<Result<std::vector<ReplicaSeen>>> replicas(PgConnection& c);
// Kept once per SHA-256 (a generation's text never changes).
boost::asio::awaitable<Result<void>> record_config(PgConnection& c, const std::string& sha256, const std::string& source);
boost::asio::awaitable<Result<std::optional<std::string>>> config_source(PgConnection& c, const std::string& sha256);

}  // namespace shipgate::orchestration::pg_replicas
