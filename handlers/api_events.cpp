// GET /api/v1/events: Server-Sent Events of every audit entry the reviewer may see, live. The event id is
// the audit entry's id, so a client that reconnects with Last-Event-ID (browsers do so by themselves)
// first receives every entry it missed, from the store, then the live ones. Without Last-Event-ID the
// stream starts at the present. `?deployment=ID` or `?project=NAME` narrow it.
//
// A stream costs the daemon little whatever the caller asks: it catches up at most kMaxCatchUp entries
// (further back, a `reset` event tells the client to read the API again and the stream goes on from the
// present), in batches read off the I/O threads with a yield between them; and it speaks for its
// caller only while the caller's token or session holds: checked every kRecheck and after every reload,
// it ends with an `ended` event when the session ended, the token changed or the project went away.
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "handlers/api_call.hpp"
#include "handlers/app.hpp"
#include "handlers/params.hpp"
#include "orchestration/event_feed.hpp"

namespace shipgate::handlers {

namespace {

constexpr int kBatch = 200;
constexpr std::int64_t kMaxCatchUp = 10'000;
constexpr std::chrono::milliseconds kRecheck{3'000};

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

std::string notice(std::string_view event, std::string_view error, const std::string& message) {
  nlohmann::json data = {{"error", error}, {"message", message}};
  return "event: " + std::string(event) + "\ndata: " + data.dump() + "\n\n";
}

// One open stream: who it speaks for, what it shows, and where it is in the log.
class EventStream {
 public:
  EventStream(const App& app, const ApiCall& opened, Request credentials, EventFilter filter, std::int64_t last, bool resumed)
      : app_(app), credentials_(std::move(credentials)), filter_(std::move(filter)), last_(last), resumed_(resumed),
        config_(opened.config), reviewer_(opened.reviewer), checked_at_(std::chrono::steady_clock::now()) {}

  // The stream's coroutine owns its state: the answer that started it may be gone before it ends.
  static boost::asio::awaitable<void> serve(std::shared_ptr<EventStream> self, http::ChunkSink& sink) {
    co_await self->run(sink);
  }

 private:
  boost::asio::awaitable<void> run(http::ChunkSink& sink) {
    if (!co_await sink.write("retry: 2000\n\n")) co_return;
    if (resumed_ && !co_await bound_catch_up(sink)) co_return;
    auto quiet_since = std::chrono::steady_clock::now();
    for (;;) {
      auto batch = co_await app_.events->after(last_, kBatch);
      if (!batch) {
        // The store cannot be read now: say so, and let the client reconnect from where it is.
        co_await sink.write("event: unavailable\ndata: {\"error\":\"store read failed\"}\n\n");
        co_return;
      }
      std::string text;
      for (const auto& e : *batch) {
        last_ = e.id;
        if (visible(*reviewer_, filter_, e)) text += event_text(e);
      }
      if (!text.empty()) {
        if (!co_await sink.write(std::move(text))) co_return;
        quiet_since = std::chrono::steady_clock::now();
      }
      if (!co_await still_allowed(sink)) co_return;
      if (static_cast<int>(batch->size()) == kBatch) {
        // Catching up: let the other work on this thread go first, then read on.
        co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
        continue;
      }
      const auto wake = co_await app_.events->wait(last_, std::min(app_.events_keep_alive, kRecheck));
      if (wake == orchestration::EventFeed::Wake::closed) co_return;  // the daemon drains
      if (wake == orchestration::EventFeed::Wake::quiet &&
          std::chrono::steady_clock::now() - quiet_since >= app_.events_keep_alive) {
        if (!co_await sink.write(": keep-alive\n\n")) co_return;
        quiet_since = std::chrono::steady_clock::now();
      }
    }
  }

  // A client that comes back from further than kMaxCatchUp entries is told to read the API again.
  boost::asio::awaitable<bool> bound_catch_up(http::ChunkSink& sink) {
    auto head = co_await app_.events->head();
    if (!head || *head - last_ <= kMaxCatchUp) co_return true;
    last_ = *head;
    co_return co_await sink.write(notice("reset", "too_far_behind",
                                         "more than " + std::to_string(kMaxCatchUp) + " entries were missed; read the "
                                         "API for the present state (GET /api/v1/audit pages back); live from here"));
  }

  // Checks the caller's credential again after a reload, or when kRecheck has passed; false (and an
  // `ended` event) when it no longer holds.
  boost::asio::awaitable<bool> still_allowed(http::ChunkSink& sink) {
    const auto config = app_.config();
    const auto now = std::chrono::steady_clock::now();
    if (config == config_ && now - checked_at_ < kRecheck) co_return true;
    config_ = config;
    checked_at_ = now;
    Response refused;
    reviewer_ = co_await caller(app_, *config_, credentials_, refused);
    if (!reviewer_ && refused.status == 503) {
      // The store cannot say now: the client reconnects from where it is, and is asked again then.
      co_await sink.write("event: unavailable\ndata: {\"error\":\"store read failed\"}\n\n");
      co_return false;
    }
    std::string why;
    if (!reviewer_) why = "the session or token this stream was opened with no longer holds; sign in again";
    else if (!filter_.project.empty() && !reviewer_->may(config::Permission::view, filter_.project))
      why = "project " + filter_.project + " is no longer one you can view";
    if (why.empty()) co_return true;
    co_await sink.write(notice("ended", "unauthorized", why));
    co_return false;
  }

  const App& app_;
  Request credentials_;  // the headers the stream was opened with, to authenticate again
  EventFilter filter_;
  std::int64_t last_;
  bool resumed_;
  config::ConfigPtr config_;  // the config the credential was last checked under (it holds reviewer_)
  const config::Reviewer* reviewer_ = nullptr;
  std::chrono::steady_clock::time_point checked_at_{};
};

// The request's credential alone: what the stream needs to authenticate again later.
Request credentials_of(const Request& req) {
  Request out;
  out.method = "GET";
  out.over_tls = req.over_tls;
  for (const char* name : {"Authorization", "Cookie"})
    if (req.has_header(name)) out.headers.emplace_back(name, std::string(req.header(name)));
  return out;
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
    // A deployment that does not exist (or that the caller may not view) has nothing to stream.
    auto found = co_await app.store->deployment(*id, false);
    if (!found) co_return store_failure(found.error());
    if (!*found || !call->reviewer->may(config::Permission::view, (*found)->project))
      co_return error_response(404, "not_found", "no deployment " + std::to_string(*id));
    filter.deployment = *id;
  }
  filter.project = req.query_param("project");
  if (!filter.project.empty() && !find_project(*call, filter.project, error)) co_return error;
  std::int64_t last = 0;
  const bool resumed = req.has_header("Last-Event-ID");
  if (resumed) {
    const auto id = parse_integer(req.header("Last-Event-ID"), 0, INT64_MAX);
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
  auto stream = std::make_shared<EventStream>(app, *call, credentials_of(req), std::move(filter), last, resumed);
  res.stream = [stream](http::ChunkSink& sink) { return EventStream::serve(stream, sink); };
  co_return res;
}

}  // namespace

void add_event_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/events", RouteKind::api, [&app](Request& r) { return events(app, r); });
}

}  // namespace shipgate::handlers
