// The X-Hub-Signature-256 header parser and verifier. Input: header bytes, a 0 byte, body bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "handlers/signature.hpp"

using namespace shipgate::handlers;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const auto split = all.find('\0');
  const std::string_view header = all.substr(0, split);
  const std::string_view body = split == std::string_view::npos ? std::string_view() : all.substr(split + 1);
  const auto shape = signature_shape(header);
  const auto check = verify_signature(header, "fuzz-secret", body);
  // A header that verifies is well formed; a valid signature of the body always verifies.
  if (check == SignatureCheck::valid && shape != SignatureCheck::valid) __builtin_trap();
  if (verify_signature(sign_body("fuzz-secret", body), "fuzz-secret", body) != SignatureCheck::valid) __builtin_trap();
  SignatureCheck status;
  const int index = verify_any(header, {"a", "fuzz-secret", "b"}, body, status);
  if ((index == 1) != (check == SignatureCheck::valid)) __builtin_trap();
  return 0;
}
