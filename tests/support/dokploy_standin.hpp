// A Dokploy API stand-in following docs/protocols.md section 2: x-api-key auth (401), JSON-only POSTs
// (415), application.one / compose.one read an application (source type, Docker image and registry
// fields, env text) or a stack (env text), application.saveDockerProvider / saveEnvironment and
// compose.saveEnvironment change them, compose.update replaces a stack's compose file (every field the call replaces must be sent, as Dokploy's input
// schema requires; 400 otherwise), application.deploy / compose.deploy queue a job and answer 200 with
// an empty body, and deployment.all / deployment.allByCompose list jobs newest first. A job stays
// `running` for a number of status reads ("ticks"), then becomes `done` or `error` as configured for
// its application. Unknown ids: 404. Not modelled: git providers, builds, domains, mounts, servers,
// and the many other fields of an application.
// The per-application deploy URL (/api/deploy/{token}) checks the pushed branch (301 on mismatch).
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "tests/support/http.hpp"

namespace shipgate::testing {

class DokployStandin {
 public:
  struct App {
    std::string outcome = "done";  // done | error | cancelled | never (stays running)
    std::string error_message;
    int ticks = 2;                 // status reads while running
    bool compose = false;
    std::string source_type = "docker";  // docker | github | git | gitlab | bitbucket | gitea | drop
    std::string docker_image;
    std::string env;                     // newline-separated KEY=VALUE text
    std::string compose_file;            // a stack's compose file (compose.update sets it, sourceType raw)
    std::string username = "registry-user";  // registry fields Dokploy keeps for a Docker source
  };

  explicit DokployStandin(std::string api_key, std::uint16_t port = 0);
  void add_app(const std::string& id, App app);
  void add_deploy_token(const std::string& token, const std::string& branch);
  // Accept any application id, creating it on first deploy (for the `make run` demo).
  void accept_any_app(bool yes) { accept_any_ = yes; }

  std::string url() const { return server_.url(); }
  std::uint16_t port() const { return server_.port(); }
  std::size_t deploy_calls() const { return server_.count("POST", "/api/application.deploy") + server_.count("POST", "/api/compose.deploy"); }
  std::size_t deploy_url_calls() const { return server_.count("POST", "/api/deploy/"); }
  std::vector<RecordedRequest> requests() const { return server_.requests(); }
  // The jobs of one application, newest first, as Dokploy lists them.
  nlohmann::json jobs(const std::string& app_id);
  // An application or stack as it is now, and the image each deploy call found set (oldest first).
  App app(const std::string& id);
  std::vector<std::string> deployed_images(const std::string& id);
  // Called with every request and the answer about to be sent (from a stand-in thread): fault tests
  // kill the daemon at an exact point, say after Dokploy took a deploy but before shipgate heard.
  using Observer = std::function<void(const RecordedRequest&, const StandinReply&)>;
  void observe(Observer observer);

 private:
  StandinReply handle(const RecordedRequest& r);
  StandinReply deploy(const std::string& id_field, const RecordedRequest& r);
  StandinReply list(const std::string& app_id);
  StandinReply one(const std::string& id, bool compose);
  StandinReply save(const std::string& path, const RecordedRequest& r);
  StandinReply update_compose(const RecordedRequest& r);

  std::string api_key_;
  std::mutex mutex_;
  std::map<std::string, App> apps_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, nlohmann::json> jobs_;  // app id -> array, newest first
  std::map<std::string, int> ticks_left_;       // deploymentId -> status reads before it settles
  std::map<std::string, std::vector<std::string>> deployed_images_;
  int next_id_ = 1;
  bool accept_any_ = false;
  std::mutex observer_mutex_;
  Observer observer_;
  StandinServer server_;
};

}  // namespace shipgate::testing
