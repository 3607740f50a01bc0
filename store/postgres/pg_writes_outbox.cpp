// The PostgreSQL store's outbox writes. Rows are created with the state changes they report (see
// add_event in pg_writes.cpp); here they are fanned out into deliveries, marked after each attempt,
// and pruned once finished.
#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;

asio::awaitable<Result<void>> PgWrites::outbox_expand(PgConnection& c, const std::vector<std::int64_t>& event_ids,
                                                      const std::vector<OutboxItem>& deliveries) {
  const std::string now = text(epoch_ms(clock_->now()));
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return pg_store_error(begun.error());
  Result<void> status;
  for (const auto& d : deliveries) {
    const std::string sql = "INSERT INTO outbox (kind, destination, deployment_id, event, payload, next_at, created_at) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $6)";
    Params p{std::string(to_string(d.kind)), d.destination, text(d.deployment), d.event, d.payload.dump(), now};
    if (auto r = co_await c.query(sql, p); !r) {
      status = pg_store_error(r.error());
      break;
    }
  }
  for (std::size_t i = 0; status && i < event_ids.size(); ++i) {
    const std::string sql = "UPDATE outbox SET done_at = $1, outcome = 'expanded' WHERE id = $2";
    Params p{now, text(event_ids[i])};
    if (auto r = co_await c.query(sql, p); !r) status = pg_store_error(r.error());
  }
  if (status) {
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return pg_store_error(committed.error());
    co_return status;
  }
  co_await c.roll_back();
  co_return status;
}

asio::awaitable<Result<void>> PgWrites::outbox_record(PgConnection& c, const OutboxAttempt& a) {
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return pg_store_error(begun.error());
  const std::string sql =
      "UPDATE outbox SET attempts = attempts + 1, next_at = $1, done_at = $2, outcome = $3, last_error = $4 WHERE id = $5";
  Params p{text(a.next_ms),
           a.outcome == OutboxOutcome::pending ? std::nullopt : std::optional<std::string>(text(epoch_ms(clock_->now()))),
           std::string(to_string(a.outcome)), a.error, text(a.id)};
  auto r = co_await c.query(sql, p);
  Result<void> status = r ? Result<void>() : Result<void>(pg_store_error(r.error()));
  if (status && a.github_id > 0) {
    // The GitHub deployment made for this deployment, for its later statuses.
    const std::string remember = "UPDATE deployments SET github_id = $1 WHERE id = $2";
    Params g{text(a.github_id), text(a.deployment)};
    if (auto u = co_await c.query(remember, g); !u) status = pg_store_error(u.error());
  }
  if (status) {
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return pg_store_error(committed.error());
    co_return status;
  }
  co_await c.roll_back();
  co_return status;
}

asio::awaitable<Result<std::int64_t>> PgWrites::outbox_prune(PgConnection& c, std::int64_t before_ms) {
  const std::string sql = "DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < $1";
  Params p{text(before_ms)};
  auto r = co_await c.query(sql, p);
  if (!r) co_return pg_store_error(r.error());
  co_return r->affected();
}

}  // namespace shipgate::orchestration
