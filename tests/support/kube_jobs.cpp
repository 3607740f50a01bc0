// The Kubernetes stand-in's Job controller: a Job made by an apply runs as its JobScript says, one step
// per read of the Job, with one pod whose container's log is the script's.
#include "tests/support/kube_standin.hpp"

namespace shipgate::testing {

using nlohmann::json;

namespace {

std::string job_pod_name(const std::string& job) { return job + "-x7k2p"; }

std::vector<std::string> log_lines(const std::string& log) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < log.size();) {
    const auto end = std::min(log.find('\n', at), log.size());
    lines.push_back(log.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

}  // namespace

void KubeStandin::script_jobs(const std::string& prefix, JobScript script) {
  std::lock_guard l(m_);
  job_scripts_[prefix] = script;
  for (auto& [path, run] : jobs_)
    if (path.substr(path.rfind('/') + 1).rfind(prefix, 0) == 0) run.script = script;
}

void KubeStandin::job_created(const std::string& path) {
  ++jobs_created_;
  JobRun run;
  const std::string name = path.substr(path.rfind('/') + 1);
  for (const auto& [prefix, script] : job_scripts_)
    if (name.rfind(prefix, 0) == 0) run.script = script;
  jobs_[path] = run;
}

void KubeStandin::job_read(const std::string& path, json& job) {
  auto it = jobs_.find(path);
  if (it == jobs_.end()) return;
  JobRun& run = it->second;
  auto& status = job["status"];
  if (status.contains("conditions")) return;  // ended
  if (++run.reads < run.script.reads) {
    status["active"] = 1;
    return;
  }
  status.erase("active");
  if (run.script.succeed) {
    status["succeeded"] = 1;
    status["conditions"] = json::array({{{"type", "Complete"}, {"status", "True"}}});
  } else {
    status["failed"] = 1;
    status["conditions"] = json::array({{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"},
                                         {"message", "Job has reached the specified backoff limit"}}});
  }
}

StandinReply KubeStandin::job_pods(const std::string& ns, const std::string& job) const {
  json items = json::array();
  const std::string path = "/apis/batch/v1/namespaces/" + ns + "/jobs/" + job;
  const auto it = jobs_.find(path);
  const auto obj = objects_.find(path);
  if (it != jobs_.end() && obj != objects_.end()) {
    const bool ended = obj->second["status"].contains("conditions");
    json statuses = json::array();
    for (const auto& c : obj->second["spec"]["template"]["spec"].value("containers", json::array())) {
      json state = {{"running", {{"startedAt", "2026-12-07T10:00:00Z"}}}};
      if (ended) {
        const int code = it->second.script.succeed ? 0 : it->second.script.exit_code;
        state = {{"terminated", {{"reason", code == 0 ? "Completed" : "Error"}, {"exitCode", code}}}};
      }
      statuses.push_back({{"name", c.value("name", "")}, {"ready", !ended}, {"restartCount", 0}, {"state", state}});
    }
    const std::string phase = !ended ? "Running" : it->second.script.succeed ? "Succeeded" : "Failed";
    items.push_back({{"metadata", {{"name", job_pod_name(job)}, {"labels", {{"job-name", job}}}}},
                     {"status", {{"phase", phase}, {"containerStatuses", statuses}}}});
  }
  return {200, json{{"kind", "PodList"}, {"apiVersion", "v1"}, {"items", items}}.dump()};
}

std::optional<StandinReply> KubeStandin::job_log(const std::string& ns, const std::string& pod, const std::string& query) const {
  for (const auto& [path, run] : jobs_) {
    const std::string job = path.substr(path.rfind('/') + 1);
    if (path.rfind("/apis/batch/v1/namespaces/" + ns + "/jobs/", 0) != 0 || job_pod_name(job) != pod) continue;
    const auto lines = log_lines(run.script.log);
    const std::string tail = query_value(query, "tailLines");
    const std::size_t keep = tail.empty() ? lines.size() : std::min<std::size_t>(lines.size(), std::stoul(tail));
    StandinReply reply{200, "", "text/plain"};
    for (std::size_t i = lines.size() - keep; i < lines.size(); ++i) reply.body += lines[i] + "\n";
    return reply;
  }
  return std::nullopt;
}

}  // namespace shipgate::testing
