#include "store/postgres/pg_writes.hpp"

#include <spdlog/spdlog.h>

#include "config/notify_event.hpp"
#include "domain/deployment_rules.hpp"
#include "store/images_column.hpp"
#include "store/sql_terms.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;
using Params = std::vector<std::optional<std::string>>;

boost::system::error_code pg_store_error(const PgError& e) {
  spdlog::warn("store: PostgreSQL: {}", e.message);
  return make_error_code(StoreErrc::io_error);
}

namespace {


}  // namespace

PgWrites::PgWrites(std::shared_ptr<const Clock> clock, bool record_events)
    : clock_(std::move(clock)), record_events_(record_events) {}

asio::awaitable<PgWrites::Done> PgWrites::add_audit(PgConnection& c, const AuditEntry& e) {
  const std::string sql =
      "INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
  Params p{text(e.at_ms ? e.at_ms : epoch_ms(clock_->now())), e.actor, std::string(to_string(e.action)), e.project,
           e.environment, e.deployment > 0 ? std::optional<std::string>(text(e.deployment)) : std::nullopt, e.reason,
           e.details.dump()};
  auto r = co_await c.query(sql, p);
  if (!r) co_return failed(r.error());
  co_return Done();
}

asio::awaitable<PgWrites::Done> PgWrites::add_event(PgConnection& c, std::int64_t deployment, std::string event,
                                                    std::int64_t at) {
  if (!record_events_) co_return Done();
  const std::string sql =
      "INSERT INTO outbox (kind, deployment_id, event, next_at, created_at) VALUES ('event', $1, $2, $3, $3)";
  Params p{text(deployment), std::move(event), text(at)};
  auto r = co_await c.query(sql, p);
  if (!r) co_return failed(r.error());
  co_return Done();
}

// A history row and what goes beside it (transition_record); the wake is a NOTIFY, delivered at commit
// to every replica listening, so whichever holds the lane starts it at once. One statement: the side
// rows cost one round trip, not five.
asio::awaitable<PgWrites::Done> PgWrites::add_history(PgConnection& c, std::int64_t id, const std::string& project,
                                                      const std::string& environment, std::optional<State> from,
                                                      State to, const std::string& actor, const std::string& reason,
                                                      std::int64_t at, Trigger trigger) {
  const std::string sql =
      "WITH h AS (INSERT INTO history (deployment_id, at, from_state, to_state, actor, reason) "
      "VALUES ($1, $2, $3, $4, $5, $6)), "
      "a AS (INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "VALUES ($2, $5, $7, $8, $9, $1, $6, $10)), "
      "f AS (INSERT INTO final_counts (project, environment, state, n) SELECT $8, $9, $14, 1 WHERE $11::boolean "
      "ON CONFLICT (project, environment, state) DO UPDATE SET n = final_counts.n + 1), "
      "e AS (INSERT INTO outbox (kind, deployment_id, event, next_at, created_at) "
      "SELECT 'event', $1, $4, $2, $2 WHERE $12::boolean) "
      "SELECT pg_notify('" SHIPGATE_WORK_CHANNEL "', $8 || chr(10) || $9) WHERE $13::boolean";
  const TransitionRecord record = transition_record(id, project, environment, from, to, actor, reason, at, trigger);
  const auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  Params p{text(id), text(at), from ? std::optional<std::string>(std::string(to_string(*from))) : std::nullopt,
           std::string(to_string(to)), actor, reason, std::string(to_string(record.audit.action)), project,
           environment, record.audit.details.dump(), flag(record.final_count.has_value()),
           flag(record_events_ && record.event), flag(record.wakes), std::string(record.final_count.value_or(""))};
  if (auto r = co_await c.query(sql, p); !r) co_return failed(r.error());
  co_return Done();
}

asio::awaitable<Result<std::vector<BadVersion>>> PgWrites::bad_marks(PgConnection& c, const std::string& project,
                                                                     const std::string& environment,
                                                                     const std::string& version, const std::string& sha) {
  const std::string sql = "SELECT version, sha, deployment_id, reason FROM bad_versions WHERE project = $1 AND environment = $2";
  Params env{project, environment};
  auto rows = co_await c.query(sql, env);
  if (!rows) co_return failed(rows.error());
  std::vector<BadVersion> out;
  for (int i = 0; i < rows->size(); ++i) {
    BadVersion b{project, environment, rows->text(i, 0), rows->text(i, 1), 0, rows->int64(i, 2), rows->text(i, 3), {}};
    if (names_version(b, version, sha)) out.push_back(std::move(b));
  }
  co_return out;
}

