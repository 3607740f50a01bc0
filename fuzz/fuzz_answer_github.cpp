// GitHub's answers shipgate reads: a created deployment (notify/github_deployments.hpp), an installation
// token (notify/github_app.hpp), a commit's pull requests and a page of comments (notify/github_pull_comment.hpp).
// Input: the body.
#include <cstdint>
#include <string_view>

#include "common/text.hpp"
#include "notify/github_app.hpp"
#include "notify/github_deployments.hpp"
#include "notify/github_pull_comment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto id = shipgate::notify::read_github_deployment_id(body); id && *id <= 0) __builtin_trap();
  // A token read from any answer is fit for an Authorization header.
  if (const auto t = shipgate::notify::read_installation_token(body); t && !shipgate::is_token(t->token, 1000))
    __builtin_trap();
  if (const auto n = shipgate::notify::read_merged_pull(body, "6113728f27ae82c7b1a177c8d03f9e96e0adf246"); n && *n <= 0)
    __builtin_trap();
  if (const auto c = shipgate::notify::find_marked_comment(body, "<!-- shipgate:planera -->"); c && c->first <= 0)
    __builtin_trap();
  return 0;
}
