// The fixture of a test that runs on both stores: `store`, opened on the kind the test is instantiated
// with, on a manual clock the test sets (its start given by the fixture that derives from this one).
#pragma once
#include <gtest/gtest.h>

#include <memory>

#include "common/clock.hpp"
#include "tests/support/store_under_test.hpp"

namespace shipgate::testing {

class StoreFixture : public ::testing::TestWithParam<StoreUnderTestKind> {
 protected:
  explicit StoreFixture(TimePoint start) : clock(std::make_shared<ManualClock>(start)) {}
  void SetUp() override {
    under = std::make_unique<StoreUnderTest>(GetParam(), clock);
    reopen();
  }
  void TearDown() override {
    store.reset();
    under.reset();
  }
  // Closes the store (if open) and opens it again on the same data.
  void reopen() {
    store.reset();
    store = under->open();
    ASSERT_TRUE(store);
  }

  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<StoreUnderTest> under;
  std::unique_ptr<orchestration::Store> store;
};

}  // namespace shipgate::testing
