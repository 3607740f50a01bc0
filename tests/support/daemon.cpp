#include "tests/support/daemon.hpp"

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/crypto.hpp"
#include "tests/support/wait.hpp"

namespace shipgate::testing {

std::string shipgate_binary() { return SHIPGATE_BINARY; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/shipgate-test-XXXXXX";
  path_ = ::mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::ofstream(file(name), std::ios::binary) << content;
}

Daemon::Daemon(const TempDir& dir, std::string yaml, std::map<std::string, std::string> env)
    : dir_(dir), config_path_(dir.file("shipgate.yaml")), env_(std::move(env)) {
  rewrite_config(std::move(yaml));
}

Daemon::~Daemon() = default;

void Daemon::rewrite_config(std::string yaml) const {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (std::size_t pos; (pos = yaml.find(from)) != std::string::npos;) yaml.replace(pos, from.size(), to);
  };
  replace("${STORE}", dir_.file("shipgate.db"));
  replace("${PORT}", "0");
  // Write then rename, as config management does: the daemon never reads half a file.
  const std::string tmp = config_path_ + ".tmp";
  std::ofstream(tmp, std::ios::binary) << yaml;
  std::filesystem::rename(tmp, config_path_);
}

bool Daemon::start(const std::vector<std::string>& extra_args) {
  const std::string log = dir_.file("daemon." + std::to_string(++starts_) + ".log");
  std::vector<std::string> argv{shipgate_binary(), "serve", "-c", config_path_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, env_, log);
  static const std::regex listening("listening on https?://[^:]+:([0-9]+)( and https://[^:]+:([0-9]+))?");
  std::smatch m;
  const bool ok = wait_until([&] {
    const std::string text = process_->log();
    if (std::regex_search(text, m, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      tls_port_ = m[3].matched ? static_cast<std::uint16_t>(std::stoi(m[3])) : 0;
      return true;
    }
    return !process_->running();
  });
  return ok && process_->running() && port_ != 0;
}

std::string Daemon::log() const { return process_ ? process_->log() : std::string(); }

void Daemon::kill9() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
}

int Daemon::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait(timeout).value_or(-1);
}

Reply Daemon::get(const std::string& target, const std::string& token) const {
  Headers h;
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return http_request(port_, "GET", target, h);
}

Reply Daemon::post(const std::string& target, const Headers& headers, const std::string& body) const {
  return http_request(port_, "POST", target, headers, body);
}

std::string push_payload(const std::string& repository, const std::string& ref, const std::string& after, bool deleted,
                         const std::string& sender) {
  const std::string zeros(40, '0');
  nlohmann::json commit = {{"id", after},
                           {"message", "Fix the thing"},
                           {"timestamp", "2026-11-26T10:00:00Z"},
                           {"author", {{"name", "Octo Cat"}, {"email", "octo@example.com"}, {"username", sender}}},
                           {"added", nlohmann::json::array()},
                           {"modified", {"src/main.cpp"}},
                           {"removed", nlohmann::json::array()}};
  nlohmann::json p = {{"ref", ref},
                      {"before", deleted ? after : zeros},
                      {"after", deleted ? zeros : after},
                      {"created", !deleted},
                      {"deleted", deleted},
                      {"forced", false},
                      {"base_ref", nullptr},
                      {"compare", "https://github.com/" + repository + "/compare"},
                      {"commits", deleted ? nlohmann::json::array() : nlohmann::json::array({commit})},
                      {"head_commit", deleted ? nlohmann::json(nullptr) : commit},
                      {"repository", {{"id", 1296269}, {"name", repository.substr(repository.find('/') + 1)},
                                      {"full_name", repository}, {"private", true}, {"default_branch", "main"}}},
                      {"pusher", {{"name", sender}, {"email", "octo@example.com"}}},
                      {"sender", {{"login", sender}, {"id", 1}, {"type", "User"}}}};
  return p.dump();
}

Headers github_headers(const std::string& event, const std::string& delivery, const std::string& secret,
                       const std::string& body, const std::string& content_type) {
  Headers h = {{"Content-Type", content_type},
               {"User-Agent", "GitHub-Hookshot/abc123"},
               {"X-GitHub-Event", event},
               {"X-GitHub-Delivery", delivery},
               {"X-GitHub-Hook-ID", "123456"}};
  if (!secret.empty()) h.emplace_back("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(secret, body));
  return h;
}

std::string new_delivery_id() {
  const std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

}  // namespace shipgate::testing
