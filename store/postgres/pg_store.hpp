// The PostgreSQL store: the Store interface over a small pool of asynchronous connections, for several
// replicas sharing one database. Writes commit durably before they return (synchronous_commit on, the
// server's default; the store refuses to start when it is off). Lanes are leases in the database
// (pg_lanes.hpp); replicas wake each other with NOTIFY when they queue work.
#pragma once
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

struct PgStoreOptions {
  std::string conninfo;           // a libpq connection URI or key=value string
  std::string replica;            // this replica's id: the holder of its lanes
  std::size_t pool_size = 8;
  std::chrono::milliseconds lease{15'000};           // a lane's hold runs out this long after its last renewal
  std::chrono::milliseconds connect_timeout{3'000};  // per connection attempt (503s come no later than this)
  // Per statement on the pool's connections: a server that stops answering (hung, stopped, cut off
  // without a reset) costs a webhook or a read at most this before its 503, writes and reads alike.
  std::chrono::milliseconds statement_timeout{5'000};
};

// Connects once, applies the migrations (one replica at a time) and checks the server's settings;
// the store then runs on `executor`. An error message when the database cannot be used.
boost::system::result<std::unique_ptr<Store>, std::string> open_pg_store(boost::asio::any_io_executor executor,
                                                                         const PgStoreOptions& options,
                                                                         std::shared_ptr<const Clock> clock);

}  // namespace shipgate::orchestration
