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

// Slack's published example ("Verifying requests from Slack"): its signing secret, timestamp and
// slash-command body give exactly its signature.
TEST(Signature, SlackPublishedExampleVerifies) {
  constexpr std::string_view secret = "8f742231b10e8888abcd99yyyzzz85a5";
  constexpr std::string_view timestamp = "1531420618";
  constexpr std::string_view body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
      "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
      "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
      "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
  constexpr std::string_view signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
  EXPECT_TRUE(slack_signature_valid(signature, secret, timestamp, body));
  EXPECT_FALSE(slack_signature_valid(signature, secret, "1531420619", body));
  EXPECT_FALSE(slack_signature_valid(signature, "another-secret", timestamp, body));
  std::string changed(body);
  changed.back() = 'd';
  EXPECT_FALSE(slack_signature_valid(signature, secret, timestamp, changed));
  EXPECT_FALSE(slack_signature_valid("", secret, timestamp, body));
}
