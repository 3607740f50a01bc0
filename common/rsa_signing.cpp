#include "common/rsa_signing.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/crypto.hpp"

namespace shipgate {

struct RsaKey::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

std::optional<RsaKey> RsaKey::from_pem(std::string_view pem, std::string& why) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return why = "out of memory", std::nullopt;
  auto key = std::make_shared<Key>();
  // A null passphrase callback with no user data: an encrypted key is refused, never prompted for.
  key->pkey = PEM_read_bio_PrivateKey(bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  BIO_free(bio);
  if (!key->pkey) return why = "is not a PEM private key (or it is encrypted)", std::nullopt;
  if (EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA) return why = "is not an RSA key", std::nullopt;
  if (EVP_PKEY_get_bits(key->pkey) < 2048) return why = "is an RSA key shorter than 2048 bits", std::nullopt;
  return RsaKey(std::move(key));
}

std::optional<std::string> RsaKey::sign_sha256(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return std::nullopt;
  std::optional<std::string> out;
  std::size_t size = 0;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
      signature.resize(size);
      out = std::move(signature);
    }
  }
  EVP_MD_CTX_free(ctx);
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out = base64_encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

}  // namespace shipgate
