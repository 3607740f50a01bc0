#include "store/postgres/pg_sessions.hpp"

#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration::pg_sessions {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;

asio::awaitable<Result<void>> open(PgConnection& c, const WebSession& s) {
  // One statement: the expired sessions go as the new one is stored.
  const std::string sql =
      "WITH gone AS (DELETE FROM web_sessions WHERE expires_at <= $4) "
      "INSERT INTO web_sessions (id_sha256, reviewer, token_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
  const Params p{s.id_sha256, s.reviewer, s.token_sha256, std::to_string(s.created_ms), std::to_string(s.expires_ms)};
  auto r = co_await c.query(sql, p);
  if (!r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

asio::awaitable<Result<std::optional<WebSession>>> find(PgConnection& c, const std::string& id_sha256, std::int64_t now_ms) {
  const std::string sql = "SELECT id_sha256, reviewer, token_sha256, created_at, expires_at FROM web_sessions "
                          "WHERE id_sha256 = $1 AND expires_at > $2";
  const Params p{id_sha256, std::to_string(now_ms)};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  if (rows->size() == 0) co_return std::optional<WebSession>();
  co_return std::optional<WebSession>(
      WebSession{rows->text(0, 0), rows->text(0, 1), rows->text(0, 2), rows->int64(0, 3), rows->int64(0, 4)});
}

asio::awaitable<Result<void>> close(PgConnection& c, const std::string& id_sha256) {
  const Params p{id_sha256};
  auto r = co_await c.query("DELETE FROM web_sessions WHERE id_sha256 = $1", p);
  if (!r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

}  // namespace shipgate::orchestration::pg_sessions
