#include "deploy/dokploy_answers.hpp"

#include "common/json_read.hpp"

namespace shipgate::deploy {

namespace jr = json_read;

std::optional<DokployApplication> read_dokploy_application(std::string_view body) {
  const auto doc = jr::parse(body);
  if (!doc.is_object()) return std::nullopt;
  DokployApplication app;
  app.source_type = jr::text(doc, "sourceType");
  app.docker_image = jr::text(doc, "dockerImage");
  app.env = jr::text(doc, "env");
  app.compose_file = jr::text(doc, "composeFile");
  app.username = jr::any(doc, "username");
  app.password = jr::any(doc, "password");
  app.registry_url = jr::any(doc, "registryUrl");
  app.build_args = jr::any(doc, "buildArgs");
  app.build_secrets = jr::any(doc, "buildSecrets");
  app.create_env_file = jr::flag(doc, "createEnvFile", true);
  return app;
}

DokployJobs read_dokploy_jobs(std::string_view body, std::string_view marker) {
  DokployJobs out;
  const auto rows = jr::parse(body);
  if (!rows.is_array()) return out;
  out.listed = true;
  for (const auto& row : rows) {
    bool carries = false;
    for (const char* field : {"description", "title"})
      if (const auto text = jr::text_if(row, field); text && text->find(marker) != std::string::npos) carries = true;
    if (!carries) continue;
    out.found = DokployJob{jr::text(row, "status"), jr::text(row, "deploymentId"), jr::text(row, "errorMessage")};
    return out;
  }
  return out;
}

std::string dokploy_error_message(std::string_view body) { return jr::text(jr::parse(body), "message"); }

}  // namespace shipgate::deploy
