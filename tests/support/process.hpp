// A child process for end-to-end tests: the real shipgate binary, started, signalled, reaped.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shipgate::testing {

class Process {
 public:
  // Starts argv[0] with `env` added to this process's environment; stdout and stderr go to `log_path`.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log_path);
  ~Process();  // SIGKILLs a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Exit status once the child ended within `timeout` (128+N for a signal), else nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Resident memory of a process in KiB (VmRSS), -1 when it cannot be read.
long rss_kib(pid_t pid);

// Memory ceilings mean nothing under AddressSanitizer, which keeps freed memory in quarantine (256 MiB)
// on purpose: there the memory assertions are skipped and everything else still runs.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
inline constexpr bool kMeasureMemory = !kSanitized;

// Runs a command to completion, capturing its combined output.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                      const std::string& stdin_text = {});

}  // namespace shipgate::testing
