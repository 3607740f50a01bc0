// Dokploy, in two modes (docs/protocols.md section 2):
//  - API mode: first the version goes in (an application's Docker image, the configured keys of the
//    application's or stack's environment), then POST application.deploy / compose.deploy with x-api-key
//    and a marker in the title and description, then poll deployment.all / deployment.allByCompose for
//    the row carrying the marker until it is done (success) or error/cancelled (failure). What was set
//    before is kept in the details, and a rollback puts exactly that back and deploys again.
//  - Deploy-URL mode: POST a GitHub-style push payload to the per-application URL; only a 2xx is a
//    success (Dokploy answers 301 "Branch Not Match" and similar with a message).
#include "deploy/dokploy_target.hpp"

#include "common/json_read.hpp"
#include "deploy/dokploy_answers.hpp"
#include "deploy/dotenv.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::deploy {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

std::string message_of(const http::HttpResult& r) {
  if (r)
    if (const auto message = dokploy_error_message(r->body); !message.empty())
      return "HTTP " + std::to_string(r->status) + ": " + message.substr(0, 500);
  return http::describe_failure(r);
}

class DokployTarget final : public DeployTarget {
 public:
  DokployTarget(config::DokployTargetConfig cfg, std::shared_ptr<http::HttpClient> http)
      : cfg_(std::move(cfg)), http_(std::move(http)) {}

