#include "common/crypto.hpp"

// SHA-256 and HMAC-SHA256 through OpenSSL 3's supported interface (EVP_MD, EVP_MAC).
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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

namespace {

// The algorithms are fetched from OpenSSL's default provider once, the first time they are needed (a
// fetch looks them up under a lock); every call then uses a context of its own.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!m) throw std::runtime_error("OpenSSL has no HMAC");
    return m;
  }();
  return mac;
}

const EVP_MD* sha256_algorithm() {
  static const EVP_MD* const md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) throw std::runtime_error("OpenSSL has no SHA-256");
    return m;
  }();
  return md;
}

}  // namespace

void init_crypto() {
  hmac_algorithm();
  sha256_algorithm();
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &size, sha256_algorithm(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(md.data(), size);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  HmacSha256 mac(key);
  mac.update(data);
  return mac.final_hex();
}

struct HmacSha256::State {
  EVP_MAC_CTX* ctx = nullptr;
};

HmacSha256::HmacSha256(std::string_view key) : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MAC_CTX_new(hmac_algorithm());
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  // An empty key is a valid HMAC key (RFC 2104); OpenSSL wants a non-null pointer for it.
  static const unsigned char no_key = 0;
  const auto* k = key.empty() ? &no_key : reinterpret_cast<const unsigned char*>(key.data());
  if (!state_->ctx || EVP_MAC_init(state_->ctx, k, key.size(), params) != 1) throw std::runtime_error("HMAC init failed");
}

HmacSha256::~HmacSha256() { EVP_MAC_CTX_free(state_->ctx); }

void HmacSha256::update(std::string_view data) {
  if (EVP_MAC_update(state_->ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    throw std::runtime_error("HMAC update failed");
}

std::string HmacSha256::final_hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t size = 0;
  if (EVP_MAC_final(state_->ctx, out.data(), &size, out.size()) != 1) throw std::runtime_error("HMAC final failed");
  return to_hex(out.data(), size);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock writes a terminating NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
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
