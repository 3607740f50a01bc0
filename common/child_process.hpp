// Runs a program as a child without blocking the caller's thread: no shell unless argv names one, a
// clean environment (only what `env` gives), stdin from /dev/null, stdout and stderr captured together,
// its own process group (a timeout ends the program and everything it started: SIGTERM, then SIGKILL
// after 2 s), and none of the daemon's descriptors. Used by command targets and by the platform
// repository's `git`.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace shipgate {

struct ChildRun {
  std::vector<std::string> argv;          // argv[0] without a '/' is looked up in PATH
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string workdir;                     // empty: the daemon's
  std::chrono::milliseconds timeout{60'000};
  std::size_t keep_output = 4096;          // the output's last bytes kept (more is dropped from the start)
};

struct ChildExit {
  int spawn_error = 0;     // errno when the program could not be started (nothing else is set)
  int status = 0;          // as waitpid reports it
  bool timed_out = false;
  std::string output;      // stdout and stderr, at most keep_output bytes: the tail
  bool truncated = false;  // the start of the output was dropped
  long long duration_ms = 0;

  bool ok() const;         // started, not timed out, exited 0
  int exit_code() const;   // the exit code, or 128 + the signal that ended it
};

// Starts `run` and returns when it has ended and its output was read.
boost::asio::awaitable<ChildExit> run_child(ChildRun run);

}  // namespace shipgate
