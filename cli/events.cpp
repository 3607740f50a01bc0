#include "cli/events.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "http/http_client.hpp"

namespace shipgate::cli {

namespace {

using nlohmann::json;

struct Event {
  std::int64_t id = 0;
  std::string name;
  json data;
};

// Splits a Server-Sent Events stream into events as its bytes arrive (lines, a blank line ends one).
class EventParser {
 public:
  template <class OnEvent>
  void feed(std::string_view bytes, OnEvent&& on_event) {
    buffer_.append(bytes);
    std::size_t end;
    while ((end = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!current_.name.empty()) on_event(current_);
        current_ = Event{};
      } else if (line.rfind("id: ", 0) == 0) {
        current_.id = std::strtoll(line.c_str() + 4, nullptr, 10);
      } else if (line.rfind("event: ", 0) == 0) {
        current_.name = line.substr(7);
      } else if (line.rfind("data: ", 0) == 0) {
        current_.data = json::parse(line.substr(6), nullptr, false);
      }
    }
  }

 private:
  std::string buffer_;
  Event current_;
};

std::string field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void print(const Event& e, bool as_json) {
  if (as_json) {
    std::printf("%s\n", e.data.dump().c_str());
  } else {
    std::string what = e.name;
    if (e.name == "transition" || e.name == "created") {
      const auto& d = e.data.value("details", json::object());
      what = field(d, "from").empty() ? "-> " + field(d, "to") : field(d, "from") + " -> " + field(d, "to");
    }
    std::printf("%s deployment %s %s/%s %s by %s: %s\n", field(e.data, "at").c_str(), field(e.data, "deployment").c_str(),
                field(e.data, "project").c_str(), field(e.data, "environment").c_str(), what.c_str(),
                field(e.data, "actor").c_str(), field(e.data, "reason").c_str());
  }
  std::fflush(stdout);
}

std::optional<std::string> final_state_of(const Event& e, std::int64_t deployment) {
  if (e.name != "transition" || e.data.value("deployment", std::int64_t{0}) != deployment) return std::nullopt;
  const std::string to = field(e.data.value("details", json::object()), "to");
  if (!is_final_state(to)) return std::nullopt;
  return to;
}

}  // namespace

bool is_final_state(const std::string& s) {
  for (const char* f : {"succeeded", "failed", "rolled_back", "cancelled", "rejected", "expired", "superseded"})
    if (s == f) return true;
  return false;
}

int follow_events(const FollowOptions& o) {
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  std::int64_t last = o.after;
  int failures = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    http::OutboundRequest req;
    req.url = o.url + "/api/v1/events" + (o.deployment > 0 ? "?deployment=" + std::to_string(o.deployment) : "");
    req.headers = {{"Accept", "text/event-stream"}};
    if (!o.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + o.token);
    if (last > 0) req.headers.emplace_back("Last-Event-ID", std::to_string(last));
    req.timeout = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    boost::asio::io_context ioc;
    EventParser parser;
    std::optional<std::string> finished;
    bool streamed = false;
    req.on_body = [&](std::string_view bytes) {
      streamed = true;
      parser.feed(bytes, [&](const Event& e) {
        if (finished) return;
        last = e.id;
        print(e, o.json);
        if (o.until_finished) finished = final_state_of(e, o.deployment);
      });
      if (finished) ioc.stop();  // enough: the exchange is abandoned with its io_context
    };
    std::optional<http::HttpResult> result;
    auto client = http::make_beast_http_client();
    boost::asio::co_spawn(ioc, client->send(std::move(req)), [&](std::exception_ptr, http::HttpResult r) { result = std::move(r); });
    ioc.run();
    if (finished) return *finished == "succeeded" ? 0 : 1;
    if (result && *result && (*result)->status != 200) {
      std::fprintf(stderr, "shipgate: the event stream answered HTTP %d: %s\n", (*result)->status, (*result)->body.c_str());
      return 1;
    }
    // The stream ended (a daemon restarting, a proxy's timeout): resume from the last event seen.
    failures = streamed ? 0 : failures + 1;
    if (failures >= 5) {
      std::fprintf(stderr, "shipgate: cannot reach %s's event stream\n", o.url.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(std::min(failures + 1, 5)));
  }
  std::fprintf(stderr, "shipgate: gave up waiting\n");
  return 1;
}

}  // namespace shipgate::cli
