#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/logging.hpp"

using shipgate::json_log_line;
using shipgate::LogFields;

TEST(JsonLogs, CarryTheFieldsPassedAndNeverReadThemFromTheText) {
  auto j = nlohmann::json::parse(json_log_line("2026-11-26T12:00:00.000Z", "info", "created planera/staging",
                                               LogFields{.request_id = "ab12-7", .deployment = 42}));
  EXPECT_EQ(j["request_id"], "ab12-7");
  EXPECT_EQ(j["deployment"], 42);
  EXPECT_EQ(j["msg"], "created planera/staging");
  EXPECT_EQ(j["level"], "info");
  // A message that looks like it names a request or a deployment (a version from a webhook could) is text.
  auto lookalike = nlohmann::json::parse(json_log_line("t", "info", "[forged] deployment 7 of version x"));
  EXPECT_FALSE(lookalike.contains("request_id"));
  EXPECT_FALSE(lookalike.contains("deployment"));
  EXPECT_EQ(lookalike["msg"], "[forged] deployment 7 of version x");
  auto quoted = nlohmann::json::parse(json_log_line("t", "warn", "bad \"input\"\nnext line \\ end"));
  EXPECT_EQ(quoted["msg"], "bad \"input\"\nnext line \\ end");
  EXPECT_FALSE(quoted.contains("request_id"));
  EXPECT_FALSE(quoted.contains("deployment"));
  // Bytes from a hostile request that are not UTF-8 must not break the line.
  auto binary = nlohmann::json::parse(json_log_line("t", "info", std::string("path \xff\xfe end")));
  EXPECT_NE(binary["msg"].get<std::string>().find("end"), std::string::npos);
}

TEST(Logs, FieldsReachTheFormatterOnlyForTheirOwnLine) {
  // The text format shows the request id as a prefix; the next line without fields has none.
  EXPECT_NE(shipgate::text_log_line("GET /x 200", {.request_id = "r-1"}).find(" [r-1] GET /x 200"), std::string::npos);
  EXPECT_EQ(shipgate::text_log_line("plain").find("[r-1]"), std::string::npos);
}
