// Store reads that can take long (an event stream catching up over the audit log, an audit search with
// filters, the insights over many deployments) run here, on a thread of their own, one at a time: the
// I/O threads hand them over and go on serving requests meanwhile.
//
// Thread-safety: run() may be called from any thread.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::orchestration {

class SlowReads {
 public:
  SlowReads() = default;
  ~SlowReads() { stop(); }
  SlowReads(const SlowReads&) = delete;
  SlowReads& operator=(const SlowReads&) = delete;

  // Runs `read` on the reading thread; the caller resumes on its own executor with the result.
  template <class T>
  boost::asio::awaitable<T> run(boost::asio::awaitable<T> read) {
    return boost::asio::co_spawn(pool_, std::move(read), boost::asio::use_awaitable);
  }

  // Finishes the read in progress and refuses new ones (at shutdown, before the store closes).
  void stop() {
    pool_.stop();
    pool_.join();
  }

 private:
  boost::asio::thread_pool pool_{1};
};

// `read` on `slow` when there is one, else where the caller runs (unit tests without a reading thread).
template <class T>
boost::asio::awaitable<T> read_slowly(SlowReads* slow, boost::asio::awaitable<T> read) {
  if (!slow) co_return co_await std::move(read);
  co_return co_await slow->run(std::move(read));
}

}  // namespace shipgate::orchestration
