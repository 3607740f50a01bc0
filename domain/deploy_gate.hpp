// Whether an environment may start a deployment at a given moment: freezes and deploy windows.
// Pure function of (environment config, now): the dispatcher passes its clock's time, tests pass any.
#pragma once
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "config/config.hpp"

namespace shipgate::orchestration {

struct GateStatus {
  bool open = true;
  std::string reason;              // why it is closed, for the deployment's status
  std::optional<TimePoint> opens;  // when to look again (the freeze's end or the next window start)
};

GateStatus deploy_gate(const config::Environment& env, TimePoint now);

}  // namespace shipgate::orchestration
