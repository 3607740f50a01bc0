// shipgate: serve | check | hash-token | version. Wires the libraries together and runs the io_context.
#include <boost/asio.hpp>

#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/client.hpp"
#include "common/crypto.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/replica.hpp"
#include "common/supervised.hpp"
#include "config/loader.hpp"
#include "http/http_client.hpp"
#include "handlers/app.hpp"
#include "config/registry.hpp"
#include "orchestration/dispatcher.hpp"
#include "orchestration/event_feed.hpp"
#include "orchestration/outbox.hpp"
#include "orchestration/reloader.hpp"
#include "store/postgres/pg_store.hpp"
#include "orchestration/replica_heartbeat.hpp"
#include "orchestration/drift_monitor.hpp"
#include "orchestration/schedule_runner.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "server/limits.hpp"
#include "server/server.hpp"

namespace asio = boost::asio;
using namespace shipgate;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalidConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitStartup = 3;

void usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  shipgate serve -c FILE [--init]  run the daemon (--init: make a new store in an empty store file)\n"
               "  shipgate check -c FILE        validate a config, print every error\n"
               "  shipgate hash-token [TOKEN]   print the SHA-256 to put in token_sha256 (reads stdin without TOKEN)\n"
               "  shipgate hash-token --new     make a new random token and print it with its hash\n"
               "  shipgate healthcheck [URL]     exit 0 if URL/healthz answers 200 (for container HEALTHCHECKs)\n"
               "  shipgate --version\n"
               "  shipgate status|deployments|deploy|approve|reject|cancel|rollback|audit ...  (see shipgate status --help)\n");
}

std::string config_path(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-c" || args[i] == "--config") return args[i + 1];
  if (const char* env = std::getenv("SHIPGATE_CONFIG")) return env;
  return {};
}

config::ConfigPtr load_or_report(const std::string& path) {
  auto loaded = config::load_config_file(path, config::process_environment());
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s: %s\n", path.c_str(), e.to_string().c_str());
  if (!loaded.errors.empty())
    std::fprintf(stderr, "%zu error%s in %s\n", loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s", path.c_str());
  return loaded.config;
}

int check(const std::vector<std::string>& args) {
  const auto path = config_path(args);
  if (path.empty()) return usage(), kExitUsage;
  auto cfg = load_or_report(path);
  if (!cfg) return kExitInvalidConfig;
  for (const auto& w : config::unpinned_targets(*cfg)) std::printf("warning: %s\n", w.c_str());
  std::printf("%s: valid (%zu project%s, listening on %s, store %s)\n", path.c_str(), cfg->projects.size(),
              cfg->projects.size() == 1 ? "" : "s", cfg->server.listen.c_str(), cfg->store.url.c_str());
  return kExitOk;
}

int hash_token(const std::vector<std::string>& args) {
  if (args.size() > 1 && args[1] == "--new") {
    const std::string token = "sg_" + random_hex(24);
    std::printf("token:        %s\ntoken_sha256: %s\n", token.c_str(), sha256_hex(token).c_str());
    return kExitOk;
  }
  std::string token;
  if (args.size() > 1) token = args[1];
  else if (!std::getline(std::cin, token)) return usage(), kExitUsage;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) return usage(), kExitUsage;
  std::printf("%s\n", sha256_hex(token).c_str());
  return kExitOk;
}

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

