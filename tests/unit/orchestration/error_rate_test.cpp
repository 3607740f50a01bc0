// The analysis verdict over scripted Prometheus answers (a fake client; intervals of a millisecond).
#include "orchestration/error_rate.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "tests/support/run.hpp"

using namespace shipgate;
using shipgate::testing::run_awaitable;

namespace {

// Answers each query with the next value (nullopt: unreachable); the last one repeats.
class ScriptedPrometheus final : public http::HttpClient {
 public:
  explicit ScriptedPrometheus(std::deque<std::optional<double>> values) : values_(std::move(values)) {}
  boost::asio::awaitable<http::HttpResult> send(http::OutboundRequest request) override {
    urls.push_back(request.url);
    const auto v = values_.size() > 1 ? values_.front() : values_.back();
    if (values_.size() > 1) values_.pop_front();
    if (!v) co_return http::HttpResult(boost::system::in_place_error, make_error_code(boost::system::errc::connection_refused));
    http::OutboundResponse r;
    r.status = 200;
    r.body = R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,")" +
             std::to_string(*v) + R"("]}]}})";
    co_return r;
  }
  std::vector<std::string> urls;

 private:
  std::deque<std::optional<double>> values_;
};

config::Analysis analysis(int samples) {
  config::Analysis a;
  a.prometheus = "http://prometheus:9090/";
  a.query = "sum(rate(errors[1m])) / sum(rate(requests[1m]))";
  a.max = 0.01;
  a.interval = std::chrono::milliseconds(1);
  a.watch_for = std::chrono::milliseconds(samples - 1);
  return a;
}

orchestration::AnalysisOutcome watch(ScriptedPrometheus& client, int samples, std::vector<std::string>* notes = nullptr) {
  const auto a = analysis(samples);
  orchestration::AnalysisNote note = [notes](std::string line) -> boost::asio::awaitable<void> {
    if (notes) notes->push_back(std::move(line));
    co_return;
  };
  return run_awaitable(orchestration::watch_error_rate(client, a, note));
}

}  // namespace

TEST(ErrorRate, TwoSamplesInARowAboveMaxFailOneAloneDoesNot) {
  std::vector<std::string> notes;
  ScriptedPrometheus spiking({0.0, 0.2, 0.0, 0.005, 0.0});
  auto spike = watch(spiking, 50, &notes);
  EXPECT_TRUE(spike.ok) << spike.message;
  EXPECT_NE(spike.message.find("error ratio at most 0.2"), std::string::npos) << spike.message;
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "analysis: error ratio 0.2 is above 0.01");
  EXPECT_EQ(spiking.urls.front(),
            "http://prometheus:9090/api/v1/query?query=sum%28rate%28errors%5B1m%5D%29%29%20%2F%20sum%28rate%28requests%5B1m%5D%29%29");

  ScriptedPrometheus climbing_client({0.0, 0.02, 0.5, 0.0});
  auto climbing = watch(climbing_client, 50);
  EXPECT_FALSE(climbing.ok);
  EXPECT_EQ(climbing.message, "analysis: error ratio 0.5 is above 0.01 in two samples in a row "
                              "(sum(rate(errors[1m])) / sum(rate(requests[1m])))");
  EXPECT_EQ(climbing.samples.size(), 3u) << "it stops at the verdict";

  ScriptedPrometheus at_max_client({0.01});
  auto at_max = watch(at_max_client, 5);
  EXPECT_TRUE(at_max.ok) << "max itself passes";
}

TEST(ErrorRate, AnAnalysisThatNeverGotAnAnswerDoesNotPass) {
  std::vector<std::string> notes;
  ScriptedPrometheus silent_client({std::nullopt});
  auto silent = watch(silent_client, 3, &notes);
  EXPECT_FALSE(silent.ok);
  EXPECT_NE(silent.message.find("no answer from Prometheus"), std::string::npos) << silent.message;
  EXPECT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("Prometheus unreachable"), std::string::npos) << notes[0];
  ScriptedPrometheus flaky_client({std::nullopt, 0.0});
  auto flaky = watch(flaky_client, 50);
  EXPECT_TRUE(flaky.ok) << "one answer is enough to judge: " << flaky.message;
}
