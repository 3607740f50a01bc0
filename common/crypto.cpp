#include "common/crypto.hpp"

// SHA-256 through OpenSSL's block-level interface (SHA256_Init/Update/Final: deprecated since 3.0 but
// kept, with the same SHA-NI/AVX2 code underneath). The EVP interface would initialise OpenSSL's
// provider machinery on the first digest: 2.3 MiB more resident memory for an idle daemon whose only
// other use of OpenSSL is outbound TLS, plus a method lookup under a lock on every call. HMAC (RFC 2104)
// is composed here from that hash, and held to OpenSSL's own HMAC by the unit tests. (The precompiled
// header has already included OpenSSL, so the deprecation warnings are silenced with a pragma.)
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace shipgate {
namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
namespace {

using Block = std::array<unsigned char, SHA256_CBLOCK>;

// SHA-256 of an optional leading block, then data. Not OpenSSL's one-shot SHA256(): in 3.0 it goes
// through EVP.
void sha256(const Block* lead, std::string_view data, unsigned char* md) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  if (lead) SHA256_Update(&ctx, lead->data(), lead->size());
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(md, &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);  // it held the key's pad
}

// HMAC's inner or outer key block: K0 XOR the pad byte.
Block xor_pad(const Block& k0, unsigned char pad) {
  Block out;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = k0[i] ^ pad;
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
  sha256(nullptr, data, md.data());
  return to_hex(md.data(), md.size());
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  HmacSha256 mac(key);
  mac.update(data);
  return mac.final_hex();
}

// The inner hash runs over the data as it comes; the outer pad waits for the final step.
struct HmacSha256::State {
  SHA256_CTX inner;
  Block opad;
};

HmacSha256::HmacSha256(std::string_view key) : state_(std::make_unique<State>()) {
  // K0: the key zero-padded to the block size, or its digest when longer than a block.
  Block k0{};
  if (key.size() > k0.size())
    sha256(nullptr, key, k0.data());
  else if (!key.empty())
    std::memcpy(k0.data(), key.data(), key.size());
  Block ipad = xor_pad(k0, 0x36);
  state_->opad = xor_pad(k0, 0x5c);
  SHA256_Init(&state_->inner);
  SHA256_Update(&state_->inner, ipad.data(), ipad.size());
  for (Block* b : {&k0, &ipad}) OPENSSL_cleanse(b->data(), b->size());
}

HmacSha256::~HmacSha256() { OPENSSL_cleanse(state_.get(), sizeof(State)); }

void HmacSha256::update(std::string_view data) { SHA256_Update(&state_->inner, data.data(), data.size()); }

std::string HmacSha256::final_hex() {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> inner{}, outer{};
  SHA256_Final(inner.data(), &state_->inner);
  sha256(&state_->opad, std::string_view(reinterpret_cast<const char*>(inner.data()), inner.size()), outer.data());
  return to_hex(outer.data(), outer.size());
}
#pragma GCC diagnostic pop

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string clean;
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = 0;
  while (pad < 2 && pad < clean.size() && clean[clean.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// The kernel's CSPRNG (getrandom(2)): OpenSSL's RAND_bytes would set up its DRBG and providers for
// the few ids this makes.
std::string random_hex(std::size_t bytes) {
  std::string buf(bytes, '\0');
  std::size_t filled = 0;
  while (filled < bytes) {
    const ssize_t n = getrandom(buf.data() + filled, bytes - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    filled += static_cast<std::size_t>(n);
  }
  return to_hex(reinterpret_cast<const unsigned char*>(buf.data()), bytes);
}

}  // namespace shipgate
