// What the shipgate binary's commands share: exit codes, where the config is and how it is read, and
// `serve` (serve.cpp), which runs the daemon.
#pragma once
#include <string>
#include <vector>

#include "config/config.hpp"

namespace shipgate {

constexpr int kExitOk = 0;
constexpr int kExitInvalidConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitStartup = 3;

// Prints the commands to stderr.
void usage();
// The config file: -c/--config FILE, else $SHIPGATE_CONFIG; empty when neither is given.
std::string config_path(const std::vector<std::string>& args);
// The config at `path` (with config_source, the platform repository's folder fetched and laid over it;
// read from the checkout `repository_dir` at `commit` instead when given), or null after printing every
// error to stderr.
config::ConfigPtr load_or_report(const std::string& path, const std::string& repository_dir = "",
                                 const std::string& commit = "");
// shipgate serve -c FILE [--init]: runs the daemon until SIGTERM or SIGINT; its exit code.
int serve(const std::vector<std::string>& args);

}  // namespace shipgate
