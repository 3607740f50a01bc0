// The PostgreSQL store's schema and its migrations. Several replicas may start at once: each takes the
// same advisory lock before it looks, so exactly one applies a migration and the others, waiting on the
// lock, then find it applied. Each migration commits together with its row in schema_migrations.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>

#include "store/postgres/pg_connection.hpp"

namespace shipgate::orchestration {

// How many migrations this build knows.
int pg_schema_version();

// Applies the migrations the database has not seen. Returns an error message, empty on success; a
// database migrated by a newer shipgate is refused (it may not understand its tables).
boost::asio::awaitable<std::string> migrate_pg(PgConnection& connection);

}  // namespace shipgate::orchestration
