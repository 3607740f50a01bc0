// The command-line client: status | deployments | deploy | approve | reject | cancel | rollback | audit | watch,
// talking to a running daemon over its HTTP API.
#pragma once
#include <string>
#include <vector>

namespace shipgate::cli {

// True when `command` is one of the client commands.
bool is_client_command(const std::string& command);

// Runs one client command; args[0] is the command. Returns the process exit code:
// 0 success, 1 the server refused or could not be reached (its message printed), 2 usage error.
int run_client(const std::vector<std::string>& args);

// GET base_url/healthz with a 5 s timeout: 0 when it answers 200, 1 otherwise.
int healthcheck(const std::string& base_url);

}  // namespace shipgate::cli
