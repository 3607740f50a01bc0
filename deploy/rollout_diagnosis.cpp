#include "deploy/rollout_diagnosis.hpp"

#include <array>

#include "common/json_read.hpp"
#include "common/text.hpp"

namespace shipgate::deploy {

using nlohmann::json;

namespace {

constexpr std::size_t kMessageLimit = 300;

// Waiting reasons that mean the container will not start by itself.
constexpr std::array kStuckReasons = {"CrashLoopBackOff",          "ImagePullBackOff", "ErrImagePull",
                                      "CreateContainerConfigError", "CreateContainerError", "InvalidImageName",
                                      "RunContainerError"};
// Waiting reasons of a container on its way up.
constexpr std::array kStartingReasons = {"ContainerCreating", "PodInitializing"};

template <class List>
bool listed(const List& list, std::string_view reason) {
  for (std::string_view r : list)
    if (r == reason) return true;
  return false;
}

std::string cut(std::string_view text) {
  return escape_control(text.substr(0, kMessageLimit));
}

// Lower is more telling; nullopt when this container is fine.
struct Candidate {
  int rank = 0;
  ContainerTrouble trouble;
};

std::optional<Candidate> judge_container(const std::string& pod, const json& status) {
  ContainerTrouble t;
  t.pod = pod;
  t.container = cut(json_read::text(status, "name"));
  const json& state = json_read::object(status, "state");
  const json& last = json_read::object(json_read::object(status, "lastState"), "terminated");
  if (!last.empty()) t.exit_code = json_read::integer(last, "exitCode");
  const json& waiting = json_read::object(state, "waiting");
  const json& terminated = json_read::object(state, "terminated");
  const std::string waiting_reason = json_read::text(waiting, "reason");
  if (!waiting_reason.empty() && !listed(kStartingReasons, waiting_reason)) {
    t.kind = TroubleKind::waiting;
    t.reason = cut(waiting_reason);
    t.message = cut(json_read::text(waiting, "message"));
    t.read_previous_log = !last.empty();
    if (json_read::text(last, "reason") == "OOMKilled") t.reason += ", OOMKilled";
    return Candidate{listed(kStuckReasons, waiting_reason) ? 0 : 2, std::move(t)};
  }
  if (!terminated.empty() && json_read::integer(terminated, "exitCode") != 0) {
    t.kind = TroubleKind::terminated;
    t.reason = cut(json_read::text(terminated, "reason", "Error"));
    t.message = cut(json_read::text(terminated, "message"));
    t.exit_code = json_read::integer(terminated, "exitCode");
    return Candidate{1, std::move(t)};
  }
  if (!last.empty() && !json_read::flag(status, "ready", false)) {
    // Running again after a crash, and not ready yet: the crash is the news.
    t.kind = TroubleKind::terminated;
    t.reason = cut(json_read::text(last, "reason", "Error"));
    t.message = cut(json_read::text(last, "message"));
    t.read_previous_log = true;
    return Candidate{3, std::move(t)};
  }
  return std::nullopt;
}

std::optional<Candidate> judge_scheduling(const std::string& pod, const json& status) {
  for (const auto& c : json_read::array(status, "conditions"))
    if (json_read::text(c, "type") == "PodScheduled" && json_read::text(c, "status") == "False") {
      ContainerTrouble t;
      t.kind = TroubleKind::unschedulable;
      t.pod = pod;
      t.reason = cut(json_read::text(c, "reason", "Unschedulable"));
      t.message = cut(json_read::text(c, "message"));
      return Candidate{4, std::move(t)};
    }
  return std::nullopt;
}

}  // namespace

std::optional<ContainerTrouble> find_trouble(const json& pod_list) {
  std::optional<Candidate> best;
  auto consider = [&best](std::optional<Candidate> c) {
    if (c && (!best || c->rank < best->rank)) best = std::move(c);
  };
  for (const auto& pod : json_read::array(pod_list, "items")) {
    const std::string name = cut(json_read::text(json_read::object(pod, "metadata"), "name"));
    const json& status = json_read::object(pod, "status");
    for (const char* list : {"initContainerStatuses", "containerStatuses"})
      for (const auto& container : json_read::array(status, list)) consider(judge_container(name, container));
    consider(judge_scheduling(name, status));
  }
  if (!best) return std::nullopt;
  return std::move(best->trouble);
}

std::vector<std::string> last_lines(std::string_view log, std::size_t n) {
  std::vector<std::string> lines;
  std::size_t end = log.size();
  while (end > 0 && lines.size() < n) {
    const auto start = log.rfind('\n', end - 1);
    const std::size_t from = start == std::string_view::npos ? 0 : start + 1;
    const std::string_view line = trim(log.substr(from, end - from));
    if (!line.empty()) lines.insert(lines.begin(), cut(line));
    if (start == std::string_view::npos) break;
    end = start;
  }
  return lines;
}

std::vector<std::string> warning_events(const json& event_list, std::size_t limit) {
  std::vector<std::string> out;
  for (const auto& e : json_read::array(event_list, "items")) {
    if (json_read::text(e, "type") != "Warning") continue;
    out.push_back(cut(json_read::text(e, "reason") + ": " + json_read::text(e, "message")));
  }
  if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

std::string trouble_line(const ContainerTrouble& t, const std::vector<std::string>& log_tail,
                         const std::vector<std::string>& warnings) {
  std::string line = t.container.empty() ? "pod " + t.pod : t.container;
  line += ": " + t.reason;
  if (t.exit_code) line += ", exit " + std::to_string(*t.exit_code);
  std::string detail;
  if (!log_tail.empty()) detail = log_tail.back();
  else if (!t.message.empty()) detail = t.message;
  else if (!warnings.empty()) detail = warnings.front();
  if (!detail.empty()) line += ": " + detail;
  return line;
}

json trouble_details(const ContainerTrouble& t, const std::vector<std::string>& log_tail,
                     const std::vector<std::string>& warnings) {
  json d = {{"pod", t.pod}, {"reason", t.reason}, {"log", log_tail}, {"warnings", warnings}};
  if (!t.container.empty()) d["container"] = t.container;
  if (!t.message.empty()) d["message"] = t.message;
  if (t.exit_code) d["exit_code"] = *t.exit_code;
  if (t.read_previous_log) d["log_of"] = "previous container";
  return d;
}

}  // namespace shipgate::deploy
