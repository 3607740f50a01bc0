#include "deploy/kube_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_read.hpp"
#include "deploy/kube_credentials.hpp"

#include <algorithm>
#include <cctype>

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// One event line is one object; a Deployment is a few KiB. Anything far larger is not an event.
constexpr std::size_t kMaxLine = 16u << 20;

std::string version_of(const json& object) {
  // A resourceVersion is an opaque string the server gives back in the next request's URL: only a short
  // one of URL-safe characters is taken.
  auto v = json_read::text(json_read::object(object, "metadata"), "resourceVersion");
  const bool safe = v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  return safe ? v : std::string();
}

}  // namespace

std::string object_name(const json& object) {
  return json_read::text(json_read::object(object, "metadata"), "name");
}

std::vector<WatchStream::Event> WatchStream::feed(std::string_view bytes) {
  std::vector<Event> out;
  pending_.append(bytes);
  std::size_t start = 0;
  for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
    auto line = json::parse(std::string_view(pending_).substr(start, nl - start), nullptr, false);
    start = nl + 1;
    auto type = json_read::text_if(line, "type");
    if (type && json_read::member(line, "object") && line["object"].is_object())
      out.push_back({std::move(*type), std::move(line["object"])});
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxLine) pending_.clear();
  return out;
}

asio::awaitable<DeploymentList> list_deployments(http::HttpClient& http, const config::KubernetesTargetConfig& cfg) {
  DeploymentList out;
  http::OutboundRequest req;
  req.timeout = Millis(30'000);
  if (auto error = prepare_kube_request(cfg, "/apis/apps/v1/namespaces/" + cfg.namespace_ + "/deployments", req);
      !error.empty()) {
    out.error = "kubernetes credentials: " + error;
    co_return out;
  }
  auto r = co_await http.send(std::move(req));
  if (!r || r->status != 200) {
    out.error = "cannot list Deployments in namespace " + cfg.namespace_ + ": " + http::describe_failure(r);
    co_return out;
  }
  auto list = json_read::parse(r->body);
  if (!json_read::member(list, "items") || !list["items"].is_array()) {
    out.error = "the Deployment list of namespace " + cfg.namespace_ + " is not a DeploymentList";
    co_return out;
  }
  out.version = version_of(list);
  if (out.version.empty()) {
    out.error = "the Deployment list of namespace " + cfg.namespace_ + " has no resourceVersion";
    co_return out;
  }
  // Only objects are Deployments; anything else in the list is left out.
  for (auto& item : list["items"])
    if (item.is_object()) out.items.push_back(std::move(item));
  co_return out;
}

namespace {

// How one watch request ended.
struct WatchRound {
  bool expired = false;  // the server no longer has the version watched from: list again
  bool any = false;      // events (or bookmarks) arrived
  std::string failure;   // why it failed; empty when it ended as a watch ends
};

// Watches from `version` for `seconds` (the server ends the stream then), handing each event on and
// keeping `version` at the newest one seen.
asio::awaitable<WatchRound> watch_once(http::HttpClient& http, const config::KubernetesTargetConfig& cfg,
                                       std::string& version, long long seconds, const WatchHandlers& h) {
  WatchRound round;
  http::OutboundRequest req;
  req.timeout = std::chrono::seconds(seconds + 15);
  const std::string path = "/apis/apps/v1/namespaces/" + cfg.namespace_ + "/deployments";
  if (auto error = prepare_kube_request(cfg, path + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + version +
                                                 "&timeoutSeconds=" + std::to_string(seconds), req);
      !error.empty()) {
    round.failure = "kubernetes credentials: " + error;
    co_return round;
  }
  WatchStream stream;
  std::string refused, head;  // head: the answer's start, to explain a refusal (a Status, not events)
  req.on_body = [&](std::string_view bytes) {
    if (head.size() < 300) head.append(bytes.substr(0, 300 - head.size()));
    for (auto& e : stream.feed(bytes)) {
      if (e.type == "ERROR") {
        // The API server reports a version it no longer has as an ERROR event with a 410 Status.
        if (json_read::integer(e.object, "code") == 410) round.expired = true;
        else refused = json_read::text(e.object, "message", "watch error").substr(0, 300);
        continue;
      }
      if (const auto v = version_of(e.object); !v.empty()) version = v;
      round.any = true;
      if (e.type != "BOOKMARK" && h.event) h.event(e.type, e.object);
    }
  };
  auto r = co_await http.send(req);
  if (round.expired || (r && r->status == 410)) {
    round.expired = true;
    co_return round;
  }
  if (!r || r->status != 200 || !refused.empty()) {
    std::string why = refused;
    if (why.empty() && r) {
      const auto status = json_read::parse(head);
      why = "HTTP " + std::to_string(r->status) + (status.is_object() ? ": " + json_read::text(status, "message") : "");
    }
    if (why.empty()) why = http::describe_failure(r);
    round.failure = "watching Deployments in namespace " + cfg.namespace_ + ": " + why;
  }
  co_return round;
}

}  // namespace

asio::awaitable<void> watch_deployments(http::HttpClient& http, const config::KubernetesTargetConfig& cfg, Millis relist,
                                        WatchHandlers h) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::string version;  // empty: list first
  auto next_list = std::chrono::steady_clock::now();
  Millis backoff{1'000};
  auto wait = [&](Millis how_long) -> asio::awaitable<void> {
    pause.expires_after(how_long);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  };
  auto failed = [&](std::string why) -> asio::awaitable<void> {
    if (h.trouble) h.trouble(why);
    if (h.stopped()) co_return;  // told to stop meanwhile: no reason to sleep first
    co_await wait(backoff);
    backoff = std::min(backoff * 2, Millis(30'000));
  };
  while (!h.stopped()) {
    if (version.empty() || std::chrono::steady_clock::now() >= next_list) {
      auto list = co_await list_deployments(http, cfg);
      if (!list.error.empty()) {
        co_await failed(list.error);
        continue;
      }
      version = list.version;
      if (h.listed) h.listed(list.items);
      next_list = std::chrono::steady_clock::now() + relist;
      backoff = Millis(1'000);
    }
    // Watch until the next list is due; the server ends the stream then.
    const auto seconds = std::max<long long>(
        1, std::chrono::duration_cast<std::chrono::seconds>(next_list - std::chrono::steady_clock::now()).count());
    const auto started = std::chrono::steady_clock::now();
    const WatchRound round = co_await watch_once(http, cfg, version, seconds, h);
    if (round.expired) {
      version.clear();  // list again now
      continue;
    }
    if (!round.failure.empty()) {
      co_await failed(round.failure);
      continue;
    }
    backoff = Millis(1'000);
    // A server that ends every watch at once must not turn this into a busy loop.
    if (!round.any && std::chrono::steady_clock::now() - started < std::chrono::seconds(1) && !h.stopped())
      co_await wait(Millis(1'000));
  }
}

}  // namespace shipgate::deploy
