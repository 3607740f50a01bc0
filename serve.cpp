// shipgate serve: the daemon. Opens the store, makes the workers, the router and the server on one
// io_context, and runs them until a signal drains them; a SIGHUP reloads the config.
#include "serve.hpp"

#include <boost/asio.hpp>

#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/crypto.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/replica.hpp"
#include "common/supervised.hpp"
#include "config/loader.hpp"
#include "config/registry.hpp"
#include "deploy/manifest_set.hpp"
#include "handlers/app.hpp"
#include "http/http_client.hpp"
#include "orchestration/config_reader.hpp"
#include "orchestration/dispatcher.hpp"
#include "orchestration/drift_monitor.hpp"
#include "orchestration/event_feed.hpp"
#include "orchestration/outbox.hpp"
#include "orchestration/platform_watch.hpp"
#include "orchestration/reloader.hpp"
#include "orchestration/replica_heartbeat.hpp"
#include "orchestration/registry_watcher.hpp"
#include "orchestration/schedule_runner.hpp"
#include "orchestration/slow_reads.hpp"
#include "server/limits.hpp"
#include "server/server.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace shipgate {

namespace asio = boost::asio;

std::string config_path(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-c" || args[i] == "--config") return args[i + 1];
  if (const char* env = std::getenv("SHIPGATE_CONFIG")) return env;
  return {};
}

namespace {

asio::awaitable<void> read_into(orchestration::ConfigReader& reader, std::string commit, orchestration::ConfigRead& out) {
  out = co_await reader.read(std::move(commit));
}

}  // namespace

