// Waiting on a condition with a deadline: tests never sleep-and-hope.
#pragma once
#include <chrono>
#include <functional>
#include <thread>

namespace shipgate::testing {

// Polls `condition` every few milliseconds until it holds or `timeout` passes; returns whether it held.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace shipgate::testing
