// Image lookups against a real registry (Debian's docker-registry): found with the digest it stores,
// missing, asked by digest, and the bearer-token round trip registries such as ghcr.io demand.
#include <gtest/gtest.h>

#include <thread>

#include "deploy/registry_client.hpp"
#include "orchestration/image_check.hpp"
#include "tests/support/http.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/scripted_http.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using shipgate::testing::Registry;
using shipgate::testing::run_awaitable;
using shipgate::testing::StandinReply;
using shipgate::testing::StandinServer;

namespace {

config::RegistryConfig plain(const Registry& r) {
  config::RegistryConfig c;
  c.host = r.host();
  c.plain_http = true;
  return c;
}

// A config that reaches the test registry, and an environment that waits `wait` for images.
struct Setting {
  config::Config config;
  config::Environment env;
};
Setting waiting_for(const Registry& r, std::chrono::milliseconds wait) {
  Setting s;
  s.config.registries[r.host()] = plain(r);
  s.env.wait_for_images = wait;
  return s;
}

ImageLookup look_up(const std::string& text, const config::RegistryConfig& access) {
  auto http = make_beast_http_client();
  const auto ref = parse_image_reference(text);
  EXPECT_TRUE(ref) << text;
  return run_awaitable(look_up_image(*http, *ref, &access));
}

}  // namespace

TEST(RegistryClient, FindsAnImageWithTheDigestTheRegistryStoredAndMissesAnAbsentOne) {
  Registry registry;
  const auto digest = registry.push("acme/api:staging-1", "build 1");
  const auto found = look_up(registry.host() + "/acme/api:staging-1", plain(registry));
  EXPECT_EQ(found.state, ImageState::found) << found.message;
  EXPECT_EQ(found.digest, digest);
  const auto missing = look_up(registry.host() + "/acme/api:staging-2", plain(registry));
  EXPECT_EQ(missing.state, ImageState::missing) << missing.message;
  // A re-pushed tag answers with the new digest; the old one is still there by digest.
  const auto again = registry.push("acme/api:staging-1", "build 2");
  EXPECT_NE(again, digest);
  EXPECT_EQ(look_up(registry.host() + "/acme/api:staging-1", plain(registry)).digest, again);
  EXPECT_EQ(look_up(registry.host() + "/acme/api@" + digest, plain(registry)).state, ImageState::found);
}

TEST(RegistryClient, FetchesABearerTokenFromTheRealmTheRegistryNamesAndAsksAgain) {
  std::atomic<int> tokens{0};
  StandinServer token_service([&](const shipgate::testing::RecordedRequest& r) {
    if (r.header("Authorization") != "Basic " + std::string("Y2k6czNjcjN0"))  // ci:s3cr3t
      return StandinReply{401, R"({"errors":[{"code":"UNAUTHORIZED"}]})"};
    ++tokens;
    return StandinReply{200, R"({"token":"issued-for-ci","expires_in":300})"};
  });
  Registry registry(token_service.url() + "/token");
  const auto digest = registry.push("acme/api:v1.6.1");
  auto access = plain(registry);
  access.username = "ci";
  access.password = "s3cr3t";
  const auto found = look_up(registry.host() + "/acme/api:v1.6.1", access);
  EXPECT_EQ(found.state, ImageState::found) << found.message;
  EXPECT_EQ(found.digest, digest);
  ASSERT_EQ(tokens.load(), 1);
  const auto asked = token_service.requests().at(0);
  EXPECT_NE(asked.target.find("service=shipgate-test-registry"), std::string::npos) << asked.target;
  EXPECT_NE(asked.target.find("scope=repository%3Aacme%2Fapi%3Apull"), std::string::npos) << asked.target;
  // Wrong credentials: the token service says no, and waiting would not change that.
  access.password = "wrong";
  const auto refused = look_up(registry.host() + "/acme/api:v1.6.1", access);
  EXPECT_EQ(refused.state, ImageState::refused);
  EXPECT_NE(refused.message.find("refused the credentials"), std::string::npos) << refused.message;
}

TEST(RegistryClient, ARegistryThatIsNotThereIsUnavailableNotMissing) {
  config::RegistryConfig access;
  access.host = "127.0.0.1:9";
  access.plain_http = true;
  const auto r = look_up("127.0.0.1:9/acme/api:1", access);
  EXPECT_EQ(r.state, ImageState::unavailable);
}

TEST(ImageCheck, WaitsForAnImagePushedLaterAndRecordsItsDigest) {
  Registry registry;
  auto [cfg, env] = waiting_for(registry, std::chrono::seconds(20));
  const std::map<std::string, std::string> images{{"backend", registry.host() + "/acme/api:staging-abc"}};
  std::string digest;
  std::thread ci([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    digest = registry.push("acme/api:staging-abc");
  });
  std::vector<std::string> notes;
  orchestration::WaitingNote note = [&](std::string line) -> boost::asio::awaitable<void> {
    notes.push_back(std::move(line));
    co_return;
  };
  auto http = make_beast_http_client();
  const auto checked = run_awaitable(orchestration::check_images(*http, cfg, env, images, note));
  ci.join();
  ASSERT_TRUE(checked.ok) << checked.message;
  EXPECT_EQ(checked.digests.at("backend"), digest);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "waiting for image " + images.at("backend"));
  EXPECT_EQ(notes[1], "");  // the reason is cleared once it is there
  EXPECT_EQ(orchestration::pinned_images(images, checked.digests).at("backend"),
            registry.host() + "/acme/api@" + digest);
}

