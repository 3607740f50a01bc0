// The first step: every image of the version exists in its registry, and its digest is recorded (once:
// a resume keeps what was found). While an image is missing the deployment waits, saying so; newer
// work queued behind it ends the wait as long as nothing has been deployed yet.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "domain/deployment_rules.hpp"
#include "orchestration/deployment_step.hpp"
#include "orchestration/image_check.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;

namespace {

class ImageCheckStep final : public DeploymentStep {
 public:
  StepKind kind() const override { return StepKind::image_check; }

  asio::awaitable<StepOutcome> run(StepRun& run) override {
    Deployment& d = run.deployment;
    if (!run.env.checks_images() || d.images.empty() || recorded_digests(run.result).size() >= d.images.size())
      co_return StepOutcome{};
    Store& store = run.services.store;
    const std::int64_t id = d.id;
    WaitingNote waiting = [&store, id](std::string line) -> asio::awaitable<void> {
      if (!line.empty()) {
        TransitionRequest note{id, Event::note, "shipgate", line};
        co_await store.transition(std::move(note));
      }
      co_await store.set_waiting_reason(id, std::move(line));
    };
    // A resume whose targets already ran, under a config that now checks images, keeps waiting.
    const bool untouched = !run.result.contains("targets") || run.result["targets"].empty();
    NewerWork newer = [&store, &d, untouched]() -> asio::awaitable<std::optional<std::string>> {
      if (!untouched) co_return std::nullopt;
      DeploymentFilter behind{d.project, d.environment, {State::queued}, 50, 0};
      auto queued = co_await store.deployments(behind);
      const Deployment* next = queued ? newer_queued_work(d, *queued) : nullptr;
      if (!next) co_return std::nullopt;
      co_return superseded_reason(next->id, next->version);
    };
    const auto asked = std::chrono::steady_clock::now();
    auto checked = co_await check_images(run.services.http, run.config, run.env, d.images, waiting, newer);
    if (auto* metrics = run.services.metrics)
      metrics->image_check(checked.ok ? "found" : checked.superseded ? "superseded" : "failed",
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
    if (!checked.ok) {
      log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: {}", d.id, checked.message);
      co_return StepOutcome{checked.superseded ? StepEnd::superseded : StepEnd::failed, std::move(checked.message)};
    }
    run.result["images"] = digest_record(d.images, checked.digests);
    co_await run.save("image digests");
    d.result = run.result;  // the targets' context pins these digests
    co_return StepOutcome{};
  }
};

}  // namespace

std::unique_ptr<DeploymentStep> image_check_step() { return std::make_unique<ImageCheckStep>(); }

}  // namespace shipgate::orchestration