  std::string describe() const override {
    if (!cfg_.deploy_url.empty()) return "dokploy deploy-url";
    return "dokploy " + cfg_.url + (compose() ? " compose " + cfg_.compose_id : " application " + cfg_.application_id);
  }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    if (!cfg_.deploy_url.empty()) co_return co_await deploy_url(ctx);
    Settings wanted;
    if (auto why = wanted_settings(ctx, wanted)) co_return TargetOutcome{false, *why};
    co_return co_await apply_and_deploy(ctx, ctx.marker, wanted);
  }

  asio::awaitable<TargetOutcome> resume(const DeployContext& ctx) override {
    if (!cfg_.deploy_url.empty()) co_return co_await deploy(ctx);
    // If Dokploy already has our job, keep watching it instead of deploying a second time. Otherwise
    // the settings are applied again (the same values: no harm) and the job is sent once. When the
    // list cannot be read, nothing is sent.
    auto jobs = co_await list_jobs(ctx.marker);
    if (!jobs) {
      // Not knowing whether Dokploy already runs this deployment's job, a second deploy could run the
      // version twice at once: the deployment ends here with the reason instead.
      const std::string why = last_error_.empty() ? jobs.error().message() : last_error_;
      co_return TargetOutcome{false, "cannot tell whether Dokploy already has this deployment's job: " + why};
    }
    if (jobs->found) {
      const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
      co_return co_await watch(ctx.marker, deadline);
    }
    co_return co_await deploy(ctx);
  }

  // Puts back what the failed deployment replaced (its details' "before"), or, when it did not record
  // that, the previous version's own settings; then deploys under a marker of its own.
  asio::awaitable<TargetOutcome> rollback(const DeployContext& previous, const json& failed) override {
    if (!cfg_.deploy_url.empty()) co_return co_await deploy(previous);
    Settings wanted;
    if (auto why = wanted_settings(previous, wanted)) co_return TargetOutcome{false, *why};
    const json& before = json_read::object(failed, "before");
    if (auto image = json_read::text_if(before, "dockerImage")) wanted.image = std::move(*image);
    for (const auto& [key, value] : json_read::object(before, "env").items())
      wanted.env[key] = value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
    if (auto text = json_read::text_if(before, "env_text_secret")) wanted.env_text = std::move(*text);
    if (auto file = json_read::text_if(before, "compose_file")) wanted.compose_file = std::move(*file);
    const std::string marker = json_read::text(failed, "marker", previous.marker) + "-rollback";
    co_return co_await apply_and_deploy(previous, marker, wanted);
  }

 private:
  // What a deployment sets in Dokploy before its job runs.
  struct Settings {
    std::optional<std::string> image;                             // an application's Docker image
    std::map<std::string, std::optional<std::string>> env;       // keys of the environment text
    std::optional<std::string> env_text;      // the whole environment text (env_file, keys on top)
    std::optional<std::string> compose_file;  // a stack's whole compose file (compose_file)
  };

  // The settings for `ctx`; a reason when it cannot have them.
  std::optional<std::string> wanted_settings(const DeployContext& ctx, Settings& out) const {
    if (!compose() && cfg_.pin_version) {
      const auto it = ctx.images.find(cfg_.component);
      if (it == ctx.images.end() || it->second.empty())
        return "deployment has no image for component '" + cfg_.component + "' to give dokploy application " +
               cfg_.application_id;
      out.image = it->second;
    }
    for (const auto& [key, tmpl] : cfg_.env) {
      std::string missing;
      auto value = config::expand_template(tmpl, ctx.vars, &missing);
      if (!value) return "env." + key + ": no value for {" + missing + "}";
      if (!is_env_value(*value)) return "env." + key + ": the value would break the environment text (a line break)";
      out.env[key] = *value;
    }
    if (!cfg_.env_file.empty()) {
      out.env_text = with_env_values(cfg_.env_file_text, out.env);
      out.env.clear();
    }
    if (!cfg_.compose_file.empty()) out.compose_file = cfg_.compose_file_text;
    return std::nullopt;
  }

  asio::awaitable<TargetOutcome> apply_and_deploy(const DeployContext& ctx, const std::string& marker,
                                                  const Settings& wanted) {
    const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
    json before = json::object();
    if (auto why = co_await apply(wanted, before)) co_return TargetOutcome{false, *why, {{"before", before}}};
    json body = {{compose() ? "composeId" : "applicationId", compose() ? cfg_.compose_id : cfg_.application_id},
                 {"title", title(ctx)},
                 {"description", description(ctx, marker)}};
    auto request = api_request("POST", compose() ? "/api/compose.deploy" : "/api/application.deploy", body.dump());
    auto res = co_await http_->send(std::move(request));
    if (!res || res->status != 200)
      co_return TargetOutcome{false, "dokploy deploy refused: " + message_of(res), {{"before", before}, {"marker", marker}}};
    auto out = co_await watch(marker, deadline);
    out.details["before"] = std::move(before);
    out.details["marker"] = marker;
    if (wanted.image) out.details["image"] = *wanted.image;
    co_return out;
  }

  // Reads the application or stack, refuses a git-built application it must pin, and saves what
  // differs from `wanted`; `before` receives the values it replaced. A reason when it failed.
  asio::awaitable<std::optional<std::string>> apply(const Settings& wanted, json& before) {
    const std::string kind = compose() ? "compose" : "application";
    const std::string id_field = compose() ? "composeId" : "applicationId";
    const std::string& id = compose() ? cfg_.compose_id : cfg_.application_id;
    if (!wanted.image && wanted.env.empty() && !wanted.env_text && !wanted.compose_file) co_return std::nullopt;
    auto read = api_request("GET", "/api/" + kind + ".one?" + id_field + "=" + config::percent_encode(id));
    auto res = co_await http_->send(std::move(read));
    if (!res || res->status != 200) co_return "dokploy " + kind + " " + id + " could not be read: " + message_of(res);
    const auto current = read_dokploy_application(res->body);
    if (!current) co_return "dokploy answered " + kind + ".one without a JSON object";
    if (wanted.image) {
      const std::string& source = current->source_type;
      if (source != "docker")
        co_return "dokploy application " + id + " builds from its " + (source.empty() ? "git" : source) +
            " source, so shipgate cannot give it version " + *wanted.image +
            ": switch the application to a Docker image source (shipgate then sets the image for each "
            "deployment), or set pin_version: false on this target (Dokploy then builds its configured branch)";
      if (current->docker_image != *wanted.image) {
        before["dockerImage"] = current->docker_image;
        // saveDockerProvider replaces every registry field: the ones Dokploy has are sent back unchanged.
        json body = {{"applicationId", id}, {"dockerImage", *wanted.image}, {"username", current->username},
                     {"password", current->password}, {"registryUrl", current->registry_url}};
        auto save = api_request("POST", "/api/application.saveDockerProvider", body.dump());
        auto saved = co_await http_->send(std::move(save));
        if (!saved || saved->status != 200) co_return "dokploy refused the image " + *wanted.image + ": " + message_of(saved);
      }
    }
    if (auto why = co_await apply_files(wanted, *current, before)) co_return why;
    if (!wanted.env.empty()) {
      const std::string& env = current->env;
      std::map<std::string, std::string> keys;
      for (const auto& [key, value] : wanted.env) keys[key] = "";
      json previous = json::object();
      for (const auto& [key, value] : env_values(env, keys)) previous[key] = value ? json(*value) : json(nullptr);
      const std::string next = with_env_values(env, wanted.env);
      if (next != env) {
        before["env"] = std::move(previous);
        auto saved = co_await save_environment(*current, next);
        if (saved) co_return saved;
      }
    }
    co_return std::nullopt;
  }

  // The whole files a deployment brings (compose_file, env_file): each replaces what Dokploy has when it
  // differs, and what it replaced goes to `before` for a rollback. The environment text may hold secrets:
  // it is kept under a name the API never shows (a key ending in _secret).
  asio::awaitable<std::optional<std::string>> apply_files(const Settings& wanted, const DokployApplication& current,
                                                          json& before) {
    if (wanted.compose_file && *wanted.compose_file != current.compose_file) {
      before["compose_file"] = current.compose_file;
      const json body = {{"composeId", cfg_.compose_id}, {"composeFile", *wanted.compose_file}, {"sourceType", "raw"}};
      auto update = api_request("POST", "/api/compose.update", body.dump());
      auto updated = co_await http_->send(std::move(update));
      if (!updated || updated->status != 200) co_return "dokploy refused the compose file: " + message_of(updated);
    }
    if (wanted.env_text && *wanted.env_text != current.env) {
      before["env_text_secret"] = current.env;
      if (auto why = co_await save_environment(current, *wanted.env_text)) co_return why;
    }
    co_return std::nullopt;
  }

  // Replaces the environment text; the application's call replaces its build settings too, so they are
  // sent back as Dokploy has them.
  asio::awaitable<std::optional<std::string>> save_environment(const DokployApplication& current, const std::string& env) {
    json body = {{compose() ? "composeId" : "applicationId", compose() ? cfg_.compose_id : cfg_.application_id}, {"env", env}};
    if (!compose()) {
      body["buildArgs"] = current.build_args;
      body["buildSecrets"] = current.build_secrets;
      body["createEnvFile"] = current.create_env_file;
    }
    auto save = api_request("POST", std::string("/api/") + (compose() ? "compose" : "application") + ".saveEnvironment", body.dump());
    auto saved = co_await http_->send(std::move(save));
    if (!saved || saved->status != 200) co_return "dokploy refused the environment: " + message_of(saved);
    co_return std::nullopt;
  }

  bool compose() const { return !cfg_.compose_id.empty(); }

  static std::string title(const DeployContext& ctx) {
    return "shipgate #" + std::to_string(ctx.deployment_id) + " " + ctx.project + "/" + ctx.environment + " " + ctx.version;
  }
  // The marker ends with ';' so deployment 4 never matches deployment 42's row.
  static std::string marker_text(const std::string& marker) { return "shipgate-deployment=" + marker + ";"; }
  static std::string description(const DeployContext& ctx, const std::string& marker) {
    return marker_text(marker) + " version=" + ctx.version + "; sha=" + ctx.sha;
  }

  http::OutboundRequest api_request(std::string method, std::string path, std::string body = {}) const {
    http::OutboundRequest req;
    req.method = std::move(method);
    req.url = cfg_.url + path;
    req.headers.emplace_back("x-api-key", cfg_.api_key);
    req.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = std::move(body);
    }
    req.timeout = std::min(cfg_.timeout, Millis(30'000));
    req.ca_file = cfg_.tls.ca_file;
    return req;
  }

  // The job carrying `marker` in Dokploy's list of the application's or stack's deployments.
  asio::awaitable<boost::system::result<DokployJobs>> list_jobs(const std::string& marker) {
    const std::string path = compose() ? "/api/deployment.allByCompose?composeId=" + cfg_.compose_id
                                       : "/api/deployment.all?applicationId=" + cfg_.application_id;
    auto request = api_request("GET", path);
    auto res = co_await http_->send(std::move(request));
    if (!res) co_return res.error();
    if (res->status != 200) {
      last_error_ = message_of(res);
      co_return make_error_code(boost::system::errc::protocol_error);
    }
    auto jobs = read_dokploy_jobs(res->body, marker_text(marker));
    if (!jobs.listed) {
      last_error_ = "deployment list is not a JSON array";
      co_return make_error_code(boost::system::errc::bad_message);
    }
    co_return jobs;
  }

  asio::awaitable<TargetOutcome> watch(const std::string& marker, std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    // A job row normally appears at once; give it a bounded grace before calling it lost.
    const auto appear_deadline = std::chrono::steady_clock::now() + std::min(cfg_.timeout, Millis(120'000));
    std::string last_status;
    for (;;) {
      auto jobs = co_await list_jobs(marker);
      if (!jobs && jobs.error() == boost::system::errc::protocol_error)
        co_return TargetOutcome{false, "dokploy status check refused: " + last_error_};
      if (jobs) {
        if (const auto& job = jobs->found) {
          last_status = job->status.substr(0, 40);
          TargetOutcome out;
          out.details = {{"dokploy_deployment_id", job->id.substr(0, 200)}, {"status", last_status}};
          if (last_status == "done") {
            out.ok = true;
            out.message = "dokploy deployment done";
            co_return out;
          }
          if (last_status == "error" || last_status == "cancelled") {
            const std::string why = job->error_message.substr(0, 2000);
            out.message = "dokploy deployment " + last_status + (why.empty() ? "" : ": " + why);
            co_return out;
          }
        } else if (std::chrono::steady_clock::now() > appear_deadline) {
          co_return TargetOutcome{false, "dokploy accepted the deploy but shows no job with marker " + marker_text(marker)};
        }
      }
      if (std::chrono::steady_clock::now() + cfg_.poll_interval > deadline)
        co_return TargetOutcome{false, "dokploy deployment still '" + (last_status.empty() ? "unknown" : last_status) +
                                           "' after " + std::to_string(cfg_.timeout.count() / 1000) + "s"};
      timer.expires_after(cfg_.poll_interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<TargetOutcome> deploy_url(const DeployContext& ctx) {
    const std::string branch = ctx.branch.empty() ? "main" : ctx.branch;
    json commit = {{"id", ctx.sha}, {"message", title(ctx)}, {"added", json::array()},
                   {"modified", json::array()}, {"removed", json::array()}};
    json payload = {{"ref", "refs/heads/" + branch},
                    {"after", ctx.sha},
                    {"head_commit", commit},
                    {"commits", json::array({commit})},
                    {"repository", {{"full_name", ctx.repository}}}};
    http::OutboundRequest req;
    req.method = "POST";
    req.url = cfg_.deploy_url;
    req.headers = {{"Content-Type", "application/json"}, {"X-GitHub-Event", "push"}};
    req.body = payload.dump();
    req.timeout = std::min(cfg_.timeout, Millis(60'000));
    req.ca_file = cfg_.tls.ca_file;
    auto res = co_await http_->send(std::move(req));
    TargetOutcome out;
    if (res) out.details["status"] = res->status;
    out.ok = res && res->status >= 200 && res->status < 300;
    out.message = out.ok ? "dokploy accepted the deploy" : "dokploy deploy URL refused: " + message_of(res);
    co_return out;
  }

  config::DokployTargetConfig cfg_;
  std::shared_ptr<http::HttpClient> http_;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_dokploy_target(const config::DokployTargetConfig& cfg,
                                                  std::shared_ptr<http::HttpClient> http) {
  return std::make_unique<DokployTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
