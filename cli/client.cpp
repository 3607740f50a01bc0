#include "cli/client.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/blocking.hpp"
#include "cli/events.hpp"
#include "cli/status_view.hpp"
#include "common/text.hpp"
#include "http/http_client.hpp"

namespace shipgate::cli {

using nlohmann::json;

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

const char* kUsageText =
    "client commands (SHIPGATE_URL, default http://127.0.0.1:8080; SHIPGATE_TOKEN):\n"
    "  shipgate status [PROJECT [ENV]]\n"
    "  shipgate deployments [--project P] [--environment E] [--state S] [--limit N]\n"
    "  shipgate deploy PROJECT ENV VERSION [--confirm PHRASE] [--override REASON] [--wait]\n"
    "  shipgate watch [ID]              follow events live (of one deployment, until it finishes)\n"
    "  shipgate approve ID [-m TEXT]\n"
    "  shipgate reject ID -m TEXT\n"
    "  shipgate cancel ID [-m TEXT]\n"
    "  shipgate rollback PROJECT ENV [--reason TEXT]\n"
    "  shipgate audit [--since RFC3339] [--limit N]\n"
    "  shipgate reload                  re-read the daemon's config file (like SIGHUP)\n"
    "options: --url URL, --token TOKEN, --json (print the server's JSON)\n";

struct Options {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  bool json = false;
  bool wait = false;
  std::string url;
  std::string token;
};

// Flags that take a value; everything else starting with '-' is an error.
bool parse(const std::vector<std::string>& args, Options& o, std::string& error) {
  static const std::map<std::string, std::string> kAliases = {
      {"-m", "message"},        {"--message", "message"}, {"--comment", "message"}, {"--confirm", "confirm"},
      {"--override", "override"}, {"--reason", "reason"},  {"--project", "project"}, {"--environment", "environment"},
      {"--state", "state"},     {"--limit", "limit"},     {"--since", "since"},     {"--url", "url"},
      {"--token", "token"}};
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--wait") {
      o.wait = true;
    } else if (auto it = kAliases.find(a); it != kAliases.end()) {
      if (i + 1 >= args.size()) {
        error = a + " needs a value";
        return false;
      }
      o.flags[it->second] = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      error = "unknown option " + a;
      return false;
    } else {
      o.positional.push_back(a);
    }
  }
  const char* env_url = std::getenv("SHIPGATE_URL");
  const char* env_token = std::getenv("SHIPGATE_TOKEN");
  o.url = o.flags.count("url") ? o.flags["url"] : env_url ? env_url : "http://127.0.0.1:8080";
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  o.token = o.flags.count("token") ? o.flags["token"] : env_token ? env_token : "";
  return true;
}

struct Answer {
  int status = 0;
  json body;
};

// One API call; prints the failure and returns nullopt unless the answer is 2xx.
std::optional<Answer> call(const Options& o, const std::string& method, const std::string& path, const json* body = nullptr) {
  http::OutboundRequest req;
  req.method = method;
  req.url = o.url + path;
  req.timeout = std::chrono::seconds(30);
  if (!o.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + o.token);
  req.headers.emplace_back("Accept", "application/json");
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  auto client = http::make_beast_http_client();
  const auto result = send_and_wait(*client, std::move(req));
  if (!result) {
    std::fprintf(stderr, "shipgate: cannot reach %s: %s\n", o.url.c_str(), result.error().message().c_str());
    return std::nullopt;
  }
  Answer a{result->status, json::parse(result->body, nullptr, false)};
  if (a.status < 200 || a.status >= 300) {
    const std::string message = a.body.is_object() ? a.body.value("message", result->body) : result->body;
    std::fprintf(stderr, "shipgate: %s (HTTP %d)\n", message.c_str(), a.status);
    if (a.body.is_object() && a.body.contains("errors") && a.body["errors"].is_array())
      for (const auto& e : a.body["errors"]) std::fprintf(stderr, "  %s\n", e.is_string() ? e.get<std::string>().c_str() : e.dump().c_str());
    return std::nullopt;
  }
  return a;
}

int status(const Options& o) {
  const auto& p = o.positional;
  if (p.size() > 2) return std::fputs(kUsageText, stderr), kUsage;
  if (p.empty()) {
    auto a = call(o, "GET", "/api/v1/projects");
    if (!a) return kFailed;
    if (o.json) return std::printf("%s\n", a->body.dump(2).c_str()), kOk;
    print_overview(a->body);
    return kOk;
  }
  std::vector<std::string> envs;
  if (p.size() == 2) {
    envs.push_back(p[1]);
  } else {
    auto a = call(o, "GET", "/api/v1/projects");
    if (!a) return kFailed;
    for (const auto& proj : a->body["projects"])
      if (proj["name"] == p[0])
        for (const auto& e : proj["environments"]) envs.push_back(e["name"]);
    if (envs.empty()) return std::fprintf(stderr, "shipgate: no project %s\n", p[0].c_str()), kFailed;
  }
  json all = json::array();
  for (const auto& e : envs) {
    auto a = call(o, "GET", "/api/v1/projects/" + percent_encode(p[0]) + "/environments/" + percent_encode(e));
    if (!a) return kFailed;
    if (o.json) {
      all.push_back(a->body);
      continue;
    }
    print_environment(p[0], e, a->body);
  }
  if (o.json) std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
  return kOk;
}

