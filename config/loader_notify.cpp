// Who is told what: the notify: list and the slack: section (buttons, user mapping, response_url).
#include "config/loader_internal.hpp"

#include <cctype>
#include <cstdlib>

#include "common/text.hpp"

namespace shipgate::config::detail {

void Loader::load_notify(const YAML::Node& n, std::vector<Notifier>& out) {
  if (!n.IsSequence()) {
    error("notify", "must be a list of {url, format, events}");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = "notify[" + std::to_string(i) + "]";
    if (!is_map(n[i], path)) continue;
    Section notify(*this, n[i], path);
    Notifier nt;
    if (notify.require("url")) notify.nonempty("url", nt.url);
    if (!nt.url.empty()) check_url(nt.url, notify.at("url"));
    if (const auto format = notify.text("format")) {
      if (*format != "slack" && *format != "json") error(notify.at("format"), "must be slack or json");
      nt.slack = *format == "slack";
    }
    std::vector<std::string> events;
    notify.list("events", events);
    for (std::size_t k = 0; k < events.size(); ++k) {
      if (auto e = parse_notify_event(events[k])) nt.events.insert(*e);
      else
        error(notify.at("events") + "[" + std::to_string(k) + "]",
              "unknown event '" + events[k] + "' (pending_approval, succeeded, failed, rolled_back, override, verify_failed, drift)");
    }
    notify.list("projects", nt.projects);
    notify.nonempty("secret", nt.secret);
    notify.duration("timeout", nt.timeout);
    notify.integer("max_attempts", nt.max_attempts, 1, 100);
    notify.nonempty("ca_file", nt.tls.ca_file);
    out.push_back(std::move(nt));
  }
}

void Loader::load_slack(const YAML::Node& n, std::optional<SlackConfig>& out, const std::vector<Reviewer>& reviewers) {
  if (!is_map(n, "slack")) return;
  Section slack(*this, n, "slack");
  SlackConfig s;
  if (slack.require("signing_secret", "the Slack app's signing secret, e.g. ${SLACK_SIGNING_SECRET}"))
    slack.nonempty("signing_secret", s.signing_secret);
  if (const auto users = slack["users"]; users && is_map(users, slack.at("users"))) {
    for (const auto& kv : users) {
      const std::string id = kv.first.Scalar();
      const std::string path = join(slack.at("users"), id);
      const bool id_ok = id.size() >= 3 && id.size() <= 32 && (id[0] == 'U' || id[0] == 'W') &&
                         std::all_of(id.begin(), id.end(), [](char ch) { return std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)); });
      if (!id_ok) error(path, "a Slack user id, like U0123ABCD");
      auto name = nonempty_string(kv.second, path);
      if (!name) continue;
      if (std::none_of(reviewers.begin(), reviewers.end(), [&](const Reviewer& r) { return r.name == *name; }))
        error(path, "unknown reviewer '" + *name + "'");
      s.users[id] = *name;
    }
  }
  slack.nonempty("response_url_prefix", s.response_url_prefix);
  if (s.response_url_prefix.rfind("https://", 0) != 0 && s.response_url_prefix.rfind("http://127.0.0.1:", 0) != 0)
    error(slack.at("response_url_prefix"), "must start with https:// (or http://127.0.0.1: for a local test)");
  out = std::move(s);
}

void Loader::load_github_app(const YAML::Node& n, std::optional<GithubAppConfig>& out) {
  if (!is_map(n, "github_app")) return;
  Section app(*this, n, "github_app");
  GithubAppConfig a;
  if (app.require("app_id", "the App ID on the app's settings page")) {
    app.nonempty("app_id", a.app_id);
    if (a.app_id.size() > 20 || a.app_id.find_first_not_of("0123456789") != std::string::npos)
      error(app.at("app_id"), "must be the app's numeric id");
  }
  std::string key_file;
  if (app.require("private_key_file", "the .pem file GitHub generated for the app")) app.nonempty("private_key_file", key_file);
  std::string pem;
  if (!key_file.empty() && read_file(config_relative(key_file), app.at("private_key_file"), pem)) {
    std::string why;
    a.key = RsaKey::from_pem(pem, why);
    if (!a.key) error(app.at("private_key_file"), key_file + " " + why);
  }
  load_github_api(app, a.api_url, a.tls);
  out = std::move(a);
}

void Loader::load_github_api(Section& s, std::string& api_url, TlsClientConfig& tls) {
  if (s["api_url"]) {
    s.nonempty("api_url", api_url);
    check_url(api_url, s.at("api_url"));
    while (!api_url.empty() && api_url.back() == '/') api_url.pop_back();
  }
  s.nonempty("ca_file", tls.ca_file);
}

}  // namespace shipgate::config::detail
