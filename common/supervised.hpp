// Long-running background work (watches, schedules, the outbox, the event feed, the heartbeat) started
// so that it never ends silently: an exception that ends it is logged, counted in
// shipgate_task_failures_total{task}, and the work is started again after a back-off that doubles from
// `first` to `longest` (reset once a run lasted longer than `longest`). A run that returns ends it for
// good: that is how a task says it was told to stop.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <string>

namespace shipgate {

class Metrics;

struct SupervisorBackoff {
  std::chrono::milliseconds first{1'000};
  std::chrono::milliseconds longest{60'000};
};

// `start` makes a new run of the task each time it is called.
using TaskStart = std::function<boost::asio::awaitable<void>()>;

// Runs the task on `executor` as supervised above; `metrics` may be null.
void spawn_supervised(const boost::asio::any_io_executor& executor, std::string task, TaskStart start,
                      Metrics* metrics, SupervisorBackoff backoff = {});

// A supervised task that makes one pass (`tick`) at once and then every `every` after the last pass
// ended, on `executor` (a strand, for runners whose state the passes share).
void spawn_ticking(const boost::asio::any_io_executor& executor, std::string task, std::chrono::milliseconds every,
                   TaskStart tick, Metrics* metrics);

// The same, awaited: returns when a run returns.
boost::asio::awaitable<void> run_supervised(std::string task, TaskStart start, Metrics* metrics,
                                            SupervisorBackoff backoff = {});

// The text of an exception caught in a `catch (...)` block (for logs and reasons).
std::string current_exception_text();
// The text of a caught exception a completion handler was given (empty when there is none).
std::string exception_text(const std::exception_ptr& e);

}  // namespace shipgate
