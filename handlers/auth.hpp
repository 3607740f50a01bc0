// Reviewer tokens: "Authorization: Bearer <token>", compared by SHA-256 in constant time.
#pragma once
#include "config/config.hpp"
#include "handlers/router.hpp"

namespace shipgate::handlers {

// The reviewer holding the presented token, or null with a 401 in `error`.
const config::Reviewer* authenticate(const config::Config& config, const Request& request, Response& error);

}  // namespace shipgate::handlers
