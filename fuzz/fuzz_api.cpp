// The API's JSON bodies and query strings with a valid token: manual deploy (confirmation,
// override), approve, reject, cancel, rollback, and the read endpoints. The first byte picks the
// endpoint; the rest is the body (or the query string for reads).
#include <cstdint>
#include <string>

#include "fuzz/harness.hpp"

using namespace shipgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& h = fuzz::Harness::get();
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  handlers::Request req;
  req.request_id = "fuzz";
  std::string authorization = "Bearer ";
  authorization += fuzz::kToken;
  req.headers.emplace_back("Authorization", std::move(authorization));
  req.headers.emplace_back("Content-Type", "application/json");
  const std::string id = std::to_string(1 + data[0] / 8);
  switch (data[0] % 8) {
    case 0: req.method = "POST"; req.path = "/api/v1/deployments"; req.body = rest; break;
    case 1: req.method = "POST"; req.path = "/api/v1/deployments/" + id + "/approve"; req.body = rest; break;
    case 2: req.method = "POST"; req.path = "/api/v1/deployments/" + id + "/reject"; req.body = rest; break;
    case 3: req.method = "POST"; req.path = "/api/v1/deployments/" + id + "/cancel"; req.body = rest; break;
    case 4: req.method = "POST"; req.path = "/api/v1/projects/app/environments/production/rollback"; req.body = rest; break;
    case 5: req.method = "GET"; req.path = "/api/v1/deployments"; req.query = rest; break;
    case 6: req.method = "GET"; req.path = "/api/v1/audit"; req.query = rest; break;
    default: req.method = "GET"; req.path = "/api/v1/projects/" + rest; break;
  }
  const auto res = h.handle(req);
  if (res.status >= 500 && res.status != 503) __builtin_trap();
  if (res.status >= 400 && res.body.find("\"error\"") == std::string::npos) __builtin_trap();
  return 0;
}
