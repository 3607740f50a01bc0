// What shipgate reads from Dokploy's answers (docs/protocols.md section 2), read without trusting
// their shape: a field of another type is absent, never an exception.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace shipgate::deploy {

// application.one / compose.one, as far as a deployment reads and writes it.
struct DokployApplication {
  std::string source_type;   // "docker", "github", ...; empty when not said
  std::string docker_image;
  std::string env;           // the environment text (KEY=value lines)
  std::string compose_file;  // a stack's compose file (composeFile), when it has one
  // Sent back unchanged with the calls that replace them (saveDockerProvider, saveEnvironment).
  nlohmann::json username, password, registry_url, build_args, build_secrets;
  bool create_env_file = true;
};

// None when the body is not a JSON object.
std::optional<DokployApplication> read_dokploy_application(std::string_view body);

// One row of deployment.all / deployment.allByCompose.
struct DokployJob {
  std::string status;         // "running", "done", "error", "cancelled"; empty when not said
  std::string id;             // deploymentId
  std::string error_message;  // errorMessage of a failed job
};

struct DokployJobs {
  bool listed = false;              // the body is a JSON array
  std::optional<DokployJob> found;  // the row whose description or title carries `marker`
};

// `marker` is the exact text shipgate put in the job's description ("shipgate-deployment=...;").
DokployJobs read_dokploy_jobs(std::string_view body, std::string_view marker);

// The `message` of an error answer (Dokploy's tRPC errors carry one); empty when there is none.
std::string dokploy_error_message(std::string_view body);

}  // namespace shipgate::deploy