asio::awaitable<PgWrites::Done> PgWrites::mark_bad(PgConnection& c, const BadVersion& b, std::int64_t now) {
  const std::string sql =
      "INSERT INTO bad_versions (project, environment, version, sha, marked_at, deployment_id, reason, actor) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project, environment, version) DO UPDATE SET "
      "sha = EXCLUDED.sha, marked_at = EXCLUDED.marked_at, deployment_id = EXCLUDED.deployment_id, "
      "reason = EXCLUDED.reason, actor = EXCLUDED.actor";
  Params p{b.project, b.environment, b.version, b.sha, text(now), text(b.deployment), b.reason, b.actor};
  if (auto r = co_await c.query(sql, p); !r) co_return failed(r.error());
  co_return Done();
}

asio::awaitable<Result<EnvironmentView>> PgWrites::environment_view(PgConnection& c, const NewDeployment& nd) {
  const IngestReads reads = ingest_reads(nd);
  EnvironmentView view;
  if (reads.bad_marks) {
    auto bad = co_await bad_marks(c, nd.project, nd.environment, nd.version, nd.sha);
    if (!bad) co_return bad.error();
    view.bad = std::move(*bad);
  }
  Params env{nd.project, nd.environment};
  static const std::string open_sql = "SELECT id, state, version, sha, images, trigger FROM deployments WHERE project = $1 "
                                      "AND environment = $2 AND " + unfinished_term();
  auto open = co_await c.query(open_sql, env);
  if (!open) co_return failed(open.error());
  for (int i = 0; i < open->size(); ++i)
    view.open.push_back({open->int64(i, 0), parse_state(open->text(i, 1)).value_or(State::queued), open->text(i, 2),
                         open->text(i, 3), parse_images(open->text(i, 4)), parse_trigger(open->text(i, 5)).value_or(Trigger::push)});
  if (reads.current_version) {
    static const std::string running_sql =
        "SELECT version FROM deployments WHERE project = $1 AND environment = $2 AND " + current_version_term() + " LIMIT 1";
    auto running = co_await c.query(running_sql, env);
    if (!running) co_return failed(running.error());
    if (running->size()) view.current = running->text(0, 0);
  }
  co_return view;
}

// Writes one new deployment as plan_ingest says: a skip (with its audit entry), the unfinished one of
// the same version, or a new row that supersedes the older waiting ones.
asio::awaitable<Result<IngestedDeployment>> PgWrites::insert_deployment(PgConnection& c, const NewDeployment& nd,
                                                                        const std::string& delivery, std::int64_t now) {
  // Replicas take turns per environment until commit: what they read below stays true until then.
  const std::string lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
  Params lane{nd.project + "\n" + nd.environment};
  if (auto r = co_await c.query(lock, lane); !r) co_return failed(r.error());
  auto view = co_await environment_view(c, nd);
  if (!view) co_return view.error();
  const IngestPlan plan = plan_ingest(nd, *view);
  IngestedDeployment created = ingested(nd, plan);
  if (plan.kind == IngestKind::skip) {
    const AuditEntry skipped = plan.skipped_audit(nd, now);
    if (auto r = co_await add_audit(c, skipped); !r) co_return r.error();
  }
  if (plan.kind != IngestKind::insert) co_return created;
  const std::string insert =
      "INSERT INTO deployments (project, environment, state, version, sha, ref, images, trigger, actor, delivery, "
      "created_at, updated_at, priority, policy, expires_at, config_sha, config_commit, committed_at, result) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";
  Params row{nd.project, nd.environment, std::string(to_string(nd.initial)), nd.version, nd.sha, nd.ref,
             json(nd.images).dump(), std::string(to_string(nd.trigger)), nd.actor, delivery, text(now),
             text(priority(nd.trigger)), nd.policy.dump(),
             nd.expires_ms > 0 ? std::optional<std::string>(text(nd.expires_ms)) : std::nullopt, nd.config_sha,
             nd.config_commit, text(nd.committed_ms), nd.result.dump()};
  auto inserted = co_await c.query(insert, row);
  if (!inserted) co_return failed(inserted.error());
  created.id = inserted->int64(0, 0);
  if (auto r = co_await add_history(c, created.id, nd.project, nd.environment, std::nullopt, nd.initial, nd.actor,
                                    nd.reason, now);
      !r)
    co_return r.error();
  if (plan.override_event) {
    std::string event(config::to_string(config::NotifyEvent::override_));
    if (auto r = co_await add_event(c, created.id, std::move(event), now); !r) co_return r.error();
  }
  for (const auto& old : plan.superseded) {
    const std::string why = superseded_reason(created.id, nd.version);
    // Only from the state it was read in: a replica may have started it since (the row lock of its
    // transition made this wait), and a running deployment is never superseded.
    const std::string update = "UPDATE deployments SET state = 'superseded', updated_at = $1, finished_at = $1, "
                               "message = $2 WHERE id = $3 AND state = $4";
    Params up{text(now), why, text(old.id), std::string(to_string(old.state))};
    auto updated = co_await c.query(update, up);
    if (!updated) co_return failed(updated.error());
    if (updated->affected() == 0) continue;
    if (auto r = co_await add_history(c, old.id, nd.project, nd.environment, old.state, State::superseded, "shipgate", why, now);
        !r)
      co_return r.error();
    created.superseded.push_back(old.id);
  }
  co_return created;
}

