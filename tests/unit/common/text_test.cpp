#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"

using namespace shipgate;

TEST(Glob, Table) {
  struct Case { const char* pattern; const char* text; bool want; };
  const Case cases[] = {
      {"v*", "v1.2.3", true},         {"v*", "release-1", false},
      {"configs/planera/**", "configs/planera/app.yaml", true},
      {"configs/planera/**", "configs/planera/deep/x.yaml", true},
      {"configs/planera/**", "configs/other/app.yaml", false},
      {"configs/*/app.yaml", "configs/planera/app.yaml", true},
      {"configs/*/app.yaml", "configs/a/b/app.yaml", false},
      {"a/**/b", "a/b", true},          {"a/**/b", "a/x/y/b", true},
      {"v?.*", "v1.0", true},          {"v?.*", "v10.0", false},
      {"", "", true},                  {"exact", "exact", true},
  };
  for (const auto& c : cases) EXPECT_EQ(glob_match(c.pattern, c.text), c.want) << c.pattern << " ~ " << c.text;
}

TEST(FormDecode, DecodesAndRejectsBadEscapes) {
  std::string out;
  EXPECT_TRUE(form_decode("a+b%7B%22x%22%3A1%7D", out));
  EXPECT_EQ(out, "a b{\"x\":1}");
  EXPECT_FALSE(form_decode("%zz", out));
  EXPECT_FALSE(form_decode("abc%4", out));
  EXPECT_FALSE(form_decode("abc%", out));
  std::string v;
  EXPECT_TRUE(form_field("x=1&payload=%7B%7D&y=2", "payload", v));
  EXPECT_EQ(v, "{}");
  EXPECT_FALSE(form_field("x=1", "payload", v));
}

TEST(Crypto, Sha256AndConstantTimeEqual) {
  EXPECT_EQ(sha256_hex("test"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_EQ(random_hex(8).size(), 16u);
  EXPECT_NE(random_hex(8), random_hex(8));
  EXPECT_EQ(random_hex(600).size(), 1200u);  // more than one getrandom call may be needed
}

// RFC 4231's HMAC-SHA-256 test cases 1, 2 and 6 (a key longer than the block size is hashed first).
TEST(Crypto, HmacSha256Rfc4231) {
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// The hash and the HMAC (fed whole or in parts) must agree with OpenSSL's one-shot EVP digest and HMAC for
// every key length around the block size and message lengths around its edges.
TEST(Crypto, AgreesWithOpenSslEvp) {
  const auto hex = [](const unsigned char* md, unsigned int n) {
    std::string out;
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
  };
  std::string bytes;
  for (int i = 0; i < 400; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (std::size_t key_len : {0u, 1u, 31u, 63u, 64u, 65u, 128u, 200u}) {
    const std::string key = bytes.substr(100, key_len);
    for (std::size_t len = 0; len <= 300; len += (len < 130 ? 1 : 17)) {
      const std::string data = bytes.substr(0, len);
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), md, &n);
      ASSERT_EQ(hmac_sha256_hex(key, data), hex(md, n)) << "key " << key_len << " data " << len;
      EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
      ASSERT_EQ(sha256_hex(data), hex(md, n)) << "data " << len;
    }
  }
}

TEST(TimeFormat, Rfc3339Milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(0), "");
}

TEST(Text, PercentEncodeKeepsOnlyUnreservedOctets) {
  EXPECT_EQ(shipgate::percent_encode("a-b.c_d~e"), "a-b.c_d~e");
  EXPECT_EQ(shipgate::percent_encode("x y/z?&=\xff"), "x%20y%2Fz%3F%26%3D%FF");
  std::string back;
  ASSERT_TRUE(shipgate::form_decode(shipgate::percent_encode("{\"a\": [1, \"b+c\"]}"), back));
  EXPECT_EQ(back, "{\"a\": [1, \"b+c\"]}");
}
