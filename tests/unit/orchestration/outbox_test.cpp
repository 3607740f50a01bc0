// The outbox on a real store with a manual clock and a scripted endpoint: an event fans out into one
// delivery per notifier that wants it, a failed delivery is tried again after a back-off that grows
// (with jitter between half and all of each step), it gives up after the notifier's max_attempts, and
// a delivery that succeeded is never sent again.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "orchestration/outbox.hpp"
#include "tests/support/gate.hpp"
#include "tests/support/scripted_http.hpp"

using namespace shipgate;
using namespace shipgate::orchestration;
using shipgate::testing::Gate;
using shipgate::testing::ScriptedHttp;

namespace {

const char* kOutboxConfig = R"(
github: { secrets: [s] }
reviewers: { alice: { token: "alice-token-123456", can: [approve] } }
notify:
  - { url: "https://hooks.example.test/all", format: json, max_attempts: 3 }
  - { url: "https://hooks.example.test/success-only", format: json, events: [succeeded] }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/backend } }
    environments:
      production:
        approval: { required: 1, reviewers: [alice] }
        targets: [ { type: http, url: "http://127.0.0.1:1/p" } ]
)";

struct OutboxUnderTest {
  explicit OutboxUnderTest(std::function<http::HttpResult(const http::OutboundRequest&)> answer)
      : http(std::make_shared<ScriptedHttp>(std::move(answer))) {
    gate.store->record_events(true);
    OutboxOptions options;
    options.first_retry = std::chrono::milliseconds(1'000);
    options.max_retry = std::chrono::milliseconds(3'000);
    outbox = std::make_shared<Outbox>(gate.ioc.get_executor(), *gate.store, [this] { return gate.config; }, http,
                                      gate.clock, nullptr, options);
    auto waiting = shipgate::testing::new_deployment("planera", "production", "v1.0.0");
    waiting.initial = State::pending_approval;  // one event, and the dispatcher leaves it alone
    gate.ingest({waiting});
  }

  // One pass of the outbox and the deliveries it started, at the clock's time; the requests it sent.
  std::size_t pass() {
    const auto before = http->requests().size();
    bool done = false;
    boost::asio::co_spawn(gate.ioc, outbox->run_once(), [&done](std::exception_ptr) { done = true; });
    EXPECT_TRUE(gate.run_until([&] { return done && outbox->in_flight() == 0; }));
    return http->requests().size() - before;
  }

  Gate gate{kOutboxConfig};
  std::shared_ptr<ScriptedHttp> http;
  std::shared_ptr<Outbox> outbox;
};

}  // namespace

TEST(Outbox, AnEventFansOutToTheNotifiersThatWantItAndASuccessIsSentOnce) {
  OutboxUnderTest t([](const http::OutboundRequest&) { return ScriptedHttp::reply(204, ""); });
  EXPECT_EQ(t.pass(), 0u) << "the first pass fans the event out";
  EXPECT_EQ(t.pass(), 1u) << "pending_approval goes to the notifier of every event, not the success-only one";
  ASSERT_EQ(t.http->requests().size(), 1u);
  EXPECT_EQ(t.http->requests()[0].url, "https://hooks.example.test/all");
  EXPECT_NE(t.http->requests()[0].body.find("\"pending_approval\""), std::string::npos);
  t.gate.clock->advance(std::chrono::hours(1));
  EXPECT_EQ(t.pass(), 0u) << "delivered once, never again";
}

TEST(Outbox, AFailedDeliveryIsRetriedAfterAGrowingBackoffThenGivenUp) {
  OutboxUnderTest t([](const http::OutboundRequest&) { return ScriptedHttp::reply(503, "busy"); });
  t.pass();
  ASSERT_EQ(t.pass(), 1u) << "attempt 1";
  // The first retry comes after half to all of first_retry (1 s).
  t.gate.clock->advance(std::chrono::milliseconds(499));
  EXPECT_EQ(t.pass(), 0u) << "not before half the first step";
  t.gate.clock->advance(std::chrono::milliseconds(501));
  ASSERT_EQ(t.pass(), 1u) << "attempt 2, within the first step";
  // The second retry: half to all of 2 s.
  t.gate.clock->advance(std::chrono::milliseconds(999));
  EXPECT_EQ(t.pass(), 0u) << "the step doubled";
  t.gate.clock->advance(std::chrono::milliseconds(1'001));
  ASSERT_EQ(t.pass(), 1u) << "attempt 3";
  t.gate.clock->advance(std::chrono::hours(1));
  EXPECT_EQ(t.pass(), 0u) << "max_attempts: 3 reached, given up";
  EXPECT_EQ(t.http->requests().size(), 3u);
}

TEST(Outbox, ADeliveryThatSucceedsOnARetryStops) {
  int calls = 0;
  OutboxUnderTest t([&calls](const http::OutboundRequest&) {
    return ++calls == 1 ? ScriptedHttp::reply(500, "oops") : ScriptedHttp::reply(200, "ok");
  });
  t.pass();
  ASSERT_EQ(t.pass(), 1u);
  t.gate.clock->advance(std::chrono::milliseconds(1'000));
  ASSERT_EQ(t.pass(), 1u) << "the retry";
  t.gate.clock->advance(std::chrono::hours(1));
  EXPECT_EQ(t.pass(), 0u) << "delivered: no more tries";
  EXPECT_EQ(calls, 2);
}
