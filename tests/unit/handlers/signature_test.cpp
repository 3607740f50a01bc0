#include <gtest/gtest.h>

#include "handlers/signature.hpp"

using namespace shipgate::handlers;

namespace {
constexpr const char* kSecret = "It's a Secret to Everybody";
constexpr const char* kBody = "Hello, World!";
constexpr const char* kVector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
}  // namespace

TEST(Signature, GithubPublishedTestVector) {
  EXPECT_EQ(sign_body(kSecret, kBody), kVector);
  EXPECT_EQ(verify_signature(kVector, kSecret, kBody), SignatureCheck::valid);
}

TEST(Signature, TableOfFailures) {
  struct Case {
    const char* name;
    std::string header;
    std::string secret;
    std::string body;
    SignatureCheck want;
  };
  const std::string good = kVector;
  const Case cases[] = {
      {"wrong secret", good, "another secret", kBody, SignatureCheck::mismatch},
      {"body changed", good, kSecret, "Hello, World?", SignatureCheck::mismatch},
      {"missing", "", kSecret, kBody, SignatureCheck::missing},
      {"no prefix", good.substr(7), kSecret, kBody, SignatureCheck::malformed},
      {"sha1 prefix", "sha1=" + good.substr(7), kSecret, kBody, SignatureCheck::malformed},
      {"too short", good.substr(0, good.size() - 1), kSecret, kBody, SignatureCheck::malformed},
      {"too long", good + "0", kSecret, kBody, SignatureCheck::malformed},
      {"not hex", good.substr(0, good.size() - 1) + "z", kSecret, kBody, SignatureCheck::malformed},
      {"one digit off", good.substr(0, good.size() - 1) + "f", kSecret, kBody, SignatureCheck::mismatch},
  };
  for (const auto& c : cases) EXPECT_EQ(verify_signature(c.header, c.secret, c.body), c.want) << c.name;
}

TEST(Signature, UppercaseHexIsAccepted) {
  std::string upper = kVector;
  for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_EQ(verify_signature(upper, kSecret, kBody), SignatureCheck::valid);
}

TEST(Signature, RotationAcceptsAnyConfiguredSecret) {
  SignatureCheck status;
  const std::vector<std::string_view> secrets = {"old-secret", kSecret, "next-secret"};
  EXPECT_EQ(verify_any(kVector, secrets, kBody, status), 1);
  EXPECT_EQ(status, SignatureCheck::valid);
  const std::vector<std::string_view> others = {"old-secret", "next-secret"};
  EXPECT_EQ(verify_any(kVector, others, kBody, status), -1);
  EXPECT_EQ(status, SignatureCheck::mismatch);
  EXPECT_EQ(verify_any("", others, kBody, status), -1);
  EXPECT_EQ(status, SignatureCheck::missing);
}
