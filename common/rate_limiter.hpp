// Token buckets per key (a client address): `rate` tokens a second up to `burst`. Used for the API
// request rate and for failed authentications. The time is passed in, so tests need no sleeping.
//
// Thread-safety: every member may be called from any thread.
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace shipgate {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // At most `max_keys` buckets are kept; full (idle) ones are forgotten first, then the least recently used.
  RateLimiter(double rate_per_second, double burst, std::size_t max_keys = 100'000);

  // Takes a token; returns 0 when there was one, else the seconds until there will be (rounded up).
  int take(std::string_view key, Clock::time_point now);
  // Like take() without taking: whether `key` has a token now.
  int wait_needed(std::string_view key, Clock::time_point now);
  void configure(double rate_per_second, double burst);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at;
  };
  Bucket& refill(std::string_view key, Clock::time_point now);
  int seconds_until_token(const Bucket& b) const;
  void evict(Clock::time_point now);

  std::mutex mutex_;
  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace shipgate