int deployments(const Options& o) {
  if (!o.positional.empty()) return std::fputs(kUsageText, stderr), kUsage;
  std::string query;
  for (const char* key : {"project", "environment", "state", "limit"})
    if (auto it = o.flags.find(key); it != o.flags.end()) query += (query.empty() ? "?" : "&") + std::string(key) + "=" + percent_encode(it->second);
  auto a = call(o, "GET", "/api/v1/deployments" + query);
  if (!a) return kFailed;
  if (o.json) return std::printf("%s\n", a->body.dump(2).c_str()), kOk;
  print_deployments(a->body["deployments"]);
  return kOk;
}

int print_created(const Options& o, const Answer& a) {
  if (o.json) return std::printf("%s\n", a.body.dump(2).c_str()), kOk;
  for (const auto& d : a.body["deployments"]) {
    if (d.contains("skipped")) {
      std::printf("%s/%s %s: not deployed: %s\n", text(d, "project").c_str(), text(d, "environment").c_str(),
                  text(d, "version").c_str(), text(d, "skipped").c_str());
      continue;
    }
    std::printf("deployment %s %s/%s %s: %s%s\n", text(d, "id").c_str(), text(d, "project").c_str(),
                text(d, "environment").c_str(), short_version(text(d, "version")).c_str(), text(d, "state").c_str(),
                d.value("existing", false) ? " (already waiting)" : "");
  }
  return kOk;
}

// The newest audit entry's id: events after it are what happens from now on.
std::optional<std::int64_t> newest_event(const Options& o) {
  auto a = call(o, "GET", "/api/v1/audit?limit=1");
  if (!a) return std::nullopt;
  const auto& entries = a->body["entries"];
  return entries.empty() ? std::int64_t{0} : entries.back().value("id", std::int64_t{0});
}

// Follows deployment `id` until it finishes; events after `after` are replayed first.
int follow(const Options& o, std::int64_t id, std::int64_t after) {
  FollowOptions f{o.url, o.token, id, after, true, o.json};
  return follow_events(f);
}

int deploy(const Options& o) {
  if (o.positional.size() != 3) return std::fputs(kUsageText, stderr), kUsage;
  json body = {{"project", o.positional[0]}, {"environment", o.positional[1]}, {"version", o.positional[2]}};
  if (auto it = o.flags.find("confirm"); it != o.flags.end()) body["confirm"] = it->second;
  if (auto it = o.flags.find("override"); it != o.flags.end()) body["override"] = {{"reason", it->second}};
  const auto before = o.wait ? newest_event(o) : std::optional<std::int64_t>(0);
  if (!before) return kFailed;
  auto a = call(o, "POST", "/api/v1/deployments", &body);
  if (!a) return kFailed;
  print_created(o, *a);
  if (!o.wait) return kOk;
  for (const auto& d : a->body["deployments"])
    if (d.contains("id") && !d.contains("skipped")) return follow(o, d["id"].get<std::int64_t>(), *before);
  return kFailed;  // nothing was created to wait for
}

int watch(const Options& o) {
  if (o.positional.size() > 1) return std::fputs(kUsageText, stderr), kUsage;
  const auto before = newest_event(o);
  if (!before) return kFailed;
  if (o.positional.empty()) {
    FollowOptions f{o.url, o.token, 0, *before, false, o.json};
    return follow_events(f);
  }
  const std::string& id_text = o.positional[0];
  if (id_text.empty() || id_text.size() > 18 || id_text.find_first_not_of("0123456789") != std::string::npos)
    return std::fputs("shipgate: watch takes a deployment id\n", stderr), kUsage;
  // Its state now, read after `before`: what happened earlier is in it, what happens later is streamed.
  auto a = call(o, "GET", "/api/v1/deployments/" + id_text);
  if (!a) return kFailed;
  const std::string state = text(a->body, "state");
  std::printf("deployment %s %s/%s %s: %s\n", id_text.c_str(), text(a->body, "project").c_str(),
              text(a->body, "environment").c_str(), short_version(text(a->body, "version")).c_str(), state.c_str());
  if (is_final_state(state)) return state == "succeeded" ? kOk : kFailed;
  return follow(o, std::stoll(id_text), *before);
}

