// Shared bounds of the listener: memory for request bodies across connections, and open connections
// per client address. Both are counters guarded for use from any thread.
#pragma once
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace shipgate::server {

// Bytes of request bodies held in memory at once. A session takes what it is about to read (the
// Content-Length, or a chunked body as it grows) and gives it back when its request is answered.
class BodyMemory {
 public:
  explicit BodyMemory(std::size_t limit) : limit_(limit) {}
  void set_limit(std::size_t limit) { limit_ = limit; }
  // Takes `bytes` if they fit under the limit; false (nothing taken) otherwise.
  bool try_take(std::size_t bytes);
  void give_back(std::size_t bytes) { used_ -= bytes; }
  std::size_t used() const { return used_; }

 private:
  std::atomic<std::size_t> limit_;
  std::atomic<std::size_t> used_{0};
};

// Holds a share of the body memory for one request and gives it back when the request is done.
struct BodyShare {
  BodyMemory& memory;
  std::size_t held = 0;
  bool grow_to(std::size_t bytes) {
    if (bytes <= held) return true;
    if (!memory.try_take(bytes - held)) return false;
    held = bytes;
    return true;
  }
  ~BodyShare() { memory.give_back(held); }
};

// Open connections per client address.
class ClientConnections {
 public:
  // Counts one more connection from `address` and returns how many are open from it now.
  int open(const std::string& address);
  void close(const std::string& address);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

// Raises the soft open-files limit to the hard one (every connection is a descriptor) and warns when that
// is still too low for `max_connections` plus the daemon's own files.
void raise_open_files_limit(int max_connections);

}  // namespace shipgate::server
