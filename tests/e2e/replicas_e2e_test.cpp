// Three replicas on one PostgreSQL: webhooks sent round-robin across them, one replica killed twice
// while it runs deployments. Every accepted delivery is stored once, every version reaches its
// environment once, an environment never has two deploy calls in flight, and what the killed replica
// was running is finished by another one without a second Dokploy job.
#include <thread>

#include "tests/e2e/replicas_fixture.hpp"

using namespace shipgate::testing;
using nlohmann::json;

namespace {

// The ids of the deployments running on `replica` now (their last start names it).
std::vector<std::int64_t> running_on(Daemon& observer, const std::string& replica) {
  std::vector<std::int64_t> out;
  auto running = observer.get("/api/v1/deployments?state=running&limit=500", kReplicaToken).json();
  for (const auto& d : running["deployments"]) {
    const auto id = d["id"].get<std::int64_t>();
    auto full = observer.get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).json();
    std::string last;
    for (const auto& h : full["history"])
      if (h["to"] == "running") last = h["reason"].get<std::string>();
    if (last.size() >= replica.size() && last.compare(last.size() - replica.size(), replica.size(), replica) == 0)
      out.push_back(id);
  }
  return out;
}

// Whether another replica than r0 resumed deployment `id`.
bool resumed_by_other(Daemon& observer, std::int64_t id) {
  const auto d = observer.get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).json();
  for (const auto& h : d.value("history", json::array())) {
    const std::string reason = h.value("reason", "");
    if (reason.find("resumed") != std::string::npos && reason.find("now on replica r0") == std::string::npos) return true;
  }
  return false;
}

