// Hashing primitives used for webhook signatures and token storage.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace shipgate {

// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// Standard base64 (with padding, whitespace ignored); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view in);

// Random bytes from the kernel's CSPRNG, as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace shipgate
