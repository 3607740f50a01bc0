#include "common/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace shipgate {

RateLimiter::RateLimiter(double rate_per_second, double burst, std::size_t max_keys)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), max_keys_(max_keys) {}

void RateLimiter::configure(double rate_per_second, double burst) {
  std::lock_guard lock(mutex_);
  rate_ = rate_per_second;
  burst_ = std::max(1.0, burst);
}

RateLimiter::Bucket& RateLimiter::refill(std::string_view key, Clock::time_point now) {
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) evict(now);
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
    return it->second;
  }
  auto& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.at = now;
  }
  return b;
}

int RateLimiter::seconds_until_token(const Bucket& b) const {
  if (b.tokens >= 1) return 0;
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

int RateLimiter::take(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& b = refill(key, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return seconds_until_token(b);
}

int RateLimiter::wait_needed(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) return 0;
  return seconds_until_token(refill(key, now));
}

void RateLimiter::evict(Clock::time_point now) {
  // Buckets that refilled completely carry no information: forget them. If that frees too little (a
  // flood from many addresses), forget the least recently used eighth: an address that is still
  // active, such as one being limited right now, is never among them.
  std::erase_if(buckets_, [&](const auto& entry) {
    const auto& b = entry.second;
    return b.tokens + std::chrono::duration<double>(now - b.at).count() * rate_ >= burst_;
  });
  if (buckets_.size() < max_keys_) return;
  std::vector<Clock::time_point> times;
  times.reserve(buckets_.size());
  for (const auto& entry : buckets_) times.push_back(entry.second.at);
  const std::size_t drop = std::max<std::size_t>(1, buckets_.size() / 8);
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1), times.end());
  const auto cutoff = times[drop - 1];
  std::erase_if(buckets_, [&](const auto& entry) { return entry.second.at <= cutoff; });
}

}  // namespace shipgate
