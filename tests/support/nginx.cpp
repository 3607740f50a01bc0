#include "tests/support/nginx.hpp"

#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/http.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/wait.hpp"

namespace shipgate::testing {

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

// The whole config around `server_body` (upstreams and the server block).
std::string config(const std::string& dir, std::uint16_t port, const std::string& server_body) {
  std::ostringstream c;
  // As root nginx would hand its workers to `nobody`, who cannot use the test's directory.
  if (::geteuid() == 0) c << "user root;\n";
  c << "worker_processes 1;\nerror_log " << dir << "/error.log warn;\npid " << dir << "/nginx.pid;\n"
    << "events { worker_connections 1024; }\nhttp {\n  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) c << "  " << t << "_temp_path " << dir << "/" << t << ";\n";
  std::string body = server_body;
  for (auto at = body.find("PORT"); at != std::string::npos; at = body.find("PORT")) body.replace(at, 4, std::to_string(port));
  c << body << "}\n";
  return c.str();
}

std::string balancer(const std::vector<std::uint16_t>& upstreams) {
  std::ostringstream c;
  c << "  upstream shipgate {\n";
  // Passive health checks: one failed connection takes an upstream out for a second.
  for (auto p : upstreams) c << "    server 127.0.0.1:" << p << " max_fails=1 fail_timeout=1s;\n";
  c << "  }\n  server {\n    listen 127.0.0.1:PORT;\n    location / {\n"
    << "      proxy_pass http://shipgate;\n"
    // Webhooks are idempotent by their delivery id, so a POST may go to the next replica too.
    << "      proxy_next_upstream error timeout http_502 http_503 non_idempotent;\n"
    << "      proxy_next_upstream_tries 3;\n      proxy_connect_timeout 1s;\n      proxy_read_timeout 30s;\n"
    << "      client_max_body_size 2m;\n    }\n  }\n";
  return c.str();
}

}  // namespace

Nginx::Nginx(const std::vector<std::uint16_t>& upstream_ports) { start(balancer(upstream_ports)); }

Nginx::Nginx(const std::string& root, const std::string& user, const std::string& password, const std::string& cert,
             const std::string& key) {
  std::ofstream(dir_.file("users")) << user << ":{PLAIN}" << password << "\n";
  const std::string tls = cert.empty() ? ";\n" : " ssl;\n    ssl_certificate " + cert + ";\n    ssl_certificate_key " + key + ";\n";
  start("  server {\n    listen 127.0.0.1:PORT" + tls + "    location = /healthz { return 200; }\n    location / {\n"
        "      root " + root + ";\n      auth_basic git;\n      auth_basic_user_file " + dir_.file("users") + ";\n    }\n  }\n");
}

void Nginx::start(const std::string& server_body) {
  if (!std::filesystem::exists(kNginx)) throw std::runtime_error("no /usr/sbin/nginx: run scripts/setup (package nginx-light)");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    std::ofstream(dir_.file("nginx.conf")) << config(dir_.path(), port_, server_body);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kNginx, "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-g", "daemon off;"},
        std::map<std::string, std::string>{}, dir_.file("stdout.log"));
    const bool up = wait_until([&] { return !process_->running() || http_request(port_, "GET", "/healthz").status != 0; },
                               std::chrono::seconds(10));
    if (up && process_->running()) return;
  }
  throw std::runtime_error("nginx did not start: " + log());
}

Nginx::~Nginx() {
  if (process_ && process_->running()) {
    process_->signal(SIGQUIT);
    process_->wait(std::chrono::seconds(5));
  }
}

std::string Nginx::log() const {
  std::ifstream in(dir_.file("error.log"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str() + (process_ ? process_->log() : std::string());
}

}  // namespace shipgate::testing
