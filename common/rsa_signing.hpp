// RSA signatures for tokens shipgate signs itself (a GitHub App's JWT): a PEM private key read once,
// SHA-256 signatures (RSASSA-PKCS1-v1_5, "RS256"), and base64url as JWTs spell it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate {

class RsaKey {
 public:
  // The key in `pem` (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"); nothing, with `why` set, when
  // it is not an RSA private key of at least 2048 bits. The text of the key never appears in `why`.
  static std::optional<RsaKey> from_pem(std::string_view pem, std::string& why);

  // The RS256 signature of `data` (raw bytes); nothing if OpenSSL fails.
  std::optional<std::string> sign_sha256(std::string_view data) const;

 private:
  struct Key;
  explicit RsaKey(std::shared_ptr<Key> key) : key_(std::move(key)) {}
  std::shared_ptr<Key> key_;
};

// base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view in);

}  // namespace shipgate
