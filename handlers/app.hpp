// What handlers need from the rest of the daemon, wired once in main.
#pragma once
#include <atomic>
#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "http/http_client.hpp"
#include "config/config.hpp"
#include "handlers/router.hpp"
#include "orchestration/dispatcher.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {
class EventFeed;
class PlatformWatch;
class Reloader;
}

namespace shipgate::orchestration {
class SlowReads;
}

namespace shipgate::handlers {

struct App {
  std::function<config::ConfigPtr()> config;
  orchestration::Store* store = nullptr;
  std::shared_ptr<orchestration::Dispatcher> dispatcher;
  const std::atomic<bool>* draining = nullptr;
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  Metrics* metrics = nullptr;  // /metrics answers 404 without one
  std::string version = "dev";
  std::string git_sha = "unknown";
  TimePoint started_at = std::chrono::system_clock::now();
  orchestration::Reloader* reloader = nullptr;  // POST /api/v1/reload answers 501 without one
  // Applies pushes to the platform repository's config (config_source); none: pushes apply nothing.
  std::shared_ptr<orchestration::PlatformWatch> platform_watch;
  std::shared_ptr<orchestration::EventFeed> events;  // GET /api/v1/events answers 501 without one
  // Where reads that can be long run (audit searches, insights), off the I/O threads; null: inline.
  orchestration::SlowReads* slow_reads = nullptr;
  // How long an event stream stays silent before a comment line, which keeps proxies from closing it.
  std::chrono::milliseconds events_keep_alive = std::chrono::seconds(15);
  std::shared_ptr<http::HttpClient> http;  // answers to Slack's response_url; Slack's buttons need one
  std::string replica = "shipgate";  // this process among replicas (common/replica.hpp)
};

Router build_router(const App& app);

// Registration, one per endpoint family.
void add_github_routes(Router& router, const App& app);
void add_build_routes(Router& router, const App& app);
void add_api_routes(Router& router, const App& app);
void add_action_routes(Router& router, const App& app);
void add_audit_routes(Router& router, const App& app);
void add_health_routes(Router& router, const App& app);
void add_metrics_routes(Router& router, const App& app);
void add_admin_routes(Router& router, const App& app);
void add_event_routes(Router& router, const App& app);
void add_session_routes(Router& router, const App& app);
void add_insights_routes(Router& router, const App& app);
void add_page_routes(Router& router, const App& app);
void add_slack_routes(Router& router, const App& app);

}  // namespace shipgate::handlers
