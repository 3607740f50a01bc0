// Time source, injected wherever logic depends on "now" so tests control time instead of sleeping.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>

namespace shipgate {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_ms_(to_ms(start)) {}
  TimePoint now() const override { return TimePoint(Millis(now_ms_.load())); }
  void advance(Millis d) { now_ms_ += d.count(); }
  void set(TimePoint t) { now_ms_ = to_ms(t); }

 private:
  static std::int64_t to_ms(TimePoint t) {
    return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
  }
  std::atomic<std::int64_t> now_ms_;
};

// Milliseconds since the Unix epoch: the representation stored in the database.
std::int64_t epoch_ms(TimePoint t);
TimePoint from_epoch_ms(std::int64_t ms);

}  // namespace shipgate
