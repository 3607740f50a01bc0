// Runs an awaitable to completion on a private io_context (for unit tests of coroutine code).
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace shipgate::testing {

template <class T>
T run_awaitable(boost::asio::awaitable<T> aw) {
  boost::asio::io_context ioc;
  // Completions may arrive from other threads (the store writer): keep run() alive until done.
  auto guard = boost::asio::make_work_guard(ioc);
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
    guard.reset();
  });
  ioc.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

inline void run_awaitable(boost::asio::awaitable<void> aw) {
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  std::exception_ptr error;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e) {
    error = e;
    guard.reset();
  });
  ioc.run();
  if (error) std::rethrow_exception(error);
}

}  // namespace shipgate::testing
