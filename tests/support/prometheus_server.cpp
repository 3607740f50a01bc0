#include "tests/support/prometheus_server.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/support/http.hpp"
#include "tests/support/ports.hpp"
#include "common/text.hpp"
#include "tests/support/wait.hpp"

namespace shipgate::testing {

namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";


}  // namespace

PrometheusServer::PrometheusServer(const std::vector<std::uint16_t>& targets) {
  if (!std::filesystem::exists(kPrometheus))
    throw std::runtime_error("no /usr/bin/prometheus: run scripts/setup (package prometheus)");
  std::string list;
  for (auto p : targets) list += (list.empty() ? "\"127.0.0.1:" : ", \"127.0.0.1:") + std::to_string(p) + "\"";
  std::ofstream(dir_.file("prometheus.yml"))
      << "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
      << "scrape_configs:\n  - job_name: app\n    static_configs: [ { targets: [" << list << "] } ]\n";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kPrometheus, "--config.file=" + dir_.file("prometheus.yml"),
                                 "--storage.tsdb.path=" + dir_.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        std::map<std::string, std::string>{}, dir_.file("prometheus.log"));
    const bool up = wait_until([&] { return !process_->running() || http_request(port_, "GET", "/-/ready").status == 200; },
                               std::chrono::seconds(20));
    if (up && process_->running()) return;
  }
  throw std::runtime_error("prometheus did not start: " + log());
}

PrometheusServer::~PrometheusServer() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(5));
  }
}

std::optional<double> PrometheusServer::query(const std::string& promql) const {
  const auto r = http_request(port_, "GET", "/api/v1/query?query=" + percent_encode(promql));
  const auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || doc.value("status", "") != "success") return std::nullopt;
  const auto result = doc["data"].value("result", nlohmann::json::array());
  if (result.empty()) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

std::string PrometheusServer::log() const {
  std::ifstream in(dir_.file("prometheus.log"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace shipgate::testing