int serve(const std::vector<std::string>& args) {
  // A file size limit (RLIMIT_FSIZE) or a closed pipe must surface as an error on that write (the store
  // answers 503, a command target fails), not kill the daemon.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  const auto path = config_path(args);
  if (path.empty()) return usage(), kExitUsage;
  auto cfg = load_or_report(path);
  if (!cfg) {
    spdlog::critical("refusing to start: the config is invalid");
    return kExitInvalidConfig;
  }
  // The config's log settings; SHIPGATE_LOG_LEVEL, when set, still wins (handy for one debug run).
  const char* level_override = std::getenv("SHIPGATE_LOG_LEVEL");
  configure_logging(cfg->log.json, level_override ? level_override : cfg->log.level);
  for (const auto& w : config::unpinned_targets(*cfg)) spdlog::warn("{}", w);
  // Request bodies are large and short-lived: give each its own mapping, returned to the system when freed.
  // Left to itself, glibc raises its mmap threshold after the first large free, keeps later bodies in
  // the heap, and holds on to that memory after a flood of them.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  init_crypto();
  server::raise_open_files_limit(cfg->server.max_connections);
  config::ConfigRegistry registry(cfg);
  auto config_source = [&registry] { return registry.current(); };

  const int threads = cfg->server.threads;
  asio::io_context ioc(threads);
  auto clock = std::make_shared<SystemClock>();
  const auto replica = replica_id(std::getenv("SHIPGATE_REPLICA_ID"));
  if (!replica) {
    spdlog::critical("refusing to start: SHIPGATE_REPLICA_ID must be 1 to 63 letters, digits, '.', '_' or '-'");
    return kExitUsage;
  }
  Metrics metrics(SHIPGATE_VERSION, SHIPGATE_GIT_SHA);
  metrics.set_replica(*replica);
  const bool init_empty = std::find(args.begin(), args.end(), "--init") != args.end();
  auto store = open_store(*cfg, ioc.get_executor(), clock, metrics, *replica, init_empty);
  if (!store) return kExitStartup;
  // State changes go to the outbox only while something reads them (a reload may switch it on).
  store->record_events(cfg->reports_events());
  auto http = http::make_retrying_http_client(http::make_beast_http_client(), {});
  auto dispatcher = std::make_shared<orchestration::Dispatcher>(
      ioc.get_executor(), *store, config_source,
      [http](const config::TargetConfig& t) { return deploy::make_target(t, http); }, clock, nullptr, &metrics);
  dispatcher->set_generations([&registry](std::string_view sha) { return registry.find(sha); });
  if (store->shared()) {
    dispatcher->set_replica(*replica);
    dispatcher->set_runs_deployments(cfg->server.run_deployments);
    if (!cfg->server.run_deployments) spdlog::info("this replica runs no deployments (server.run_deployments: false)");
    // A deployment created under a config this replica never loaded runs with that config's text.
    dispatcher->set_generation_loader([&registry](const std::string& source) -> config::ConfigPtr {
      auto loaded = config::load_config_text(source, config::process_environment());
      if (!loaded.config) {
        spdlog::warn("a config generation from the store does not load here: {}", loaded.errors.front().to_string());
        return nullptr;
      }
      registry.add(loaded.config);
      return loaded.config;
    });
  }
  // Work another replica queued wakes this one's lane at once (PostgreSQL's NOTIFY).
  store->on_work([dispatcher](const std::string& project, const std::string& environment) {
    dispatcher->notify(project, environment);
  });

  // Schedules (verify, redeploy): claimed in the store, so one replica runs each due time.
  auto schedules = std::make_shared<orchestration::ScheduleRunner>(ioc.get_executor(), *store, config_source, clock, http,
                                                                   &metrics);
  schedules->on_queued([dispatcher](const std::string& project, const std::string& environment) {
    dispatcher->notify(project, environment);
  });

  // Drift of watched Kubernetes Deployments: every replica watches, the holder of the drift lane compares
  // and heals. Its own client: a watch is a long streamed answer, not a call to retry.
  auto drift = std::make_shared<orchestration::DriftMonitor>(
      ioc.get_executor(), *store, config_source,
      [http](const config::TargetConfig& t) { return deploy::make_target(t, http); }, clock, http::make_beast_http_client(),
      &metrics);

  // Notifications and GitHub statuses: their own client without the deploy retries (the outbox has its
  // own schedule), on the same executor pool, never in the dispatcher's way.
  orchestration::OutboxOptions outbox_options;
  outbox_options.version = SHIPGATE_VERSION;
  auto outbox = std::make_shared<orchestration::Outbox>(ioc.get_executor(), *store, config_source,
                                                         http::make_beast_http_client(), clock, &metrics, outbox_options);

  orchestration::Reloader reloader(path, config::process_environment(), registry, *store, &metrics);
  reloader.add_hook({"log", [level_override](const config::Config& next) {
                       return orchestration::ReloadHook::Prepared{[json = next.log.json, level = next.log.level, level_override] {
                         configure_logging(json, level_override ? level_override : level);
                       }};
                     }});
  reloader.add_hook({"dispatcher", [dispatcher](const config::Config&) {
                       return orchestration::ReloadHook::Prepared{[dispatcher] { dispatcher->notify_all(); }};
                     }});
  reloader.add_hook({"outbox", [store = store.get()](const config::Config& next) {
                       return orchestration::ReloadHook::Prepared{[store, on = next.reports_events()] { store->record_events(on); }};
                     }});

  std::atomic<bool> draining{false};
  handlers::App app{config_source, store.get(), dispatcher, &draining, clock, &metrics, SHIPGATE_VERSION,
                    SHIPGATE_GIT_SHA, clock->now()};
  app.reloader = &reloader;
  app.replica = *replica;
  app.events = std::make_shared<orchestration::EventFeed>(ioc.get_executor(), *store, std::chrono::milliseconds(250),
                                                         &metrics);
  app.http = http;
  orchestration::SlowReads slow_reads;
  app.slow_reads = &slow_reads;
  app.events->set_slow_reads(&slow_reads);
  app.events->start();
  const auto router = handlers::build_router(app);
  server::Server server(ioc, cfg->server, router, draining, &metrics);
  if (auto r = server.listen(); !r) {
    if (!server.tls_error().empty()) spdlog::critical("cannot start TLS: {}", server.tls_error());
    else spdlog::critical("cannot listen on {}: {}", cfg->server.listen, r.error().message());
    return kExitStartup;
  }
  // A reload re-reads the certificate (a renewal needs no restart) and applies limits and timeouts.
  reloader.add_hook({"server.tls", [&server](const config::Config& next) {
                       auto tls = server.prepare_tls(next.server);
                       if (!tls.error.empty()) return orchestration::ReloadHook::Prepared{{}, tls.error};
                       return orchestration::ReloadHook::Prepared{[&server, install = tls.install, settings = next.server] {
                         install();
                         server.apply(settings);
                       }};
                     }});

  asio::signal_set hangup(ioc, SIGHUP);
  // SIGTERM/SIGINT: drain in two phases; a second signal exits at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (draining.exchange(true)) {
      spdlog::warn("second signal {}: exiting now", sig);
      std::_Exit(1);
    }
    spdlog::info("signal {}: draining (grace {} ms)", sig, registry.current()->server.shutdown_grace.count());
    signals.async_wait(on_signal);
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      hangup.cancel();
      outbox->stop();
      app.events->close();  // open event streams end; clients reconnect to another replica or after the restart
      server.stop_accepting();
      const auto grace = registry.current()->server.shutdown_grace;
      const auto t0 = std::chrono::steady_clock::now();
      co_await dispatcher->drain(grace);
      const auto left = grace - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      co_await server.drain(std::max(left, std::chrono::milliseconds(100)));
      ioc.stop();
    }, asio::detached);
  };
  signals.async_wait(on_signal);

  // SIGHUP: reload the config (the same as `shipgate reload`).
  std::function<void(boost::system::error_code, int)> on_hangup = [&](boost::system::error_code ec, int) {
    if (ec) return;
    spdlog::info("SIGHUP: reloading {}", path);
    // A SIGHUP during a reload (a second config change right after the first) must not be lost: it
    // reloads again once the one in progress is done.
    asio::co_spawn(ioc, reloader.reload("SIGHUP", true), asio::detached);
    hangup.async_wait(on_hangup);
  };
  hangup.async_wait(on_hangup);

  server.start();
  dispatcher->start();
  outbox->start();
  schedules->start();
  drift->start();
  if (store->shared())
    spawn_supervised(ioc.get_executor(), "heartbeat", [&] {
      return orchestration::replica_heartbeat(*store, *replica, SHIPGATE_VERSION, config_source, std::chrono::seconds(2),
                                              draining);
    }, &metrics);
  spdlog::info("shipgate {} listening on {} (store {}, {} project{}, {} thread{})", SHIPGATE_VERSION,
               server.addresses(), cfg->store.url, cfg->projects.size(),
               cfg->projects.size() == 1 ? "" : "s", threads, threads == 1 ? "" : "s");

  // Start-up's temporary allocations (the YAML documents, the schema migrations) are freed by now, but
  // glibc keeps their pages; hand them back before the daemon settles into its resting size.
  ::malloc_trim(0);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  slow_reads.stop();
  store->close();
  spdlog::info("shipgate stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  if (const char* level = std::getenv("SHIPGATE_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));
  if (args.empty()) return usage(), kExitUsage;
  const std::string& cmd = args[0];
  if (cmd == "--version" || cmd == "version") {
    std::printf("shipgate %s (%s)\n", SHIPGATE_VERSION, SHIPGATE_GIT_SHA);
    return kExitOk;
  }
  if (cmd == "serve") return serve(args);
  if (cmd == "check") return check(args);
  if (cmd == "hash-token") return hash_token(args);
  if (cmd == "healthcheck") return cli::healthcheck(args.size() > 1 ? args[1] : "http://127.0.0.1:8080");
  if (cli::is_client_command(cmd)) return cli::run_client(args);
  usage();
  return kExitUsage;
}
