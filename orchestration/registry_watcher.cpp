#include "orchestration/registry_watcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "common/supervised.hpp"
#include "deploy/image_reference.hpp"
#include "deploy/registry_client.hpp"
#include "domain/gate_policy.hpp"
#include "domain/semver.hpp"
#include "domain/triggers.hpp"
#include "orchestration/worker_ingest.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

constexpr const char* kWatchKey = "registry watch";

}  // namespace

RegistryWatcher::RegistryWatcher(asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
                                 std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http, Metrics* metrics)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      clock_(std::move(clock)),
      http_(std::move(http)),
      metrics_(metrics) {}

void RegistryWatcher::start(std::chrono::milliseconds every) {
  spawn_ticking(strand_, "registry watch", every, [self = shared_from_this()] { return self->tick(); }, metrics_);
}

asio::awaitable<void> RegistryWatcher::tick() {
  const auto config = config_();
  const auto now = epoch_ms(clock_->now());
  for (const auto& project : config->projects)
    for (const auto& env : project.environments) {
      if (!env.watch) continue;
      const std::int64_t every = env.watch->every.count();
      const std::int64_t slot = now / every * every;
      // The store is asked once per slot: a slot this replica saw (claimed or lost) is done here.
      auto& seen = seen_slot_[project.name + "/" + env.name];
      if (seen >= slot) continue;
      seen = slot;
      if (!co_await claim(project, env, slot)) continue;
      co_await check(*config, project, env);
    }
}

// The slot's check, taken from the last one by compare-and-set: one replica lists the registry per slot.
asio::awaitable<bool> RegistryWatcher::claim(const config::Project& project, const config::Environment& env,
                                             std::int64_t slot) {
  auto runs = co_await store_.schedule_runs();
  if (!runs) co_return false;
  std::optional<std::int64_t> last;
  for (const auto& r : *runs)
    if (r.project == project.name && r.environment == env.name && r.schedule == kWatchKey) last = r.due_ms;
  if (last && *last >= slot) co_return false;
  ScheduleRun run{project.name, env.name, kWatchKey, slot, ScheduleOutcome::pending, {}, 0};
  auto taken = co_await store_.claim_schedule_run(std::move(run), last);
  co_return taken && *taken;
}

asio::awaitable<std::string> RegistryWatcher::running_version(const config::Project& project,
                                                              const config::Environment& env) {
  DeploymentFilter filter{project.name, env.name, {State::succeeded}, 1, 0};
  auto current = co_await store_.deployments(filter);
  co_return current && !current->empty() ? current->front().version : std::string();
}

asio::awaitable<void> RegistryWatcher::check(const config::Config& config, const config::Project& project,
                                             const config::Environment& env) {
  const auto& watch = *env.watch;
  const auto* component = project.component(watch.component);
  const auto image = component ? deploy::parse_image_reference(component->image) : std::nullopt;
  if (!image) co_return;
  const auto listed = co_await deploy::list_tags(*http_, *image, config.registry(image->registry));
  if (listed.state != deploy::ImageState::found) {
    spdlog::warn("registry watch {}/{}: cannot list {}: {}", project.name, env.name, image->name, listed.message);
    co_return;
  }
  const auto running = co_await running_version(project, env);
  const auto tag = newest_watched_tag(listed.tags, watch, running);
  if (tag) co_await queue(config, project, env, *tag);
}

asio::awaitable<void> RegistryWatcher::queue(const config::Config& config, const config::Project& project,
                                             const config::Environment& env, const std::string& tag) {
  VersionRequest request;
  request.environment = env.name;
  request.version = tag;
  request.images[env.watch->component] = project.component(env.watch->component)->image + ":" + tag;
  request.actor = "shipgate";
  auto plan = plan_version_request(project, request, config::Trigger::registry);
  if (!plan.error.empty() || plan.deployments.empty()) {
    spdlog::warn("registry watch {}/{}: tag {} not queued: {}", project.name, env.name, tag.substr(0, 128),
                 plan.error.empty() ? plan.ignored : plan.error);
    co_return;
  }
  adopt_config(config, plan.deployments, clock_->now());
  // Once per tag: a repeated check (another replica, a restart) is answered as the first one was.
  std::string key = "registry:" + project.name + "/" + env.name + ":" + tag;
  std::string source = "registry watch " + project.name + "/" + env.name;
  auto ingested = co_await ingest_once(store_, std::move(key), std::move(source), std::move(plan.deployments));
  if (!ingested) {
    spdlog::warn("registry watch {}/{}: cannot queue {}: {}", project.name, env.name, tag, ingested.error().message());
    co_return;
  }
  if (ingested->duplicate) co_return;
  spdlog::info("registry watch {}/{}: queued {}", project.name, env.name, tag);
  if (queued_) queued_(project.name, env.name);
}

}  // namespace shipgate::orchestration
