// Web sessions on the PostgreSQL store (WebSession): any replica finds a session another one opened.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration::pg_sessions {

boost::asio::awaitable<Result<void>> open(PgConnection& c, const WebSession& session);
boost::asio::awaitable<Result<std::optional<WebSession>>> find(PgConnection& c, const std::string& id_sha256,
                                                               std::int64_t now_ms);
boost::asio::awaitable<Result<void>> close(PgConnection& c, const std::string& id_sha256);

}  // namespace shipgate::orchestration::pg_sessions
