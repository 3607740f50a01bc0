// Why a Deployment's rollout failed, read from the API objects of its new pods: which container is stuck
// or crashed and why (a waiting reason such as ImagePullBackOff or CrashLoopBackOff, a last termination
// such as OOMKilled or an exit code), the tail of its log and the pods' Warning events. Pure: every
// input is the JSON the API server answered, read by code that cannot throw on its shape.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::deploy {

// What kind of trouble a container is in, most telling first (the order find_trouble prefers).
enum class TroubleKind { waiting, terminated, unschedulable };

struct ContainerTrouble {
  TroubleKind kind = TroubleKind::waiting;
  std::string pod;
  std::string container;  // empty for a pod that was never scheduled
  std::string reason;     // CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error, Unschedulable, ...
  std::string message;    // the kubelet's or scheduler's message, control characters escaped, cut short
  std::optional<std::int64_t> exit_code;  // of the container's last (or current) termination
  // The log worth reading is the previous container's (it crashed and was restarted).
  bool read_previous_log = false;
};

// The container (or unscheduled pod) of a PodList that best says why the rollout is stuck, or nullopt when
// every container is running or starting normally.
std::optional<ContainerTrouble> find_trouble(const nlohmann::json& pod_list);

// The last `n` lines of a container's log that are not blank, control characters escaped, each cut short.
std::vector<std::string> last_lines(std::string_view log, std::size_t n = 20);

// "reason: message" of the Warning events of an EventList, oldest first, at most the last `limit`.
std::vector<std::string> warning_events(const nlohmann::json& event_list, std::size_t limit = 5);

// One line for the deployment's message: "api: CrashLoopBackOff, exit 1: Error: DATABASE_URL is not set".
// The detail is the log's last line when there is a log, else the kubelet's message, else the first
// Warning event.
std::string trouble_line(const ContainerTrouble& trouble, const std::vector<std::string>& log_tail,
                         const std::vector<std::string>& warnings);

// Everything read, for the deployment's result.
nlohmann::json trouble_details(const ContainerTrouble& trouble, const std::vector<std::string>& log_tail,
                               const std::vector<std::string>& warnings);

}  // namespace shipgate::deploy
