// Environment texts: only the configured keys change; every other byte stays.
#include <gtest/gtest.h>

#include "deploy/dotenv.hpp"

using namespace shipgate::deploy;

TEST(Dotenv, SetsOnlyTheKeysAndKeepsEveryOtherLine) {
  struct Case {
    const char* name;
    std::string text;
    std::map<std::string, std::optional<std::string>> values;
    std::string want;
  };
  const Case cases[] = {
      {"replaced in place", "# api\nA=1\nVERSION=v1\n\nB=x=y\n", {{"VERSION", "v2"}}, "# api\nA=1\nVERSION=v2\n\nB=x=y\n"},
      {"added at the end", "A=1\n", {{"VERSION", "v2"}}, "A=1\nVERSION=v2\n"},
      {"added after a last line without newline", "A=1", {{"VERSION", "v2"}}, "A=1\nVERSION=v2\n"},
      {"empty text", "", {{"VERSION", "v2"}, {"IMAGE", "r/i:t"}}, "IMAGE=r/i:t\nVERSION=v2\n"},
      {"every repeated line rewritten", "V=1\nX=2\nV=3\n", {{"V", "9"}}, "V=9\nX=2\nV=9\n"},
      {"comments and lookalikes untouched", "#VERSION=old\nVERSION_OLD=1\n VERSION = a\n", {{"VERSION", "b"}},
       "#VERSION=old\nVERSION_OLD=1\nVERSION=b\n"},
      {"export form", "export VERSION=v1\n", {{"VERSION", "v2"}}, "VERSION=v2\n"},
      {"CRLF lines keep their CR", "A=1\r\nVERSION=v1\r\n", {{"VERSION", "v2"}}, "A=1\r\nVERSION=v2\r\n"},
      {"a key without value is removed", "A=1\nVERSION=v1\nB=2\n", {{"VERSION", std::nullopt}}, "A=1\nB=2\n"},
      {"removing an absent key changes nothing", "A=1\n", {{"VERSION", std::nullopt}}, "A=1\n"},
      {"lines without = kept", "just text\nA=1\n", {{"A", "2"}}, "just text\nA=2\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(with_env_values(c.text, c.values), c.want) << c.name;
}

TEST(Dotenv, ReadsTheValuesAKeySetAndRoundTrips) {
  const std::string text = "# x\nVERSION=v1\nIMAGE=r/i:1\r\nVERSION=v1.1\n";
  const auto before = env_values(text, {{"VERSION", ""}, {"IMAGE", ""}, {"NEW", ""}});
  EXPECT_EQ(before.at("VERSION"), "v1.1");  // the last line wins, as dotenv readers do
  EXPECT_EQ(before.at("IMAGE"), "r/i:1");
  EXPECT_EQ(before.at("NEW"), std::nullopt);
  // Setting new values and then the old ones gives back the same settings (a rollback).
  const auto changed = with_env_values(text, {{"VERSION", "v2"}, {"NEW", "n"}});
  const auto restored = with_env_values(changed, before);
  EXPECT_EQ(env_values(restored, {{"VERSION", ""}, {"IMAGE", ""}, {"NEW", ""}}), before);
  EXPECT_EQ(restored.find("NEW="), std::string::npos);
  EXPECT_FALSE(is_env_value("a\nb"));
  EXPECT_FALSE(is_env_value(std::string("a\0b", 3)));
  EXPECT_TRUE(is_env_value("ghcr.io/acme/api@sha256:abc"));
}