asio::awaitable<Result<IngestResult>> PgWrites::ingest(PgConnection& c, const IngestRequest& req) {
  const std::int64_t now = epoch_ms(clock_->now());
  IngestResult out;
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return failed(begun.error());
  // Claim the delivery first: a replica committing the same delivery right now makes this wait, then
  // find its row. The answer is filled in once it is known, before the commit.
  const std::string claim = "INSERT INTO deliveries (key, received_at, source, status, body) VALUES ($1, $2, $3, 0, '') "
                            "ON CONFLICT (key) DO NOTHING RETURNING key";
  Params key{req.delivery_key, text(now), req.source};
  auto claimed = co_await c.query(claim, key);
  Result<void> status = claimed ? Result<void>() : Result<void>(failed(claimed.error()));
  if (status && claimed->size() == 0) {
    const std::string seen = "SELECT status, body FROM deliveries WHERE key = $1";
    Params k{req.delivery_key};
    auto stored = co_await c.query(seen, k);
    co_await c.roll_back();
    if (!stored) co_return failed(stored.error());
    out.duplicate = true;
    out.response = {static_cast<int>(stored->int64(0, 0)), stored->text(0, 1)};
    co_return out;
  }
  for (const auto& b : req.mark_bad) {
    if (!status) break;
    status = co_await mark_bad(c, b, now);
  }
  for (const auto& nd : req.deployments) {
    if (!status) break;
    auto created = co_await insert_deployment(c, nd, req.delivery_key, now);
    if (!created) status = created.error();
    else out.deployments.push_back(std::move(*created));
  }
  for (auto e : req.audit) {
    if (!status) break;
    if (e.deployment == 0 && !out.deployments.empty()) e.deployment = out.deployments.front().id;
    status = co_await add_audit(c, e);
  }
  if (status) {
    out.response = req.respond ? req.respond(out.deployments) : StoredResponse{202, "{}"};
    const std::string answer = "UPDATE deliveries SET status = $2, body = $3 WHERE key = $1";
    Params p{req.delivery_key, text(out.response.status), out.response.body};
    if (auto r = co_await c.query(answer, p); !r) status = failed(r.error());
  }
  if (status) {
    // COMMIT returns once the commit is durable (synchronous_commit on): only then is a 2xx answered.
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return failed(committed.error());
    co_return out;
  }
  co_await c.roll_back();
  co_return status.error();
}

asio::awaitable<Result<TransitionOutcome>> PgWrites::transition(PgConnection& c, const TransitionRequest& req,
                                                                const LaneLease* lease) {
  const std::int64_t now = epoch_ms(clock_->now());
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return failed(begun.error());
  auto outcome = co_await transition_body(c, req, lease, now);
  if (outcome && outcome->applied) {
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return failed(committed.error());
    co_return outcome;
  }
  co_await c.roll_back();
  co_return outcome;
}

