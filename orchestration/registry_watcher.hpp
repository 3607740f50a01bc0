// Runs each environment's registry watch (config::RegistryWatch): every `every`, lists the component's
// repository tags and queues the newest matching one that is newer than what runs (trigger registry),
// through the gate like any deployment. Keel does this for a cluster; here it is one more way in.
//
// Each check is claimed in the store as a schedule run ("registry watch", its time slot), so replicas
// ticking at once list the registry once per slot. A tag is queued once: its delivery key is the tag's,
// so a check repeated after a crash, or by a replica whose claim raced, answers as the first did.
//
// Thread-safety: tick() runs on the watcher's strand; start() once.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/http_client.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

class RegistryWatcher : public std::enable_shared_from_this<RegistryWatcher> {
 public:
  using Queued = std::function<void(const std::string& project, const std::string& environment)>;

  RegistryWatcher(boost::asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
                  std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http, Metrics* metrics = nullptr);

  void start(std::chrono::milliseconds every = std::chrono::seconds(1));
  // One pass at the clock's time: checks every watch whose slot came up.
  boost::asio::awaitable<void> tick();
  void on_queued(Queued queued) { queued_ = std::move(queued); }

 private:
  boost::asio::awaitable<bool> claim(const config::Project& project, const config::Environment& env, std::int64_t slot);
  boost::asio::awaitable<void> check(const config::Config& config, const config::Project& project,
                                     const config::Environment& env);
  boost::asio::awaitable<void> queue(const config::Config& config, const config::Project& project,
                                     const config::Environment& env, const std::string& tag);
  boost::asio::awaitable<std::string> running_version(const config::Project& project, const config::Environment& env);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Store& store_;
  std::function<config::ConfigPtr()> config_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<http::HttpClient> http_;
  Metrics* metrics_;
  Queued queued_;
  std::map<std::string, std::int64_t> seen_slot_;  // project/environment -> the last slot looked at
};

}  // namespace shipgate::orchestration
