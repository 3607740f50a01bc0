// GET /api/v1/audit: the append-only log of every action and transition.
#include "config/time_zone.hpp"
#include "handlers/app.hpp"
#include "handlers/api_call.hpp"
#include "handlers/intake.hpp"
#include "handlers/params.hpp"
#include "orchestration/slow_reads.hpp"

namespace shipgate::handlers {

namespace {

// Pages read at most for one answer of a reviewer restricted to some projects.
constexpr int kMaxPages = 20;

bool visible_to(const config::Reviewer& reviewer, const orchestration::AuditEntry& e) {
  // Entries of no project (reloads, refused reloads) concern the whole daemon: only reviewers without a
  // project restriction see them.
  return e.project.empty() ? reviewer.projects.empty() : reviewer.may(config::Permission::view, e.project);
}

struct VisiblePage {
  std::vector<orchestration::AuditEntry> entries;  // oldest first, at most the filter's limit
  bool more = false;                               // the log may hold more in the direction read
};

// Up to `f.limit` entries the reviewer may see, reading on past those it may not (a bounded number of
// pages), so that the page and its cursors say nothing about what others did.
boost::asio::awaitable<orchestration::Result<VisiblePage>> read_visible(const App& app, const config::Reviewer& reviewer,
                                                                       orchestration::AuditFilter f) {
  const bool forward = f.since_ms > 0 || f.after_id > 0;  // else newest first, back from before_id
  VisiblePage page;
  for (int read = 0; read < kMaxPages && static_cast<int>(page.entries.size()) < f.limit; ++read) {
    auto rows = co_await orchestration::read_slowly(app.slow_reads, app.store->audit(f));
    if (!rows) co_return rows.error();
    std::vector<orchestration::AuditEntry> seen;
    for (auto& e : *rows)
      if (visible_to(reviewer, e)) seen.push_back(std::move(e));
    page.more = static_cast<int>(rows->size()) == f.limit;
    if (forward) page.entries.insert(page.entries.end(), seen.begin(), seen.end());
    else page.entries.insert(page.entries.begin(), seen.begin(), seen.end());
    if (!page.more) break;
    if (forward) f.after_id = rows->back().id;
    else f.before_id = rows->front().id;
  }
  if (static_cast<int>(page.entries.size()) > f.limit) {
    page.more = true;
    if (forward) page.entries.resize(f.limit);
    else page.entries.erase(page.entries.begin(), page.entries.end() - f.limit);
  }
  co_return page;
}

boost::asio::awaitable<Response> list_audit(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  orchestration::AuditFilter f;
  if (auto since = req.query_param("since"); !since.empty()) {
    auto ms = config::parse_rfc3339(since);
    if (!ms) co_return error_response(400, "invalid", "since must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z");
    f.since_ms = *ms;
  }
  if (auto after = req.query_param("after"); !after.empty()) {
    const auto id = parse_integer(after, 0, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "after must be an audit entry id");
    f.after_id = *id;
  }
  if (auto limit = req.query_param("limit"); !limit.empty()) {
    const auto n = parse_integer(limit, 1, 1000);
    if (!n) co_return error_response(400, "invalid", "limit must be 1 to 1000");
    f.limit = static_cast<int>(*n);
  }
  if (auto before = req.query_param("before"); !before.empty()) {
    const auto id = parse_integer(before, 1, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "before must be an audit entry id");
    f.before_id = *id;
  }
  f.project = req.query_param("project");
  if (!f.project.empty() && !find_project(*call, f.project, error)) co_return error;
  f.actor = req.query_param("actor");
  if (f.actor.size() > 200) co_return error_response(400, "invalid", "actor is at most 200 characters");
  f.action = req.query_param("action");
  if (!f.action.empty() && !orchestration::parse_audit_action(f.action))
    co_return error_response(400, "invalid", "unknown action '" + f.action + "'");
  auto page = co_await read_visible(app, *reviewer, f);
  if (!page) co_return store_failure(page.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : page->entries) out.push_back(orchestration::to_json(e));
  nlohmann::json body = {{"entries", out}};
  // Cursors come from entries the reviewer sees: they tell nothing of when others acted.
  if (!page->entries.empty()) body["next_after"] = page->entries.back().id;
  if (page->more && !page->entries.empty()) body["next_before"] = page->entries.front().id;
  co_return json_response(200, body);
}

}  // namespace

void add_audit_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/audit", RouteKind::api, [&app](Request& r) { return list_audit(app, r); });
}

}  // namespace shipgate::handlers
