// Turns verified, parsed events into the deployments they ask for. Pure: no I/O, no clock.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "domain/deployment.hpp"

namespace shipgate::orchestration {

struct PushEvent {
  std::string repository;  // owner/name
  std::string ref;         // refs/heads/main or refs/tags/v1.2.0
  std::string after;       // the pushed SHA
  bool deleted = false;
  std::string actor;       // sender.login, else pusher.name
  std::int64_t committed_ms = 0;  // head_commit.timestamp, 0 when absent or not a time
};

// repository_dispatch client_payload, or the body of POST /webhooks/build.
struct VersionRequest {
  std::optional<std::string> environment;
  std::string version;  // a tag such as v1.6.1, optional
  std::string sha;
  std::string ref;
  std::map<std::string, std::string> images;  // component -> full reference (e.g. a digest)
  std::string actor;
  std::int64_t committed_ms = 0;  // when the commit was made (a build's committed_at), 0 unknown
};

struct Plan {
  std::vector<NewDeployment> deployments;
  std::vector<BadVersion> mark_bad;  // written with the deployments (rollback)
  std::vector<AuditEntry> audit;     // written with the deployments (override, rollback)
  std::string ignored;  // why nothing deploys, when deployments is empty and error is empty
  std::string error;    // the request itself is invalid (answered 400)
  std::string invalid;  // with error: the input that broke a rule (version, ref, sha, image), for counting
};

Plan plan_push(const config::Project& project, const PushEvent& event);

// A push to the platform repository (the one holding deployment configs).
struct PlatformPush {
  std::string ref;
  std::string after;
  bool deleted = false;
  std::string actor;
  std::vector<std::string> files;  // added, modified and removed paths of every commit
  bool truncated = false;          // GitHub capped the commit or file list: treat every project as touched
};

// GitHub lists at most 2048 commits per push and 3000 files per commit; at those counts the list may be cut.
constexpr std::size_t kMaxPushCommits = 2048;
constexpr std::size_t kMaxCommitFiles = 3000;

// The current version of each environment that has one, by (project, environment).
using CurrentVersions = std::map<std::pair<std::string, std::string>, Deployment>;
// The environments whose current version plan_config_change may need: each project with config_paths,
// its first environment.
std::vector<std::pair<std::string, std::string>> config_change_lanes(const config::Config& config);

// Redeploys the current version of every project whose config_paths the push touched, to the project's
// first environment (promotion carries it onward).
Plan plan_config_change(const config::Config& config, const PlatformPush& push, const CurrentVersions& current);

// What a new platform commit (config_source) changes for each project: the files behind the change.
using ConfigChanges = std::map<std::string, std::vector<std::string>>;
// Redeploys the current version of each changed project to its first environment (promotion carries it
// onward), once, with the changed files in its reason and `commit` as its config_commit.
Plan plan_config_redeploys(const config::Config& config, const ConfigChanges& changes, const CurrentVersions& current,
                           const std::string& commit, const std::string& actor);
// Which projects a new platform commit changes: those whose section of the config differs (`before` and
// `after`: project -> its section as text; a new project counts), named by the file defining them when
// that file changed; those whose targets read a changed file (`referenced`: project -> the repository
// paths of its compose and env files and manifest folders); and those with a changed file under their
// config_paths.
ConfigChanges config_changes(const std::map<std::string, std::string>& before, const std::map<std::string, std::string>& after,
                             const std::map<std::string, std::string>& project_files,
                             const std::map<std::string, std::vector<std::string>>& referenced,
                             const std::vector<std::string>& changed_files, const config::Config& config);
// The repository paths a project's targets read (compose_file, env_file, manifests), for config_changes:
// `folder` is the config's folder in the repository ("shipgate", or "" for its root).
std::map<std::string, std::vector<std::string>> referenced_files(const config::Config& config, const std::string& folder);
// The lanes plan_config_redeploys reads the current version of: each changed project's first environment.
std::vector<std::pair<std::string, std::string>> redeploy_lanes(const config::Config& config, const ConfigChanges& changes);
Plan plan_version_request(const config::Project& project, const VersionRequest& request, config::Trigger trigger);

// A GitHub Actions job that waits on shipgate's deployment protection rule (deployment_protection_rule,
// action requested), as read from the webhook.
struct ActionsRequest {
  std::string environment;       // the GitHub environment
  std::int64_t run_id = 0;       // the workflow run, from deployment_callback_url
  std::int64_t deployment_id = 0;  // GitHub's deployment
  std::string sha;
  std::string ref;               // as GitHub names it: a branch or tag name, or a full ref
  std::string actor;             // who started the run (the deployment's creator)
  std::string event;             // what started the run (push, workflow_dispatch, ...)
};

// One deployment (trigger github_actions) in the environment that gates the GitHub environment; it
// carries GitHub's ids in its result, for the answer and for the deployment_status events that end it.
Plan plan_actions_request(const config::Project& project, const ActionsRequest& request);

// Image references for a version in one environment: explicit ones win, the rest come from the
// component image and the environment's tag template. Empty optional + error when a needed value
// (such as the SHA for "{sha}") is missing.
std::optional<std::map<std::string, std::string>> resolve_images(const config::Project& project,
                                                                 const config::Environment& env,
                                                                 const std::string& version, const std::string& sha,
                                                                 const std::string& ref,
                                                                 const std::map<std::string, std::string>& explicit_images,
                                                                 std::string& error);

}  // namespace shipgate::orchestration
