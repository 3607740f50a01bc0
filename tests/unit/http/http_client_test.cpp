// The outbound client against real local servers: retries, timeouts, TLS verification.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http/http_client.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/http.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/run.hpp"

using namespace shipgate;
using namespace shipgate::http;
using shipgate::testing::run_awaitable;
using shipgate::testing::StandinReply;

namespace {
OutboundRequest get(const std::string& url) {
  OutboundRequest r;
  r.url = url;
  r.timeout = std::chrono::seconds(5);
  return r;
}
const RetryPolicy kFast{4, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
}  // namespace

TEST(HttpClient, SendsHeadersAndBody) {
  shipgate::testing::StandinServer server([](const shipgate::testing::RecordedRequest& r) {
    return StandinReply{201, nlohmann::json{{"echo", r.body}, {"h", r.header("X-Test")}}.dump()};
  });
  auto req = get(server.url() + "/path?q=1");
  req.method = "POST";
  req.body = "hello";
  req.headers = {{"X-Test", "yes"}};
  auto res = run_awaitable(make_beast_http_client()->send(req));
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(nlohmann::json::parse(res->body)["echo"], "hello");
  EXPECT_EQ(nlohmann::json::parse(res->body)["h"], "yes");
  EXPECT_EQ(server.requests().at(0).target, "/path?q=1");
}

TEST(HttpClient, RefusesHeadersThatCouldEndTheHeaderOrStartAnother) {
  shipgate::testing::StandinServer server([](const shipgate::testing::RecordedRequest&) { return StandinReply{200, "{}"}; });
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"X-Version", "v9\r\nX-Injected: yes"}, {"X-Version", "v9\nX"}, {"X-Version", std::string("a\0b", 3)},
           {"X-Bad Name", "v"}, {"X-Bad:Name", "v"}, {"", "v"}}) {
    auto req = get(server.url() + "/x");
    req.headers = {{name, value}};
    auto res = run_awaitable(make_beast_http_client()->send(req));
    ASSERT_FALSE(res) << name;
    EXPECT_NE(describe_failure(res).find("CR, LF or NUL"), std::string::npos);
  }
  EXPECT_TRUE(server.requests().empty());  // nothing reached the wire
  auto ok = get(server.url() + "/x");
  ok.headers = {{"X-Version", "v1.2.0\tfine"}};
  EXPECT_TRUE(run_awaitable(make_beast_http_client()->send(ok)));
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
  std::atomic<int> calls{0};
  shipgate::testing::StandinServer server([&](const shipgate::testing::RecordedRequest&) {
    return ++calls < 3 ? StandinReply{503, "busy"} : StandinReply{200, "ok"};
  });
  auto res = run_awaitable(make_retrying_http_client(make_beast_http_client(), kFast)->send(get(server.url())));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(calls.load(), 3);
}

TEST(HttpClient, NeverRetriesClientErrors) {
  std::atomic<int> calls{0};
  shipgate::testing::StandinServer server([&](const shipgate::testing::RecordedRequest&) {
    ++calls;
    return StandinReply{404, "{}"};
  });
  auto res = run_awaitable(make_retrying_http_client(make_beast_http_client(), kFast)->send(get(server.url())));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpClient, GivesUpAfterAttemptsOnConnectionErrors) {
  std::uint16_t port;
  {
    shipgate::testing::StandinServer closed([](const shipgate::testing::RecordedRequest&) { return StandinReply{}; });
    port = closed.port();
  }
  auto res = run_awaitable(make_retrying_http_client(make_beast_http_client(), kFast)
                               ->send(get("http://127.0.0.1:" + std::to_string(port) + "/")));
  EXPECT_FALSE(res);
}

TEST(HttpClient, TotalTimeoutBoundsASilentServer) {
  // A listener that accepts and never answers.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto req = get("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/");
  req.timeout = std::chrono::milliseconds(300);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = run_awaitable(make_beast_http_client()->send(req));
  EXPECT_FALSE(res);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(HttpClient, RejectsUnsupportedSchemes) {
  auto res = run_awaitable(make_beast_http_client()->send(get("ftp://127.0.0.1/x")));
  EXPECT_FALSE(res);
}

// TLS: a CA and a server certificate for 127.0.0.1 made at test time.
class HttpsClient : public ::testing::Test {
 protected:
  shipgate::testing::TempDir dir;
  shipgate::testing::TestPki pki = shipgate::testing::make_test_pki(dir.path());
};

TEST_F(HttpsClient, VerifiesTheCertificateAgainstTheConfiguredCa) {
  shipgate::testing::StandinServer server([](const shipgate::testing::RecordedRequest&) { return StandinReply{200, "secure"}; }, 0,
                                pki.server_cert_file, pki.server_key_file);
  auto req = get(server.url() + "/");
  req.ca_file = pki.ca_pem_file;
  auto ok = run_awaitable(make_beast_http_client()->send(req));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->body, "secure");

  auto untrusted = run_awaitable(make_beast_http_client()->send(get(server.url() + "/")));
  EXPECT_FALSE(untrusted);  // system roots do not know the test CA
  auto wrong = get(server.url() + "/");
  wrong.ca_file = pki.other_ca_pem_file;
  auto refused = run_awaitable(make_beast_http_client()->send(wrong));
  EXPECT_FALSE(refused);
  EXPECT_EQ(server.requests().size(), 1u);  // nothing was sent over the unverified connections
}
