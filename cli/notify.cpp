#include "cli/notify.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/blocking.hpp"
#include "cli/events.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"

namespace shipgate::cli {

namespace {

using nlohmann::json;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

const char* kNotifyUsage =
    "usage: shipgate notify --project P [--environment E] [--version V] [--sha SHA] [--ref REF]\n"
    "                       [--image COMPONENT=REFERENCE]... [--actor NAME] [--url URL]\n"
    "                       [--idempotency-key KEY] [--retries N] [--wait [--timeout SECONDS]]\n"
    "  SHIPGATE_WEBHOOK_SECRET  the webhook secret (required); SHIPGATE_URL the daemon (default http://127.0.0.1:8080)\n"
    "  SHIPGATE_TOKEN           a token that may read the project (required with --wait)\n";

struct NotifyOptions {
  std::string url, secret, token, key;
  json body = json::object();
  int retries = 5;
  bool wait = false;
  std::chrono::seconds timeout{std::chrono::minutes(30)};
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool whole_number(const std::string& s, int max_digits) {
  return !s.empty() && static_cast<int>(s.size()) <= max_digits && s.find_first_not_of("0123456789") == std::string::npos;
}

// Reads one --flag VALUE pair into `o`; false with `error` set when it is not one notify knows.
bool read_flag(const std::string& flag, const std::string& value, NotifyOptions& o, std::string& error) {
  static const std::map<std::string, std::string> kBodyFields = {
      {"--project", "project"}, {"--environment", "environment"}, {"--version", "version"},
      {"--sha", "sha"},         {"--ref", "ref"},                 {"--actor", "actor"}};
  if (auto it = kBodyFields.find(flag); it != kBodyFields.end()) {
    o.body[it->second] = value;
  } else if (flag == "--image") {
    const auto eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) return error = "--image takes COMPONENT=REFERENCE", false;
    o.body["images"][value.substr(0, eq)] = value.substr(eq + 1);
  } else if (flag == "--url") {
    o.url = value;
  } else if (flag == "--idempotency-key") {
    o.key = value;
  } else if (flag == "--retries" && whole_number(value, 2)) {
    o.retries = std::stoi(value);
  } else if (flag == "--timeout" && whole_number(value, 7)) {
    o.timeout = std::chrono::seconds(std::stoi(value));
  } else {
    error = flag == "--retries" || flag == "--timeout" ? flag + " takes a whole number" : "unknown option " + flag;
    return false;
  }
  return true;
}

// The run's own values fill what the command line left out (GitHub Actions sets them on every job).
void fill_from_environment(NotifyOptions& o) {
  const auto fill = [&](const char* field, const char* variable) {
    if (!o.body.contains(field) && !env(variable).empty()) o.body[field] = env(variable);
  };
  fill("sha", "GITHUB_SHA");
  fill("ref", "GITHUB_REF");
  fill("actor", "GITHUB_ACTOR");
  if (o.url.empty()) o.url = env("SHIPGATE_URL").empty() ? "http://127.0.0.1:8080" : env("SHIPGATE_URL");
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  o.secret = env("SHIPGATE_WEBHOOK_SECRET");
  o.token = env("SHIPGATE_TOKEN");
  if (!o.key.empty()) return;
  const std::string run = env("GITHUB_RUN_ID");
  if (run.empty()) {
    o.key = "notify-" + random_hex(16);  // one per invocation: its own retries are the repeats
    return;
  }
  const std::string attempt = env("GITHUB_RUN_ATTEMPT").empty() ? "1" : env("GITHUB_RUN_ATTEMPT");
  o.key = "github-run-" + run + "-" + attempt;
  if (o.body.contains("environment")) o.key += "-" + o.body["environment"].get<std::string>();
}

bool parse_notify(const std::vector<std::string>& args, NotifyOptions& o, std::string& error) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--wait") {
      o.wait = true;
    } else if (i + 1 >= args.size()) {
      return error = args[i] + " needs a value", false;
    } else if (!read_flag(args[i], args[i + 1], o, error)) {
      return false;
    } else {
      ++i;
    }
  }
  fill_from_environment(o);
  if (!o.body.contains("project")) return error = "--project is required", false;
  if (o.secret.empty()) return error = "SHIPGATE_WEBHOOK_SECRET is not set", false;
  if (o.wait && o.token.empty()) return error = "--wait needs SHIPGATE_TOKEN (a token that may read the project)", false;
  if (!is_token(o.key, 200)) return error = "the Idempotency-Key must be 1 to 200 visible ASCII characters", false;
  return true;
}

