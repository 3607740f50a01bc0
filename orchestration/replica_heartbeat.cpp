#include "orchestration/replica_heartbeat.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace shipgate::orchestration {

namespace asio = boost::asio;

asio::awaitable<void> replica_heartbeat(Store& store, std::string replica, std::string version, ConfigSource config,
                                        std::chrono::milliseconds every, const std::atomic<bool>& stop) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string stored;  // the generation whose text is known to be in the store
  while (!stop) {
    const auto current = config();
    if (current->source_sha256 != stored) {
      auto recorded = co_await store.record_config(current->source_sha256, current->source);
      if (recorded) stored = current->source_sha256;
      else spdlog::warn("store: cannot record config {}: {}", current->source_sha256.substr(0, 12), recorded.error().message());
    }
    ReplicaSeen self{replica, current->source_sha256, version, 0};
    if (auto beat = co_await store.record_replica(std::move(self)); !beat)
      spdlog::debug("store: heartbeat failed: {}", beat.error().message());
    timer.expires_after(every);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace shipgate::orchestration
