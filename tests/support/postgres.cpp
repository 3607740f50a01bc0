#include "tests/support/postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/ports.hpp"

namespace shipgate::testing {

namespace {

// The newest installed server: /usr/lib/postgresql/<major>/bin.
std::string server_bin() {
  std::string best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto name = entry.path().filename().string();
    const int major = std::atoi(name.c_str());
    if (major > best_major && std::filesystem::exists(entry.path() / "bin" / "postgres")) {
      best_major = major;
      best = (entry.path() / "bin").string();
    }
  }
  if (best.empty())
    throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql: run scripts/setup (package postgresql)");
  return best;
}

}  // namespace

std::vector<std::string> Postgres::as_owner(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  // setpriv execs the program itself (no su session in between), so signals reach the server.
  std::vector<std::string> out{"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Postgres::Postgres() : bin_(server_bin()), data_(dir_.file("data")) {
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("running as root, but there is no postgres account to run PostgreSQL as");
    if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot hand " + dir_.path() + " to the postgres account");
  }
  // A copy of a cluster made once (initdb takes a second of CPU; a copy a tenth of that), with the
  // owner and modes PostgreSQL insists on.
  const auto copied = run_command({"/bin/cp", "-a", cluster_template(), data_});
  if (copied.status != 0) throw std::runtime_error("cannot copy the template cluster: " + copied.output);
  start();
}

// A fresh cluster made by initdb, once per server version and user, shared by every test that follows:
// made beside the final path and renamed there, under a lock, so a test sees it whole or makes it.
std::string Postgres::cluster_template() const {
  const auto uid = std::to_string(::geteuid());
  const auto root = std::filesystem::temp_directory_path();
  const std::string version = std::filesystem::path(bin_).parent_path().filename().string();
  const std::string path = (root / ("shipgate-pg-template-" + version + "-" + uid)).string();
  const int lock = ::open((path + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path + ".lock");
  const std::unique_ptr<int, void (*)(int*)> unlock(new int(lock), [](int* fd) { ::close(*fd); delete fd; });
  if (!std::filesystem::exists(path + "/PG_VERSION")) {
    TempDir scratch;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw || ::chown(scratch.path().c_str(), pw->pw_uid, pw->pw_gid) != 0)
        throw std::runtime_error("cannot hand " + scratch.path() + " to the postgres account");
    }
    const auto made = scratch.file("data");
    const auto init = run_command(as_owner({bin_ + "/initdb", "-D", made, "-U", "shipgate", "--auth=trust",
                                            "--encoding=UTF8", "--no-sync", "--no-instructions"}));
    if (init.status != 0) throw std::runtime_error("initdb failed: " + init.output);
    std::filesystem::remove_all(path);
    const auto moved = run_command({"/bin/mv", made, path});
    if (moved.status != 0) throw std::runtime_error("cannot keep the template cluster: " + moved.output);
  }
  return path;
}

Postgres::~Postgres() {
  if (running()) stop();
}

void Postgres::start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = free_loopback_port();
    // Unix sockets in the data directory's parent (never /var/run/postgresql); loopback TCP only.
    process_ = std::make_unique<Process>(
        as_owner({bin_ + "/postgres", "-D", data_, "-h", "127.0.0.1", "-p", std::to_string(port_), "-k", dir_.path(),
                  "-c", "max_connections=200", "-c", "shared_buffers=16MB"}),
        std::map<std::string, std::string>{}, dir_.file("postgres-" + std::to_string(attempt) + ".log"));
    for (int i = 0; i < 200 && process_->running(); ++i) {
      const auto ready = run_command({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_)});
      if (ready.status == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    process_->signal(SIGINT);
    process_->wait(std::chrono::seconds(10));
  }
  throw std::runtime_error("PostgreSQL did not start; its log:\n" + log());
}

void Postgres::stop() {
  if (!process_) return;
  process_->signal(SIGINT);  // fast shutdown: clients are disconnected, the cluster is left clean
  if (!process_->wait(std::chrono::seconds(30))) process_->signal(SIGKILL);
}

namespace {

// The postmaster (its pid is postmaster.pid's first line) and every process it started.
std::vector<pid_t> cluster_processes(const std::string& data) {
  std::ifstream pidfile(data + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return {};
  std::vector<pid_t> out{postmaster};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    char state = 0;
    pid_t parent = 0;
    if (rest >> state >> parent && parent == postmaster) out.push_back(std::stoi(entry.path().filename().string()));
  }
  return out;
}

}  // namespace

void Postgres::freeze() {
  for (const auto pid : cluster_processes(data_)) ::kill(pid, SIGSTOP);
}

void Postgres::thaw() {
  for (const auto pid : cluster_processes(data_)) ::kill(pid, SIGCONT);
}

std::string Postgres::uri() const {
  return "postgresql://shipgate@127.0.0.1:" + std::to_string(port_) + "/postgres?connect_timeout=5";
}

}  // namespace shipgate::testing
