#include "server/limits.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

namespace shipgate::server {

bool BodyMemory::try_take(std::size_t bytes) {
  std::size_t used = used_.load();
  do {
    if (bytes > limit_.load() || used > limit_.load() - bytes) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes));
  return true;
}

int ClientConnections::open(const std::string& address) {
  std::lock_guard lock(mutex_);
  return ++open_[address];
}

void ClientConnections::close(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second <= 0) open_.erase(it);
}

void raise_open_files_limit(int max_connections) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  // The store, the log, listeners, outbound calls and command targets need descriptors of their own.
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + 128;
  if (r.rlim_cur < wanted)
    spdlog::warn("open files limit is {}, below server.max_connections ({}) plus 128 for the daemon's own files; "
                 "raise it (systemd LimitNOFILE=, docker --ulimit nofile=) or lower server.max_connections",
                 static_cast<unsigned long long>(r.rlim_cur), max_connections);
}

}  // namespace shipgate::server
