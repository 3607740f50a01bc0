#include <gtest/gtest.h>

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
}

TEST(TimeFormat, Rfc3339Milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(0), "");
}
