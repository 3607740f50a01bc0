#include "deploy/job_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_read.hpp"
#include "config/template.hpp"
#include "deploy/kube_api.hpp"
#include "deploy/kube_apply.hpp"
#include "deploy/manifest_set.hpp"
#include "deploy/rollout_diagnosis.hpp"
#include "deploy/rollout_rules.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class JobTarget final : public DeployTarget {
 public:
  JobTarget(config::JobTargetConfig cfg, std::shared_ptr<http::HttpClient> http) : cfg_(std::move(cfg)), api_(cfg_.cluster, std::move(http)) {}

  std::string describe() const override { return "job " + cfg_.manifest.name; }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    TargetOutcome out;
    const auto set = render_job(cfg_.manifest, ctx.vars, cfg_.cluster.namespace_, ctx.project, ctx.environment, ctx.deployment_id);
    if (!set.error.empty()) {
      out.message = "job: " + set.error + "; nothing was run";
      co_return out;
    }
    const ManifestObject& job = set.objects[0];
    out.details = {{"job", job.name}, {"namespace", job.ns}};
    auto found = co_await api_.send("GET", job.path());
    if (found.status() == 200) {
      out.details["found"] = true;  // made by this deployment before a restart: waited for, not made again
    } else if (found.status() == 404) {
      out.message = co_await apply_objects(api_, set.objects, false);
      if (!out.message.empty()) co_return out;
    } else {
      out.message = kube_refusal(found, "get", "jobs/" + job.name + " in namespace " + job.ns, "");
      co_return out;
    }
    co_await wait(job, out);
    co_return out;
  }

  asio::awaitable<TargetOutcome> rollback(const DeployContext&, const json&) override {
    co_return TargetOutcome{true, "a Job is not undone", json::object()};
  }

 private:
  asio::awaitable<void> wait(const ManifestObject& job, TargetOutcome& out) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto started = std::chrono::steady_clock::now();
    for (;;) {
      auto reply = co_await api_.send("GET", job.path());
      if (reply.status() != 200) {
        out.message = kube_refusal(reply, "get", "jobs/" + job.name + " in namespace " + job.ns, "Job " + job.name + " is gone");
        co_return;
      }
      std::string why;
      const auto state = job_state(json_read::parse(reply.body()), why);
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
      if (state == JobState::complete) {
        out.ok = true;
        out.message = "Job " + job.name + " completed in " + std::to_string(seconds) + " s";
        co_return;
      }
      if (state == JobState::failed || std::chrono::steady_clock::now() + cfg_.cluster.poll_interval > started + cfg_.timeout) {
        const std::string headline = state == JobState::failed ? "Job " + job.name + " failed (" + why + ")"
                                                               : "Job " + job.name + " not done after " +
                                                                     std::to_string(cfg_.timeout.count() / 1000) + " s (" + why + ")";
        out.message = headline;
        co_await explain(job, headline, out);
        co_return;
      }
      timer.expires_after(cfg_.cluster.poll_interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // The Job's failed (or stuck) pod: its container's last log lines say why, in one line.
  asio::awaitable<void> explain(const ManifestObject& job, const std::string& headline, TargetOutcome& out) {
    const std::string base = "/api/v1/namespaces/" + job.ns + "/pods";
    auto pods = co_await api_.send("GET", base + "?labelSelector=" + config::percent_encode("job-name=" + job.name));
    if (pods.status() != 200) co_return;
    const auto trouble = find_trouble(json_read::parse(pods.body()));
    if (!trouble || trouble->container.empty()) co_return;
    std::string log_path = base + "/" + config::percent_encode(trouble->pod) + "/log?container=" +
                           config::percent_encode(trouble->container) + "&tailLines=20";
    if (trouble->read_previous_log) log_path += "&previous=true";
    auto log = co_await api_.send("GET", log_path);
    const auto tail = log.status() == 200 ? last_lines(log.body()) : std::vector<std::string>{};
    out.message = headline + ": " + trouble_line(*trouble, tail, {});
    out.details["diagnosis"] = trouble_details(*trouble, tail, {});
  }

  config::JobTargetConfig cfg_;
  KubeApi api_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_job_target(const config::JobTargetConfig& cfg, std::shared_ptr<http::HttpClient> http) {
  return std::make_unique<JobTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
