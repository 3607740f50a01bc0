// The platform repository as shipgate keeps it: a bare copy in config_source.cache_dir, fetched with
// the `git` program, and folders exported from it at a commit. Every call has a timeout; the token goes
// to git as an HTTP header through its environment, never on a command line, in a URL or in a log.
// Runs on the caller's executor (the child processes are awaited, never waited for).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "config/config.hpp"

namespace shipgate::orchestration {

// What a git call gave: its value (a commit, a folder) or why it failed.
struct GitAnswer {
  std::string value;
  std::string error;  // empty when it worked
  bool ok() const { return error.empty(); }
};

class PlatformRepo {
 public:
  // `repository_dir`: the bare copy (config_source.cache_dir), or a checkout `shipgate check` reads.
  PlatformRepo(config::ConfigSourceConfig source, std::string repository_dir);

  // Brings the branch up to date from config_source.git (creating the copy the first time); its head.
  boost::asio::awaitable<GitAnswer> fetch();
  // The branch's head as last fetched.
  boost::asio::awaitable<GitAnswer> head();
  // The config folder at `commit`, exported into a fresh directory `into`; the folder's path.
  boost::asio::awaitable<GitAnswer> export_folder(std::string commit, std::string into);
  // The files (paths from the repository's root) that differ between two commits.
  boost::asio::awaitable<GitAnswer> changed_files(std::string from, std::string to);
  // Whether this copy has `commit`.
  boost::asio::awaitable<bool> has(std::string commit);
  // Whether `commit` is `ancestor` or one of its descendants; nothing when git cannot tell.
  boost::asio::awaitable<std::optional<bool>> descends(std::string ancestor, std::string commit);

  const config::ConfigSourceConfig& source() const { return source_; }
  // A token for HTTPS fetches when config_source names no token_file (the GitHub App's).
  void set_token(std::string token) { token_ = std::move(token); }

 private:
  boost::asio::awaitable<GitAnswer> git(std::vector<std::string> args, bool with_token = false);

  config::ConfigSourceConfig source_;
  std::string dir_;
  std::string token_;
};

bool is_commit(const std::string& s);  // 40 hexadecimal digits

}  // namespace shipgate::orchestration
