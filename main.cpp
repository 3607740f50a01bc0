// shipgate: serve | check | hash-token | healthcheck | version | the client commands. serve.cpp runs the daemon.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/client.hpp"
#include "cli/notify.hpp"
#include "common/crypto.hpp"
#include "config/loader.hpp"
#include "serve.hpp"

using namespace shipgate;

namespace shipgate {

void usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  shipgate serve -c FILE [--init]  run the daemon (--init: make a new store in an empty store file)\n"
               "  shipgate check -c FILE [--git DIR [--commit SHA]]\n"
               "                                validate a config, print every error (--git: the platform repository's\n"
               "                                folder from that checkout, at SHA or its branch's head)\n"
               "  shipgate hash-token [TOKEN]   print the SHA-256 to put in token_sha256 (reads stdin without TOKEN)\n"
               "  shipgate hash-token --new     make a new random token and print it with its hash\n"
               "  shipgate notify --project P [--environment E] [--version V] [--image C=REF]... [--wait]\n"
               "                                tell shipgate a version is built (from CI; see shipgate notify --help)\n"
               "  shipgate healthcheck [URL]     exit 0 if URL/healthz answers 200 (for container HEALTHCHECKs)\n"
               "  shipgate --version\n"
               "  shipgate status|deployments|deploy|approve|reject|cancel|rollback|audit ...  (see shipgate status --help)\n");
}

}  // namespace shipgate

namespace {

int check(const std::vector<std::string>& args) {
  const auto path = config_path(args);
  if (path.empty()) return usage(), kExitUsage;
  // --git DIR [--commit SHA]: the platform repository's folder as a checkout has it (default: its branch's head).
  std::string git_dir, commit;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--git") git_dir = args[i + 1];
    if (args[i] == "--commit") commit = args[i + 1];
  }
  if (!commit.empty() && git_dir.empty()) return usage(), kExitUsage;
  auto cfg = load_or_report(path, git_dir, commit);
  if (!cfg) return kExitInvalidConfig;
  for (const auto& w : config::unpinned_targets(*cfg)) std::printf("warning: %s\n", w.c_str());
  const std::string at = cfg->source_commit.empty() ? "" : ", platform commit " + cfg->source_commit;
  std::printf("%s: valid (%zu project%s, listening on %s, store %s%s)\n", path.c_str(), cfg->projects.size(),
              cfg->projects.size() == 1 ? "" : "s", cfg->server.listen.c_str(), cfg->store.url.c_str(), at.c_str());
  return kExitOk;
}

int hash_token(const std::vector<std::string>& args) {
  if (args.size() > 1 && args[1] == "--new") {
    const std::string token = "sg_" + random_hex(24);
    std::printf("token:        %s\ntoken_sha256: %s\n", token.c_str(), sha256_hex(token).c_str());
    return kExitOk;
  }
  std::string token;
  if (args.size() > 1) token = args[1];
  else if (!std::getline(std::cin, token)) return usage(), kExitUsage;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) return usage(), kExitUsage;
  std::printf("%s\n", sha256_hex(token).c_str());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  if (const char* level = std::getenv("SHIPGATE_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));
  if (args.empty()) return usage(), kExitUsage;
  const std::string& cmd = args[0];
  if (cmd == "--version" || cmd == "version") {
    std::printf("shipgate %s (%s)\n", SHIPGATE_VERSION, SHIPGATE_GIT_SHA);
    return kExitOk;
  }
  if (cmd == "serve") return serve(args);
  if (cmd == "check") return check(args);
  if (cmd == "hash-token") return hash_token(args);
  if (cmd == "notify") return cli::run_notify(args);
  if (cmd == "healthcheck") return cli::healthcheck(args.size() > 1 ? args[1] : "http://127.0.0.1:8080");
  if (cli::is_client_command(cmd)) return cli::run_client(args);
  usage();
  return kExitUsage;
}
