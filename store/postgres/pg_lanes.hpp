// Which replica runs an environment's deployments: a lease on the environment's lane (a row in
// `lanes`), taken when it is free or its holder stopped renewing it, renewed by the holder's heartbeat,
// and numbered: every take raises the lane's fencing number, and every later write of the holder names
// the number it holds, so a replica that lost its lease (paused, partitioned, presumed dead) can never
// write over the one that took the lane after it. Lease times come from the database's clock, so
// replicas whose clocks disagree still agree on expiry.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "store/postgres/pg_connection.hpp"

namespace shipgate::orchestration {

struct LaneLease {
  std::string project;
  std::string environment;
  std::string holder;  // the replica's id
  std::int64_t fence = 0;
};

using LaneClaim = boost::system::result<std::optional<LaneLease>, PgError>;
using LaneCheck = boost::system::result<bool, PgError>;

// Takes the lane when nobody holds it or the holder's lease ran out; nothing while another holds it.
boost::asio::awaitable<LaneClaim> claim_lane(PgConnection& c, const std::string& project, const std::string& environment,
                                             const std::string& holder, Millis ttl);
// Extends the lease; false when it was lost (another replica took the lane). A lease that ran out but
// that nobody took yet is still this holder's: its fencing number did not change.
boost::asio::awaitable<LaneCheck> renew_lane(PgConnection& c, const LaneLease& lease, Millis ttl);
// Gives the lane up at once (a replica that drains); false when it was no longer held.
boost::asio::awaitable<LaneCheck> release_lane(PgConnection& c, const LaneLease& lease);

// A condition for a write's WHERE clause: true only while the lease with the fencing number in
// parameters $<first> (project), $<first+1> (environment), $<first+2> (holder), $<first+3> (fence)
// is still the lane's. Writes of a running deployment add it, so a stale holder's write changes nothing.
std::string lane_fence_condition(int first);

}  // namespace shipgate::orchestration