// Dokploy jobs whose title names deployment `id` ("shipgate #<id> ...").
int jobs_of(const json& jobs, std::int64_t id) {
  const std::string prefix = "shipgate #" + std::to_string(id) + " ";
  int n = 0;
  for (const auto& j : jobs) n += j["title"].get<std::string>().rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_F(Replicas, RoundRobinWebhooksAndTwoKillsDeployEveryVersionOnceWithoutOverlap) {
  constexpr int kProjects = 50, kWebhooks = 2000, kSenders = 4;
  start_replicas(3, kProjects, 40);  // a deploy takes about a second: the kills find some running
  std::atomic<int> accepted{0};
  std::mutex mutex;
  std::vector<std::int64_t> created;               // from every 2xx answer
  std::map<std::string, std::string> version_of;   // delivery -> sha
  std::vector<int> refused;                        // final non-2xx statuses
  std::atomic<bool> r0_down{false};
  // The last quarter of the webhooks waits for the second kill, so both kills happen while webhooks
  // still arrive: the restarted r0 then has new work to take, and the takeovers happen under load.
  std::atomic<bool> kills_over{false};

  auto send = [&](int first) {
    std::mt19937_64 rng(static_cast<unsigned>(first) * 7919u + 17u);
    for (int i = first; i < kWebhooks; i += kSenders) {
      if (i >= kWebhooks * 3 / 4) wait_until([&] { return kills_over.load(); }, std::chrono::seconds(180));
      const auto project = project_name(i % kProjects);
      const auto sha = random_sha(rng);
      const auto delivery = new_delivery_id();
      Reply r;
      // As a load balancer would: a replica that does not answer is skipped for the next one.
      for (int attempt = 0; attempt < 12; ++attempt) {
        auto& replica = *replicas[(i + attempt) % replicas.size()];
        if (&replica == replicas[0].get() && r0_down) continue;
        r = push_to(replica, project, sha, delivery);
        if (r.status >= 200 && r.status < 300) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::lock_guard lock(mutex);
      if (r.status < 200 || r.status >= 300) {
        refused.push_back(r.status);
        continue;
      }
      const auto body = r.json();
      for (const auto& d : body["deployments"]) created.push_back(d["id"].get<std::int64_t>());
      version_of[delivery] = sha;
      ++accepted;
    }
  };

  // The killer: twice, once r0 runs deployments, kill -9 it and remember what it was running.
  std::vector<std::int64_t> orphaned;
  std::thread killer([&] {
    struct Over {
      std::atomic<bool>& flag;
      ~Over() { flag = true; }
    } over{kills_over};
    for (int round = 0; round < 2; ++round) {
      const int after = round == 0 ? kWebhooks / 4 : kWebhooks / 2;
      if (!wait_until([&] { return accepted >= after; }, std::chrono::seconds(120))) return;
      std::vector<std::int64_t> ids;
      if (!wait_until([&] { return !(ids = running_on(*replicas[1], "r0")).empty(); }, std::chrono::seconds(30))) return;
      r0_down = true;
      replicas[0]->kill9();
      // Those it had not finished before it died (a deployment takes about a second).
      std::erase_if(ids, [&](std::int64_t id) {
        return replicas[1]->get("/api/v1/deployments/" + std::to_string(id), kReplicaToken).json()["state"] != "running";
      });
      orphaned.insert(orphaned.end(), ids.begin(), ids.end());
      // r0 stays down until the others took over what it ran (its lanes' holds run out first).
      for (const auto id : ids)
        wait_until([&] { return resumed_by_other(*replicas[1], id); }, std::chrono::seconds(30));
      ASSERT_TRUE(replicas[0]->start()) << replicas[0]->log();
      r0_down = false;
    }
  });
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) senders.emplace_back(send, t);
  for (auto& t : senders) t.join();
  killer.join();

  EXPECT_TRUE(refused.empty()) << refused.size() << " webhooks were never accepted";
  EXPECT_EQ(accepted, kWebhooks);
  ASSERT_EQ(orphaned.size() >= 2, true) << "r0 was never seen running deployments when it was killed";
  ASSERT_TRUE(settled(std::chrono::seconds(180))) << "deployments still queued or running";

  // Every 2xx stored once: one deployment per accepted delivery, no more.
  const std::set<std::int64_t> distinct(created.begin(), created.end());
  EXPECT_EQ(distinct.size(), created.size());
  const auto all = all_deployments();
  EXPECT_EQ(all.size(), created.size());
  std::map<std::string, int> succeeded_per_project;
  for (const auto& d : all) {
    const std::string state = d["state"];
    EXPECT_TRUE(state == "succeeded" || state == "superseded") << d.dump();
    if (state == "succeeded") ++succeeded_per_project[d["project"].get<std::string>()];
  }

  for (int p = 0; p < kProjects; ++p) {
    const auto app = "app_" + project_name(p);
    const auto jobs = dokploy.jobs(app);  // newest first
    // Every version deployed once: one job per succeeded deployment, no image twice.
    EXPECT_EQ(static_cast<int>(jobs.size()), succeeded_per_project[project_name(p)]) << app;
    for (const auto& j : jobs) {
      const std::string title = j["title"];
      const auto id = std::stoll(title.substr(title.find('#') + 1));
      const auto d = get("/api/v1/deployments/" + std::to_string(id));
      EXPECT_EQ(d["state"], "succeeded") << "a Dokploy job for " << d.dump(2);
    }
    const auto images = dokploy.deployed_images(app);
    EXPECT_EQ(std::set<std::string>(images.begin(), images.end()).size(), images.size()) << app;
    // Never two deploy calls in flight for one environment: each job began after the one before ended.
    for (std::size_t j = 0; j + 1 < jobs.size(); ++j) {
      const auto& later = jobs[j];
      const auto& earlier = jobs[j + 1];
      ASSERT_FALSE(earlier["finishedAt"].is_null()) << app << ": " << earlier.dump();
      EXPECT_GE(std::stoll(later["createdAt"].get<std::string>()), std::stoll(earlier["finishedAt"].get<std::string>()))
          << app << ": " << later.dump() << " began while " << earlier.dump() << " ran";
    }
  }

  // What r0 was running when it died: finished by another replica, with the one Dokploy job it had.
  for (const auto id : orphaned) {
    const auto d = get("/api/v1/deployments/" + std::to_string(id));
    EXPECT_EQ(d["state"], "succeeded") << d.dump(2);
    EXPECT_TRUE(resumed_by_other(*replicas[1], id)) << d.dump(2);
    EXPECT_EQ(jobs_of(dokploy.jobs("app_" + d["project"].get<std::string>()), id), 1) << d.dump(2);
  }
}