asio::awaitable<Result<TransitionOutcome>> PgWrites::transition_body(PgConnection& c, const TransitionRequest& req,
                                                                     const LaneLease* lease, std::int64_t now) {
  // The row is locked until commit: a transition on another replica waits and then sees this one's state.
  const std::string read = "SELECT state, trigger, version, sha, project, environment FROM deployments WHERE id = $1 FOR UPDATE";
  Params id{text(req.id)};
  auto row = co_await c.query(read, id);
  if (!row) co_return failed(row.error());
  if (row->size() == 0) co_return make_error_code(StoreErrc::not_found);
  const State current = parse_state(row->text(0, 0)).value_or(State::failed);
  const Trigger trigger = parse_trigger(row->text(0, 1)).value_or(Trigger::push);
  const std::string version = row->text(0, 2), sha = row->text(0, 3), project = row->text(0, 4),
                    environment = row->text(0, 5);
  const auto plan = plan_transition(current, trigger, req.event);
  if (!plan) co_return TransitionOutcome{false, current, {}};
  const auto next = &plan->to;
  const auto flag = [](bool b) -> std::string { return b ? "true" : "false"; };
  std::string update =
      "UPDATE deployments SET state = $1, updated_at = $2, "
      "started_at = CASE WHEN $7::boolean AND started_at IS NULL THEN $2 ELSE started_at END, "
      "finished_at = CASE WHEN $3 THEN $2 ELSE finished_at END, "
      "message = CASE WHEN $3 THEN $4 ELSE message END, "
      "waiting_reason = CASE WHEN $8::boolean THEN waiting_reason ELSE '' END, "
      "result = COALESCE($5, result) WHERE id = $6";
  Params p{std::string(to_string(*next)), text(now), flag(plan->finishes), req.reason,
           req.result ? std::optional<std::string>(req.result->dump()) : std::nullopt, text(req.id),
           flag(plan->starts), flag(plan->keeps_waiting_reason)};
  if (lease) {
    update += " AND " + lane_fence_condition(9);
    for (const auto& v : {lease->project, lease->environment, lease->holder, text(lease->fence)}) p.push_back(v);
  }
  auto updated = co_await c.query(update, p);
  if (!updated) co_return failed(updated.error());
  if (updated->affected() == 0) co_return TransitionOutcome{false, current, {}};  // the lease was lost
  if (auto r = co_await add_history(c, req.id, project, environment, current, *next, req.actor, req.reason, now, trigger);
      !r)
    co_return r.error();
  TransitionOutcome out{true, *next, {}};
  // A version someone chose to deploy by hand, and that then succeeded, is no longer bad there.
  if (plan->clears_bad_marks) {
    auto bad = co_await bad_marks(c, project, environment, version, sha);
    if (!bad) co_return bad.error();
    for (const auto& b : *bad) {
      const std::string del = "DELETE FROM bad_versions WHERE project = $1 AND environment = $2 AND version = $3";
      Params key{project, environment, b.version};
      if (auto r = co_await c.query(del, key); !r) co_return failed(r.error());
    }
  }
  for (const auto& b : req.mark_bad)
    if (auto r = co_await mark_bad(c, b, now); !r) co_return r.error();
  for (const auto& nd : req.then_create) {
    auto created = co_await insert_deployment(c, nd, "", now);
    if (!created) co_return created.error();
    out.created.push_back(std::move(*created));
  }
  co_return out;
}

asio::awaitable<Result<bool>> PgWrites::record_result(PgConnection& c, std::int64_t id, const json& result,
                                                      const LaneLease* lease) {
  std::string sql = "UPDATE deployments SET result = $1, updated_at = $2 WHERE id = $3";
  Params p{result.dump(), text(epoch_ms(clock_->now())), text(id)};
  if (lease) {
    sql += " AND " + lane_fence_condition(4);
    for (const auto& v : {lease->project, lease->environment, lease->holder, text(lease->fence)}) p.push_back(v);
  }
  auto r = co_await c.query(sql, p);
  // in_place_error: an error_code would otherwise convert to the bool.
  if (!r) co_return Result<bool>(boost::system::in_place_error, failed(r.error()));
  co_return r->affected() == 1;
}

asio::awaitable<Result<void>> PgWrites::set_waiting_reason(PgConnection& c, std::int64_t id, const std::string& reason) {
  const std::string sql = "UPDATE deployments SET waiting_reason = $1, updated_at = $2 WHERE id = $3 AND waiting_reason <> $1";
  Params p{reason, text(epoch_ms(clock_->now())), text(id)};
  if (auto r = co_await c.query(sql, p); !r) co_return failed(r.error());
  co_return Result<void>();
}

asio::awaitable<Result<void>> PgWrites::record_audit(PgConnection& c, const AuditEntry& entry) {
  co_return co_await add_audit(c, entry);
}

}  // namespace shipgate::orchestration
