// Dokploy's answers (deploy/dokploy_answers.hpp): application.one, deployment.all, an error's message.
// Input: the answer's body.
#include <cstdint>
#include <string_view>

#include "deploy/dokploy_answers.hpp"

using namespace shipgate::deploy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto app = read_dokploy_application(body); app && app->docker_image.size() > size) __builtin_trap();
  const auto jobs = read_dokploy_jobs(body, "shipgate-deployment=7-1;");
  if (jobs.found && !jobs.listed) __builtin_trap();
  if (dokploy_error_message(body).size() > size) __builtin_trap();
  return 0;
}
