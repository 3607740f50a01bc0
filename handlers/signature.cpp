#include "handlers/signature.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"

namespace shipgate::handlers {

namespace {
constexpr std::string_view kPrefix = "sha256=";
constexpr std::size_t kHeaderLength = 7 + 64;

}  // namespace

SignatureCheck signature_shape(std::string_view header) {
  if (header.empty()) return SignatureCheck::missing;
  if (header.size() != kHeaderLength || header.substr(0, kPrefix.size()) != kPrefix ||
      !is_hex(header.substr(kPrefix.size())))
    return SignatureCheck::malformed;
  return SignatureCheck::valid;
}

std::string sign_body(std::string_view secret, std::string_view body) {
  return std::string(kPrefix) + hmac_sha256_hex(secret, body);
}

SignatureCheck verify_signature(std::string_view header, std::string_view secret, std::string_view body) {
  if (auto s = signature_shape(header); s != SignatureCheck::valid) return s;
  // GitHub sends lowercase hex; accept uppercase too without a data-dependent branch on the MAC.
  const std::string presented = to_lower(header);
  return constant_time_equal(presented, sign_body(secret, body)) ? SignatureCheck::valid : SignatureCheck::mismatch;
}

SecretsMac::SecretsMac(const std::vector<std::string_view>& secrets) {
  for (auto secret : secrets) macs_.push_back(std::make_unique<HmacSha256>(secret));
}

SecretsMac::~SecretsMac() = default;

void SecretsMac::update(std::string_view part) {
  for (auto& mac : macs_) mac->update(part);
}

int SecretsMac::first_match(std::string_view header) {
  // GitHub sends lowercase hex; accept uppercase too without a data-dependent branch on the MAC.
  const std::string presented = to_lower(header);
  int found = -1;
  for (std::size_t i = 0; i < macs_.size(); ++i)
    if (constant_time_equal(presented, std::string(kPrefix) + macs_[i]->final_hex()) && found < 0)
      found = static_cast<int>(i);
  return found;
}

int verify_any(std::string_view header, const std::vector<std::string_view>& secrets, std::string_view body,
               SignatureCheck& status) {
  status = signature_shape(header);
  if (status != SignatureCheck::valid) return -1;
  SecretsMac macs(secrets);
  macs.update(body);
  const int found = macs.first_match(header);
  status = found >= 0 ? SignatureCheck::valid : SignatureCheck::mismatch;
  return found;
}

bool slack_signature_valid(std::string_view signature, std::string_view secret, std::string_view timestamp,
                           std::string_view body) {
  HmacSha256 mac(secret);
  mac.update("v0:");
  mac.update(timestamp);
  mac.update(":");
  mac.update(body);
  return constant_time_equal(signature, "v0=" + mac.final_hex());
}

}  // namespace shipgate::handlers