config::ConfigPtr load_or_report(const std::string& path, const std::string& repository_dir, const std::string& commit) {
  // Before the daemon's own io_context exists: git runs as child processes awaited on this one.
  asio::io_context ioc;
  orchestration::ConfigReader reader(path, config::process_environment(), repository_dir);
  orchestration::ConfigRead read;
  asio::co_spawn(ioc, read_into(reader, commit, read), asio::detached);
  ioc.run();
  if (!read.fetch_error.empty())
    spdlog::warn("cannot fetch the platform repository ({}); using the copy in {}", read.fetch_error,
                 read.source ? read.source->cache_dir : std::string());
  auto& loaded = read.loaded;
  if (loaded.config) loaded.errors = deploy::check_manifest_sets(*loaded.config);
  if (!loaded.errors.empty()) loaded.config.reset();
  for (const auto& e : loaded.errors)
    std::fprintf(stderr, "%s%s\n", e.where.empty() ? (path + ": ").c_str() : "", e.to_string().c_str());
  if (!loaded.errors.empty())
    std::fprintf(stderr, "%zu error%s in %s\n", loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s", path.c_str());
  return loaded.config;
}

namespace {

// The store the config names: the embedded SQLite file, or a PostgreSQL database replicas share.
// Nothing (the reason logged) when it cannot be opened.
std::unique_ptr<orchestration::Store> open_store(const config::Config& cfg, asio::any_io_executor executor,
                                                 std::shared_ptr<const Clock> clock, Metrics& metrics,
                                                 const std::string& replica, bool init_empty) {
  if (cfg.store.kind == config::StoreKind::postgresql) {
    orchestration::PgStoreOptions options;
    options.conninfo = cfg.store.postgres_conninfo;
    options.replica = replica;
    options.lease = cfg.server.lane_lease;
    auto store = orchestration::open_pg_store(std::move(executor), options, std::move(clock));
    if (!store) {
      spdlog::critical("cannot open store {}: {}", cfg.store.url, store.error());
      return nullptr;
    }
    return std::move(*store);
  }
  orchestration::SqliteStoreOptions options{cfg.store.sqlite_path};
  options.max_queued_writes = cfg.server.max_queued_writes;
  options.init_empty = init_empty;
  options.on_commit = [&metrics](double seconds) { metrics.store_commit(seconds); };
  auto store = orchestration::open_sqlite_store(options, std::move(clock));
  if (!store) {
    spdlog::critical("cannot open store {}: {}", cfg.store.url, store.error().message());
    return nullptr;
  }
  return std::move(*store);
}

// A file size limit (RLIMIT_FSIZE) or a closed pipe must surface as an error on that write (the store
// answers 503, a command target fails), not kill the daemon; the config's log settings apply
// (SHIPGATE_LOG_LEVEL, when set, still wins: handy for one debug run).
void prepare_process(const config::Config& cfg, const char* level_override) {
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  configure_logging(cfg.log.json, level_override ? level_override : cfg.log.level);
  for (const auto& w : config::unpinned_targets(cfg)) spdlog::warn("{}", w);
  // Request bodies are large and short-lived: give each its own mapping, returned to the system when freed.
  // Left to itself, glibc raises its mmap threshold after the first large free, keeps later bodies in
  // the heap, and holds on to that memory after a flood of them.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  init_crypto();
  server::raise_open_files_limit(cfg.server.max_connections);
}

// The running daemon: its store, workers, router and server on one io_context, made in order by
// open() and listen(), then run() until a signal drains it.
class Daemon {
 public:
  Daemon(std::string path, config::ConfigPtr cfg, std::string replica, const char* level_override)
      : path_(std::move(path)), registry_(cfg), cfg_(std::move(cfg)), replica_(std::move(replica)),
        level_override_(level_override), ioc_(cfg_->server.threads), metrics_(SHIPGATE_VERSION, SHIPGATE_GIT_SHA) {
    metrics_.set_replica(replica_);
  }

  bool open(bool init_empty) {
    store_ = open_store(*cfg_, ioc_.get_executor(), clock_, metrics_, replica_, init_empty);
    if (!store_) return false;
    // State changes go to the outbox only while something reads them (a reload may switch it on).
    store_->record_events(cfg_->reports_events());
    make_dispatcher();
    make_workers();
    add_reload_hooks();
    return true;
  }

  bool listen() {
    app_.config = source();
    app_.store = store_.get();
    app_.dispatcher = dispatcher_;
    app_.draining = &draining_;
    app_.clock = clock_;
    app_.metrics = &metrics_;
    app_.version = SHIPGATE_VERSION;
    app_.git_sha = SHIPGATE_GIT_SHA;
    app_.started_at = clock_->now();
    app_.reloader = reloader_.get();
    app_.platform_watch = platform_watch_;
    app_.replica = replica_;
    app_.events = std::make_shared<orchestration::EventFeed>(ioc_.get_executor(), *store_, std::chrono::milliseconds(250),
                                                             &metrics_);
    app_.http = http_;
    app_.slow_reads = &slow_reads_;
    app_.events->set_slow_reads(&slow_reads_);
    app_.events->start();
    router_.emplace(handlers::build_router(app_));
    server_ = std::make_unique<server::Server>(ioc_, cfg_->server, *router_, draining_, &metrics_);
    if (auto r = server_->listen(); !r) {
      if (!server_->tls_error().empty()) spdlog::critical("cannot start TLS: {}", server_->tls_error());
      else spdlog::critical("cannot listen on {}: {}", cfg_->server.listen, r.error().message());
      return false;
    }
    // A reload re-reads the certificate (a renewal needs no restart) and applies limits and timeouts.
    reloader_->add_hook({"server.tls", [server = server_.get()](const config::Config& next) {
                           auto tls = server->prepare_tls(next.server);
                           if (!tls.error.empty()) return orchestration::ReloadHook::Prepared{{}, tls.error};
                           return orchestration::ReloadHook::Prepared{[server, install = tls.install, settings = next.server] {
                             install();
                             server->apply(settings);
                           }};
                         }});
    return true;
  }

  int run() {
    watch_signals();
    start_workers();
    const int threads = cfg_->server.threads;
    spdlog::info("shipgate {} listening on {} (store {}, {} project{}, {} thread{})", SHIPGATE_VERSION,
                 server_->addresses(), cfg_->store.url, cfg_->projects.size(), cfg_->projects.size() == 1 ? "" : "s",
                 threads, threads == 1 ? "" : "s");
    // Start-up's temporary allocations (the YAML documents, the schema migrations) are freed by now, but
    // glibc keeps their pages; hand them back before the daemon settles into its resting size.
    ::malloc_trim(0);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : pool) t.join();
    slow_reads_.stop();
    store_->close();
    spdlog::info("shipgate stopped");
    return kExitOk;
  }

 private:
  orchestration::ConfigSource source() {
    return [this] { return registry_.current(); };
  }

  orchestration::TargetFactory targets() {
    return [http = http_](const config::TargetConfig& t) { return deploy::make_target(t, http); };
  }

  void make_dispatcher() {
    dispatcher_ = std::make_shared<orchestration::Dispatcher>(ioc_.get_executor(), *store_, source(), targets(), clock_,
                                                              nullptr, &metrics_);
    dispatcher_->set_generations([this](std::string_view sha) { return registry_.find(sha); });
    if (store_->shared()) {
      dispatcher_->set_replica(replica_);
      dispatcher_->set_runs_deployments(cfg_->server.run_deployments);
      if (!cfg_->server.run_deployments) spdlog::info("this replica runs no deployments (server.run_deployments: false)");
      // A deployment created under a config this replica never loaded runs with that config's text.
      dispatcher_->set_generation_loader([this](const std::string& text) -> config::ConfigPtr {
        const auto slash = path_.rfind('/');
        auto loaded = config::load_config_text(text, config::process_environment(),
                                               slash == std::string::npos ? "" : path_.substr(0, slash + 1));
        if (!loaded.config) {
          spdlog::warn("a config generation from the store does not load here: {}", loaded.errors.front().to_string());
          return nullptr;
        }
        registry_.add(loaded.config);
        return loaded.config;
      });
    }
    // Work another replica queued wakes this one's lane at once (PostgreSQL's NOTIFY).
    store_->on_work([dispatcher = dispatcher_](const std::string& project, const std::string& environment) {
      dispatcher->notify(project, environment);
    });
  }

  void make_workers() {
    // Schedules (verify, redeploy): claimed in the store, so one replica runs each due time.
    schedules_ = std::make_shared<orchestration::ScheduleRunner>(ioc_.get_executor(), *store_, source(), clock_, http_,
                                                                 &metrics_);
    schedules_->on_queued([dispatcher = dispatcher_](const std::string& project, const std::string& environment) {
      dispatcher->notify(project, environment);
    });
    // Registry watches: each slot's check claimed like a schedule run, each tag queued once.
    watcher_ = std::make_shared<orchestration::RegistryWatcher>(ioc_.get_executor(), *store_, source(), clock_, http_,
                                                                &metrics_);
    watcher_->on_queued([dispatcher = dispatcher_](const std::string& project, const std::string& environment) {
      dispatcher->notify(project, environment);
    });
    // Drift of watched Kubernetes Deployments: every replica watches, the holder of the drift lane compares
    // and heals. Its own client: a watch is a long streamed answer, not a call to retry.
    drift_ = std::make_shared<orchestration::DriftMonitor>(ioc_.get_executor(), *store_, source(), targets(), clock_,
                                                           http::make_beast_http_client(), &metrics_);
    // Notifications and GitHub statuses: their own client without the deploy retries (the outbox has its
    // own schedule), on the same executor pool, never in the dispatcher's way.
    orchestration::OutboxOptions outbox_options;
    outbox_options.version = SHIPGATE_VERSION;
    outbox_ = std::make_shared<orchestration::Outbox>(ioc_.get_executor(), *store_, source(),
                                                      http::make_beast_http_client(), clock_, &metrics_, outbox_options);
  }

  void add_reload_hooks() {
    reloader_ = std::make_unique<orchestration::Reloader>(path_, config::process_environment(), registry_, *store_,
                                                          &metrics_);
    reloader_->add_hook({"log", [level_override = level_override_](const config::Config& next) {
                           return orchestration::ReloadHook::Prepared{[json = next.log.json, level = next.log.level, level_override] {
                             configure_logging(json, level_override ? level_override : level);
                           }};
                         }});
    reloader_->add_hook({"dispatcher", [dispatcher = dispatcher_](const config::Config&) {
                           return orchestration::ReloadHook::Prepared{[dispatcher] { dispatcher->notify_all(); }};
                         }});
    reloader_->add_hook({"outbox", [store = store_.get()](const config::Config& next) {
                           return orchestration::ReloadHook::Prepared{[store, on = next.reports_events()] { store->record_events(on); }};
                         }});
    // The platform repository (config_source): pushes and a poll apply its commits through the reloader.
    platform_watch_ = std::make_shared<orchestration::PlatformWatch>(ioc_.get_executor(), *reloader_, *store_,
                                                                     http::make_beast_http_client(), clock_, &metrics_);
    platform_watch_->on_queued([dispatcher = dispatcher_](const std::string& project, const std::string& environment) {
      dispatcher->notify(project, environment);
    });
    reloader_->after_apply([watch = platform_watch_](config::ConfigPtr before, config::ConfigPtr after,
                                                     orchestration::ReloadOutcome outcome) {
      return watch->redeploy_changes(std::move(before), std::move(after), std::move(outcome));
    });
  }

  // SIGTERM/SIGINT: drain in two phases; a second signal exits at once. SIGHUP: reload the config (the
  // same as `shipgate reload`); one during a reload reloads again once that one is done.
  void watch_signals() {
    on_signal_ = [this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (draining_.exchange(true)) {
        spdlog::warn("second signal {}: exiting now", sig);
        std::_Exit(1);
      }
      spdlog::info("signal {}: draining (grace {} ms)", sig, registry_.current()->server.shutdown_grace.count());
      signals_.async_wait(on_signal_);
      asio::co_spawn(ioc_, drain(), asio::detached);
    };
    signals_.async_wait(on_signal_);
    on_hangup_ = [this](boost::system::error_code ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: reloading {}", path_);
      asio::co_spawn(ioc_, reloader_->reload("SIGHUP", true), asio::detached);
      hangup_.async_wait(on_hangup_);
    };
    hangup_.async_wait(on_hangup_);
  }

  asio::awaitable<void> drain() {
    hangup_.cancel();
    outbox_->stop();
    app_.events->close();  // open event streams end; clients reconnect to another replica or after the restart
    server_->stop_accepting();
    const auto grace = registry_.current()->server.shutdown_grace;
    const auto t0 = std::chrono::steady_clock::now();
    co_await dispatcher_->drain(grace);
    const auto left = grace - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    co_await server_->drain(std::max(left, std::chrono::milliseconds(100)));
    ioc_.stop();
  }

  void start_workers() {
    server_->start();
    dispatcher_->start();
    outbox_->start();
    schedules_->start();
    watcher_->start();
    drift_->start();
    platform_watch_->start();
    if (store_->shared())
      spawn_supervised(ioc_.get_executor(), "heartbeat", [this] {
        return orchestration::replica_heartbeat(*store_, replica_, SHIPGATE_VERSION, source(), std::chrono::seconds(2),
                                                draining_);
      }, &metrics_);
  }

  const std::string path_;
  config::ConfigRegistry registry_;
  const config::ConfigPtr cfg_;  // the config it started with (a reload changes the registry's)
  const std::string replica_;
  const char* const level_override_;
  asio::io_context ioc_;
  std::shared_ptr<SystemClock> clock_ = std::make_shared<SystemClock>();
  Metrics metrics_;
  std::unique_ptr<orchestration::Store> store_;
  std::shared_ptr<http::HttpClient> http_ = http::make_retrying_http_client(http::make_beast_http_client(), {});
  std::shared_ptr<orchestration::Dispatcher> dispatcher_;
  std::shared_ptr<orchestration::ScheduleRunner> schedules_;
  std::shared_ptr<orchestration::RegistryWatcher> watcher_;
  std::shared_ptr<orchestration::DriftMonitor> drift_;
  std::shared_ptr<orchestration::Outbox> outbox_;
  std::unique_ptr<orchestration::Reloader> reloader_;
  std::shared_ptr<orchestration::PlatformWatch> platform_watch_;
  orchestration::SlowReads slow_reads_;
  std::atomic<bool> draining_{false};
  handlers::App app_;  // what the handlers use; the router's routes keep a reference to it
  std::optional<handlers::Router> router_;
  std::unique_ptr<server::Server> server_;
  asio::signal_set hangup_{ioc_, SIGHUP};
  asio::signal_set signals_{ioc_, SIGINT, SIGTERM};
  std::function<void(boost::system::error_code, int)> on_signal_;
  std::function<void(boost::system::error_code, int)> on_hangup_;
};

}  // namespace

int serve(const std::vector<std::string>& args) {
  const auto path = config_path(args);
  if (path.empty()) return usage(), kExitUsage;
  auto cfg = load_or_report(path);
  if (!cfg) {
    spdlog::critical("refusing to start: the config is invalid");
    return kExitInvalidConfig;
  }
  const char* level_override = std::getenv("SHIPGATE_LOG_LEVEL");
  prepare_process(*cfg, level_override);
  const auto replica = replica_id(std::getenv("SHIPGATE_REPLICA_ID"));
  if (!replica) {
    spdlog::critical("refusing to start: SHIPGATE_REPLICA_ID must be 1 to 63 letters, digits, '.', '_' or '-'");
    return kExitUsage;
  }
  Daemon daemon(path, cfg, *replica, level_override);
  const bool init_empty = std::find(args.begin(), args.end(), "--init") != args.end();
  if (!daemon.open(init_empty) || !daemon.listen()) return kExitStartup;
  return daemon.run();
}

}  // namespace shipgate
