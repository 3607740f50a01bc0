// The live feed of what happens: every audit entry (transitions, approvals, target results, drift,
// reloads), in id order, for Server-Sent Events. The audit log is the feed's memory, so a stream that
// reconnects with the last id it saw is given everything after it, whichever replica wrote it.
//
// One poller per process reads new entries from the store while anyone waits (none: no queries; a quiet
// log: a query a second) and
// keeps the newest ones in memory, so many open streams cost one query per poll, not one each. A
// waiting stream costs no CPU: it sleeps until the poller finds something newer or its own keep-alive
// time passes.
//
// Thread-safety: every member may be called from any thread; start() once.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "common/metrics.hpp"
#include "orchestration/slow_reads.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

class EventFeed : public std::enable_shared_from_this<EventFeed> {
 public:
  static constexpr std::size_t kKept = 1024;  // newest entries kept in memory

  EventFeed(boost::asio::any_io_executor executor, Store& store,
            std::chrono::milliseconds poll = std::chrono::milliseconds(250), Metrics* metrics = nullptr);
  ~EventFeed();

  void start();
  // Where reads from the store (a stream catching up past what is kept in memory) run; none: inline.
  void set_slow_reads(SlowReads* slow) { slow_ = slow; }
  // Wakes every waiting stream for the last time: wait() returns false from now on (a drain).
  void close();

  // The newest entry's id (0 when the log is empty): where a stream that resumes nothing begins.
  boost::asio::awaitable<Result<std::int64_t>> head();
  // Up to `limit` entries after `after_id`, oldest first: from memory when it reaches back that far,
  // else from the store.
  boost::asio::awaitable<Result<std::vector<AuditEntry>>> after(std::int64_t after_id, int limit);
  // Until an entry newer than `after_id` is known (news), `timeout` passes (quiet) or the feed closes.
  enum class Wake { news, quiet, closed };
  boost::asio::awaitable<Wake> wait(std::int64_t after_id, std::chrono::milliseconds timeout);

 private:
  struct Waiter;
  boost::asio::awaitable<void> poll_loop();
  void wake_all();

  boost::asio::any_io_executor executor_;
  Store& store_;
  std::chrono::milliseconds poll_;
  Metrics* metrics_;  // may be null
  SlowReads* slow_ = nullptr;

  mutable std::mutex mutex_;
  bool closed_ = false;
  std::int64_t floor_ = -1;   // every entry with floor_ < id <= newest_ is in kept_ (-1: nothing known yet)
  std::int64_t newest_ = 0;   // the newest id read from the store
  std::deque<AuditEntry> kept_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace shipgate::orchestration
