#include "fuzz/harness.hpp"

#include <boost/asio/co_spawn.hpp>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "config/loader.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace shipgate::fuzz {

namespace asio = boost::asio;

namespace {

const char* kConfig = R"(
github: { secrets: ["fuzz-webhook-secret"] }
platform: { repository: acme/platform, branch: main }
reviewers:
  fuzzer: { token: "fuzz-reviewer-token-0123456789", github: fuzzer, can: [approve, deploy, rollback, override] }
projects:
  app:
    repository: acme/app
    config_paths: ["configs/app/**"]
    components: { api: { image: ghcr.io/acme/app-api }, web: { image: ghcr.io/acme/app-web } }
    environments:
      staging:
        deploy_on: [push, dispatch, build]
        tags: "v*"
        tag: "staging-{short_sha}"
        targets: [ { type: http, url: "http://127.0.0.1:9/deploy", body: { v: "{version}" } } ]
      production:
        promote_from: staging
        deploy_on: [dispatch]
        approval: { required: 1, reviewers: [fuzzer], allow_self_approval: true }
        confirm: yes-production
        targets: [ { type: http, url: "http://127.0.0.1:9/release" } ]
  other:
    repository: acme/other
    secret: other-project-secret
    environments:
      staging: { deploy_on: [push, build], targets: [ { type: http, url: "http://127.0.0.1:9/x" } ] }
)";

// Targets that succeed at once: the fuzzers exercise intake and the state machine, not the network.
class InstantTarget final : public deploy::DeployTarget {
 public:
  std::string describe() const override { return "instant"; }
  asio::awaitable<deploy::TargetOutcome> deploy(const deploy::DeployContext&) override {
    deploy::TargetOutcome out;
    out.ok = true;
    out.message = "done";
    co_return out;
  }
};

}  // namespace

Harness& Harness::get() {
  static Harness* h = new Harness();  // lives for the process; fuzzers exit without destructors
  return *h;
}

Harness::Harness() {
  spdlog::set_level(spdlog::level::off);
  auto loaded = config::load_config_text(kConfig, [](const std::string&) { return std::nullopt; });
  if (!loaded.config) throw std::runtime_error("fuzz config invalid: " + loaded.errors.at(0).to_string());
  config_ = loaded.config;
  const std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string tmpl = base + "/shipgate-fuzz-XXXXXX";
  dir_ = ::mkdtemp(tmpl.data());
  auto clock = std::make_shared<SystemClock>();
  orchestration::SqliteStoreOptions options{dir_ + "/fuzz.db"};
  auto store = orchestration::open_sqlite_store(options, clock);
  if (!store) throw std::runtime_error("cannot open the fuzz store: " + store.error().message());
  store_ = std::move(*store);
  auto source = [c = config_] { return c; };
  dispatcher_ = std::make_shared<orchestration::Dispatcher>(
      ioc_.get_executor(), *store_, source,
      [](const config::TargetConfig&) { return std::make_unique<InstantTarget>(); }, clock);
  app_ = std::make_unique<handlers::App>();
  app_->config = source;
  app_->store = store_.get();
  app_->dispatcher = dispatcher_;
  app_->clock = clock;
  router_ = std::make_unique<handlers::Router>(handlers::build_router(*app_));
}

handlers::Response Harness::handle(handlers::Request& request) {
  handlers::Response out;
  bool done = false;
  asio::co_spawn(ioc_, handlers::dispatch(*router_, request), [&](std::exception_ptr e, handlers::Response r) {
    if (e) std::rethrow_exception(e);  // a handler that throws is a finding
    out = std::move(r);
    done = true;
  });
  // Store writes complete from the writer thread: wait for them, bounded.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(5));
    if (std::chrono::steady_clock::now() > deadline) std::abort();  // a request that never ends is a finding
  }
  ioc_.restart();
  ioc_.poll();
  return out;
}

void Harness::drive(std::chrono::milliseconds d) {
  ioc_.restart();
  ioc_.run_for(d);
}

}  // namespace shipgate::fuzz
