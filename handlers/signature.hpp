// GitHub's X-Hub-Signature-256: "sha256=" + lowercase hex HMAC-SHA256(secret, raw body).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shipgate {
class HmacSha256;
}

namespace shipgate::handlers {

enum class SignatureCheck { valid, missing, malformed, mismatch };

// Whether the header has the right form ("sha256=" + 64 hex digits): valid, missing or malformed.
SignatureCheck signature_shape(std::string_view header);

// Checks one header value against one secret, in constant time for a well-formed header.
SignatureCheck verify_signature(std::string_view header, std::string_view secret, std::string_view body);

// The HMACs of one body under several secrets (rotation), fed a part at a time so a large body can be
// hashed between other work.
class SecretsMac {
 public:
  explicit SecretsMac(const std::vector<std::string_view>& secrets);
  ~SecretsMac();
  void update(std::string_view part);
  // After the last part: the index of the first secret whose MAC `header` (of valid shape) presents, or
  // -1. Every secret is compared, so timing does not reveal which matched.
  int first_match(std::string_view header);

 private:
  std::vector<std::unique_ptr<HmacSha256>> macs_;
};

// Checks against several secrets (rotation). Returns the index of the first secret that verifies,
// or -1; `status` says why it failed. Every secret is tried, so timing does not reveal which matched.
int verify_any(std::string_view header, const std::vector<std::string_view>& secrets, std::string_view body,
               SignatureCheck& status);

std::string sign_body(std::string_view secret, std::string_view body);  // "sha256=..."

// Slack's request signature: X-Slack-Signature = "v0=" + hex HMAC-SHA256(signing secret,
// "v0:" + X-Slack-Request-Timestamp + ":" + raw body), compared in constant time.
bool slack_signature_valid(std::string_view signature, std::string_view secret, std::string_view timestamp,
                           std::string_view body);

}  // namespace shipgate::handlers
