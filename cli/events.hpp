// Following the daemon's event stream (GET /api/v1/events, Server-Sent Events) from the command line:
// `shipgate watch [ID]` and `shipgate deploy ... --wait`.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace shipgate::cli {

struct FollowOptions {
  std::string url;    // the daemon's base URL
  std::string token;
  std::int64_t deployment = 0;  // 0: every event the token may see
  std::int64_t after = 0;       // resume after this event id (0: from now)
  bool until_finished = false;  // stop when `deployment` reaches a final state
  bool json = false;            // print each event's JSON as it came
  std::chrono::seconds timeout{std::chrono::hours(24 * 365)};
};

// Prints events as they arrive, reconnecting (with Last-Event-ID) when the stream ends. With
// until_finished: 0 when the deployment succeeded, 1 for any other final state, the stream failing for
// good or the timeout passing.
int follow_events(const FollowOptions& options);

// Whether a deployment state name is final (succeeded, failed, rolled_back, ...).
bool is_final_state(const std::string& state);

}  // namespace shipgate::cli
