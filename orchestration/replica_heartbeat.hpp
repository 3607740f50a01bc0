// Replicas sharing a store tell it, every few seconds, which config and version they run, and store
// the text of the config they run so another replica can run deployments created under it.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <string>

#include "orchestration/dispatcher.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// Stores `config`'s text (once per generation) and heartbeats until `stop`. A failed write is retried
// on the next beat.
boost::asio::awaitable<void> replica_heartbeat(Store& store, std::string replica, std::string version,
                                               ConfigSource config, std::chrono::milliseconds every,
                                               const std::atomic<bool>& stop);

}  // namespace shipgate::orchestration
