#include "store/postgres/pg_replicas.hpp"

#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration::pg_replicas {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;

// Milliseconds since the epoch by the database's clock: replicas whose clocks disagree still agree on
// who was heard from lately.
#define SHIPGATE_DB_NOW "(extract(epoch from clock_timestamp()) * 1000)::bigint"

asio::awaitable<Result<void>> record_replica(PgConnection& c, const ReplicaSeen& self) {
  const std::string sql = "INSERT INTO replicas (id, config_sha256, version, seen_at) VALUES ($1, $2, $3, " SHIPGATE_DB_NOW
                          ") ON CONFLICT (id) DO UPDATE SET config_sha256 = EXCLUDED.config_sha256, "
                          "version = EXCLUDED.version, seen_at = EXCLUDED.seen_at";
  Params p{self.id, self.config_sha256, self.version};
  if (auto r = co_await c.query(sql, p); !r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

asio::awaitable<Result<std::vector<ReplicaSeen>>> replicas(PgConnection& c) {
  const std::string sql = "SELECT id, config_sha256, version, seen_at FROM replicas WHERE seen_at > " SHIPGATE_DB_NOW
                          " - 30000 ORDER BY id";
  const Params none;
  auto rows = co_await c.query(sql, none);
  if (!rows) co_return pg_store_error(rows.error());
  std::vector<ReplicaSeen> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back({rows->text(i, 0), rows->text(i, 1), rows->text(i, 2), rows->int64(i, 3)});
  co_return out;
}

#undef SHIPGATE_DB_NOW

asio::awaitable<Result<void>> record_config(PgConnection& c, const std::string& sha256, const std::string& source) {
  const std::string sql = "INSERT INTO config_generations (sha256, source, first_seen) VALUES ($1, $2, "
                          "(extract(epoch from now()) * 1000)::bigint) ON CONFLICT (sha256) DO NOTHING";
  Params p{sha256, source};
  if (auto r = co_await c.query(sql, p); !r) co_return pg_store_error(r.error());
  co_return Result<void>();
}

asio::awaitable<Result<std::optional<std::string>>> config_source(PgConnection& c, const std::string& sha256) {
  const std::string sql = "SELECT source FROM config_generations WHERE sha256 = $1";
  Params p{sha256};
  auto rows = co_await c.query(sql, p);
  if (!rows) co_return pg_store_error(rows.error());
  if (rows->size() == 0) co_return std::optional<std::string>();
  co_return std::optional<std::string>(rows->text(0, 0));
}

}  // namespace shipgate::orchestration::pg_replicas
