#include "handlers/router.hpp"

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

void Router::add(std::string method, std::string pattern, RouteKind kind, Handler handler) {
  Route r{pattern, std::move(method), {}, kind, std::move(handler)};
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
    m.allow += (m.allow.empty() ? "" : ", ") + r.method;
  }
  return m;
}

Router::RouteInfo Router::classify(std::string_view path) const {
  const auto segments = split_path(path);
  for (const auto& r : routes_)
    if (segments_match(r.segments, segments, nullptr)) return {r.pattern, r.kind};
  return {};
}

boost::asio::awaitable<Response> dispatch(const Router& router, Request& request) {
  const auto m = router.match(request);
  if (m.handler) co_return co_await (*m.handler)(request);
  if (m.status == 405) {
    auto r = error_response(405, "method_not_allowed", request.method + " is not allowed on " + request.path +
                                                           " (allowed: " + m.allow + ")");
    r.headers.emplace_back("Allow", m.allow);
    co_return r;
  }
  co_return error_response(404, "not_found", "no route for " + request.path);
}

}  // namespace shipgate::handlers
