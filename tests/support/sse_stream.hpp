// A Server-Sent Events stream read off a raw connection (GET /api/v1/events), for end-to-end tests:
// the events it sent so far, each with its id, name and JSON data.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/http.hpp"

namespace shipgate::testing {

struct Event {
  std::int64_t id = 0;
  std::string name;
  nlohmann::json data;
};

// Events in what a stream sent so far (chunk sizes between them are skipped: each chunk holds whole
// events). Events without an id (notices such as `reset` and `ended`) count with id 0.
inline std::vector<Event> parse_events(const std::string& raw) {
  std::vector<Event> out;
  static const std::regex event(R"((?:id: (\d+)\r?\n)?event: ([a-z_]+)\r?\ndata: ([^\n]*)\n)");
  for (auto it = std::sregex_iterator(raw.begin(), raw.end(), event); it != std::sregex_iterator(); ++it)
    out.push_back({(*it)[1].matched ? std::stoll((*it)[1]) : 0, (*it)[2], nlohmann::json::parse((*it)[3].str(), nullptr, false)});
  return out;
}

class EventStream {
 public:
  // `headers`: request header lines, each ending in CRLF (an Authorization or a Cookie).
  EventStream(std::uint16_t port, const std::string& headers, const std::string& last_event_id, const std::string& query,
              const std::string& source)
      : conn_(port, source) {
    std::string request = "GET /api/v1/events" + query + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + headers;
    if (!last_event_id.empty()) request += "Last-Event-ID: " + last_event_id + "\r\n";
    conn_.send(request + "\r\n");
    raw_ = conn_.read_until("\r\n\r\n", std::chrono::seconds(5));
    if (raw_.find(" 200 OK") != std::string::npos && raw_.find("retry:") == std::string::npos) raw_ += conn_.read_until("retry:", std::chrono::seconds(5));
  }
  EventStream(std::uint16_t port, const std::string& token, const std::string& last_event_id = "",
              const std::string& query = "")
      : EventStream(port, "Authorization: Bearer " + token + "\r\n", last_event_id, query, "") {}
  const std::string& raw() const { return raw_; }
  // Reads until an event satisfies `done` (or `limit` passes); returns the events up to that one.
  std::vector<Event> until(const std::function<bool(const Event&)>& done,
                           std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto events = parse_events(raw_);
      for (std::size_t i = 0; i < events.size(); ++i)
        if (done(events[i])) {
          events.resize(i + 1);
          return events;
        }
      raw_ += conn_.read_until("\n\n", std::chrono::milliseconds(500));
    }
    return parse_events(raw_);
  }
  bool closed_within(std::chrono::milliseconds t) { return conn_.closed_within(t); }

 private:
  RawConnection conn_;
  std::string raw_;
};

}  // namespace shipgate::testing
