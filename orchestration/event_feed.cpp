#include "orchestration/event_feed.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "common/supervised.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

// A sleeping stream's bell: a channel of one slot, so a ring that comes before the stream starts to
// listen is kept, not lost.
struct EventFeed::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : bell(ex, 1) {}
  asio::experimental::concurrent_channel<void(boost::system::error_code)> bell;
};

EventFeed::EventFeed(asio::any_io_executor executor, Store& store, std::chrono::milliseconds poll, Metrics* metrics)
    : executor_(std::move(executor)), store_(store), poll_(poll), metrics_(metrics) {}

EventFeed::~EventFeed() = default;

void EventFeed::start() {
  spawn_supervised(executor_, "event_feed", [self = shared_from_this()] { return self->poll_loop(); }, metrics_);
}

void EventFeed::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  wake_all();
}

void EventFeed::wake_all() {
  std::lock_guard lock(mutex_);
  for (auto& w : waiters_) w->bell.try_send(boost::system::error_code{});
}

asio::awaitable<Result<std::int64_t>> EventFeed::head() {
  AuditFilter newest;  // no cursor: the newest entry
  newest.limit = 1;
  auto rows = co_await store_.audit(newest);
  if (!rows) co_return rows.error();
  co_return rows->empty() ? std::int64_t{0} : rows->back().id;
}

asio::awaitable<Result<std::vector<AuditEntry>>> EventFeed::after(std::int64_t after_id, int limit) {
  {
    std::lock_guard lock(mutex_);
    if (floor_ >= 0 && after_id >= floor_) {
      std::vector<AuditEntry> out;
      auto it = std::upper_bound(kept_.begin(), kept_.end(), after_id,
                                 [](std::int64_t id, const AuditEntry& e) { return id < e.id; });
      for (; it != kept_.end() && static_cast<int>(out.size()) < limit; ++it) out.push_back(*it);
      co_return out;
    }
  }
  AuditFilter f;
  f.after_id = after_id;
  f.since_ms = 1;
  f.limit = limit;
  co_return co_await read_slowly(slow_, store_.audit(f));
}

asio::awaitable<EventFeed::Wake> EventFeed::wait(std::int64_t after_id, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto ex = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(ex);
  {
    std::lock_guard lock(mutex_);
    if (closed_) co_return Wake::closed;
    if (floor_ >= 0 && newest_ > after_id) co_return Wake::news;
    waiters_.push_back(waiter);
  }
  asio::steady_timer timer(ex, timeout);
  co_await (waiter->bell.async_receive(asio::as_tuple(asio::use_awaitable)) ||
            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  std::lock_guard lock(mutex_);
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
  if (closed_) co_return Wake::closed;
  co_return floor_ >= 0 && newest_ > after_id ? Wake::news : Wake::quiet;
}

asio::awaitable<void> EventFeed::poll_loop() {
  asio::steady_timer timer(executor_);
  // Quiet: the interval doubles up to four times the base, so idle streams cost a query a second or so;
  // news brings it back to the base at once.
  auto interval = poll_;
  for (;;) {
    std::int64_t from = 0;
    bool idle = false;
    bool known = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) co_return;
      idle = waiters_.empty();
      from = newest_;
      known = floor_ >= 0;
    }
    if (!idle) {
      if (!known) {
        auto h = co_await head();
        if (h) {
          {
            std::lock_guard lock(mutex_);
            floor_ = newest_ = *h;
          }
          wake_all();  // a stream that began before this head may be behind it
        }
      } else {
        AuditFilter f;
        f.after_id = from;
        f.since_ms = 1;  // a cursor even at id 0: the oldest entries after it, not the newest
        f.limit = 500;
        auto rows = co_await store_.audit(f);
        if (rows && !rows->empty()) {
          {
            std::lock_guard lock(mutex_);
            for (auto& e : *rows) {
              if (e.id <= newest_) continue;
              newest_ = e.id;
              kept_.push_back(std::move(e));
            }
            while (kept_.size() > kKept) {
              floor_ = kept_.front().id;
              kept_.pop_front();
            }
          }
          wake_all();
          interval = poll_;
          continue;  // there may be more: read again at once
        }
        interval = std::min(interval * 2, poll_ * 4);
      }
    }
    timer.expires_after(interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace shipgate::orchestration
