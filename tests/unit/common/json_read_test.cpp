// Reading JSON from outside: a member of another type is absent, never an exception.
#include "common/json_read.hpp"

#include <gtest/gtest.h>

using namespace shipgate;
namespace jr = shipgate::json_read;

TEST(JsonRead, EveryAccessorAnswersForEveryShape) {
  const auto doc = jr::parse(R"({"s":"text","i":42,"u":18446744073709551615,"f":1.5,"b":true,"n":null,
                                 "o":{"k":"v"},"a":[1,2]})");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(jr::text(doc, "s"), "text");
  EXPECT_EQ(jr::text(doc, "i", "fallback"), "fallback");
  EXPECT_EQ(jr::text(doc, "missing", "fallback"), "fallback");
  EXPECT_EQ(jr::text_if(doc, "n"), std::nullopt);
  EXPECT_EQ(jr::integer(doc, "i"), 42);
  EXPECT_EQ(jr::integer(doc, "u", -1), -1) << "beyond int64: absent";
  EXPECT_EQ(jr::integer(doc, "f", -1), -1);
  EXPECT_EQ(jr::integer(doc, "s", -1), -1);
  EXPECT_TRUE(jr::flag(doc, "b", false));
  EXPECT_TRUE(jr::flag(doc, "n", true)) << "null: the fallback";
  EXPECT_EQ(jr::object(doc, "o").size(), 1u);
  EXPECT_TRUE(jr::object(doc, "a").empty());
  EXPECT_EQ(jr::array(doc, "a").size(), 2u);
  EXPECT_TRUE(jr::array(doc, "o").empty());
  EXPECT_EQ(jr::any(doc, "n"), nullptr);
  EXPECT_EQ(jr::any(doc, "missing", true), true);
  ASSERT_NE(jr::path(doc, {"o", "k"}), nullptr);
  EXPECT_EQ(jr::path(doc, {"o", "k", "deeper"}), nullptr);
  EXPECT_EQ(jr::path(doc, {"s", "k"}), nullptr);
  // Not an object at all: every accessor still answers.
  for (const char* body : {"[1,2]", "\"x\"", "null", "7", "", "{\"truncated\":"}) {
    const auto other = jr::parse(body);
    EXPECT_EQ(jr::member(other, "s"), nullptr) << body;
    EXPECT_EQ(jr::text(other, "s", "f"), "f") << body;
    EXPECT_EQ(jr::integer(other, "i", 3), 3) << body;
    EXPECT_TRUE(jr::object(other, "o").empty()) << body;
    EXPECT_TRUE(jr::array(other, "a").empty()) << body;
  }
}
