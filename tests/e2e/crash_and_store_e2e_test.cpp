// Crashes at bad moments and stores in bad shape, with the real binary: a command target's run that
// outlives a kill -9, store files and their modes, damaged and empty store files, and a full disk.
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A config whose staging target is one command; `${DIR}` in it names the test directory.
std::string command_config(const std::string& dokploy_url, const TempDir& dir, const std::string& script) {
  std::string yaml = e2e_config(dokploy_url);
  const std::string from = "targets:\n          - { type: dokploy, url: \"" + dokploy_url +
                           "\", api_key: e2e-key, application_id: app_staging,\n              poll_interval: 20ms, timeout: 30s }";
  const auto at = yaml.find(from);
  if (at == std::string::npos) return yaml;
  std::string command = script;
  for (std::size_t p; (p = command.find("${DIR}")) != std::string::npos;) command.replace(p, 6, dir.path());
  yaml.replace(at, from.size(), "targets:\n          - { type: command, argv: [\"/bin/sh\", \"-c\", \"" + command + "\"], timeout: 30s }");
  return yaml;
}

}  // namespace

class CrashAndStore : public E2E {};

TEST_F(CrashAndStore, AKillNineDuringACommandNeverLeavesTwoRunsAtOnce) {
  // Each run holds a lock for its whole life (its child `sleep` inherits it): a second run that started
  // while the first still ran would fail to take it and say so.
  const std::string script =
      "exec 9>>${DIR}/run.lock; flock -n 9 || echo OVERLAP >> ${DIR}/runs; echo start >> ${DIR}/runs; "
      "sleep 2; echo end >> ${DIR}/runs";
  start_with(command_config(dokploy.url(), dir, script));
  const auto r = push("refs/heads/main", kSha);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = r.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_until([&] { return read_file(dir.file("runs")).find("start") != std::string::npos; }, 10s));
  daemon->kill9();
  ASSERT_TRUE(daemon->start()) << daemon->log();
  ASSERT_TRUE(wait_state(id, "succeeded", 30s)) << deployment(id).dump();
  EXPECT_EQ(read_file(dir.file("runs")), "start\nend\nstart\nend\n");
  EXPECT_NE(daemon->log().find("waiting for the run left by the last stop"), std::string::npos);
}

TEST_F(CrashAndStore, CommandsSeeNoneOfTheDaemonsEnvironmentAndTheirOutputHidesSecrets) {
  const std::string script = "env; echo the secret is e2e-secret";
  daemon = std::make_unique<Daemon>(dir, command_config(dokploy.url(), dir, script),
                                    std::map<std::string, std::string>{{"DAEMON_ONLY_TOKEN", "from-the-daemon"}});
  ASSERT_TRUE(daemon->start()) << daemon->log();
  const auto id = push("refs/heads/main", kSha).json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(id, "succeeded"));
  const std::string tail = deployment(id)["result"]["targets"][0]["details"]["output_tail"];
  EXPECT_EQ(tail.find("DAEMON_ONLY_TOKEN"), std::string::npos) << tail;
  EXPECT_NE(tail.find("SHIPGATE_PROJECT=planera"), std::string::npos) << tail;
  EXPECT_NE(tail.find("the secret is [redacted]"), std::string::npos) << tail;
}

TEST_F(CrashAndStore, StoreFilesAreOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  start();
  ::umask(old);
  push("refs/heads/main", kSha);  // the WAL and shared-memory files exist once something is written
  for (const std::string suffix : {"", "-wal", "-shm", ".lock"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("shipgate.db" + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "shipgate.db" << suffix;
  }
}

TEST_F(CrashAndStore, ADamagedOrEmptyStoreFileRefusesToStart) {
  // Not a database at all.
  dir.write("shipgate.db", std::string(8192, 'x'));
  daemon = std::make_unique<Daemon>(dir, e2e_config(dokploy.url()));
  EXPECT_FALSE(daemon->start());
  EXPECT_NE(daemon->log().find("cannot open store"), std::string::npos) << daemon->log();
  EXPECT_NE(daemon->log().find("not a database"), std::string::npos) << daemon->log();

  // A real store whose pages were damaged.
  std::filesystem::remove(dir.file("shipgate.db"));
  start();
  for (int i = 0; i < 40; ++i) push("refs/heads/main", i % 2 ? kSha : kSha2);
  daemon->terminate();
  {
    std::fstream f(dir.file("shipgate.db"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096 + 100);  // inside a b-tree page, past the header
    const std::string junk(2000, '\xee');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  EXPECT_FALSE(daemon->start());
  EXPECT_NE(daemon->log().find("integrity check"), std::string::npos) << daemon->log();

  // An empty file where the store should be: refused, unless --init.
  std::filesystem::remove(dir.file("shipgate.db"));
  std::filesystem::remove(dir.file("shipgate.db-wal"));
  std::filesystem::remove(dir.file("shipgate.db-shm"));
  dir.write("shipgate.db", "");
  EXPECT_FALSE(daemon->start());
  EXPECT_NE(daemon->log().find("is empty"), std::string::npos) << daemon->log();
  EXPECT_NE(daemon->log().find("--init"), std::string::npos);
  ASSERT_TRUE(daemon->start({"--init"})) << daemon->log();
  EXPECT_EQ(push("refs/heads/main", kSha).status, 202);
}

TEST_F(CrashAndStore, ReadinessFollowsWhetherTheStoreCanWrite) {
  const std::string mount_point = dir.file("disk");
  std::filesystem::create_directories(mount_point);
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=4m") != 0) {
    const std::string why = "cannot mount a small tmpfs to fill (needs root): " + std::string(std::strerror(errno));
    if (std::getenv("CI")) FAIL() << why;
    GTEST_SKIP() << why;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount_point};
  std::string yaml = e2e_config(dokploy.url());
  yaml.replace(yaml.find("store: sqlite:${STORE}"), 22, "store: sqlite:" + mount_point + "/shipgate.db");
  start_with(yaml);
  ASSERT_EQ(daemon->get("/readyz").status, 200);
  // Fill the disk.
  {
    std::ofstream filler(mount_point + "/filler", std::ios::binary);
    const std::string block(64 * 1024, 'f');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  int refused = 0;
  for (int i = 0; i < 200 && refused == 0; ++i) refused += push("refs/heads/main", i % 2 ? kSha : kSha2).status == 503;
  EXPECT_EQ(refused, 1) << "writes never failed on a full disk";
  EXPECT_TRUE(wait_until([&] { return daemon->get("/readyz").status == 503; }, 5s));
  EXPECT_NE(daemon->get("/readyz").body.find("cannot write"), std::string::npos);
  EXPECT_EQ(daemon->get("/healthz").status, 200);  // alive, just not ready
  std::filesystem::remove(mount_point + "/filler");
  EXPECT_TRUE(wait_until([&] { return daemon->get("/readyz").status == 200; }, 5s));
  EXPECT_EQ(push("refs/heads/main", kSha, new_delivery_id()).status, 202);
}
