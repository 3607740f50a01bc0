#include "handlers/router.hpp"

#include <array>

namespace shipgate::handlers {

namespace {
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(path.find('/', pos), path.size());
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}
}  // namespace

void Router::add(std::string method, std::string pattern, RouteKind kind, Handler handler, std::string webhook_event) {
  Route r{pattern, std::move(method), {}, kind, std::move(handler), std::move(webhook_event)};
  for (auto s : split_path(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

bool Router::segments_match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                            std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (params) (*params)[p.substr(1, p.size() - 2)] = std::string(path[i]);
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

Router::Match Router::match(Request& request) const {
  const auto path = split_path(request.path);
  Match m;
  for (const auto& r : routes_) {
    if (!segments_match(r.segments, path, nullptr)) continue;
    if (r.method == request.method) {
      segments_match(r.segments, path, &request.params);
      m.handler = &r.handler;
      m.kind = r.kind;
      m.status = 200;
      return m;
    }
    m.status = 405;
    m.kind = r.kind;
    m.allow += (m.allow.empty() ? "" : ", ") + r.method;
  }
  return m;
}

const Router::Route* Router::find(std::string_view path) const {
  const auto segments = split_path(path);
  for (const auto& r : routes_)
    if (segments_match(r.segments, segments, nullptr)) return &r;
  return nullptr;
}

http::RouteInfo Router::classify(const Request& request) const {
  http::RouteInfo info;
  const auto* r = find(request.path);
  if (!r) return info;
  info.label = r->pattern;
  info.kind = r->kind;
  info.limited = r->pattern.rfind("/api/", 0) == 0;
  info.probe = r->pattern == "/healthz" || r->pattern == "/readyz";
  if (r->kind == RouteKind::webhook)
    info.webhook_event = r->webhook_event.empty() ? std::string(webhook_event_label(request.header("X-GitHub-Event")))
                                                  : r->webhook_event;
  return info;
}

boost::asio::awaitable<Response> Router::handle(Request& request) const {
  const auto m = match(request);
  Response response;
  if (m.handler) {
    response = co_await (*m.handler)(request);
  } else if (m.status == 405) {
    response = error_response(405, "method_not_allowed", request.method + " is not allowed on " + request.path +
                                                             " (allowed: " + m.allow + ")");
    response.headers.emplace_back("Allow", m.allow);
  } else {
    response = error_response(404, "not_found", "no route for " + request.path);
  }
  // Every answer, JSON included, forbids framing, sniffing and any script or style not served from here.
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  // The path named a webhook route: its answer is counted by outcome.
  if (m.status != 404 && m.kind == RouteKind::webhook)
    response.outcome = std::string(webhook_outcome(response.status, response.duplicate));
  co_return response;
}

boost::asio::awaitable<Response> dispatch(const Router& router, Request& request) { return router.handle(request); }

std::string_view webhook_event_label(std::string_view event) {
  static constexpr std::array<std::string_view, 6> known = {"push", "ping", "repository_dispatch", "release",
                                                            "create", "workflow_run"};
  for (auto k : known)
    if (event == k) return k;
  return "other";
}

std::string_view webhook_outcome(int status, bool duplicate) {
  switch (status) {
    case 202: return duplicate ? "duplicate" : "accepted";
    case 200: return duplicate ? "duplicate" : "ignored";
    case 401: return "bad_signature";
    case 400:
    case 415: return "malformed";
    case 413: return "too_large";
    case 503: return "unavailable";
    default: return "other";
  }
}

}  // namespace shipgate::handlers
