#include "common/clock.hpp"

namespace shipgate {

std::int64_t epoch_ms(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}

TimePoint from_epoch_ms(std::int64_t ms) { return TimePoint(Millis(ms)); }

}  // namespace shipgate
