#include "orchestration/error_rate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "deploy/prometheus_query.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

asio::awaitable<AnalysisOutcome> watch_error_rate(http::HttpClient& http, const config::Analysis& analysis,
                                                  const AnalysisNote& note) {
  AnalysisOutcome out;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + analysis.watch_for;
  int above_in_a_row = 0, answered = 0;
  std::optional<double> worst;
  std::string last_error;  // why the last sample had no usable answer
  for (;;) {
    const auto sample = co_await deploy::query_prometheus(http, analysis);
    json entry = {{"value", sample.value ? json(*sample.value) : json(nullptr)}};
    if (!sample.answered) entry["error"] = sample.error;
    out.samples.push_back(std::move(entry));
    if (!sample.answered) {
      last_error = sample.error;
      std::string line = "analysis: " + sample.error;
      if (note) co_await note(std::move(line));
    } else {
      ++answered;
      out.answered = true;
      if (sample.value) worst = worst ? std::max(*worst, *sample.value) : *sample.value;
      if (sample.value && *sample.value > analysis.max) {
        const std::string line = fmt::format("analysis: error ratio {:g} is above {:g}", *sample.value, analysis.max);
        if (++above_in_a_row >= 2) {
          out.message = line + " in two samples in a row (" + analysis.query + ")";
          co_return out;
        }
        std::string said = line;
        if (note) co_await note(std::move(said));
      } else {
        above_in_a_row = 0;
      }
    }
    // The last sample is taken at the end of `for`, so the whole of it is watched.
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    pause.expires_after(std::min<std::chrono::steady_clock::duration>(analysis.interval, left));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(analysis.watch_for).count();
  if (answered == 0) {
    out.message = "analysis: no answer from Prometheus in " + std::to_string(seconds) + " s" +
                  (last_error.empty() ? "" : " (" + last_error + ")");
    co_return out;
  }
  out.ok = true;
  out.message = worst ? fmt::format("error ratio at most {:g} over {} s ({} samples)", *worst, seconds, answered)
                      : fmt::format("no errors measured over {} s ({} samples, no series)", seconds, answered);
  co_return out;
}

}  // namespace shipgate::orchestration
