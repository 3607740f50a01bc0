#include "common/supervised.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "common/metrics.hpp"

namespace shipgate {

namespace asio = boost::asio;

std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an unknown exception";
  }
}

std::string exception_text(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (...) {
    return current_exception_text();
  }
}

asio::awaitable<void> run_supervised(std::string task, TaskStart start, Metrics* metrics, SupervisorBackoff backoff) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto wait = backoff.first;
  for (;;) {
    const auto began = std::chrono::steady_clock::now();
    std::string failure;
    // The run is made outside the co_await: GCC 12 destroys the temporaries of a co_await expression a
    // second time when an exception leaves it.
    auto run = start();
    try {
      co_await std::move(run);
      co_return;
    } catch (...) {
      failure = current_exception_text();
    }
    if (std::chrono::steady_clock::now() - began > backoff.longest) wait = backoff.first;
    spdlog::error("{}: stopped by an unexpected error ({}); starting again in {} ms", task, failure, wait.count());
    if (metrics) metrics->task_failure(task);
    pause.expires_after(wait);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    wait = std::min(wait * 2, backoff.longest);
  }
}

namespace {

asio::awaitable<void> ticking(asio::any_io_executor executor, std::chrono::milliseconds every, TaskStart tick) {
  asio::steady_timer timer(executor);
  for (;;) {
    co_await tick();
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace

void spawn_ticking(const asio::any_io_executor& executor, std::string task, std::chrono::milliseconds every,
                   TaskStart tick, Metrics* metrics) {
  spawn_supervised(executor, std::move(task), [executor, every, tick = std::move(tick)] { return ticking(executor, every, tick); },
                   metrics);
}

void spawn_supervised(const asio::any_io_executor& executor, std::string task, TaskStart start, Metrics* metrics,
                      SupervisorBackoff backoff) {
  asio::co_spawn(executor, run_supervised(std::move(task), std::move(start), metrics, backoff), asio::detached);
}

}  // namespace shipgate
