// Reviewer tokens: "Authorization: Bearer <token>", compared by SHA-256 in constant time.
#pragma once
#include "config/config.hpp"
#include "handlers/router.hpp"

namespace shipgate::handlers {

// The reviewer whose token this is (SHA-256 compared in constant time with every reviewer's), or null.
const config::Reviewer* reviewer_with_token(const config::Config& config, std::string_view token);

// The reviewer holding the presented token, or null with a 401 in `error`.
const config::Reviewer* authenticate(const config::Config& config, const Request& request, Response& error);

}  // namespace shipgate::handlers
