// A few PostgreSQL connections shared by the store's coroutines. A caller borrows one for a statement
// or a transaction and gives it back when its lease ends; a connection that broke (a timeout, the
// server restarting or failing over) is dropped then, and the next borrower gets a fresh one, so the
// pool recovers by itself once the database answers again.
//
// Thread-safety: every call on the pool's executor (a strand or a one-thread io_context), leases too.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/pg_connection.hpp"

namespace shipgate::orchestration {

class PgPool : public std::enable_shared_from_this<PgPool> {
 public:
  // `statement_timeout`: the bound of every query on the pool's connections (none: the connection's).
  PgPool(boost::asio::any_io_executor executor, std::string conninfo, std::size_t size,
         Millis connect_timeout = Millis(5'000), std::optional<Millis> statement_timeout = std::nullopt);

  // A borrowed connection; given back (or dropped when broken) when the lease ends.
  class Lease {
   public:
    Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<PgConnection> connection);
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    PgConnection& operator*() const { return *connection_; }
    PgConnection* operator->() const { return connection_.get(); }

   private:
    std::shared_ptr<PgPool> pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  // An idle connection, a new one while fewer than `size` are open, or the first one given back
  // within `wait`. Fails when connecting fails (the database is down: callers answer 503) or nothing
  // came free in time.
  boost::asio::awaitable<boost::system::result<Lease, PgError>> acquire(Millis wait = Millis(5'000));

  std::size_t open() const { return open_; }  // connections lent out or idle
  std::size_t idle() const { return idle_.size(); }

 private:
  void give_back(std::unique_ptr<PgConnection> connection);

  boost::asio::any_io_executor executor_;
  std::string conninfo_;
  std::size_t size_;
  Millis connect_timeout_;
  std::optional<Millis> statement_timeout_;
  std::size_t open_ = 0;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;  // woken one at a time by give_back
};

}  // namespace shipgate::orchestration
