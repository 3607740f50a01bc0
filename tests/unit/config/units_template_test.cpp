#include <gtest/gtest.h>

#include "config/template.hpp"
#include "config/units.hpp"

using namespace shipgate::config;
using namespace std::chrono_literals;

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("10m"), 10min);
  EXPECT_EQ(parse_duration("72h"), 72h);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("2d"), 48h);
  for (const char* bad : {"", "10", "h", "10x", "-5s", "1.5s", "10 s"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("1024"), 1024u);
  EXPECT_EQ(parse_size("25MiB"), 25u << 20);
  EXPECT_EQ(parse_size("1MB"), 1000000u);
  EXPECT_EQ(parse_size("512KiB"), 512u << 10);
  for (const char* bad : {"", "MiB", "10XB", "-1", "1.5MiB"}) EXPECT_FALSE(parse_size(bad)) << bad;
}

TEST(Template, ExpandsKnownPlaceholders) {
  TemplateVars vars = {{"sha", "abc123"}, {"version", "v1.2.0"}, {"image.backend", "ghcr.io/a/b:v1"}};
  EXPECT_EQ(expand_template("staging-{sha}", vars), "staging-abc123");
  EXPECT_EQ(expand_template("{version}/{image.backend}", vars), "v1.2.0/ghcr.io/a/b:v1");
  EXPECT_EQ(expand_template("literal {{braces}", vars), "literal {braces}");
  std::string missing;
  EXPECT_FALSE(expand_template("{nope}", vars, &missing));
  EXPECT_EQ(missing, "nope");
  // Shell syntax stays literal.
  EXPECT_EQ(expand_template("test -n \"${HOME}\" || { echo {sha}; exit 4; }", vars), "test -n \"${HOME}\" || { echo abc123; exit 4; }");
  EXPECT_EQ(expand_template("{sha", vars), "{sha");
  EXPECT_EQ(expand_template("{}", vars), "{}");
}

TEST(Template, ParseFindsOnlyNamedPlaceholders) {
  EXPECT_EQ(parse_template("{sha}-{version}-{image.backend}").names,
            (std::vector<std::string>{"sha", "version", "image.backend"}));
  EXPECT_TRUE(parse_template("{sha").names.empty());
  EXPECT_TRUE(parse_template("x{} ${HOME} { cmd; } {1abc}").names.empty());
  EXPECT_TRUE(parse_template("{{not a placeholder}").names.empty());
}

TEST(Template, ExpandsEveryStringInJson) {
  const auto doc = nlohmann::json::parse(R"({"v": "{version}", "n": 3, "list": ["{sha}", true], "{sha}": "key kept"})");
  const auto out = expand_json_template(doc, {{"version", "v2"}, {"sha", "abc"}});
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["v"], "v2");
  EXPECT_EQ((*out)["n"], 3);
  EXPECT_EQ((*out)["list"][0], "abc");
  EXPECT_EQ((*out)["list"][1], true);
  EXPECT_EQ((*out)["{sha}"], "key kept");
}
