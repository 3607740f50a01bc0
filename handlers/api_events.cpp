// GET /api/v1/events: Server-Sent Events of every audit entry the reviewer may see, live. The event id is
// the audit entry's id, so a client that reconnects with Last-Event-ID (browsers do so by themselves)
// first receives every entry it missed, from the store, then the live ones. Without Last-Event-ID the
// stream starts at the present. `?deployment=ID` or `?project=NAME` narrow it.
#include "handlers/api_call.hpp"
#include "handlers/app.hpp"
#include "handlers/params.hpp"
#include "orchestration/event_feed.hpp"

namespace shipgate::handlers {

namespace {

constexpr int kBatch = 200;

struct EventFilter {
  std::int64_t deployment = 0;
  std::string project;
};

bool visible(const config::Reviewer& reviewer, const EventFilter& filter, const orchestration::AuditEntry& e) {
  if (filter.deployment > 0 && e.deployment != filter.deployment) return false;
  if (!filter.project.empty() && e.project != filter.project) return false;
  // As in the audit API: entries of no project concern the whole daemon.
  return e.project.empty() ? reviewer.projects.empty() : reviewer.may(config::Permission::view, e.project);
}

std::string event_text(const orchestration::AuditEntry& e) {
  return "id: " + std::to_string(e.id) + "\nevent: " + std::string(to_string(e.action)) +
         "\ndata: " + orchestration::to_json(e).dump() + "\n\n";
}

boost::asio::awaitable<void> stream_events(orchestration::EventFeed& feed, const config::Reviewer* reviewer, EventFilter filter,
                                           std::int64_t last, std::chrono::milliseconds keep_alive, http::ChunkSink& sink) {
  if (!co_await sink.write("retry: 2000\n\n")) co_return;
  for (;;) {
    auto batch = co_await feed.after(last, kBatch);
    if (!batch) {
      // The store cannot be read now: say so, and let the client reconnect from where it is.
      co_await sink.write("event: unavailable\ndata: {\"error\":\"store read failed\"}\n\n");
      co_return;
    }
    std::string text;
    for (const auto& e : *batch) {
      last = e.id;
      if (visible(*reviewer, filter, e)) text += event_text(e);
    }
    if (!text.empty() && !co_await sink.write(std::move(text))) co_return;
    if (static_cast<int>(batch->size()) == kBatch) continue;  // catching up: no waiting
    const auto wake = co_await feed.wait(last, keep_alive);
    if (wake == orchestration::EventFeed::Wake::closed) co_return;  // the daemon drains
    if (wake == orchestration::EventFeed::Wake::quiet && !co_await sink.write(": keep-alive\n\n")) co_return;
  }
}

boost::asio::awaitable<Response> events(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  if (!app.events) co_return error_response(501, "not_implemented", "this daemon serves no event stream");
  EventFilter filter;
  if (auto d = req.query_param("deployment"); !d.empty()) {
    const auto id = parse_integer(d, 1, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "deployment must be a deployment id");
    filter.deployment = *id;
  }
  filter.project = req.query_param("project");
  if (!filter.project.empty() && !find_project(*call, filter.project, error)) co_return error;
  std::int64_t last = 0;
  if (auto resume = req.header("Last-Event-ID"); !resume.empty()) {
    const auto id = parse_integer(resume, 0, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "Last-Event-ID must be an event id");
    last = *id;
  } else {
    auto head = co_await app.events->head();
    if (!head) co_return store_failure(head.error());
    last = *head;
  }
  Response res;
  res.content_type = "text/event-stream";
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: pass each event on at once
  // The stream holds the config it was opened under: the reviewer lives there, even after a reload.
  res.stream = [feed = app.events, config = call->config, reviewer = call->reviewer, filter, last,
                keep_alive = app.events_keep_alive](http::ChunkSink& sink) {
    return stream_events(*feed, reviewer, filter, last, keep_alive, sink);
  };
  co_return res;
}

}  // namespace

void add_event_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/events", RouteKind::api, [&app](Request& r) { return events(app, r); });
}

}  // namespace shipgate::handlers
