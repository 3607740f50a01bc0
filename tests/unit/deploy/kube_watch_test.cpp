// The Deployment watch (list, watch, resume, relist on 410) against the Kubernetes API stand-in.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "deploy/kube_watch.hpp"
#include "tests/support/daemon.hpp"
#include "tests/support/kube_standin.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/wait.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using namespace shipgate::http;
using nlohmann::json;

TEST(WatchStream, EventsAreWholeLinesHoweverTheBytesArrive) {
  WatchStream s;
  EXPECT_TRUE(s.feed(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})").empty());
  auto events = s.feed("\n{\"type\":\"MODI");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(events[0].object["metadata"]["name"], "a");
  events = s.feed(R"(FIED","object":{"metadata":{"name":"b"}}})" "\nnot json\n{\"kind\":\"Status\"}\n");
  ASSERT_EQ(events.size(), 1u) << "lines that are not events are skipped";
  EXPECT_EQ(events[0].type, "MODIFIED");
}

class KubeWatch : public ::testing::Test {
 protected:
  void SetUp() override {
    pki = shipgate::testing::make_test_pki(dir.path());
    kube = std::make_unique<shipgate::testing::KubeStandin>("sa-token", pki.server_cert_file, pki.server_key_file);
    kube->add_deployment("prod", "backend", {{"api", "ghcr.io/acme/backend:v1"}});
    kube->add_deployment("prod", "frontend", {{"frontend", "ghcr.io/acme/frontend:v1"}});
    kube->add_deployment("other", "db", {{"db", "postgres:15"}});
    dir.write("kubeconfig", kube->kubeconfig("sa-token"));
  }
  void TearDown() override {
    stop = true;
    ioc.stop();
    if (thread.joinable()) thread.join();
  }
  void start(std::chrono::milliseconds relist) {
    cfg.namespace_ = "prod";
    cfg.kubeconfig = dir.file("kubeconfig");
    WatchHandlers h;
    h.listed = [this](const std::vector<json>& items) {
      std::lock_guard l(m);
      ++lists;
      for (const auto& d : items) seen[d["metadata"]["name"]] = d;
    };
    h.event = [this](std::string_view type, const json& d) {
      std::lock_guard l(m);
      events.push_back(std::string(type) + " " + d["metadata"]["name"].get<std::string>());
      seen[d["metadata"]["name"]] = d;
    };
    h.trouble = [this](const std::string& why) {
      std::lock_guard l(m);
      troubles.push_back(why);
    };
    h.stopped = [this] { return stop.load(); };
    boost::asio::co_spawn(ioc, watch_deployments(*http, cfg, relist, h), boost::asio::detached);
    thread = std::thread([this] { ioc.run(); });
  }
  // Scales a Deployment through the API, as someone with kubectl would.
  void scale(const std::string& name, int replicas) {
    auto r = shipgate::testing::https_request(kube->port(), {pki.ca_pem_file}, "PATCH", "/apis/apps/v1/namespaces/prod/deployments/" + name,
                                    {{"Authorization", "Bearer sa-token"}, {"Content-Type", "application/strategic-merge-patch+json"}},
                                    json{{"spec", {{"replicas", replicas}}}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  int replicas_seen(const std::string& name) {
    std::lock_guard l(m);
    return seen.count(name) ? seen[name]["spec"].value("replicas", -1) : -1;
  }

  shipgate::testing::TempDir dir;
  shipgate::testing::TestPki pki;
  std::unique_ptr<shipgate::testing::KubeStandin> kube;
  config::KubernetesTargetConfig cfg;
  std::shared_ptr<HttpClient> http = make_beast_http_client();
  boost::asio::io_context ioc;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex m;
  int lists = 0;
  std::map<std::string, json> seen;
  std::vector<std::string> events, troubles;
};

TEST_F(KubeWatch, ListsTheNamespaceThenStreamsChangesAsTheyHappen) {
  start(std::chrono::minutes(5));
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return replicas_seen("backend") == 2; }, std::chrono::seconds(10)));
  {
    std::lock_guard l(m);
    EXPECT_EQ(lists, 1);
    EXPECT_EQ(seen.size(), 2u) << "only the watched namespace";
  }
  scale("backend", 5);
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return replicas_seen("backend") == 5; }, std::chrono::seconds(10)))
      << "the change arrives on the open watch, long before the next list";
  std::lock_guard l(m);
  EXPECT_EQ(lists, 1);
  EXPECT_EQ(events, std::vector<std::string>{"MODIFIED backend"});
  EXPECT_TRUE(troubles.empty()) << troubles.front();
}

TEST_F(KubeWatch, ResumesFromTheLastVersionAndListsAgainWhenThatVersionExpired) {
  kube->end_watches_after(std::chrono::seconds(1));  // the server ends each watch early
  start(std::chrono::minutes(5));
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return replicas_seen("backend") == 2; }, std::chrono::seconds(10)));
  scale("backend", 3);
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return kube->watches() >= 3; }, std::chrono::seconds(10)));
  EXPECT_EQ(replicas_seen("backend"), 3);
  bool resumed = false;
  for (const auto& r : kube->requests())
    resumed = resumed || (r.target.find("watch=1") != std::string::npos &&
                          r.target.find("resourceVersion=" + kube->object("prod", "backend")["metadata"]["resourceVersion"].get<std::string>()) != std::string::npos);
  EXPECT_TRUE(resumed) << "a watch that ended continues from the last version it saw";
  {
    std::lock_guard l(m);
    EXPECT_EQ(lists, 1) << "without listing again";
  }
  // A change made while no watch was open, then history compacted: the next watch hears 410 and lists.
  kube->deny("watch");
  ASSERT_TRUE(shipgate::testing::wait_until([&] {
    std::lock_guard l(m);
    return !troubles.empty();
  }, std::chrono::seconds(10)));
  scale("frontend", 4);
  kube->compact();
  kube->allow("watch");
  ASSERT_TRUE(shipgate::testing::wait_until([&] { return replicas_seen("frontend") == 4; }, std::chrono::seconds(10)));
  std::lock_guard l(m);
  EXPECT_EQ(lists, 2);
}

TEST_F(KubeWatch, ARefusedWatchIsReportedAndRetried) {
  kube->deny("watch");
  start(std::chrono::minutes(5));
  ASSERT_TRUE(shipgate::testing::wait_until([&] {
    std::lock_guard l(m);
    return !troubles.empty();
  }, std::chrono::seconds(10)));
  EXPECT_EQ(replicas_seen("backend"), 2) << "the list still worked";
  std::lock_guard l(m);
  EXPECT_NE(troubles[0].find("cannot watch resource \"deployments\""), std::string::npos) << troubles[0];
}
