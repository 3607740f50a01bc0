#include "orchestration/platform_repo.hpp"

#include <filesystem>

#include "common/child_process.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"

#include <cstring>

namespace shipgate::orchestration {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kGitTimeout{60};

std::string first_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto last = text.rfind('\n');
  return escape_control(last == std::string::npos ? text : text.substr(last + 1));
}

std::optional<std::string> token_of(const std::string& file) {
  auto text = read_whole_file(file);
  if (!text) return std::nullopt;
  std::string token = std::move(*text);
  token = token.substr(0, token.find_first_of("\r\n"));
  return std::string(trim(token));
}

}  // namespace

bool is_commit(const std::string& s) { return s.size() == 40 && is_hex(s); }

PlatformRepo::PlatformRepo(config::ConfigSourceConfig source, std::string repository_dir)
    : source_(std::move(source)), dir_(fs::absolute(repository_dir).string()) {
  // git runs in the copy's directory: a clone URL that is a local path must not be read from there.
  std::error_code ec;
  if (source_.git.find("://") == std::string::npos && fs::exists(source_.git, ec))
    source_.git = fs::absolute(source_.git).string();
}

asio::awaitable<GitAnswer> PlatformRepo::git(std::vector<std::string> args, bool with_token) {
  ChildRun run;
  run.argv = {"git", "-C", dir_};
  run.argv.insert(run.argv.end(), args.begin(), args.end());
  // Nothing of the daemon's user or the machine's git settings; no prompt for a password.
  run.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", dir_}, {"GIT_CONFIG_NOSYSTEM", "1"},
             {"GIT_TERMINAL_PROMPT", "0"}, {"LANG", "C"}};
  // Settings through git's environment (GIT_CONFIG_COUNT): never on a command line another user can read.
  std::vector<std::pair<std::string, std::string>> settings;
  if (with_token && (!source_.token_file.empty() || !token_.empty())) {
    const auto token = source_.token_file.empty() ? std::optional<std::string>(token_) : token_of(source_.token_file);
    if (!token || token->empty()) co_return GitAnswer{"", "cannot read config_source.token_file"};
    settings.emplace_back("http.extraHeader", "Authorization: Basic " + base64_encode("x-access-token:" + *token));
  }
  if (!source_.ca_file.empty()) settings.emplace_back("http.sslCAInfo", source_.ca_file);
  run.env["GIT_CONFIG_COUNT"] = std::to_string(settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    run.env["GIT_CONFIG_KEY_" + std::to_string(i)] = settings[i].first;
    run.env["GIT_CONFIG_VALUE_" + std::to_string(i)] = settings[i].second;
  }
  run.timeout = kGitTimeout;
  run.keep_output = 64 * 1024;
  const std::string what = args.empty() ? "git" : "git " + args.front();
  const ChildExit exit = co_await run_child(std::move(run));
  if (exit.spawn_error != 0) co_return GitAnswer{"", "cannot start git: " + std::string(std::strerror(exit.spawn_error))};
  if (exit.timed_out) co_return GitAnswer{"", what + " timed out after " + std::to_string(kGitTimeout.count()) + " s"};
  if (!exit.ok()) co_return GitAnswer{"", what + " exited with " + std::to_string(exit.exit_code()) + ": " + first_line(exit.output)};
  co_return GitAnswer{exit.output, ""};
}

asio::awaitable<GitAnswer> PlatformRepo::fetch() {
  std::error_code ec;
  if (!fs::exists(fs::path(dir_) / "HEAD", ec)) {
    fs::create_directories(dir_, ec);
    if (ec) co_return GitAnswer{"", "cannot create " + dir_ + ": " + ec.message()};
    std::vector<std::string> init = {"init", "--bare", "-q"};  // named: GCC 12 and lists in a co_await
    auto made = co_await git(std::move(init));
    if (!made.ok()) co_return made;
  }
  const std::string refspec = "+refs/heads/" + source_.branch + ":refs/heads/" + source_.branch;
  std::vector<std::string> args = {"fetch", "-q", "--no-tags", source_.git, refspec};
  auto fetched = co_await git(std::move(args), true);
  if (!fetched.ok()) co_return fetched;
  co_return co_await head();
}

asio::awaitable<GitAnswer> PlatformRepo::head() {
  std::vector<std::string> args = {"rev-parse", "--verify", "-q", "refs/heads/" + source_.branch + "^{commit}"};
  auto rev = co_await git(std::move(args));
  if (!rev.ok()) co_return GitAnswer{"", "branch " + source_.branch + " is not in the platform repository"};
  rev.value = rev.value.substr(0, rev.value.find_first_of("\r\n"));
  if (!is_commit(rev.value)) co_return GitAnswer{"", "git rev-parse gave no commit"};
  co_return rev;
}

asio::awaitable<GitAnswer> PlatformRepo::export_folder(std::string commit, std::string into) {
  if (!is_commit(commit)) co_return GitAnswer{"", "'" + escape_control(commit) + "' is not a commit (40 hex digits)"};
  std::error_code ec;
  fs::remove_all(into, ec);
  fs::create_directories(into, ec);
  if (ec) co_return GitAnswer{"", "cannot create " + into + ": " + ec.message()};
  const std::string tar = into + ".tar";
  std::vector<std::string> args = {"archive", "--format=tar", "-o", tar, commit};
  if (!source_.path.empty()) args.insert(args.end(), {"--", source_.path});
  auto archived = co_await git(std::move(args));
  if (!archived.ok()) {
    if (archived.error.find("pathspec") != std::string::npos)
      archived.error = "the commit has no folder " + source_.path + "/";
    co_return archived;
  }
  ChildRun untar;
  untar.argv = {"tar", "-xf", tar, "-C", into};
  untar.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  untar.timeout = kGitTimeout;
  const ChildExit exit = co_await run_child(std::move(untar));
  fs::remove(tar, ec);
  if (!exit.ok()) co_return GitAnswer{"", "cannot unpack the folder: " + first_line(exit.output)};
  co_return GitAnswer{source_.path.empty() ? into : (fs::path(into) / source_.path).string(), ""};
}

asio::awaitable<GitAnswer> PlatformRepo::changed_files(std::string from, std::string to) {
  if (!is_commit(from) || !is_commit(to)) co_return GitAnswer{"", "not two commits"};
  std::vector<std::string> args = {"-c", "core.quotePath=false", "diff", "--name-only", "--no-renames", from, to};
  co_return co_await git(std::move(args));
}

asio::awaitable<bool> PlatformRepo::has(std::string commit) {
  if (!is_commit(commit)) co_return false;
  std::vector<std::string> args = {"cat-file", "-e", commit + "^{commit}"};
  auto r = co_await git(std::move(args));
  co_return r.ok();
}

asio::awaitable<std::optional<bool>> PlatformRepo::descends(std::string ancestor, std::string commit) {
  if (ancestor == commit) co_return true;
  if (!is_commit(ancestor) || !is_commit(commit)) co_return std::nullopt;
  std::vector<std::string> args = {"merge-base", "--is-ancestor", ancestor, commit};
  auto r = co_await git(std::move(args));
  if (r.ok()) co_return true;
  if (r.error.find("exited with 1:") != std::string::npos) co_return false;
  co_return std::nullopt;
}

}  // namespace shipgate::orchestration
