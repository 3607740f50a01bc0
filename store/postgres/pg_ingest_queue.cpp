#include "store/postgres/pg_ingest_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <utility>

namespace shipgate::orchestration {

namespace asio = boost::asio;

struct PgIngestQueue::Waiter {
  const IngestRequest* request;
  std::optional<Result<IngestResult>> result;
  asio::steady_timer ready;  // cancelled once `result` is set

  void complete(Result<IngestResult> r) {
    result.emplace(std::move(r));
    ready.cancel();
  }
};

PgIngestQueue::PgIngestQueue(asio::any_io_executor strand, std::shared_ptr<PgPool> pool, PgWrites& writes,
                             std::size_t max_batch)
    : strand_(std::move(strand)), pool_(std::move(pool)), writes_(writes), max_batch_(max_batch) {}

asio::awaitable<Result<IngestResult>> PgIngestQueue::submit(IngestRequest request) {
  Waiter waiter{&request, std::nullopt, asio::steady_timer(strand_, asio::steady_timer::time_point::max())};
  pending_.push_back(&waiter);
  if (!draining_) {
    draining_ = true;
    asio::co_spawn(strand_, drain(), [this](std::exception_ptr e) {
      if (!e) return;
      // Not expected (the writes report failures as results); every webhook still waiting hears of it.
      spdlog::error("store: the PostgreSQL ingest queue stopped unexpectedly");
      draining_ = false;
      for (auto* w : in_flight_)
        if (w) w->complete(make_error_code(StoreErrc::io_error));
      for (auto* w : pending_) w->complete(make_error_code(StoreErrc::io_error));
      in_flight_.clear();
      pending_.clear();
    });
  }
  while (!waiter.result) co_await waiter.ready.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return std::move(*waiter.result);
}

asio::awaitable<void> PgIngestQueue::drain() {
  while (!pending_.empty()) {
    auto& batch = in_flight_;
    batch.clear();
    while (!pending_.empty() && batch.size() < max_batch_) {
      batch.push_back(pending_.front());
      pending_.pop_front();
    }
    // Completed waiters leave the batch (their frames end once they resume).
    const auto finish = [&batch](std::size_t i, Result<IngestResult> r) {
      std::exchange(batch[i], nullptr)->complete(std::move(r));
    };
    auto lease = co_await pool_->acquire();
    if (!lease) {
      const auto failed = pg_store_error(lease.error());
      for (std::size_t i = 0; i < batch.size(); ++i) finish(i, failed);
      continue;
    }
    if (batch.size() > 1) {
      std::vector<const IngestRequest*> requests;
      for (auto* w : batch) requests.push_back(w->request);
      auto together = co_await writes_.ingest_batch(**lease, std::move(requests));
      if (together) {
        for (std::size_t i = 0; i < batch.size(); ++i) finish(i, std::move((*together)[i]));
        continue;
      }
      if (!(*lease)->ok()) {
        // The server stopped answering (or the connection broke): one by one would only wait again for
        // each of them. The batch is refused now; GitHub redelivers, the delivery key keeps it once.
        const auto failed = pg_store_error(PgError{"PostgreSQL did not answer the batch", {}, true});
        for (std::size_t i = 0; i < batch.size(); ++i) finish(i, failed);
        continue;
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!(*lease)->ok()) {
        // The connection broke: a fresh one for the rest.
        auto fresh = co_await pool_->acquire();
        if (fresh) lease = std::move(fresh);
      }
      auto alone = co_await writes_.ingest(**lease, *batch[i]->request);
      finish(i, std::move(alone));
    }
  }
  in_flight_.clear();
  draining_ = false;  // here, not in the completion handler: a submit() in between would wait forever
}

}  // namespace shipgate::orchestration
