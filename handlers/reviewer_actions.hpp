// What a reviewer may do with a deployment, and why not, in words the page shows beside its buttons
// ("you triggered this version", "needs the 'approve' permission"). The same rules as the actions
// themselves, which check them again when asked.
#pragma once
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "domain/deployment.hpp"

namespace shipgate::handlers {

// {"approve": {"allowed": bool, "why"?: text}, "reject", "cancel", "rollback", "deploy", "override",
//  "confirm"?: the environment's typed confirmation phrase}
nlohmann::json reviewer_actions(const config::Config& config, const config::Reviewer& reviewer,
                                const orchestration::Deployment& d);

}  // namespace shipgate::handlers