TEST(ImageCheck, GivesUpWithTheImageAndTheTimeItWaited) {
  Registry registry;
  auto [cfg, env] = waiting_for(registry, std::chrono::seconds(2));
  const std::map<std::string, std::string> images{{"backend", registry.host() + "/acme/api:staging-1a2b3c"}};
  auto http = make_beast_http_client();
  const auto checked = run_awaitable(orchestration::check_images(*http, cfg, env, images, nullptr));
  EXPECT_FALSE(checked.ok);
  EXPECT_EQ(checked.message, "image " + images.at("backend") + " not found after 2s");
  // Without a wait (pin_digests alone) a missing image fails at the first answer.
  env.wait_for_images = std::chrono::milliseconds(0);
  env.pin_digests = true;
  const auto at_once = run_awaitable(orchestration::check_images(*http, cfg, env, images, nullptr));
  EXPECT_EQ(at_once.message, "image " + images.at("backend") + " not found");
}

TEST(RegistryClient, CredentialsGoOnlyToTheRegistrysOwnHostOrAnHttpsRealmAndARefusalIsNotRepeated) {
  const auto image = parse_image_reference("registry.test:5000/acme/api:v1");
  ASSERT_TRUE(image);
  config::RegistryConfig access;
  access.host = "registry.test:5000";
  access.plain_http = true;
  access.username = "ci";
  access.password = "s3cr3t";
  const struct {
    const char* realm;
    bool credentials;
  } cases[] = {{"http://elsewhere.test/token", false},
               {"http://registry.test:5001/token", true},
               {"https://auth.test/token", true}};
  for (const auto& c : cases) {
    std::optional<bool> sent;
    shipgate::testing::ScriptedHttp http([&](const OutboundRequest& r) {
      if (r.url.find("/token") != std::string::npos) {
        sent = false;
        for (const auto& [name, value] : r.headers) sent = *sent || name == "Authorization";
        return shipgate::testing::ScriptedHttp::reply(500, "internal detail: do-not-repeat-this");
      }
      return shipgate::testing::ScriptedHttp::reply(401, "", {{"WWW-Authenticate", std::string("Bearer realm=\"") + c.realm + "\""}});
    });
    const auto found = run_awaitable(look_up_image(http, *image, &access));
    ASSERT_TRUE(sent.has_value()) << c.realm;
    EXPECT_EQ(*sent, c.credentials) << c.realm;
    EXPECT_EQ(found.state, ImageState::unavailable) << found.message;
    EXPECT_EQ(found.message.find("do-not-repeat-this"), std::string::npos) << found.message;
  }
}

// Tags listed a page at a time (the registry's Link header), through the same token round trip.
TEST(RegistryClient, ListsEveryTagPageByPageWithTheToken) {
  std::atomic<int> tokens{0};
  StandinServer token_service([&](const shipgate::testing::RecordedRequest&) {
    ++tokens;
    return StandinReply{200, R"({"token":"issued-for-watch"})"};
  });
  Registry registry(token_service.url() + "/token");
  std::vector<std::string> pushed;
  for (int i = 0; i < 5; ++i) pushed.push_back("1." + std::to_string(i) + ".0");
  for (const auto& tag : pushed) registry.push("acme/api:" + tag, tag);
  auto http = make_beast_http_client();
  const auto ref = parse_image_reference(registry.host() + "/acme/api");
  const auto access = plain(registry);
  const auto listed = run_awaitable(list_tags(*http, *ref, &access, Millis(15'000), 2));  // three pages
  ASSERT_EQ(listed.state, ImageState::found) << listed.message;
  auto got = listed.tags;
  std::sort(got.begin(), got.end());
  std::sort(pushed.begin(), pushed.end());
  EXPECT_EQ(got, pushed);
  EXPECT_GE(tokens.load(), 1);
  const auto absent = parse_image_reference(registry.host() + "/acme/none");
  EXPECT_EQ(run_awaitable(list_tags(*http, *absent, &access)).state, ImageState::missing);
}

TEST(RegistryClient, ALinkHeaderOnlyLeadsToAPathOnTheSameRegistry) {
  EXPECT_EQ(next_page(R"(</v2/acme/api/tags/list?last=1.9.0&n=100>; rel="next")"),
            std::optional<std::string>("/v2/acme/api/tags/list?last=1.9.0&n=100"));
  EXPECT_EQ(next_page(R"(<https://other.example/v2/x/tags/list>; rel="next")"), std::nullopt);
  EXPECT_EQ(next_page(R"(<//other.example/v2/x>; rel="next")"), std::nullopt);
  EXPECT_EQ(next_page(R"(</v2/a>; rel="prev", </v2/b>; rel="next")"), std::optional<std::string>("/v2/b"));
  EXPECT_EQ(next_page(""), std::nullopt);
  EXPECT_EQ(next_page("garbage"), std::nullopt);
  EXPECT_EQ(read_tags(R"({"name":"acme/api","tags":["1.0.0",7,"1.1.0"]})"), (std::vector<std::string>{"1.0.0", "1.1.0"}));
  EXPECT_EQ(read_tags(R"({"name":"acme/api","tags":null})"), std::vector<std::string>{});
  EXPECT_EQ(read_tags(R"({"tags":"1.0.0"})"), std::nullopt);
  EXPECT_EQ(read_tags("[]"), std::nullopt);
}