int act(const Options& o, const std::string& action) {
  if (o.positional.size() != 1) return std::fputs(kUsageText, stderr), kUsage;
  json body = json::object();
  if (auto it = o.flags.find("message"); it != o.flags.end()) body[action == "cancel" ? "reason" : "comment"] = it->second;
  if (action == "reject" && !body.contains("comment"))
    return std::fputs("shipgate: reject needs -m TEXT (why)\n", stderr), kUsage;
  auto a = call(o, "POST", "/api/v1/deployments/" + percent_encode(o.positional[0]) + "/" + action, &body);
  if (!a) return kFailed;
  if (o.json) return std::printf("%s\n", a->body.dump(2).c_str()), kOk;
  std::string line = "deployment " + text(a->body, "id") + ": " + text(a->body, "state");
  if (a->body.contains("approvals")) line += " (" + text(a->body, "approvals") + " of " + text(a->body, "required") + " approvals)";
  if (a->body.contains("message")) line += "; " + text(a->body, "message");
  std::printf("%s\n", line.c_str());
  return kOk;
}

int rollback(const Options& o) {
  if (o.positional.size() != 2) return std::fputs(kUsageText, stderr), kUsage;
  json body = json::object();
  if (auto it = o.flags.find("reason"); it != o.flags.end()) body["reason"] = it->second;
  auto a = call(o, "POST", "/api/v1/projects/" + percent_encode(o.positional[0]) + "/environments/" + percent_encode(o.positional[1]) +
                               "/rollback", &body);
  return a ? print_created(o, *a) : kFailed;
}

int audit(const Options& o) {
  if (!o.positional.empty()) return std::fputs(kUsageText, stderr), kUsage;
  std::string query;
  for (const char* key : {"since", "limit"})
    if (auto it = o.flags.find(key); it != o.flags.end()) query += (query.empty() ? "?" : "&") + std::string(key) + "=" + percent_encode(it->second);
  auto a = call(o, "GET", "/api/v1/audit" + query);
  if (!a) return kFailed;
  if (o.json) return std::printf("%s\n", a->body.dump(2).c_str()), kOk;
  std::vector<std::vector<std::string>> rows = {{"AT", "ACTOR", "ACTION", "WHERE", "DEPLOYMENT", "REASON"}};
  for (const auto& e : a->body["entries"]) {
    std::string where = e.contains("project") ? text(e, "project") + "/" + text(e, "environment") : "-";
    std::string action = text(e, "action");
    if (action == "transition" && e.contains("details")) action += " " + text(e["details"], "from") + "->" + text(e["details"], "to");
    rows.push_back({text(e, "at"), text(e, "actor"), action, where, text(e, "deployment"), text(e, "reason")});
  }
  table(rows);
  return kOk;
}

int reload(const Options& o) {
  if (!o.positional.empty()) return std::fputs(kUsageText, stderr), kUsage;
  const json body = json::object();
  auto a = call(o, "POST", "/api/v1/reload", &body);
  if (!a) return kFailed;
  if (o.json) return std::printf("%s\n", a->body.dump(2).c_str()), kOk;
  std::printf("config %s -> %s%s\n", text(a->body, "from_sha256").substr(0, 12).c_str(),
              text(a->body, "to_sha256").substr(0, 12).c_str(), a->body.value("changed", false) ? "" : " (file unchanged)");
  for (const char* key : {"added_projects", "removed_projects", "cancelled", "needs_restart"})
    if (a->body.contains(key)) std::printf("%s: %s\n", key, a->body[key].dump().c_str());
  return kOk;
}

}  // namespace

int healthcheck(const std::string& base_url) {
  Options o;
  o.url = base_url;
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  auto a = call(o, "GET", "/healthz");
  return a && a->status == 200 ? kOk : kFailed;
}

bool is_client_command(const std::string& c) {
  for (const char* name : {"status", "deployments", "deploy", "approve", "reject", "cancel", "rollback", "audit", "reload",
                           "watch"})
    if (c == name) return true;
  return false;
}

int run_client(const std::vector<std::string>& args) {
  Options o;
  std::string error;
  if (!parse(args, o, error)) {
    std::fprintf(stderr, "shipgate: %s\n%s", error.c_str(), kUsageText);
    return kUsage;
  }
  const auto& c = args[0];
  if (c == "status") return status(o);
  if (c == "deployments") return deployments(o);
  if (c == "deploy") return deploy(o);
  if (c == "approve" || c == "reject" || c == "cancel") return act(o, c);
  if (c == "rollback") return rollback(o);
  if (c == "audit") return audit(o);
  if (c == "reload") return reload(o);
  if (c == "watch") return watch(o);
  std::fputs(kUsageText, stderr);
  return kUsage;
}

}  // namespace shipgate::cli
