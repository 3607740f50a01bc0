#include "deploy/prometheus_query.hpp"

#include <gtest/gtest.h>

using shipgate::deploy::read_prometheus_answer;

TEST(PrometheusAnswer, TheHighestValueOfAVectorOrAScalarOrWhyNot) {
  const struct {
    int status;
    const char* body;
    bool answered;
    std::optional<double> value;
    const char* error;
  } cases[] = {
      {200, R"({"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"pod":"a"},"value":[1700000000.1,"0.002"]},{"metric":{"pod":"b"},"value":[1700000000.1,"0.05"]}]}})",
       true, 0.05, ""},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[]}})", true, std::nullopt, ""},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}})", true,
       std::nullopt, ""},
      {200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"0.25"]}})", true, 0.25, ""},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]}]}})", true,
       std::numeric_limits<double>::infinity(), ""},
      {200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})", false, std::nullopt,
       "gives a matrix, not an instant vector"},
      {400, R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})", false, std::nullopt,
       "Prometheus refused the query: parse error at char 5"},
      {502, "<html>bad gateway</html>", false, std::nullopt, "HTTP 502 without JSON"},
  };
  for (const auto& c : cases) {
    const auto s = read_prometheus_answer(c.status, c.body);
    EXPECT_EQ(s.answered, c.answered) << c.body;
    EXPECT_EQ(s.value, c.value) << c.body;
    EXPECT_NE(s.error.find(c.error), std::string::npos) << c.body << ": " << s.error;
  }
}
