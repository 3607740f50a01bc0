#include "store/postgres/pg_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::orchestration {

namespace asio = boost::asio;

PgPool::PgPool(asio::any_io_executor executor, std::string conninfo, std::size_t size, Millis connect_timeout,
               std::optional<Millis> statement_timeout)
    : executor_(std::move(executor)), conninfo_(std::move(conninfo)), size_(std::max<std::size_t>(size, 1)),
      connect_timeout_(connect_timeout), statement_timeout_(statement_timeout) {}

PgPool::Lease::Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<PgConnection> connection)
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

PgPool::Lease::~Lease() {
  if (pool_ && connection_) pool_->give_back(std::move(connection_));
}

void PgPool::give_back(std::unique_ptr<PgConnection> connection) {
  if (connection->idle()) idle_.push_back(std::move(connection));
  else --open_;  // broken or still inside a transaction: dropped, its slot is free for a fresh connection
  // Wake the longest waiter: an idle connection or a free slot is there for it now.
  while (!waiters_.empty()) {
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    if (waiter->cancel() > 0) break;  // one that had already given up is skipped
  }
}

asio::awaitable<boost::system::result<PgPool::Lease, PgError>> PgPool::acquire(Millis wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      co_return Lease(shared_from_this(), std::move(connection));
    }
    if (open_ < size_) {
      ++open_;  // the slot is taken while connecting, so concurrent borrowers do not overshoot
      auto connected = co_await PgConnection::connect(executor_, conninfo_, connect_timeout_);
      if (!connected) {
        --open_;
        co_return connected.error();
      }
      if (statement_timeout_) (*connected)->set_timeout(*statement_timeout_);
      co_return Lease(shared_from_this(), std::move(*connected));
    }
    if (std::chrono::steady_clock::now() >= deadline)
      co_return PgError{"no PostgreSQL connection came free within " + std::to_string(wait.count()) + " ms", {}, false};
    auto timer = std::make_shared<asio::steady_timer>(executor_, deadline);
    waiters_.push_back(timer);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled = woken: look again
  }
}

}  // namespace shipgate::orchestration
