#include "common/child_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

namespace shipgate {

namespace asio = boost::asio;

namespace {

struct Capture {
  Capture(asio::any_io_executor ex, int fd, std::size_t keep) : pipe(ex, fd), keep(keep) {}
  asio::posix::stream_descriptor pipe;
  std::size_t keep;
  std::string output;
  bool truncated = false;
  bool eof = false;
};

asio::awaitable<void> read_all(std::shared_ptr<Capture> c) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await c->pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    c->output.append(buf, n);
    if (c->output.size() > 2 * c->keep) {
      c->output.erase(0, c->output.size() - c->keep);
      c->truncated = true;
    }
  }
  c->eof = true;
}

int spawn(const ChildRun& run, int out_fd, pid_t& pid) {
  std::vector<std::string> args = run.argv, envs;
  for (const auto& [k, v] : run.env) envs.push_back(k + "=" + v);
  std::vector<char*> c_argv, c_env;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (auto& e : envs) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the daemon's sockets stay with the daemon
  if (!run.workdir.empty()) posix_spawn_file_actions_addchdir_np(&actions, run.workdir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so a timeout can kill all of it
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const bool path_search = run.argv[0].find('/') == std::string::npos;
  const int rc = path_search ? posix_spawnp(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data())
                             : posix_spawn(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc;
}

// Polls for the exit; past the deadline the whole process group gets SIGTERM, then SIGKILL after 2 s
// (a shell's children die with it).
asio::awaitable<void> wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline, ChildExit& exit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  int st = 0;
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (::waitpid(pid, &st, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() < deadline) continue;
    exit.timed_out = true;
    ::kill(-pid, SIGTERM);
    bool ended = false;
    for (int i = 0; i < 100 && !ended; ++i) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      ended = ::waitpid(pid, &st, WNOHANG) == pid;
    }
    if (!ended) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &st, 0);
    }
    break;
  }
  exit.status = st;
}

// The rest of the output: a program may exit while a child of it still holds the pipe open, so it is
// waited for briefly, never for ever.
asio::awaitable<void> finish_reading(Capture& capture) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 50 && !capture.eof; ++i) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  boost::system::error_code ignored;
  capture.pipe.close(ignored);
}

}  // namespace

bool ChildExit::ok() const { return spawn_error == 0 && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

int ChildExit::exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

asio::awaitable<ChildExit> run_child(ChildRun run) {
  ChildExit exit;
  if (run.argv.empty()) {
    exit.spawn_error = EINVAL;
    co_return exit;
  }
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    exit.spawn_error = errno;
    co_return exit;
  }
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  exit.spawn_error = spawn(run, out_pipe[1], pid);
  ::close(out_pipe[1]);
  if (exit.spawn_error != 0) {
    ::close(out_pipe[0]);
    co_return exit;
  }
  auto ex = co_await asio::this_coro::executor;
  // A reader drains the pipe while the exit is polled for: output must never block the program.
  auto capture = std::make_shared<Capture>(ex, out_pipe[0], run.keep_output);
  asio::co_spawn(ex, read_all(capture), asio::detached);
  const auto deadline = t0 + run.timeout;  // named: GCC 12 and temporaries in a co_await expression
  co_await wait_for_exit(pid, deadline, exit);
  ::kill(-pid, SIGKILL);  // anything still left in its group
  co_await finish_reading(*capture);
  exit.output = std::move(capture->output);
  exit.truncated = capture->truncated;
  if (exit.output.size() > run.keep_output) {
    exit.output.erase(0, exit.output.size() - run.keep_output);
    exit.truncated = true;
  }
  exit.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  co_return exit;
}

}  // namespace shipgate
