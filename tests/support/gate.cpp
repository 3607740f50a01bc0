#include "tests/support/gate.hpp"

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "handlers/signature.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/support/run.hpp"
#include "tests/support/test_config.hpp"

namespace shipgate::testing {

namespace {

class ScriptedTarget final : public deploy::DeployTarget {
 public:
  explicit ScriptedTarget(ScriptedTargets& script) : script_(script) {}
  std::string describe() const override { return "scripted"; }
  boost::asio::awaitable<deploy::TargetOutcome> deploy(const deploy::DeployContext& ctx) override {
    co_return next("deploy", ctx, script_.deploys);
  }
  boost::asio::awaitable<deploy::TargetOutcome> resume(const deploy::DeployContext& ctx) override {
    co_return next("resume", ctx, script_.deploys);
  }
  boost::asio::awaitable<deploy::TargetOutcome> rollback(const deploy::DeployContext& previous,
                                                         const nlohmann::json&) override {
    co_return next("rollback", previous, script_.rollbacks);
  }

 private:
  deploy::TargetOutcome next(const char* kind, const deploy::DeployContext& ctx, std::deque<deploy::TargetOutcome>& queue) {
    script_.calls.push_back({kind, ctx});
    if (script_.during_call) script_.during_call();
    if (queue.empty()) return {true, std::string(kind) + " " + ctx.version + " done", nlohmann::json::object()};
    auto outcome = std::move(queue.front());
    queue.pop_front();
    return outcome;
  }
  ScriptedTargets& script_;
};

}  // namespace

orchestration::TargetFactory ScriptedTargets::factory() {
  return [this](const config::TargetConfig&) { return std::make_unique<ScriptedTarget>(*this); };
}

std::vector<std::string> ScriptedTargets::versions(const std::string& kind) const {
  std::vector<std::string> out;
  for (const auto& c : calls)
    if (c.kind == kind) out.push_back(c.context.version);
  return out;
}

Gate::Gate(const std::string& config_yaml)
    : clock(std::make_shared<ManualClock>(from_epoch_ms(1'800'000'000'000))), config(load_test_config(config_yaml)) {
  auto opened = orchestration::open_sqlite_store({dir.file("gate.db")}, clock);
  EXPECT_TRUE(opened) << (opened ? "" : opened.error().message());
  if (opened) store = std::move(*opened);
  auto cfg = config;
  dispatcher = std::make_shared<orchestration::Dispatcher>(ioc.get_executor(), *store, [cfg] { return cfg; },
                                                           targets.factory(), clock);
  app.config = [cfg] { return cfg; };
  app.store = store.get();
  app.dispatcher = dispatcher;
  app.clock = clock;
  router = std::make_unique<handlers::Router>(handlers::build_router(app));
}

Gate::~Gate() {
  if (store) store->close();
}

handlers::Response Gate::call(const std::string& method, const std::string& path, const nlohmann::json& body,
                              const std::string& token, std::vector<std::pair<std::string, std::string>> headers) {
  handlers::Request req;
  req.method = method;
  const auto q = path.find('?');  // as the server splits the target
  req.path = path.substr(0, q);
  if (q != std::string::npos) req.query = path.substr(q + 1);
  req.request_id = "test-" + std::to_string(++deliveries_);
  if (!body.is_null()) {
    req.body = body.dump();
    headers.emplace_back("Content-Type", "application/json");
  }
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  req.headers = std::move(headers);
  return run_awaitable(handlers::dispatch(*router, req));
}

handlers::Response Gate::github(const std::string& event, const std::string& delivery, const nlohmann::json& body,
                                const std::string& secret) {
  return call("POST", "/webhooks/github", body, "",
              {{"X-GitHub-Event", event}, {"X-GitHub-Delivery", delivery},
               {"X-Hub-Signature-256", handlers::sign_body(secret, body.dump())}});
}

std::vector<std::int64_t> Gate::ingest(std::vector<orchestration::NewDeployment> deployments) {
  orchestration::IngestRequest r;
  r.delivery_key = "test:" + std::to_string(++deliveries_);
  r.deployments = std::move(deployments);
  auto out = run_awaitable(store->ingest(std::move(r)));
  EXPECT_TRUE(out) << (out ? "" : out.error().message());
  std::vector<std::int64_t> ids;
  if (!out) return ids;
  for (const auto& d : out->deployments) {
    ids.push_back(d.id);
    dispatcher->notify(d.project, d.environment);
  }
  return ids;
}

bool Gate::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

orchestration::Deployment Gate::deployment(std::int64_t id) {
  auto d = run_awaitable(store->deployment(id, true));
  EXPECT_TRUE(d && *d) << "no deployment " << id;
  return d && *d ? **d : orchestration::Deployment{};
}

orchestration::State Gate::state_of(std::int64_t id) { return deployment(id).state; }

orchestration::State Gate::settle(std::int64_t id) {
  run_until([&] { return orchestration::is_final(state_of(id)); });
  return state_of(id);
}

orchestration::NewDeployment new_deployment(const std::string& project, const std::string& environment,
                                            const std::string& version, orchestration::Trigger trigger) {
  orchestration::NewDeployment d;
  d.project = project;
  d.environment = environment;
  d.version = version;
  d.sha = sha256_hex(version).substr(0, 40);
  d.ref = "refs/tags/" + version;
  d.images = {{"backend", "ghcr.io/acme/backend:" + version}};
  d.trigger = trigger;
  d.actor = "octocat";
  return d;
}

}  // namespace shipgate::testing
