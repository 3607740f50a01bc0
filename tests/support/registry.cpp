#include "tests/support/registry.hpp"

#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "tests/support/ports.hpp"

namespace shipgate::testing {

Registry::Registry(std::string token_realm) : token_(!token_realm.empty()) {
  const std::string binary = "/usr/bin/docker-registry";
  if (::access(binary.c_str(), X_OK) != 0)
    throw std::runtime_error(binary + " is missing: run scripts/setup (it installs the docker-registry package)");
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_loopback_port();
    std::string config = "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                         "storage:\n  filesystem:\n    rootdirectory: " + dir_.file("data") + "\n"
                         "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n  secret: shipgate-tests\n";
    if (token_) config += "auth:\n  silly:\n    realm: " + token_realm + "\n    service: shipgate-test-registry\n";
    dir_.write("config.yml", config);
    process_ = std::make_unique<Process>(std::vector<std::string>{binary, "serve", dir_.file("config.yml")},
                                         std::map<std::string, std::string>{}, dir_.file("registry.log"));
    for (int i = 0; i < 100 && process_->running(); ++i) {
      const auto reply = http_request(port_, "GET", "/v2/", {}, "");
      if (reply.status == 200 || reply.status == 401) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    process_.reset();  // the port was taken meanwhile, or it is slow: try once more on another
  }
  throw std::runtime_error("docker-registry did not start; its log:\n" + log());
}

Registry::~Registry() = default;

std::string Registry::push(const std::string& repository_and_tag, const std::string& content) const {
  std::map<std::string, std::string> env;
  if (token_) env["REGISTRY_AUTH"] = "Bearer test-pusher";
  std::string script = SHIPGATE_SOURCE_DIR;
  script += "/scripts/push-image";
  std::vector<std::string> argv{script, url(), repository_and_tag};
  if (!content.empty()) argv.push_back(content);
  const auto r = run_command(argv, env);
  if (r.status != 0) throw std::runtime_error("push-image " + repository_and_tag + " failed: " + r.output);
  auto digest = r.output;
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == '\r')) digest.pop_back();
  return digest;
}

}  // namespace shipgate::testing
