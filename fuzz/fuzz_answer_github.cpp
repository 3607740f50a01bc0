// GitHub's answers shipgate reads: a created deployment (notify/github_deployments.hpp) and an installation
// token (notify/github_app.hpp). Input: the body.
#include <cstdint>
#include <string_view>

#include "common/text.hpp"
#include "notify/github_app.hpp"
#include "notify/github_deployments.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto id = shipgate::notify::read_github_deployment_id(body); id && *id <= 0) __builtin_trap();
  // A token read from any answer is fit for an Authorization header.
  if (const auto t = shipgate::notify::read_installation_token(body); t && !shipgate::is_token(t->token, 1000))
    __builtin_trap();
  return 0;
}
