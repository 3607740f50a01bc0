// Hashing primitives used for webhook signatures and token storage.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate {

// Fetches the algorithms below from OpenSSL once; call at start-up (the first use would otherwise).
// Throws when OpenSSL lacks them.
void init_crypto();

// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// HMAC-SHA256 fed in parts, so a large body can be verified a slice at a time between other work.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  void update(std::string_view data);
  std::string final_hex();  // once

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// Standard base64 with padding.
std::string base64_encode(std::string_view in);

// Standard base64 (with padding, whitespace ignored); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view in);

// Random bytes from the kernel's CSPRNG, as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace shipgate
