// GitHub's answer to creating a deployment (notify/github_deployments.hpp). Input: the body.
#include <cstdint>
#include <string_view>

#include "notify/github_deployments.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto id = shipgate::notify::read_github_deployment_id(body); id && *id <= 0) __builtin_trap();
  return 0;
}
