#include "store/postgres/pg_lanes.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

// Milliseconds since the epoch by the database's clock.
#define SHIPGATE_DB_NOW "(extract(epoch from clock_timestamp()) * 1000)::bigint"

// Insert the lane, or take it over when its lease ran out. The row lock of ON CONFLICT serializes two
// replicas' claims; the loser sees an unexpired lease and gets no row back.
constexpr const char* kClaim =
    "INSERT INTO lanes (project, environment, holder, fence, expires_at) VALUES ($1, $2, $3, 1, " SHIPGATE_DB_NOW
    " + $4::bigint) ON CONFLICT (project, environment) DO UPDATE SET holder = EXCLUDED.holder, "
    "fence = lanes.fence + 1, expires_at = EXCLUDED.expires_at WHERE lanes.expires_at <= " SHIPGATE_DB_NOW
    " RETURNING fence";
constexpr const char* kRenew = "UPDATE lanes SET expires_at = " SHIPGATE_DB_NOW
                               " + $5::bigint WHERE project = $1 AND environment = $2 AND holder = $3 AND fence = $4::bigint";
constexpr const char* kRelease =
    "UPDATE lanes SET expires_at = 0 WHERE project = $1 AND environment = $2 AND holder = $3 AND fence = $4::bigint";

#undef SHIPGATE_DB_NOW

}  // namespace

asio::awaitable<LaneClaim> claim_lane(PgConnection& c, const std::string& project, const std::string& environment,
                                      const std::string& holder, Millis ttl) {
  const std::string sql = kClaim;
  std::vector<std::optional<std::string>> params{project, environment, holder, std::to_string(ttl.count())};
  auto r = co_await c.query(sql, params);
  if (!r) co_return r.error();
  if (r->size() == 0) co_return std::optional<LaneLease>();
  co_return std::optional<LaneLease>(LaneLease{project, environment, holder, r->int64(0, 0)});
}

asio::awaitable<LaneCheck> renew_lane(PgConnection& c, const LaneLease& lease, Millis ttl) {
  const std::string update = kRenew;
  std::vector<std::optional<std::string>> params{lease.project, lease.environment, lease.holder,
                                                 std::to_string(lease.fence), std::to_string(ttl.count())};
  auto r = co_await c.query(update, params);
  if (!r) co_return r.error();
  co_return r->affected() == 1;
}

asio::awaitable<LaneCheck> release_lane(PgConnection& c, const LaneLease& lease) {
  std::vector<std::optional<std::string>> params{lease.project, lease.environment, lease.holder,
                                                 std::to_string(lease.fence)};
  const std::string sql = kRelease;
  auto r = co_await c.query(sql, params);
  if (!r) co_return r.error();
  co_return r->affected() == 1;
}

std::string lane_fence_condition(int first) {
  const auto p = [first](int i) { return "$" + std::to_string(first + i); };
  return "EXISTS (SELECT 1 FROM lanes l WHERE l.project = " + p(0) + " AND l.environment = " + p(1) +
         " AND l.holder = " + p(2) + " AND l.fence = " + p(3) + "::bigint)";
}

}  // namespace shipgate::orchestration
