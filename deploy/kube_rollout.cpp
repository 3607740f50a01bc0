#include "deploy/kube_rollout.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "common/json_read.hpp"
#include "deploy/kube_diagnose.hpp"
#include "deploy/rollout_rules.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string resource_of(const WorkloadRef& w, const std::string& ns) {
  std::string plural = w.kind;
  for (auto& c : plural) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return plural + "s/" + w.name + " in namespace " + ns;
}

// A failed or stuck rollout: the message says why in one line, read from its new pods, and the result
// keeps what was read. When nothing can be read (or it is no Deployment) the message stays as it was.
asio::awaitable<void> explain(KubeApi& api, const WorkloadRef& w, const json& object, const std::string& headline,
                              const std::string& why, TargetOutcome& out) {
  if (w.kind != "Deployment") co_return;
  const KubeGet get = [&api](std::string path) { return api.get(std::move(path)); };
  auto report = co_await diagnose_rollout(get, api.config().namespace_, object);
  if (!report) co_return;
  out.message = headline + ": " + report->line;
  report->details["rollout"] = why;
  out.details["diagnosis"] = std::move(report->details);
}

}  // namespace

asio::awaitable<bool> await_rollouts(KubeApi& api, std::vector<WorkloadRef> workloads, TargetOutcome& out) {
  const auto& cfg = api.config();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + cfg.rollout_timeout;
  std::map<std::size_t, std::string> waiting;  // index -> why it is not done
  std::map<std::size_t, json> last_seen;       // index -> the object as last read
  for (std::size_t i = 0; i < workloads.size(); ++i) waiting[i] = "not observed yet";
  for (;;) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      const auto& w = workloads[it->first];
      auto reply = co_await api.send("GET", w.path);
      if (reply.status() != 200) {
        out.message = kube_refusal(reply, "get", resource_of(w, cfg.namespace_), w.kind + " " + w.name + " not found in namespace " + cfg.namespace_);
        co_return false;
      }
      std::string why;
      last_seen[it->first] = json_read::parse(reply.body());
      const auto state = workload_rollout_state(w.kind, last_seen[it->first], why);
      if (state == RolloutState::failed) {
        const std::string headline = "rollout of " + w.kind + " " + w.name + " failed";
        out.message = headline + ": " + why;
        co_await explain(api, w, last_seen[it->first], headline, why, out);
        co_return false;
      }
      if (state == RolloutState::complete) {
        out.details["rollouts"][w.name] = "complete";
        it = waiting.erase(it);
      } else {
        it->second = why;
        ++it;
      }
    }
    if (waiting.empty()) co_return true;
    if (std::chrono::steady_clock::now() + cfg.poll_interval > deadline) {
      const auto& [index, why] = *waiting.begin();
      const auto& w = workloads[index];
      const std::string headline = "rollout of " + w.kind + " " + w.name + " not done after " +
                                   std::to_string(cfg.rollout_timeout.count() / 1000) + " s";
      out.message = headline + " (" + why + ")";
      co_await explain(api, w, last_seen[index], headline, why, out);
      co_return false;
    }
    timer.expires_after(cfg.poll_interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace shipgate::deploy
