// Background tasks that throw are logged, counted and started again; one that returns ends.
#include "common/supervised.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/metrics.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using shipgate::testing::run_awaitable;

TEST(Supervised, ATaskThatThrowsIsCountedAndStartedAgainUntilARunReturns) {
  Metrics metrics("test", "abc");
  int runs = 0;
  TaskStart start = [&]() -> boost::asio::awaitable<void> {
    if (++runs < 3) throw std::runtime_error("unexpected shape");
    co_return;
  };
  run_awaitable(run_supervised("drift_watch", start, &metrics, {std::chrono::milliseconds(1), std::chrono::milliseconds(4)}));
  EXPECT_EQ(runs, 3);
  const auto text = metrics.render({}, {});
  EXPECT_NE(text.find(R"(shipgate_task_failures_total{task="drift_watch"} 2)"), std::string::npos) << text;
}

TEST(Supervised, TheTextOfWhatWasThrownIsKeptForTheReason) {
  try {
    throw std::out_of_range("key 'status' not found");
  } catch (...) {
    EXPECT_EQ(current_exception_text(), "key 'status' not found");
  }
  try {
    throw 42;
  } catch (...) {
    EXPECT_EQ(current_exception_text(), "an unknown exception");
  }
  EXPECT_EQ(exception_text(std::make_exception_ptr(std::logic_error("null"))), "null");
  EXPECT_EQ(exception_text(nullptr), "");
}
