// Keeps the config in step with the platform repository (config_source): a push names the commit to
// apply, and a poll every config_source.poll fetches the branch in case a webhook was missed. A commit
// is tried once per process (a refused one waits for the next commit). Each outcome is reported on the
// platform commit as the commit status shipgate/config (success, or failure with the errors), when the
// GitHub App can write there; the reload itself is audited with the commit.
//
// Thread-safety: start() once; pushed() from any thread; the rest runs on the watch's strand.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <set>
#include <string>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "http/http_client.hpp"
#include "notify/github_app.hpp"
#include "orchestration/reloader.hpp"

namespace shipgate::orchestration {

class PlatformWatch : public std::enable_shared_from_this<PlatformWatch> {
 public:
  PlatformWatch(boost::asio::any_io_executor executor, Reloader& reloader, Store& store,
                std::shared_ptr<http::HttpClient> http, std::shared_ptr<const Clock> clock, Metrics* metrics = nullptr);

  void start();
  // A push to the platform branch: apply `commit` (40 hex digits) now.
  void pushed(std::string commit, std::string actor);
  // After a reload moved the config to a new platform commit: the projects it changed redeploy their
  // current version once (delivery key config:<commit>, so replicas applying the same commit agree).
  boost::asio::awaitable<void> redeploy_changes(config::ConfigPtr before, config::ConfigPtr after, ReloadOutcome outcome);
  // Called with each lane a redeploy was queued in (the dispatcher's wake-up).
  void on_queued(std::function<void(const std::string&, const std::string&)> f) { on_queued_ = std::move(f); }

 private:
  boost::asio::awaitable<void> tick();
  // At start: the redeploys of the commits applied since the last one the audit log records (shipgate
  // was down, or stopped between applying a commit and storing its redeploys). Their delivery key
  // makes a repeat harmless.
  boost::asio::awaitable<void> catch_up();
  boost::asio::awaitable<void> apply(std::string commit, std::string actor);
  boost::asio::awaitable<void> report(const config::Config& config, const std::string& commit, const ReloadOutcome& outcome);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Reloader& reloader_;
  Store& store_;
  std::function<void(const std::string&, const std::string&)> on_queued_;
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<const Clock> clock_;
  Metrics* metrics_;
  std::shared_ptr<notify::GithubAppTokens> app_tokens_;
  std::set<std::string> tried_;  // commits applied or refused in this process
  TimePoint next_poll_{};
};

}  // namespace shipgate::orchestration
