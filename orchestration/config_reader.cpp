#include "orchestration/config_reader.hpp"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/text.hpp"
#include "config/layered_config.hpp"
#include "http/http_client.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::string base_dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// The commit to read: the one asked for when this copy has it (fetching once when it has not), else the head.
asio::awaitable<GitAnswer> commit_to_read(PlatformRepo& repo, const std::string& commit, bool may_fetch,
                                          std::string& fetch_error) {
  GitAnswer head;
  const bool known = !commit.empty() && co_await repo.has(commit);
  if (may_fetch && !known) {
    head = co_await repo.fetch();
    if (!head.ok()) {
      fetch_error = head.error;
      head = co_await repo.head();  // the copy already here
    }
  } else {
    head = co_await repo.head();
  }
  if (commit.empty() || !head.ok()) co_return head;
  co_return GitAnswer{commit, ""};
}

}  // namespace

ConfigReader::ConfigReader(std::string path, config::EnvLookup env, std::string repository_dir)
    : path_(std::move(path)),
      env_(std::move(env)),
      repository_dir_(std::move(repository_dir)),
      app_tokens_(std::make_shared<notify::GithubAppTokens>(http::make_beast_http_client(),
                                                            std::make_shared<SystemClock>())) {}

asio::awaitable<void> ConfigReader::authorize(PlatformRepo& repo, const std::string& local_text) {
  const auto& source = repo.source();
  if (!source.token_file.empty() || source.git.rfind("https://", 0) != 0 || source.repository.empty()) co_return;
  const auto app = config::read_local_github_app(local_text);
  if (!app) co_return;
  std::string repository = source.repository, user_agent = "shipgate/config";  // named: GCC 12 and co_await
  const auto token = co_await app_tokens_->token_for(*app, std::move(repository), std::move(user_agent));
  if (!token.token.empty()) repo.set_token(token.token);
  else spdlog::warn("platform config: no GitHub App token for {}: {}", source.repository, token.error);
}

asio::awaitable<GitAnswer> ConfigReader::fetch_head() {
  const auto text = read_whole_file(path_);
  std::vector<config::ConfigError> errors;
  const auto source = text ? config::read_config_source(*text, errors) : std::nullopt;
  if (!source) co_return GitAnswer{"", "no config_source in " + path_};
  PlatformRepo repo(*source, repository_dir_.empty() ? source->cache_dir : repository_dir_);
  co_await authorize(repo, *text);
  co_return co_await repo.fetch();
}

asio::awaitable<ConfigRead> ConfigReader::read(std::string commit) {
  ConfigRead out;
  const auto text = read_whole_file(path_);
  if (!text) {
    out.loaded.errors.push_back({"", "cannot read " + path_});
    co_return out;
  }
  out.source = config::read_config_source(*text, out.loaded.errors);
  if (!out.loaded.errors.empty()) co_return out;
  if (!out.source) {
    out.loaded = config::load_config_text(*text, env_, base_dir_of(path_));
    co_return out;
  }
  last_source_ = out.source;
  const std::string dir = repository_dir_.empty() ? out.source->cache_dir : repository_dir_;
  PlatformRepo repo(*out.source, dir);
  if (repository_dir_.empty()) co_await authorize(repo, *text);
  const auto at = co_await commit_to_read(repo, commit, repository_dir_.empty(), out.fetch_error);
  if (!at.ok()) {
    out.loaded.errors.push_back({"config_source", out.fetch_error.empty() ? at.error : "cannot fetch: " + out.fetch_error});
    co_return out;
  }
  out.commit = at.value;
  const std::string exports = (fs::path(out.source->cache_dir) / "exports" / out.commit).string();
  const auto folder = co_await repo.export_folder(out.commit, exports);
  if (!folder.ok()) {
    out.loaded.errors.push_back({"config_source", "commit " + out.commit.substr(0, 12) + ": " + folder.error});
    co_return out;
  }
  const std::string folder_name = out.source->path.empty() ? "" : out.source->path + "/";
  out.loaded = config::load_layered_config({path_, *text, folder.value, folder_name, out.commit}, env_);
  co_return out;
}

asio::awaitable<std::optional<std::string>> ConfigReader::rewind_refusal(std::string applied, std::string commit) {
  if (applied.empty() || commit.empty() || applied == commit || !last_source_ || last_source_->allow_rewind)
    co_return std::nullopt;
  PlatformRepo repo(*last_source_, repository_dir_.empty() ? last_source_->cache_dir : repository_dir_);
  const auto descends = co_await repo.descends(applied, commit);
  if (descends.value_or(false)) co_return std::nullopt;
  co_return "platform commit " + commit.substr(0, 12) + " does not descend from the applied " + applied.substr(0, 12) +
      " (history was rewritten, or an older commit came late); not applied without config_source.allow_rewind";
}

}  // namespace shipgate::orchestration
