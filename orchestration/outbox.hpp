// Delivers what happened to the outside: notifications (Slack or JSON webhooks) and GitHub
// deployment statuses. The store writes an event row in the same transaction as every state change;
// this worker fans each event out into one delivery per destination and sends them with retries and
// exponential backoff. Deliveries run beside the dispatcher, never in its way: a slow or dead
// endpoint costs a coroutine and a timeout, not a deployment's time. Give-ups are logged and counted.
//
// Thread-safety: start() once; everything else runs on the worker's strand.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/http_client.hpp"
#include "notify/github_app.hpp"
#include "notify/github_deployments.hpp"
#include "notify/notification.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

struct OutboxOptions {
  std::chrono::milliseconds poll{250};
  int batch = 64;                          // rows read per pass
  int max_concurrent = 32;                 // deliveries in flight at once
  std::chrono::milliseconds first_retry{1'000};
  std::chrono::milliseconds max_retry{300'000};
  int github_max_attempts = 10;
  std::chrono::hours keep_done{24 * 7};       // finished rows are deleted after this
  std::chrono::minutes prune_every{60};
  std::string version = "dev";             // User-Agent toward GitHub
};

// What a notification about an outbox event of deployment `d` says (the text itself is notify's): its own message when it carries one (a failed scheduled check
// says what failed), else the deployment's.
notify::Notice notice_of(const OutboxItem& event, const Deployment& d, std::string link);

class Outbox : public std::enable_shared_from_this<Outbox> {
 public:
  Outbox(boost::asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
         std::shared_ptr<http::HttpClient> http, std::shared_ptr<const Clock> clock, Metrics* metrics = nullptr,
         OutboxOptions options = {});

  void start();
  void stop() { stopped_ = true; }
  // One pass: fans out due events and starts due deliveries (tests drive it with a manual clock).
  boost::asio::awaitable<void> run_once();
  int in_flight() const { return static_cast<int>(in_flight_.size()); }

 private:
  boost::asio::awaitable<void> loop();
  // Whether this replica delivers now: it holds (or just took) the outbox's lane.
  boost::asio::awaitable<bool> leading();
  boost::asio::awaitable<void> expand(std::vector<OutboxItem> events);
  void fan_out(const config::Config& config, const OutboxItem& event, const Deployment& deployment,
               std::vector<OutboxItem>& deliveries) const;
  boost::asio::awaitable<void> deliver(OutboxItem item);
  boost::asio::awaitable<OutboxAttempt> send_notification(const OutboxItem& item);
  // GitHub (outbox_github.cpp): a deployment status per event, and a commit status where reported.
  void fan_out_github(const config::Config& config, const OutboxItem& event, const Deployment& deployment,
                      std::vector<OutboxItem>& deliveries) const;
  boost::asio::awaitable<OutboxAttempt> send_github(const OutboxItem& item);
  boost::asio::awaitable<notify::AppToken> github_token(const config::Config& config, const config::Project& project,
                                                        const std::string& user_agent);
  OutboxAttempt github_outcome(const OutboxItem& item, const notify::GithubReport& report) const;
  struct GithubApi {
    std::string api_url;
    config::TlsClientConfig tls;
  };
  static GithubApi github_api(const config::Config& config, const config::Project& project);
  boost::asio::awaitable<notify::GithubReport> send_pull_comment(const GithubApi& api, const config::Project& project,
                                                                 const std::string& token, const OutboxItem& item,
                                                                 const std::string& user_agent);
  std::int64_t retry_at(int attempts_so_far) const;
  std::string link(const config::Config& c, std::int64_t deployment) const;

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Store& store_;
  std::function<config::ConfigPtr()> config_;
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<const Clock> clock_;
  Metrics* metrics_;
  OutboxOptions options_;
  std::set<std::int64_t> in_flight_;
  std::shared_ptr<notify::GithubAppTokens> app_tokens_;
  std::set<std::string> commenting_;  // project@sha of pull request comments being written (on the strand)
  std::optional<LaneHold> hold_;  // the outbox's lane ("*", "outbox"): held by the replica that delivers
  std::atomic<bool> stopped_{false};
};

}  // namespace shipgate::orchestration
