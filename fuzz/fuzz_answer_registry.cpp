// A registry's answers (deploy/registry_client.hpp): the token service's body and the 401 challenge
// header. Input: the bytes, read as both.
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
  return 0;
}
