// A registry's answers (deploy/registry_client.hpp): the token service's body, the 401 challenge header,
// a tags/list page and its Link header. Input: the bytes, read as each.
#include <cstdint>
#include <string_view>

#include "deploy/registry_client.hpp"

using namespace shipgate::deploy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A token goes into an Authorization header: never empty, never with a line break or a space.
  if (const auto token = read_registry_token(bytes); token && (token->empty() || token->find_first_of("\r\n ") != std::string::npos))
    __builtin_trap();
  if (const auto challenge = parse_challenge(bytes); challenge && challenge->scheme.size() > size) __builtin_trap();
  // The next page is a path on the same registry, never another host.
  if (const auto next = next_page(bytes); next && (next->empty() || (*next)[0] != '/' || next->rfind("//", 0) == 0))
    __builtin_trap();
  if (const auto tags = read_tags(bytes))
    for (const auto& t : *tags)
      if (t.size() > 128) __builtin_trap();
  return 0;
}