// POSTs the signed body, retrying connection errors and 5xx (1 s, 2 s, 4 s, ... at most 30 s apart).
std::optional<json> post_build(const NotifyOptions& o) {
  const std::string body = o.body.dump();
  http::OutboundRequest req;
  req.method = "POST";
  req.url = o.url + "/webhooks/build";
  req.body = body;
  req.headers = {{"Content-Type", "application/json"},
                 {"Idempotency-Key", o.key},
                 {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(o.secret, body)}};
  auto client = http::make_beast_http_client();
  for (int attempt = 0;; ++attempt) {
    const auto r = send_and_wait(*client, req);
    const bool retry = !r || r->status >= 500;
    if (!retry) {
      const json answer = json::parse(r->body, nullptr, false);
      if (r->status >= 200 && r->status < 300) return answer;
      const std::string why = answer.is_object() ? answer.value("message", r->body) : r->body;
      std::fprintf(stderr, "shipgate: the build notification was refused: %s (HTTP %d)\n", why.c_str(), r->status);
      return std::nullopt;
    }
    if (attempt >= o.retries) {
      std::fprintf(stderr, "shipgate: gave up after %d attempts: %s\n", attempt + 1, http::describe_failure(r).c_str());
      return std::nullopt;
    }
    const int delay = std::min(30, 1 << std::min(attempt, 5));
    std::fprintf(stderr, "shipgate: attempt %d failed (%s); retrying in %d s\n", attempt + 1,
                 http::describe_failure(r).c_str(), delay);
    std::this_thread::sleep_for(std::chrono::seconds(delay));
  }
}

// One line per deployment the notification started (or found already waiting); the ids to follow.
std::vector<std::int64_t> report(const json& answer) {
  std::vector<std::int64_t> ids;
  if (!answer.is_object() || !answer.contains("deployments") || !answer["deployments"].is_array()) return ids;
  for (const auto& d : answer["deployments"]) {
    const auto text = [&](const char* k) { return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : std::string(); };
    if (d.contains("skipped")) {
      std::printf("%s/%s: not deployed: %s\n", text("project").c_str(), text("environment").c_str(), text("skipped").c_str());
    } else if (d.contains("id") && d["id"].is_number_integer()) {
      ids.push_back(d["id"].get<std::int64_t>());
      std::printf("deployment %lld %s/%s %s: %s\n", static_cast<long long>(ids.back()), text("project").c_str(),
                  text("environment").c_str(), text("version").c_str(), text("state").c_str());
    }
  }
  std::fflush(stdout);
  return ids;
}

// GET `path` with the token: its JSON, or nothing (said on stderr) unless it answers 200.
std::optional<json> read_api(const NotifyOptions& o, const std::string& path) {
  http::OutboundRequest req;
  req.url = o.url + path;
  req.headers = {{"Authorization", "Bearer " + o.token}, {"Accept", "application/json"}};
  auto client = http::make_beast_http_client();
  const auto r = send_and_wait(*client, req);
  if (!r || r->status != 200) {
    std::fprintf(stderr, "shipgate: cannot read %s: %s\n", path.c_str(), http::describe_failure(r).c_str());
    return std::nullopt;
  }
  json body = json::parse(r->body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

// A deployment's state now ("" when it cannot be read).
std::string state_now(const NotifyOptions& o, std::int64_t id) {
  const auto d = read_api(o, "/api/v1/deployments/" + std::to_string(id));
  return d && d->contains("state") && (*d)["state"].is_string() ? (*d)["state"].get<std::string>() : "";
}

// The newest audit entry's id: following a deployment from it replays whatever happens after.
std::optional<std::int64_t> newest_event(const NotifyOptions& o) {
  const auto body = read_api(o, "/api/v1/audit?limit=1");
  if (!body) return std::nullopt;
  if (!body->contains("entries") || !(*body)["entries"].is_array() || (*body)["entries"].empty()) return 0;
  return (*body)["entries"].back().value("id", std::int64_t{0});
}

}  // namespace

int run_notify(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return std::fputs(kNotifyUsage, stdout), kOk;
  NotifyOptions o;
  std::string error;
  if (!parse_notify(args, o, error)) {
    std::fprintf(stderr, "shipgate: %s\n%s", error.c_str(), kNotifyUsage);
    return kUsage;
  }
  const auto answer = post_build(o);
  if (!answer) return kFailed;
  const auto ids = report(*answer);
  if (!o.wait) return kOk;
  // Read in this order: a deployment's state after the newest event, so whatever ends it later is an
  // event after that one, replayed when the stream is opened.
  const auto before = newest_event(o);
  if (!before) return kFailed;
  int outcome = kOk;
  for (const auto id : ids) {
    // It may have ended already (or long ago, for a repeated notification): its state says so.
    const std::string state = state_now(o, id);
    if (is_final_state(state)) {
      std::printf("deployment %lld: %s\n", static_cast<long long>(id), state.c_str());
      if (state != "succeeded") outcome = kFailed;
      continue;
    }
    FollowOptions f{o.url, o.token, id, *before, true, false, o.timeout};
    if (follow_events(f) != kOk) outcome = kFailed;
  }
  return outcome;
}

}  // namespace shipgate::cli
