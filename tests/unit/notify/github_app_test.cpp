// A GitHub App's JWT as GitHub checks it, and GitHub's installation-token answer read without trusting
// its shape.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "notify/github_app.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

namespace {

std::string base64url_to_text(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  return base64_decode(s).value_or("");
}

}  // namespace

TEST(GithubAppJwt, ClaimsAreBackdatedAMinuteLiveNineAndNameTheApp) {
  TempDir dir;
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("app.pem"), "2048"}).status, 0);
  std::string why;
  config::GithubAppConfig app;
  app.app_id = "31337";
  app.key = RsaKey::from_pem(read_text_file(dir.file("app.pem")), why);
  ASSERT_TRUE(app.key) << why;
  const auto jwt = notify::github_app_jwt(app, 1'800'000'000);
  ASSERT_TRUE(jwt);
  const auto dot1 = jwt->find('.'), dot2 = jwt->rfind('.');
  const auto header = nlohmann::json::parse(base64url_to_text(jwt->substr(0, dot1)));
  const auto claims = nlohmann::json::parse(base64url_to_text(jwt->substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header, (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}}));
  EXPECT_EQ(claims, (nlohmann::json{{"iat", 1'799'999'940}, {"exp", 1'800'000'540}, {"iss", "31337"}}));
  EXPECT_EQ(jwt->find('='), std::string::npos);
  EXPECT_EQ(base64url_to_text(jwt->substr(dot2 + 1)).size(), 256u);  // a 2048-bit RSA signature

  // A short key, an encrypted one and a certificate are refused, and their text is never in the reason.
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-out", dir.file("short.pem"), "1024"}).status, 0);
  EXPECT_FALSE(RsaKey::from_pem(read_text_file(dir.file("short.pem")), why));
  EXPECT_EQ(why, "is an RSA key shorter than 2048 bits");
  ASSERT_EQ(run_command({"/usr/bin/openssl", "genrsa", "-aes256", "-passout", "pass:x", "-out", dir.file("locked.pem"), "2048"}).status, 0);
  EXPECT_FALSE(RsaKey::from_pem(read_text_file(dir.file("locked.pem")), why));
  EXPECT_EQ(why, "is not a PEM private key (or it is encrypted)");
}

TEST(GithubAppJwt, AnInstallationTokenAnswerOfAnyShapeIsReadOrRefused) {
  const auto good = notify::read_installation_token(R"({"token":"ghs_abc","expires_at":"2026-12-07T23:00:00Z"})");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->token, "ghs_abc");
  EXPECT_EQ(good->expires_ms, 1796684400000);
  for (const char* bad : {"", "[]", "null", R"({"token":"ghs_abc"})", R"({"token":42,"expires_at":"2026-12-07T23:00:00Z"})",
                          R"({"token":"gh s","expires_at":"2026-12-07T23:00:00Z"})", R"({"token":"t","expires_at":"tomorrow"})",
                          R"({"token":"a\r\nX-Injected: 1","expires_at":"2026-12-07T23:00:00Z"})"})
    EXPECT_FALSE(notify::read_installation_token(bad)) << bad;
}

}  // namespace shipgate::testing
