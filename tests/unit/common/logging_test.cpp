#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/logging.hpp"

using shipgate::json_log_line;

TEST(JsonLogs, LiftsRequestAndDeploymentIdsAndEscapes) {
  auto j = nlohmann::json::parse(json_log_line("2026-11-26T12:00:00.000Z", "info", "[ab12-7] deployment 42 created planera/staging"));
  EXPECT_EQ(j["request_id"], "ab12-7");
  EXPECT_EQ(j["deployment"], 42);
  EXPECT_EQ(j["msg"], "deployment 42 created planera/staging");
  EXPECT_EQ(j["level"], "info");
  auto quoted = nlohmann::json::parse(json_log_line("t", "warn", "bad \"input\"\nnext line \\ end"));
  EXPECT_EQ(quoted["msg"], "bad \"input\"\nnext line \\ end");
  EXPECT_FALSE(quoted.contains("request_id"));
  EXPECT_FALSE(quoted.contains("deployment"));
  // Bytes from a hostile request that are not UTF-8 must not break the line.
  auto binary = nlohmann::json::parse(json_log_line("t", "info", std::string("path \xff\xfe end")));
  EXPECT_NE(binary["msg"].get<std::string>().find("end"), std::string::npos);
}
