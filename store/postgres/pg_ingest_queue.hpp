// The PostgreSQL store's webhooks, committed one transaction at a time per replica: those that arrive
// while one commits go together into the next (PgWrites::ingest_batch), the way the SQLite store's
// writer shares a commit between the writes that queued during the last one. A webhook arriving alone
// is ingested alone, at once.
//
// Thread-safety: submit() and everything else run on the store's strand.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <memory>
#include <vector>

#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration {

class PgIngestQueue {
 public:
  PgIngestQueue(boost::asio::any_io_executor strand, std::shared_ptr<PgPool> pool, PgWrites& writes,
                std::size_t max_batch = 64);

  // Completes once the webhook's transaction committed (or failed).
  boost::asio::awaitable<Result<IngestResult>> submit(IngestRequest request);

 private:
  struct Waiter;
  boost::asio::awaitable<void> drain();

  boost::asio::any_io_executor strand_;
  std::shared_ptr<PgPool> pool_;
  PgWrites& writes_;
  std::size_t max_batch_;
  std::deque<Waiter*> pending_;  // each lives in its submit() frame until completed
  std::vector<Waiter*> in_flight_;  // the batch being written
  bool draining_ = false;
};

}  // namespace shipgate::orchestration
