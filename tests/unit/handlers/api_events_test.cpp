// The event stream as a plain function: the route's answer streams into a sink the test reads, on the
// test's io_context, with a real store and feed.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "orchestration/event_feed.hpp"
#include "tests/support/gate.hpp"

using namespace shipgate;
using namespace std::chrono_literals;
using shipgate::testing::Gate;
using shipgate::testing::new_deployment;

namespace {

const char* kEventsConfig = R"(
github: { secrets: [s] }
reviewers: { alice: { token: "alice-token-123456", can: [approve] } }
projects:
  planera:
    repository: acme/planera
    environments:
      staging: { targets: [ { type: http, url: "http://127.0.0.1:1/s" } ] }
)";

// Keeps what the stream wrote.
class Collected final : public http::ChunkSink {
 public:
  boost::asio::awaitable<bool> write(std::string chunk) override {
    text += chunk;
    co_return true;
  }
  bool has(std::string_view part) const { return text.find(part) != std::string::npos; }
  std::size_t count(std::string_view part) const {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
    return n;
  }
  std::string text;
};

}  // namespace

TEST(EventStream, AQuietStreamSendsKeepAliveLinesAndThenTheNextEntry) {
  Gate gate(kEventsConfig);
  gate.app.events = std::make_shared<orchestration::EventFeed>(gate.ioc.get_executor(), *gate.store, 10ms);
  gate.app.events->start();
  gate.app.events_keep_alive = 50ms;
  auto res = gate.call("GET", "/api/v1/events", nullptr, "alice-token-123456");
  ASSERT_EQ(res.status, 200);
  ASSERT_TRUE(res.stream);
  Collected sink;
  bool ended = false;
  boost::asio::co_spawn(gate.ioc, res.stream(sink), [&](std::exception_ptr) { ended = true; });

  // Nothing happens: the stream says so with a comment line (which EventSource ignores) every interval.
  ASSERT_TRUE(gate.run_until([&] { return sink.count(": keep-alive\n\n") >= 3; }, 5s)) << sink.text;
  EXPECT_TRUE(sink.text.starts_with("retry: 2000\n\n")) << sink.text;
  EXPECT_FALSE(sink.has("event:"));

  // Then something happens: its entry follows on the same stream.
  gate.ingest({new_deployment("planera", "staging", "v1.0.0")});
  ASSERT_TRUE(gate.run_until([&] { return sink.has("event: created\n"); }, 5s)) << sink.text;

  // A drain closes the feed and the stream ends.
  gate.app.events->close();
  ASSERT_TRUE(gate.run_until([&] { return ended; }, 5s));
}
