// Reads the config the daemon runs: the local file alone, or, when it names a config_source, the local
// file with the platform repository's folder at a commit laid over it (config/layered_config.hpp). The
// start, a reload, a push to the platform repository and the poll all read it here.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "config/loader.hpp"
#include "notify/github_app.hpp"
#include "orchestration/platform_repo.hpp"

namespace shipgate::orchestration {

struct ConfigRead {
  config::LoadResult loaded;
  std::string commit;       // the platform commit read ("" without config_source)
  std::string fetch_error;  // the repository could not be fetched: the copy already here was read
  std::optional<config::ConfigSourceConfig> source;
};

class ConfigReader {
 public:
  // `repository_dir`: read the platform repository there (a checkout) instead of fetching into
  // config_source.cache_dir (`shipgate check --git`).
  ConfigReader(std::string path, config::EnvLookup env, std::string repository_dir = "");

  // At `commit` (fetched first when it is not here yet), or at the branch's head after a fetch.
  boost::asio::awaitable<ConfigRead> read(std::string commit = "");
  // Why `commit` may not replace `applied` (a commit that does not descend from it: history was
  // rewritten or an older commit came late), unless config_source.allow_rewind; nothing when it may.
  boost::asio::awaitable<std::optional<std::string>> rewind_refusal(std::string applied, std::string commit);

  const std::string& path() const { return path_; }
  // Fetches the platform branch (with the credentials read() uses); its head.
  boost::asio::awaitable<GitAnswer> fetch_head();

 private:
  std::string path_;
  config::EnvLookup env_;
  std::string repository_dir_;
  // Gives `repo` the GitHub App's token when it fetches over HTTPS without a token file.
  boost::asio::awaitable<void> authorize(PlatformRepo& repo, const std::string& local_text);

  std::optional<config::ConfigSourceConfig> last_source_;
  std::shared_ptr<notify::GithubAppTokens> app_tokens_;
};

}  // namespace shipgate::orchestration
